public import TrailCore

/// What retention needs to know of an event to decide whether it goes (SPEC §11).
public struct RemovalCandidate: Sendable, Equatable {
    public var sequence: Int64
    public var recordedAt: Timestamp
    public var occurredAt: Timestamp
    public var resourceType: String?
    public var resourceId: String?
    public var category: String?
    public var actorId: String?

    public init(sequence: Int64, recordedAt: Timestamp, occurredAt: Timestamp, resourceType: String?, resourceId: String?,
                category: String?, actorId: String?) {
        self.sequence = sequence
        self.recordedAt = recordedAt
        self.occurredAt = occurredAt
        self.resourceType = resourceType
        self.resourceId = resourceId
        self.category = category
        self.actorId = actorId
    }

    /// Where a scan in `recorded_at` order stopped.
    public var cursor: RemovalCursor { RemovalCursor(recordedAt: recordedAt, sequence: sequence) }
}

/// A position in a tenant's events ordered by `recorded_at`, then `sequence`.
public struct RemovalCursor: Sendable, Equatable {
    public var recordedAt: Timestamp
    public var sequence: Int64

    public init(recordedAt: Timestamp, sequence: Int64) {
        self.recordedAt = recordedAt
        self.sequence = sequence
    }

    public static let start = RemovalCursor(recordedAt: Timestamp(microseconds: Int64.min), sequence: 0)
}

/// Retention rules, legal holds and the removal of events' content (SPEC §11). Every operation names its tenant.
public protocol LifecycleStore: Sendable {
    /// The tenant's rules (empty: keep everything).
    func retentionPolicy(tenant: String) async throws(StoreError) -> RetentionPolicy
    /// Replaces the tenant's rules.
    func setRetentionPolicy(_ policy: RetentionPolicy, tenant: String) async throws(StoreError)
    /// The tenants that have at least one rule.
    func tenantsWithRetention() async throws(StoreError) -> [String]

    func insertHold(_ hold: LegalHold) async throws(StoreError)
    /// The tenant's holds, released ones too, oldest first.
    func holds(tenant: String) async throws(StoreError) -> [LegalHold]
    /// Releases a hold; returns it (released now, or earlier), nil when the tenant has none with this id.
    func releaseHold(tenant: String, id: String, at time: Timestamp, by subject: String) async throws(StoreError) -> LegalHold?

    /// Events not removed yet, recorded before `recordedBefore`, after `cursor` in (`recorded_at`, `sequence`)
    /// order: at most `limit`, in that order.
    func removalCandidates(tenant: String, recordedBefore: Timestamp, after cursor: RemovalCursor, limit: Int) async throws(StoreError) -> [RemovalCandidate]

    /// Removes the content of these events in one transaction: the event rows keep their place in the log
    /// (``RecordedEvent/removedAt``) and lose the rest, and their words leave the search index, the state they
    /// left is no longer kept with them, and completed queue messages that carried them lose their bodies.
    /// Events already removed are left as they are. Returns how many were removed now.
    func removeEvents(tenant: String, sequences: [Int64], at time: Timestamp) async throws(StoreError) -> Int
}
