/// An event as Trail stored it: immutable, with its server-assigned id and per-tenant sequence (SPEC §1, §4).
public struct RecordedEvent: Sendable, Equatable {
    public var id: String
    public var sequence: Int64
    public var tenant: String
    public var occurredAt: Timestamp
    public var recordedAt: Timestamp
    public var action: String
    public var actor: JSONObject?
    public var resourceType: String?
    public var resourceId: String?
    /// The resource's version after this event (nil for an event about no resource).
    public var version: Int64?
    /// `{path: [old, new]}`, in the order of SPEC §2.3.
    public var changes: JSONObject
    public var summary: String
    public var context: JSONObject?
    public var metadata: JSONObject?

    public init(
        id: String, sequence: Int64, tenant: String, occurredAt: Timestamp, recordedAt: Timestamp,
        action: String, actor: JSONObject?, resourceType: String?, resourceId: String?, version: Int64?,
        changes: JSONObject, summary: String, context: JSONObject?, metadata: JSONObject?
    ) {
        self.id = id
        self.sequence = sequence
        self.tenant = tenant
        self.occurredAt = occurredAt
        self.recordedAt = recordedAt
        self.action = action
        self.actor = actor
        self.resourceType = resourceType
        self.resourceId = resourceId
        self.version = version
        self.changes = changes
        self.summary = summary
        self.context = context
        self.metadata = metadata
    }
}
