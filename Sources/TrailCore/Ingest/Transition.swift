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

/// The effect of one event on its resource (SPEC §2.2–§2.5, §3): the new head, the changes and the summary.
public struct Transition: Sendable, Equatable {
    /// The resource's head after the event; nil when there is none: the event names no resource (no type or
    /// no id), or a generic event without changes names one Trail has not seen.
    public var head: ResourceHead?
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
        if let reported = activity.reportedChanges {
            self.init(reporting: reported, of: activity, to: head, redactor: redactor)
        } else {
            self.init(streaming: activity, to: head, redactor: redactor, redacted: redacted)
        }
    }

    /// An activity-stream event (SPEC §2.2): the new state from the verb and the data, the changes computed.
    init(streaming activity: Activity, to head: ResourceHead?, redactor: Redactor, redacted: (JSONObject, Redactor.Digests)?) {
        let type = activity.resourceType ?? ""
        let id = activity.resourceId ?? ""
        let previous = head?.state
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
        let (changes, newHead, advances) = Transition.settle(state, patch: patchDigests, after: head, redactor: redactor)
        self.changes = changes
        self.head = newHead
        advancesVersion = advances

        if activity.action == Verb.deleted {
            summary = Summary.lifecycle(Verb.deleted, type: type, id: id)
        } else if !changes.isEmpty {
            summary = Summary.sentence(for: changes)
        } else if activity.data.isEmpty && activity.action == Verb.created {
            summary = Summary.lifecycle(Verb.created, type: type, id: id)
        } else if activity.data.isEmpty && !activity.isLifecycle {
            summary = Summary.action(activity.action, type: type, id: id)
        } else {
            summary = Summary.noChanges
        }
    }

    /// A generic event (SPEC §3): its changes are the ones the client reported (sensitive values redacted), and
    /// if it names a resource and reports changes, each `new` value is set at its path in the resource's state
    /// (`null` removes it) and a version is made if that changed the state, as an activity-stream update would.
    /// Without changes, the resource's head is left as it is.
    init(reporting reported: [Change], of activity: Activity, to head: ResourceHead?, redactor: Redactor) {
        changes = reported.map { redactor.redact($0) }
        if activity.resource != nil, !reported.isEmpty {
            var state = head?.state ?? JSONObject()
            for change in reported {
                state.set(change.new.map(MergePatch.withoutNulls), at: FieldPath.split(change.path))
            }
            (_, self.head, advancesVersion) = Transition.settle(state, patch: [:], after: head, redactor: redactor)
        } else {
            self.head = activity.resource == nil ? nil : head
            advancesVersion = false
        }
        if let given = activity.summary {
            summary = given
        } else if !changes.isEmpty {
            summary = Summary.sentence(for: changes)
        } else {
            summary = Summary.action(activity.action, type: activity.resourceType, id: activity.resourceId)
        }
    }

    /// Redacts the new state, diffs it against the head, and tells the head it leaves and whether that is a new
    /// version.
    static func settle(
        _ newState: JSONObject?, patch: Redactor.Digests, after head: ResourceHead?, redactor: Redactor
    ) -> (changes: [Change], head: ResourceHead, advances: Bool) {
        let previous = head?.state
        let previousDigests = head?.digests ?? [:]
        var state = newState
        var digests: Redactor.Digests = [:]
        if var current = state {
            Transition.settleRedactions(in: &current, prefix: "", patch: patch, previous: previousDigests,
                                        redactor: redactor, into: &digests)
            state = current
        }
        let changes = Diff.changes(from: previous, digests: previousDigests, to: state, digests: digests)
        let advances = head == nil || !changes.isEmpty || (previous == nil) != (state == nil)
        if let head, !advances {
            // Nothing changed: keep the head exactly as it was (key order included), so that a version always
            // names one stored state.
            return (changes, head, false)
        }
        return (changes, ResourceHead(version: (head?.version ?? 0) + 1, state: state, digests: digests), advances)
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
