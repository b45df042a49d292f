/// An event as Trail stored it: immutable, with its server-assigned id and per-tenant sequence (SPEC §1, §4).
public struct RecordedEvent: Sendable, Equatable {
    public var id: String
    public var sequence: Int64
    public var tenant: String
    public var occurredAt: Timestamp
    public var recordedAt: Timestamp
    public var action: String
    public var category: String?
    public var outcome: Outcome
    public var actor: JSONObject?
    public var resourceType: String?
    public var resourceId: String?
    public var resourceName: String?
    /// The resource's version after this event (nil for an event about no resource Trail tracks).
    public var version: Int64?
    /// `{path: [old, new]}`, in the order of SPEC §2.3 (or as the client reported them, SPEC §3).
    public var changes: JSONObject
    public var summary: String
    public var context: JSONObject?
    public var metadata: JSONObject?
    public var durationMs: Int64?
    /// `{"message", "detail"}`.
    public var error: JSONObject?
    /// The `hash` of the tenant's event at `sequence − 1` (``EventHash/genesis`` for the first) (SPEC §8).
    public var prevHash: EventHash.Digest
    /// ``EventHash/of(_:)`` this event, computed when it was appended.
    public var hash: EventHash.Digest
    /// When retention removed this event's content (SPEC §11), nil while it is whole. A removed event keeps its
    /// place in the log — id, sequence, times, action, category, outcome, resource type and id, version and both
    /// hashes — and nothing else: its hash can no longer be recomputed, only taken as stored.
    public var removedAt: Timestamp?
    /// When an erasure last rewrote this event's content (SPEC §11), nil if none did: the data subject's values
    /// are replaced, the rest is as it was; like a removed event's, its hash is taken as stored.
    public var erasedAt: Timestamp?

    public init(
        id: String, sequence: Int64, tenant: String, occurredAt: Timestamp, recordedAt: Timestamp,
        action: String, actor: JSONObject?, resourceType: String?, resourceId: String?, version: Int64?,
        changes: JSONObject, summary: String, context: JSONObject?, metadata: JSONObject?,
        category: String? = nil, outcome: Outcome = .success, resourceName: String? = nil,
        durationMs: Int64? = nil, error: JSONObject? = nil, prevHash: EventHash.Digest, hash: EventHash.Digest,
        removedAt: Timestamp? = nil, erasedAt: Timestamp? = nil
    ) {
        self.id = id
        self.sequence = sequence
        self.tenant = tenant
        self.occurredAt = occurredAt
        self.recordedAt = recordedAt
        self.action = action
        self.category = category
        self.outcome = outcome
        self.actor = actor
        self.resourceType = resourceType
        self.resourceId = resourceId
        self.resourceName = resourceName
        self.version = version
        self.changes = changes
        self.summary = summary
        self.context = context
        self.metadata = metadata
        self.durationMs = durationMs
        self.error = error
        self.prevHash = prevHash
        self.hash = hash
        self.removedAt = removedAt
        self.erasedAt = erasedAt
    }
}

extension RecordedEvent {
    /// The actor's id (what the `actor` filter matches), nil for an event without actor.
    public var actorId: String? {
        if case .string(let id)? = actor?["id"] { return id }
        return nil
    }
}
