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

    /// The commits of this store as this process hears of them: what followers of the log wait on (SPEC §14).
    var commits: CommitFeed { get }

    /// The current head of one resource, or nil if Trail has no event for it.
    func head(tenant: String, resourceType: String, resourceId: String) async throws(StoreError) -> ResourceHead?

    /// One event by its id, or nil; `sealed`: as stored (for proofs), not opened for reading (SPEC §11).
    func event(tenant: String, id: String, sealed: Bool) async throws(StoreError) -> RecordedEvent?

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

extension EventStore {
    /// One event by its id, as readers see it.
    public func event(tenant: String, id: String) async throws(StoreError) -> RecordedEvent? {
        try await event(tenant: tenant, id: id, sealed: false)
    }

    /// Every event of one resource, oldest first.
    public func history(tenant: String, resourceType: String, resourceId: String) async throws(StoreError) -> [RecordedEvent] {
        try await events(tenant: tenant, matching: .history(resourceType: resourceType, resourceId: resourceId))
    }
}
