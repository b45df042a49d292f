/// A stored event as the text of its columns: its JSON columns (`actor`, `changes`, `context`, `metadata`,
/// `error`) exactly as stored — Trail's own encoding, so valid JSON — for writing events out without parsing
/// and encoding them again (exports). Lists and single events are written through it too, so every read writes
/// an event the same way.
public struct StoredEventColumns: Sendable, Equatable {
    public var id: String
    public var sequence: Int64
    public var tenant: String
    public var occurredAt: Timestamp
    public var recordedAt: Timestamp
    public var action: String
    public var category: String?
    public var outcome: String
    public var actor: String?
    public var resourceType: String?
    public var resourceId: String?
    public var resourceName: String?
    public var version: Int64?
    public var changes: String
    public var summary: String
    public var context: String?
    public var metadata: String?
    public var durationMs: Int64?
    public var error: String?
    public var prevHash: EventHash.Digest
    public var hash: EventHash.Digest
    /// See ``RecordedEvent/removedAt``.
    public var removedAt: Timestamp?
    /// See ``RecordedEvent/erasedAt``.
    public var erasedAt: Timestamp?

    public init(
        id: String, sequence: Int64, tenant: String, occurredAt: Timestamp, recordedAt: Timestamp, action: String,
        category: String?, outcome: String, actor: String?, resourceType: String?, resourceId: String?,
        resourceName: String?, version: Int64?, changes: String, summary: String, context: String?,
        metadata: String?, durationMs: Int64?, error: String?, prevHash: EventHash.Digest, hash: EventHash.Digest,
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

    /// The columns of an event held in memory (its objects encoded as Trail stores them).
    public init(_ event: RecordedEvent) {
        func text(_ object: JSONObject?) -> String? { object.map { JSONWriter.string($0) } }
        self.init(
            id: event.id, sequence: event.sequence, tenant: event.tenant, occurredAt: event.occurredAt,
            recordedAt: event.recordedAt, action: event.action, category: event.category,
            outcome: event.outcome.rawValue, actor: text(event.actor), resourceType: event.resourceType,
            resourceId: event.resourceId, resourceName: event.resourceName, version: event.version,
            changes: JSONWriter.string(event.changes), summary: event.summary, context: text(event.context),
            metadata: text(event.metadata), durationMs: event.durationMs, error: text(event.error),
            prevHash: event.prevHash, hash: event.hash, removedAt: event.removedAt, erasedAt: event.erasedAt)
    }

    /// Whether the event names a resource (by type, id or name).
    var namesResource: Bool { resourceType != nil || resourceId != nil || resourceName != nil }

    /// `{"type", "id", "name"}` as JSON text, or nil for an event that names no resource.
    public var resource: String? {
        guard namesResource else { return nil }
        var writer = JSONWriter(capacity: 64)
        writer.writeResource(self)
        return String(decoding: writer.bytes, as: UTF8.self)
    }
}

extension JSONWriter {
    /// A string, or `null`.
    mutating func write(optional text: String?) {
        if let text { write(string: text) } else { raw("null") }
    }

    /// `{"type", "id", "name"}` of the event's resource, or `null`.
    mutating func writeResource(_ event: StoredEventColumns) {
        guard event.namesResource else {
            raw("null")
            return
        }
        raw("{\"type\":"); write(optional: event.resourceType)
        raw(",\"id\":"); write(optional: event.resourceId)
        raw(",\"name\":"); write(optional: event.resourceName)
        raw("}")
    }

    /// Stored JSON text as it is, or `null`.
    mutating func writeStored(_ json: String?) {
        raw(json ?? "null")
    }
}
