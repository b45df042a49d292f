import TrailCore

/// An activity with all the work that can be done outside the write transaction done in advance, so the
/// single writer does only what must be serialised.
///
/// A class, like ``AppliedTransition`` and ``EventRow``: the writer passes these around, and a copy of a
/// struct of a dozen references retains each of them, where a copy of a class reference retains one.
final class PreparedActivity: Sendable {
    let activity: Activity
    /// The key of the resource's head, if the activity names a resource.
    let key: HeadKey?
    let redacted: (JSONObject, Redactor.Digests)
    let id: String
    let actorJSON: String?
    let contextJSON: String?
    let metadataJSON: String?
    let errorJSON: String?
    /// The transition computed against the head the preparer expected (the cached head, or none): the writer
    /// uses it if the resource is still at that version, and computes it again otherwise.
    let speculation: Speculation

    struct Speculation: Sendable {
        /// The version the transition was computed on; nil for a resource without events.
        let basisVersion: Int64?
        /// The earlier item of the same submission whose speculative result the basis is, if any: then the
        /// speculation holds only if that item's did.
        let dependsOn: Int?
        let applied: AppliedTransition
    }

    init(_ activity: Activity, key: HeadKey?, expected head: ResourceHead?, dependsOn: Int?, redactor: Redactor) {
        self.activity = activity
        self.key = key
        redacted = redactor.redact(activity.data)
        id = EventID.make()
        actorJSON = activity.actor.map { JSONWriter.string($0) }
        contextJSON = activity.context.map { JSONWriter.string($0) }
        metadataJSON = activity.metadata.map { JSONWriter.string($0) }
        errorJSON = activity.error.map { JSONWriter.string($0) }
        speculation = Speculation(
            basisVersion: head?.version, dependsOn: dependsOn,
            applied: AppliedTransition(activity: activity, id: id, head: head, redacted: redacted, redactor: redactor))
    }

    /// Whether the transition computed in advance holds on top of `head`, the resource's actual current head.
    ///
    /// A committed head is identified by its version (versions are unique per resource, and an event that makes
    /// no version leaves the state as it was). A head guessed from an earlier item of the same submission is
    /// identified too only if that item's own guess held: `speculationHeld` tells, by item index.
    func speculationHolds(on head: ResourceHead?, speculationHeld: [Bool]) -> Bool {
        speculation.basisVersion == head?.version && (speculation.dependsOn.map { speculationHeld[$0] } ?? true)
    }

    /// The transition to record on top of `head`.
    func applied(to head: ResourceHead?, holds: Bool, redactor: Redactor) -> AppliedTransition {
        if holds { return speculation.applied }
        return AppliedTransition(activity: activity, id: id, head: head, redacted: redacted, redactor: redactor)
    }
}

/// A transition with its stored forms encoded.
final class AppliedTransition: Sendable {
    let transition: Transition
    let changes: JSONObject
    let changesJSON: String
    /// The event's hash begun over its objects (nil if they have no canonical form: the writer then reports why).
    let hashPrefix: EventHash.Prefix?
    let stateJSON: String?
    let digestsJSON: String?

    init(activity: Activity, id: String, head: ResourceHead?, redacted: (JSONObject, Redactor.Digests), redactor: Redactor) {
        transition = Transition(applying: activity, to: head, redactor: redactor, redacted: redacted)
        changes = Diff.encode(transition.changes)
        changesJSON = JSONWriter.string(changes)
        hashPrefix = try? EventHash.Prefix(EventHash.PrefixMembers(
            action: activity.action, actor: activity.actor, category: activity.category, changes: changes,
            context: activity.context, durationMs: activity.durationMs, error: activity.error, id: id,
            metadata: activity.metadata))
        stateJSON = StoredJSON.text(transition.head?.state)
        digestsJSON = StoredJSON.text(transition.head?.digests ?? [:])
    }
}

/// A submission ready for the writer.
struct PreparedRequest: Sendable {
    let tenant: String
    let items: [PreparedActivity]
    let idempotency: IdempotencyClaim?
    let completes: MessageClaim?
    /// When it was submitted: the PostgreSQL writer waits for a connection no longer than the store's timeout
    /// after the oldest submission of a transaction, so that a request queued behind a failing transaction is
    /// not made to wait twice.
    let submitted = ContinuousClock.now
    /// The head cache's ``HeadCache/generation`` when the expected heads were read.
    let cacheGeneration: Int

    /// - Parameters:
    ///   - expectedHead: the head the preparer expects a resource to have when written.
    ///   - cacheGeneration: the generation of the cache `expectedHead` reads, taken before it is read.
    init(_ request: AppendRequest, redactor: Redactor, cacheGeneration: Int, expectedHead: (HeadKey) -> ResourceHead?) {
        tenant = request.tenant
        self.cacheGeneration = cacheGeneration
        // Later items of the same submission build on the (guessed) result of earlier ones.
        var latest: [HeadKey: Int] = [:]
        var items: [PreparedActivity] = []
        items.reserveCapacity(request.activities.count)
        for activity in request.activities {
            guard let resource = activity.resource else {
                items.append(PreparedActivity(activity, key: nil, expected: nil, dependsOn: nil, redactor: redactor))
                continue
            }
            let key = HeadKey(tenant: tenant, type: resource.type, id: resource.id)
            let earlier = latest[key]
            let head = earlier.map { items[$0].speculation.applied.transition.head } ?? expectedHead(key)
            latest[key] = items.count
            items.append(PreparedActivity(activity, key: key, expected: head, dependsOn: earlier, redactor: redactor))
        }
        self.items = items
        idempotency = request.idempotency
        completes = request.completes
    }
}
