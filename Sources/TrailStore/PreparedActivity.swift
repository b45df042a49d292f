import TrailCore

/// An activity with all the work that does not depend on the resource's current state done in advance, outside
/// the write transaction, so the single writer does only what must be serialised.
struct PreparedActivity: Sendable {
    let activity: Activity
    let redacted: (JSONObject, Redactor.Digests)
    let id: String
    let actorJSON: String
    let contextJSON: String?
    let metadataJSON: String?

    init(_ activity: Activity, redactor: Redactor) {
        self.activity = activity
        redacted = redactor.redact(activity.data)
        id = EventID.make()
        actorJSON = JSONWriter.string(activity.actor)
        contextJSON = activity.context.map { JSONWriter.string($0) }
        metadataJSON = activity.metadata.map { JSONWriter.string($0) }
    }
}

/// A submission ready for the writer.
struct PreparedRequest: Sendable {
    let tenant: String
    let items: [PreparedActivity]
    let idempotency: IdempotencyClaim?

    init(_ request: AppendRequest, redactor: Redactor) {
        tenant = request.tenant
        items = request.activities.map { PreparedActivity($0, redactor: redactor) }
        idempotency = request.idempotency
    }
}
