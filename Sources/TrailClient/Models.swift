public import Foundation

/// Who did something (SPEC §2.1): an id, and optionally a name, an email and a kind.
public struct Actor: Sendable, Hashable, Codable {
    public var id: String
    public var name: String?
    public var email: String?
    public var type: String?

    public init(id: String, name: String? = nil, email: String? = nil, type: String? = nil) {
        self.id = id
        self.name = name
        self.email = email
        self.type = type
    }
}

/// What an event is about.
public struct ResourceReference: Sendable, Hashable, Codable {
    public var type: String?
    public var id: String?
    public var name: String?

    public init(type: String?, id: String?, name: String? = nil) {
        self.type = type
        self.id = id
        self.name = name
    }
}

/// A field's value before and after (`nil`: absent).
public struct FieldChange: Sendable, Hashable, Codable {
    public var old: TrailJSON?
    public var new: TrailJSON?

    public init(old: TrailJSON?, new: TrailJSON?) {
        self.old = old
        self.new = new
    }
}

/// An event to record (SPEC §3, a generic audit event): what happened, who did it, to what, with which field
/// changes. Trail writes the summary from the changes when none is given.
public struct AuditEvent: Sendable, Hashable, Encodable {
    public var action: String
    public var actor: Actor?
    public var resource: ResourceReference?
    public var category: String?
    /// `success` (the default), `failure` or `partial`.
    public var outcome: String?
    public var occurredAt: Date?
    public var durationMs: Int?
    /// Changed fields by (dotted) path.
    public var changes: [String: FieldChange]
    public var summary: String?
    /// `ip`, `user_agent`, `request_id`, …
    public var context: [String: TrailJSON]?
    public var metadata: [String: TrailJSON]?

    public init(action: String, actor: Actor? = nil, resource: ResourceReference? = nil, category: String? = nil,
                outcome: String? = nil, occurredAt: Date? = nil, durationMs: Int? = nil,
                changes: [String: FieldChange] = [:], summary: String? = nil, context: [String: TrailJSON]? = nil,
                metadata: [String: TrailJSON]? = nil) {
        self.action = action
        self.actor = actor
        self.resource = resource
        self.category = category
        self.outcome = outcome
        self.occurredAt = occurredAt
        self.durationMs = durationMs
        self.changes = changes
        self.summary = summary
        self.context = context
        self.metadata = metadata
    }

    enum CodingKeys: String, CodingKey {
        case action, actor, resource, category, outcome, changes, summary, context, metadata
        case occurredAt = "occurred_at", durationMs = "duration_ms"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(action, forKey: .action)
        try container.encodeIfPresent(actor, forKey: .actor)
        try container.encodeIfPresent(resource, forKey: .resource)
        try container.encodeIfPresent(category, forKey: .category)
        try container.encodeIfPresent(outcome, forKey: .outcome)
        try container.encodeIfPresent(occurredAt.map(TrailDates.format), forKey: .occurredAt)
        try container.encodeIfPresent(durationMs, forKey: .durationMs)
        if !changes.isEmpty {
            // {"field": [old, new]}, absent as null (SPEC §3).
            try container.encode(changes.mapValues { [$0.old ?? .null, $0.new ?? .null] }, forKey: .changes)
        }
        try container.encodeIfPresent(summary, forKey: .summary)
        try container.encodeIfPresent(context, forKey: .context)
        try container.encodeIfPresent(metadata, forKey: .metadata)
    }
}

/// An event as Trail stored it (SPEC §4).
public struct StoredEvent: Sendable, Hashable, Decodable {
    public var id: String
    public var sequence: Int64
    public var tenant: String
    public var occurredAt: String
    public var recordedAt: String
    public var action: String
    public var category: String?
    public var outcome: String
    public var actor: TrailJSON?
    public var resource: ResourceReference?
    public var version: Int64?
    /// `{path: [old, new]}`.
    public var changes: [String: [TrailJSON]]
    public var summary: String
    public var context: TrailJSON?
    public var metadata: TrailJSON?
    public var durationMs: Int64?
    public var error: TrailJSON?
    public var hash: String?
    public var prevHash: String?

    enum CodingKeys: String, CodingKey {
        case id, sequence, tenant, action, category, outcome, actor, resource, version, changes, summary, context, metadata
        case error, hash
        case occurredAt = "occurred_at", recordedAt = "recorded_at", durationMs = "duration_ms", prevHash = "prev_hash"
    }

    /// The actor's id, when the actor has one.
    public var actorId: String? { actor?["id"]?.stringValue }
}

/// A resource's state at a point of its history (`GET /api/v1/resources/{type}/{id}`).
public struct ResourceState: Sendable, Hashable, Decodable {
    public var type: String
    public var id: String
    public var version: Int64
    public var deleted: Bool
    /// Nil when the resource was deleted at that version.
    public var state: [String: TrailJSON]?
    public var eventId: String
    public var asOf: String

    enum CodingKeys: String, CodingKey {
        case type, id, version, deleted, state
        case eventId = "event_id", asOf = "as_of"
    }
}

/// The read API's filters (SPEC §5); nil leaves a filter out.
public struct EventFilter: Sendable, Hashable {
    public var actor: String?
    public var action: String?
    public var resourceType: String?
    public var resourceId: String?
    public var category: String?
    public var outcome: String?
    public var since: Date?
    public var until: Date?
    public var days: Int?
    /// Words that must all match (full-text search).
    public var query: String?
    /// Events per page fetched (1…1000; Trail's default 50).
    public var pageSize: Int?

    public init(actor: String? = nil, action: String? = nil, resourceType: String? = nil, resourceId: String? = nil,
                category: String? = nil, outcome: String? = nil, since: Date? = nil, until: Date? = nil, days: Int? = nil,
                query: String? = nil, pageSize: Int? = nil) {
        self.actor = actor
        self.action = action
        self.resourceType = resourceType
        self.resourceId = resourceId
        self.category = category
        self.outcome = outcome
        self.since = since
        self.until = until
        self.days = days
        self.query = query
        self.pageSize = pageSize
    }

    var parameters: [(String, String)] {
        [("actor", actor), ("action", action), ("resource_type", resourceType), ("resource_id", resourceId),
         ("category", category), ("outcome", outcome), ("since", since.map(TrailDates.format)),
         ("until", until.map(TrailDates.format)), ("days", days.map(String.init)), ("q", query),
         ("limit", pageSize.map(String.init))].compactMap { name, value in value.map { (name, $0) } }
    }
}

enum TrailDates {
    /// RFC 3339 in UTC, to the microsecond.
    static func format(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }
}
