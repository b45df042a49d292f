import Logging
import PostgresNIO
import TrailCore

/// The full-text index of the PostgreSQL store is built behind the writer (issue 27, as on SQLite): the writer's
/// call stores each event's words in `events.search`, a column with no index, and an indexer copies them into
/// `event_search`, whose GIN index searches use, a tenant at a time in transactions of up to ``indexBatch``
/// events. The GIN index's work (its pending list, merged into the index now and then by whichever insert finds
/// it full) is then never done while a writer holds its tenant's lock.
///
/// Each tenant has a **watermark** (`search_progress.indexed_through`), moved in the same transaction as the rows
/// it covers. A tenant's events commit in sequence order (its writers take turns on its `tenant_heads` row), so
/// the events past the watermark are exactly those not indexed.
///
/// Searches stay exact by waiting for the watermark: before it searches, a read brings its tenant's index up to
/// the tenant's head (``catchUp(for:tenant:on:logger:)``), indexing what the indexer has not reached yet itself —
/// usually nothing or the few events of the indexer's last moments. (A search that read the events past the
/// watermark beside the index, as SQLite's does, needs a union PostgreSQL plans badly: it reads every indexed
/// match of a common word before it can take the newest page.)
///
/// Whatever changes `event_search` — an indexer, a search catching up, an erasure, retention — first locks the
/// tenant's watermark row, so none copies words another is removing; indexers skip a tenant whose watermark
/// another transaction holds, searches wait for it.
enum PostgresSearch {
    /// Events per indexing transaction.
    static let indexBatch = 2_000

    /// Locks `tenant`'s watermark (made at 0, nothing indexed, if it had none) for the caller's transaction, as
    /// erasure and retention do before they change words, and returns it.
    static func lockWatermark(tenant: String, on connection: PostgresConnection, logger: Logger) async throws -> Int64 {
        try await connection.run("""
            INSERT INTO search_progress (tenant, indexed_through) VALUES (\(tenant), 0) ON CONFLICT (tenant) DO NOTHING
            """, logger: logger)
        var watermark: Int64 = 0
        for try await value in try await connection.query("""
            SELECT indexed_through FROM search_progress WHERE tenant = \(tenant) FOR UPDATE
            """, logger: logger).decode(Int64.self) {
            watermark = value
        }
        return watermark
    }

    /// Indexes at most `limit` of `tenant`'s events past its watermark and moves the watermark past them, in one
    /// autocommitted call (`trail_index_search`, migration 0019); how many it passed (events without words are
    /// passed, not indexed), nil if another transaction holds the tenant's watermark and `waiting` is false (with
    /// `waiting`, it waits for it).
    static func indexPending(tenant: String, limit: Int, waiting: Bool = false, on connection: PostgresConnection,
                             logger: Logger) async throws -> Int? {
        var passed: Int64?
        for try await count in try await connection.query("""
            SELECT trail_index_search(\(tenant), \(Int32(clamping: limit)), \(waiting))
            """, logger: logger).decode(Int64?.self) {
            passed = count
        }
        return passed.map(Int.init)
    }

    /// Brings `tenant`'s index up to every event committed before the call when `query` searches (a search
    /// waits for the watermark): nothing to do when the indexer has reached the tenant's head, else the pending
    /// events are indexed here, after whatever holds the watermark (an indexer, an erasure) is done.
    static func catchUp(for query: EventQuery, tenant: String, on connection: PostgresConnection, logger: Logger) async throws {
        guard query.search != nil else { return }
        var behind = false
        for try await flag in try await connection.query("""
            SELECT h.last_sequence > COALESCE(p.indexed_through, 0)
            FROM tenant_heads h LEFT JOIN search_progress p ON p.tenant = h.tenant WHERE h.tenant = \(tenant)
            """, logger: logger).decode(Bool.self) {
            behind = flag
        }
        guard behind else { return }
        while try await indexPending(tenant: tenant, limit: indexBatch, waiting: true, on: connection, logger: logger) == indexBatch {}
    }

    /// Each tenant whose events the index has not all reached, with how many it has not.
    static func lagging(on connection: PostgresConnection, logger: Logger) async throws -> [(tenant: String, lag: Int64)] {
        var lagging: [(tenant: String, lag: Int64)] = []
        for try await (tenant, lag) in try await connection.query("""
            SELECT h.tenant, h.last_sequence - COALESCE(p.indexed_through, 0)
            FROM tenant_heads h LEFT JOIN search_progress p ON p.tenant = h.tenant
            WHERE h.last_sequence > COALESCE(p.indexed_through, 0)
            ORDER BY h.tenant
            """, logger: logger).decode((String, Int64).self) {
            lagging.append((tenant, lag))
        }
        return lagging
    }

    /// Brings `event_search` in line with `events.search` for these events of `tenant` (an erasure rewrote their
    /// words, retention removed them), in the caller's transaction, which holds the tenant's watermark
    /// (``lockWatermark(tenant:on:logger:)``) since before it changed them: those the index has
    /// reached are indexed again; the others are indexed later, with their new words.
    static func reindex(tenant: String, sequences: [Int64], watermark: Int64, on connection: PostgresConnection,
                        logger: Logger) async throws {
        guard !sequences.isEmpty else { return }
        // Two statements: the insert must see the rows the delete took away (a data-modifying `WITH` would not).
        try await connection.run("""
            DELETE FROM event_search WHERE tenant = \(tenant) AND sequence = ANY(\(sequences)::int8[])
            """, logger: logger)
        try await connection.run("""
            INSERT INTO event_search (tenant, sequence, search)
            SELECT tenant, sequence, search FROM events
            WHERE tenant = \(tenant) AND sequence = ANY(\(sequences)::int8[]) AND sequence <= \(watermark)
                AND search IS NOT NULL AND length(search) > 0
            """, logger: logger)
    }
}

extension PostgresEventStore: SearchIndexing {
    /// Follows the log for the store's lifetime: woken by commits (this process's, and other processes' through
    /// `NOTIFY`), it waits `gather` so that a busy writer's commits are indexed together, then indexes what is
    /// pending. Several processes' indexers share the work tenant by tenant.
    func indexSearchBehindWriter(gather: Duration) async {
        await SearchIndexer.follow(searchWork, gather: gather, logger: logger) {
            try await indexSearch(limit: .max)
            return try await searchIndexLag()
        }
    }

    @discardableResult
    func indexSearch(limit: Int) async throws(StoreError) -> Int {
        try await read { connection, logger in
            var indexed = 0
            for (tenant, _) in try await PostgresSearch.lagging(on: connection, logger: logger) {
                while indexed < limit {
                    let batch = min(PostgresSearch.indexBatch, limit - indexed)
                    guard let passed = try await PostgresSearch.indexPending(
                        tenant: tenant, limit: batch, on: connection, logger: logger) else { break }
                    indexed += passed
                    if passed < batch { break }
                }
            }
            return indexed
        }
    }

    func searchIndexLag() async throws(StoreError) -> Int {
        try await read { connection, logger in
            Int(try await PostgresSearch.lagging(on: connection, logger: logger).reduce(0) { $0 + $1.lag })
        }
    }
}
