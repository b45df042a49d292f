/// What Trail knows of a resource between events: its current version and state, and the digests of its
/// redacted fields.
public struct ResourceHead: Sendable, Equatable {
    public var version: Int64
    /// `nil` once the resource is deleted.
    public var state: JSONObject?
    public var digests: Redactor.Digests

    public init(version: Int64, state: JSONObject?, digests: Redactor.Digests = [:]) {
        self.version = version
        self.state = state
        self.digests = digests
    }
}

/// The effect of one activity on one resource (SPEC §2.2–§2.5): the new head, the changes and the summary.
public struct Transition: Sendable, Equatable {
    public var head: ResourceHead
    public var changes: [Change]
    public var summary: String
    /// True when this event made a new version (it changed the state, or it is the resource's first event).
    public var advancesVersion: Bool

    /// Applies `activity` to the resource whose head is `head` (nil: Trail has not seen the resource yet).
    /// - Parameter redacted: `redactor.redact(activity.data)`, when the caller computed it already (the store
    ///   does, outside its write transaction).
    public init(
        applying activity: Activity, to head: ResourceHead?, redactor: Redactor,
        redacted: (JSONObject, Redactor.Digests)? = nil
    ) {
        let previous = head?.state
        let previousDigests = head?.digests ?? [:]
        let (data, patchDigests) = redacted ?? redactor.redact(activity.data)

        var state: JSONObject?
        switch activity.action {
        case Verb.deleted:
            state = nil
        case Verb.created:
            state = MergePatch.withoutNulls(data)
        default:
            if data.isEmpty {
                // Nothing to apply: a first event makes the resource known with an empty state.
                state = head == nil ? JSONObject() : previous
            } else if activity.replace {
                state = MergePatch.withoutNulls(data)
            } else {
                var merged = previous ?? JSONObject()
                MergePatch.apply(data, to: &merged)
                state = merged
            }
        }
        var digests: Redactor.Digests = [:]
        if var current = state {
            Transition.settleRedactions(in: &current, prefix: "", patch: patchDigests, previous: previousDigests,
                                        redactor: redactor, into: &digests)
            state = current
        }

        changes = Diff.changes(from: previous, digests: previousDigests, to: state, digests: digests)
        advancesVersion = head == nil || !changes.isEmpty || (previous == nil) != (state == nil)
        if let head, !advancesVersion {
            // Nothing changed: keep the head exactly as it was (key order included), so that a version always
            // names one stored state.
            self.head = head
        } else {
            self.head = ResourceHead(version: (head?.version ?? 0) + 1, state: state, digests: digests)
        }

        if activity.action == Verb.deleted {
            summary = Summary.lifecycle(Verb.deleted, type: activity.resourceType, id: activity.resourceId)
        } else if !changes.isEmpty {
            summary = Summary.sentence(for: changes)
        } else if activity.data.isEmpty && activity.action == Verb.created {
            summary = Summary.lifecycle(Verb.created, type: activity.resourceType, id: activity.resourceId)
        } else if activity.data.isEmpty && !activity.isLifecycle {
            summary = Summary.action(activity.action, type: activity.resourceType, id: activity.resourceId)
        } else {
            summary = Summary.noChanges
        }
    }

    /// Gives every redacted field of the new state its digest: from this payload if it set the field, else from
    /// the previous state. A sensitive field without either (stored before its key was configured as sensitive)
    /// is redacted now.
    static func settleRedactions(
        in object: inout JSONObject, prefix: String, patch: Redactor.Digests, previous: Redactor.Digests,
        redactor: Redactor, into digests: inout Redactor.Digests
    ) {
        for index in object.members.indices {
            let member = object.members[index]
            let path = FieldPath.join(prefix, member.key)
            if redactor.isSensitive(member.key) {
                if let digest = patch[path] ?? previous[path], member.value == .string(Redactor.marker) {
                    digests[path] = digest
                } else {
                    digests[path] = redactor.digest(member.value)
                    object.setValue(.string(Redactor.marker), at: index)
                }
            } else if case .object(var nested) = member.value, !nested.isEmpty {
                settleRedactions(in: &nested, prefix: path, patch: patch, previous: previous, redactor: redactor, into: &digests)
                object.setValue(.object(nested), at: index)
            }
        }
    }
}
