public import TrailCore

/// Where Trail keeps events, resource heads and idempotency keys.
///
/// Every operation names its tenant; an implementation never reads or writes across tenants. Implementations
/// serialise the events of one resource (no lost update, no duplicate or skipped version) and keep each tenant's
/// `sequence` gapless.
public protocol EventStore: Sendable {
    /// Records the activities of one submission atomically and in order: either every event is stored, or
    /// none is. Later activities see the state left by earlier ones. Returns once the events are durable.
    ///
    /// With an idempotency claim whose key was seen before: the same request digest returns the first result
    /// (`replayed`) and stores nothing; another digest throws ``StoreError/Code/idempotencyConflict``.
    func append(_ request: AppendRequest) async throws(StoreError) -> AppendResult

    /// Appends several submissions in this order, each atomically on its own (one may fail while the others are
    /// stored), consecutively: no other submission comes between them. One result per request, in order.
    func append(_ requests: [AppendRequest]) async -> [Result<AppendResult, StoreError>]

    /// The current head of one resource, or nil if Trail has no event for it.
    func head(tenant: String, resourceType: String, resourceId: String) async throws(StoreError) -> ResourceHead?

    /// One event by its id, or nil.
    func event(tenant: String, id: String) async throws(StoreError) -> RecordedEvent?

    /// A tenant's events matching `query`, newest first (or oldest first), at most `query.limit`.
    func events(tenant: String, matching query: EventQuery) async throws(StoreError) -> [RecordedEvent]

    /// The same page as ``events(tenant:matching:)``, as stored column text (JSON unparsed): for writing events
    /// out in bulk (exports).
    func eventColumns(tenant: String, matching query: EventQuery) async throws(StoreError) -> [StoredEventColumns]

    /// Counts of a tenant's events matching `query` (SPEC §5 summary; its order, pages and limit are ignored).
    func summary(tenant: String, matching query: EventQuery) async throws(StoreError) -> EventSummary

    /// A resource as it was at `point`: the state its last event up to then left. Nil if the resource did not
    /// exist then (no event yet, or no such version).
    func snapshot(tenant: String, resourceType: String, resourceId: String, at point: SnapshotPoint) async throws(StoreError) -> ResourceSnapshot?
}

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

extension EventStore {
    /// Every event of one resource, oldest first.
    public func history(tenant: String, resourceType: String, resourceId: String) async throws(StoreError) -> [RecordedEvent] {
        try await events(tenant: tenant, matching: .history(resourceType: resourceType, resourceId: resourceId))
    }
}

/// Counts of events by facet; each list is ordered by count (highest first), then by name, except `byDay`,
/// which is in day order. Events without an actor or resource type are left out of those facets.
public struct EventSummary: Sendable, Equatable {
    public struct Durations: Sendable, Equatable {
        public var minimum: Int64
        public var average: Double
        public var maximum: Int64

        public init(minimum: Int64, average: Double, maximum: Int64) {
            self.minimum = minimum
            self.average = average
            self.maximum = maximum
        }
    }

    public var total: Int
    public var byAction: [(String, Int)]
    public var byResourceType: [(String, Int)]
    public var byActor: [(String, Int)]
    /// Days as `YYYY-MM-DD` (UTC, by recorded time).
    public var byDay: [(String, Int)]
    public var byOutcome: [(String, Int)]
    public var durationByAction: [(String, Durations)]

    public init(
        total: Int = 0, byAction: [(String, Int)] = [], byResourceType: [(String, Int)] = [], byActor: [(String, Int)] = [],
        byDay: [(String, Int)] = [], byOutcome: [(String, Int)] = [], durationByAction: [(String, Durations)] = []
    ) {
        self.total = total
        self.byAction = byAction
        self.byResourceType = byResourceType
        self.byActor = byActor
        self.byDay = byDay
        self.byOutcome = byOutcome
        self.durationByAction = durationByAction
    }

    public static func == (lhs: EventSummary, rhs: EventSummary) -> Bool {
        func same(_ a: [(String, Int)], _ b: [(String, Int)]) -> Bool { a.map(\.0) == b.map(\.0) && a.map(\.1) == b.map(\.1) }
        return lhs.total == rhs.total && same(lhs.byAction, rhs.byAction) && same(lhs.byResourceType, rhs.byResourceType)
            && same(lhs.byActor, rhs.byActor) && same(lhs.byDay, rhs.byDay) && same(lhs.byOutcome, rhs.byOutcome)
            && lhs.durationByAction.map(\.0) == rhs.durationByAction.map(\.0)
            && lhs.durationByAction.map(\.1) == rhs.durationByAction.map(\.1)
    }

    /// The facet queries both stores run: `(facet, key, count)` rows, `key` the action, resource type, actor id,
    /// day number (days since 1970-01-01 UTC) or outcome.
    static let facets: [(name: String, expression: String)] = [
        ("action", "action"), ("resource_type", "resource_type"), ("actor", "actor_id"),
        ("day", "recorded_at / 86400000000"), ("outcome", "outcome"),
    ]

    /// Sorts and assembles what a store counted.
    static func assemble(
        counts: [(facet: String, key: String, count: Int)], durations: [(String, Durations)]
    ) -> EventSummary {
        func facet(_ name: String) -> [(String, Int)] {
            counts.filter { $0.facet == name }.map { ($0.key, $0.count) }
                .sorted { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }
        }
        let days = counts.filter { $0.facet == "day" }.compactMap { row in Int64(row.key).map { ($0, row.count) } }
            .sorted { $0.0 < $1.0 }
            .map { (Timestamp(microseconds: $0.0 * 86_400_000_000).day, $0.1) }
        return EventSummary(
            total: facet("outcome").reduce(0) { $0 + $1.1 }, byAction: facet("action"),
            byResourceType: facet("resource_type"), byActor: facet("actor"), byDay: days, byOutcome: facet("outcome"),
            durationByAction: durations.sorted { $0.0 < $1.0 })
    }
}

/// Which state of a resource to read.
public enum SnapshotPoint: Sendable, Equatable {
    /// The current state.
    case latest
    /// The state that version N made.
    case version(Int64)
    /// The state as Trail had recorded it at this time (events recorded up to it).
    case time(Timestamp)
}

/// A resource's state at some point, with the event that left it.
public struct ResourceSnapshot: Sendable, Equatable {
    public var version: Int64
    /// Nil when the resource was deleted.
    public var state: JSONObject?
    public var eventId: String
    /// When that event was recorded.
    public var asOf: Timestamp

    public init(version: Int64, state: JSONObject?, eventId: String, asOf: Timestamp) {
        self.version = version
        self.state = state
        self.eventId = eventId
        self.asOf = asOf
    }
}

/// One submission to record.
public struct AppendRequest: Sendable {
    public var tenant: String
    public var activities: [Activity]
    public var idempotency: IdempotencyClaim?
    /// The queued message this submission processes: it is marked completed in the same transaction as the
    /// events, or the append fails with ``StoreError/Code/claimLost`` and stores nothing.
    public var completes: MessageClaim?

    public init(tenant: String, activities: [Activity], idempotency: IdempotencyClaim? = nil, completes: MessageClaim? = nil) {
        self.tenant = tenant
        self.activities = activities
        self.idempotency = idempotency
        self.completes = completes
    }
}

/// A submission's idempotency key and a digest of its body, to tell a retry from a different submission.
public struct IdempotencyClaim: Sendable, Equatable {
    public var key: String
    public var requestDigest: [UInt8]

    public init(key: String, requestDigest: [UInt8]) {
        self.key = key
        self.requestDigest = requestDigest
    }
}

public struct AppendResult: Sendable {
    /// The stored events, in submission order.
    public var events: [RecordedEvent]
    /// When the submission was first recorded.
    public var recordedAt: Timestamp
    /// True when this answers a repeated idempotency key: nothing new was stored.
    public var replayed: Bool

    public init(events: [RecordedEvent], recordedAt: Timestamp, replayed: Bool) {
        self.events = events
        self.recordedAt = recordedAt
        self.replayed = replayed
    }
}

/// Why a store operation failed, with a code callers can switch on and a message fit for users.
public struct StoreError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String
        /// The idempotency key was used before with a different body.
        public static let idempotencyConflict = Code(name: "idempotencyConflict")
        /// The store cannot be reached or is busy; the operation may succeed later.
        public static let unavailable = Code(name: "unavailable")
        /// Stored data could not be read back (corruption, or a newer schema).
        public static let corrupt = Code(name: "corrupt")
        /// The store refused the operation as invalid (a broken invariant: a bug).
        public static let rejected = Code(name: "rejected")
        /// There is no store where one was named, and the operation does not create one.
        public static let missing = Code(name: "missing")
        /// The connection to the store was lost while a write was being committed: it may or may not have been
        /// stored. A retry with the same idempotency key finds out without storing it twice.
        public static let indeterminate = Code(name: "indeterminate")
        public var description: String { name }
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }

    static let indeterminate = StoreError(
        .indeterminate, "the connection to the store was lost while the write was being committed; it may or may not be stored")

    /// The idempotency key of `claim` was used before with another body.
    static func reused(_ claim: IdempotencyClaim) -> StoreError {
        StoreError(.idempotencyConflict,
            "the idempotency key \"\(claim.key)\" was already used with a different body; use a new key for a new submission")
    }
}

/// How a store behaves, whatever its backend. Defaults are documented in the README.
public struct StoreConfiguration: Sendable {
    /// Keys whose values are redacted, matched case-insensitively at any depth.
    public var sensitiveKeys: [String]
    /// How long an idempotency key is remembered (at least; they are purged lazily). Default 24 hours.
    public var idempotencyRetentionSeconds: Int64
    /// The upper bound of events gathered into one group-commit transaction.
    public var maximumEventsPerTransaction: Int
    /// The source of recorded times; tests pass a fixed clock.
    public var clock: @Sendable () -> Timestamp
    /// How long an operation waits for a connection to PostgreSQL before it fails as unavailable (503, nothing
    /// done): while the server is down, requests fail within this time instead of hanging. Default 2 s.
    public var connectionTimeout: Duration

    public init(
        sensitiveKeys: [String] = Redactor.defaultSensitiveKeys,
        idempotencyRetentionSeconds: Int64 = 24 * 3600,
        maximumEventsPerTransaction: Int = 20_000,
        clock: @escaping @Sendable () -> Timestamp = SystemClock.now,
        connectionTimeout: Duration = .seconds(2)
    ) {
        self.sensitiveKeys = sensitiveKeys
        self.idempotencyRetentionSeconds = idempotencyRetentionSeconds
        self.maximumEventsPerTransaction = maximumEventsPerTransaction
        self.clock = clock
        self.connectionTimeout = connectionTimeout
    }
}
