import TrailCore

/// An activity with all the work that can be done outside the write transaction done in advance, so the
/// single writer does only what must be serialised.
struct PreparedActivity: Sendable {
    let activity: Activity
    let redacted: (JSONObject, Redactor.Digests)
    let id: String
    let actorJSON: String
    let contextJSON: String?
    let metadataJSON: String?
    /// The transition computed against the head the preparer expected (the cached head, or none): the writer
    /// uses it if the resource is still at that version, and computes it again otherwise.
    let speculation: Speculation

    struct Speculation: Sendable {
        /// The version the transition was computed on; nil for a resource without events.
        let basisVersion: Int64?
        let applied: AppliedTransition
    }

    init(_ activity: Activity, expected head: ResourceHead?, redactor: Redactor) {
        self.activity = activity
        redacted = redactor.redact(activity.data)
        id = EventID.make()
        actorJSON = JSONWriter.string(activity.actor)
        contextJSON = activity.context.map { JSONWriter.string($0) }
        metadataJSON = activity.metadata.map { JSONWriter.string($0) }
        speculation = Speculation(
            basisVersion: head?.version,
            applied: AppliedTransition(activity: activity, head: head, redacted: redacted, redactor: redactor))
    }

    /// The transition to record on top of `head`, the resource's actual current head.
    func applied(to head: ResourceHead?, redactor: Redactor) -> AppliedTransition {
        if speculation.basisVersion == head?.version { return speculation.applied }
        return AppliedTransition(activity: activity, head: head, redacted: redacted, redactor: redactor)
    }
}

/// A transition with its stored forms encoded.
struct AppliedTransition: Sendable {
    let transition: Transition
    let changes: JSONObject
    let changesJSON: String
    let stateJSON: String?
    let digestsJSON: String?

    init(activity: Activity, head: ResourceHead?, redacted: (JSONObject, Redactor.Digests), redactor: Redactor) {
        transition = Transition(applying: activity, to: head, redactor: redactor, redacted: redacted)
        changes = Diff.encode(transition.changes)
        changesJSON = JSONWriter.string(changes)
        stateJSON = SQLiteRows.json(transition.head.state)
        digestsJSON = SQLiteRows.json(transition.head.digests)
    }
}

/// A submission ready for the writer.
struct PreparedRequest: Sendable {
    let tenant: String
    let items: [PreparedActivity]
    let idempotency: IdempotencyClaim?

    /// - Parameter expectedHead: the head the preparer expects a resource to have when written.
    init(_ request: AppendRequest, redactor: Redactor, expectedHead: (String, String) -> ResourceHead?) {
        tenant = request.tenant
        var expected: [String: ResourceHead?] = [:]
        items = request.activities.map { activity in
            // Later items of the same submission build on earlier ones.
            let key = activity.resourceType + "\u{0}" + activity.resourceId
            let head = expected[key] ?? expectedHead(activity.resourceType, activity.resourceId)
            let item = PreparedActivity(activity, expected: head, redactor: redactor)
            expected[key] = .some(item.speculation.applied.transition.head)
            return item
        }
        idempotency = request.idempotency
    }
}
