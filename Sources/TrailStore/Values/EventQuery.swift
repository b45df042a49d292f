public import TrailCore

/// Filters of an event list (SPEC §5); nil matches anything, except that events of the category
/// ``accessCategory`` (Trail's record of who read the log) match only a query that names that category or
/// ``includesAccess`` them (SPEC §7).
/// Results are newest first (by sequence).
public struct EventQuery: Sendable, Equatable {
    /// The category of the events Trail records about access to the log itself (meta-audit).
    public static let accessCategory = "AUDIT_ACCESS"

    public var actorId: String?
    public var action: String?
    public var resourceType: String?
    public var resourceId: String?
    public var category: String?
    public var outcome: String?
    /// Recorded at or after.
    public var since: Timestamp?
    /// Recorded at or before.
    public var until: Timestamp?
    /// Keyset pagination: only events with a sequence below this one.
    public var beforeSequence: Int64?
    /// Only events with a sequence above this one.
    public var afterSequence: Int64?
    /// Words the event must contain (`q`, SPEC §5).
    public var search: SearchQuery?
    /// Oldest first (exports) instead of newest first (lists).
    public var oldestFirst: Bool
    /// The records of who read the log (``accessCategory``) too, whatever `category` says: a tenant's whole
    /// hash chain, for verification (SPEC §8).
    public var includesAccess: Bool
    public var limit: Int
    /// One page of a read that goes through many (an export, a verification): each page of the store is touched
    /// about once. The SQLite store then reads it with `pread` rather than through its mapping of the file, so
    /// that a long export does not add what it read to the server's resident memory.
    public var bulk: Bool = false
    /// Events as stored, their personal values sealed (what their hashes cover: NDJSON exports, verification),
    /// instead of opened for reading (SPEC §11).
    public var sealed: Bool = false

    public init(
        actorId: String? = nil, action: String? = nil, resourceType: String? = nil, resourceId: String? = nil,
        category: String? = nil, outcome: String? = nil, since: Timestamp? = nil, until: Timestamp? = nil,
        beforeSequence: Int64? = nil, afterSequence: Int64? = nil, search: SearchQuery? = nil,
        oldestFirst: Bool = false, includesAccess: Bool = false, limit: Int = 50
    ) {
        self.actorId = actorId
        self.action = action
        self.resourceType = resourceType
        self.resourceId = resourceId
        self.category = category
        self.outcome = outcome
        self.since = since
        self.until = until
        self.beforeSequence = beforeSequence
        self.afterSequence = afterSequence
        self.search = search
        self.oldestFirst = oldestFirst
        self.includesAccess = includesAccess
        self.limit = limit
    }
}

extension EventQuery {
    /// The events of one resource, oldest first: its history, every event, or a page of `limit` after
    /// `sequence`.
    public static func history(
        resourceType: String, resourceId: String, after sequence: Int64? = nil, limit: Int = Int(Int32.max)
    ) -> EventQuery {
        EventQuery(resourceType: resourceType, resourceId: resourceId, afterSequence: sequence, oldestFirst: true, limit: limit)
    }
}

extension EventQuery {
    /// A page (of at most 1,000 events) of one resource's events, found by its index: a short read.
    var isOneResourcesPage: Bool {
        resourceType != nil && resourceId != nil && search == nil && !bulk && limit <= 1_000
    }

    /// Whether `event` matches the query's filters, decided without the store: nil when only the store can tell
    /// (a search, `q`). Pages and limit are not filters.
    public func matches(_ event: RecordedEvent) -> Bool? {
        guard search == nil else { return nil }
        if let actorId, event.actorId != actorId { return false }
        if let action, event.action != action { return false }
        if let resourceType, event.resourceType != resourceType { return false }
        if let resourceId, event.resourceId != resourceId { return false }
        if let category {
            if event.category != category { return false }
        } else if !includesAccess && event.category == Self.accessCategory {
            return false
        }
        if let outcome, event.outcome.rawValue != outcome { return false }
        if let since, event.recordedAt < since { return false }
        if let until, event.recordedAt > until { return false }
        if let beforeSequence, event.sequence >= beforeSequence { return false }
        if let afterSequence, event.sequence <= afterSequence { return false }
        return true
    }
}

extension EventQuery {
    /// The words the search index holds for an event: its searchable text (``SearchText``) with the tokens of its
    /// sealed values. None for the meta-audit's records of reads: each would hold the words of the search it
    /// records, and every later search for them would step over all of them.
    static func searchWords(
        category: String?, summary: String, resourceName: String?, actor: JSONObject?, metadata: JSONObject?,
        sealedWords: [String]
    ) -> String {
        category == accessCategory ? "" : SearchText.document(
            summary: summary, resourceName: resourceName, actor: actor, metadata: metadata, sealedWords: sealedWords)
    }
}
