import Foundation
import GRDB
import Synchronization
import TrailCore

/// The write side of the SQLite store: one group-commit transaction over many submissions.
final class SQLiteAppender: Sendable {
    let redactor: Redactor
    let configuration: StoreConfiguration
    private let lastPurgeMinute = Atomic<Int64>(0)
    private let cache = HeadCache()
    /// SQLite's `data_version` when the cache was last known to be current.
    private let dataVersion = Atomic<Int64>(-1)

    init(redactor: Redactor, configuration: StoreConfiguration) {
        self.redactor = redactor
        self.configuration = configuration
    }

    /// What the group-commit writer writes: submissions to append, and messages to queue.
    enum Write: Sendable {
        case append(PreparedRequest)
        case enqueue(NewMessage)
    }

    enum Outcome: Sendable {
        case appended(AppendResult)
        case enqueued(EnqueueResult)
    }

    /// Writes the submissions in one transaction and commits once.
    ///
    /// A refused idempotency key or a lost message claim is answered without writing anything, so it never
    /// disturbs the others. Any other failure aborts the whole transaction; then, if it held several
    /// submissions, each is retried in a transaction of its own, so that one faulty submission fails alone.
    /// (Savepoints per submission would do the same, but cost every transaction a scan of SQLite's page cache.)
    func commit(_ requests: [Write], in pool: DatabasePool) -> [Result<Outcome, StoreError>] {
        var results: [Result<Outcome, StoreError>] = []
        var written = Written(for: requests.lazy.compactMap { if case .append(let request) = $0 { request } else { nil } })
        do {
            try pool.writeWithoutTransaction { db in
                try db.inCachedTransaction(.immediate) {
                    try invalidateCacheIfOthersWrote(db)
                    let now = configuration.clock()
                    try purgeExpiredKeys(db, now: now)
                    for request in requests {
                        do {
                            switch request {
                            case .append(let request):
                                results.append(.success(.appended(try append(request, db: db, now: now, written: &written))))
                            case .enqueue(let message):
                                results.append(.success(.enqueued(try SQLiteQueue.enqueue(message, db: db, now: now))))
                            }
                        } catch let error as StoreError where error.code == .idempotencyConflict || error.code == .claimLost {
                            results.append(.failure(error))
                        }
                    }
                }
            }
        } catch {
            cache.removeAll()
            let failure = SQLiteFailure.storeError(error, path: pool.path)
            // A refused write may be one submission's fault: find it. Unavailable storage is everyone's.
            if requests.count > 1 && failure.code == .rejected {
                return requests.flatMap { commit([$0], in: pool) }
            }
            return requests.map { _ in .failure(failure) }
        }
        cache.store(written)
        return results
    }

    /// Another connection (another process on the same file) committed since our last look: what we cached
    /// may be stale. `PRAGMA data_version` changes only for commits of other connections.
    private func invalidateCacheIfOthersWrote(_ db: Database) throws {
        let version = try Int64.fetchOne(db.cachedStatement(sql: "PRAGMA data_version")) ?? 0
        if dataVersion.exchange(version, ordering: .relaxed) != version {
            cache.removeAll()
        }
    }

    /// Appends one submission, after those of the same transaction in `written`, and completes the message it
    /// processes, if any.
    private func append(
        _ request: PreparedRequest, db: Database, now: Timestamp, written: inout Written
    ) throws -> AppendResult {
        if let claim = request.completes { try SQLiteQueue.verify(claim, db: db) }
        let result = try appendEvents(request, db: db, now: now, written: &written)
        if let claim = request.completes { try SQLiteQueue.complete(claim, with: result, db: db, now: now) }
        return result
    }

    private func appendEvents(
        _ request: PreparedRequest, db: Database, now: Timestamp, written: inout Written
    ) throws -> AppendResult {
        let tenant = request.tenant
        if let claim = request.idempotency, let replay = try replay(claim, tenant: tenant, db: db, now: now) {
            return replay
        }

        let chain = try written.chains[tenant] ?? self.chain(tenant, db: db)
        /// Heads inserted as new by `claimNewHead`, with the sequence of the event that claimed them.
        var claimed: [HeadKey: Int64] = [:]
        let (rows, touched) = try request.plan(after: chain, now: now, redactor: redactor, written: &written,
                                                 cacheGeneration: cache.generation) {
            key, item, sequence in
            if let head = cache.head(key) { return head }
            if item.speculation.basisVersion == nil, item.speculation.dependsOn == nil,
               let head = item.speculation.applied.transition.head,
               try claimNewHead(key, head, item.speculation.applied, sequence: sequence, now: now, db: db) {
                // The resource had no head: the transition computed in advance for a new resource holds.
                claimed[key] = sequence
                return nil
            }
            return try SQLiteRows.head(db, tenant: tenant, type: key.type, id: key.id)
        }

        let insert = try RawStatement(db.cachedStatement(sql: """
            INSERT INTO events (tenant, sequence, id, occurred_at, recorded_at, action, actor_id, actor,
                resource_type, resource_id, version, new_version, changes, summary, state_after, secret_digests,
                context, metadata, category, outcome, resource_name, duration_ms, error, prev_hash, hash, sealed_words)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """))
        for row in rows {
            let event = row.event
            try insert.execute(db, [
                .text(tenant), .integer(event.sequence), .text(event.id), .integer(event.occurredAt.microseconds),
                .integer(now.microseconds), .text(event.action), .text(row.actorId), .text(row.actorJSON),
                .text(event.resourceType), .text(event.resourceId), .integer(event.version),
                .integer(row.advancesVersion ? 1 : 0), .text(row.changesJSON), .text(event.summary),
                .text(row.stateJSON), .text(row.digestsJSON), .text(row.contextJSON), .text(row.metadataJSON),
                .text(event.category), .text(event.outcome.rawValue), .text(event.resourceName),
                .integer(event.durationMs), .text(row.errorJSON), .blob(event.prevHash), .blob(event.hash),
                .text(row.sealedWords),
            ])
        }

        let upsert = try RawStatement(db.cachedStatement(sql: SQLiteAppender.insertHead + """
            ON CONFLICT (tenant, resource_type, resource_id) DO UPDATE SET
                version = excluded.version, state = excluded.state, secret_digests = excluded.secret_digests,
                last_sequence = excluded.last_sequence, updated_at = excluded.updated_at
            """))
        for key in touched {
            guard let head = written.heads[key], claimed[key] != head.lastSequence else {
                continue  // the head claimed by this submission's only event on the resource is already stored
            }
            try upsert.execute(db, [
                .text(tenant), .text(key.type), .text(key.id), .integer(head.head.version),
                .text(head.stateJSON), .text(head.digestsJSON), .integer(head.lastSequence),
                .integer(now.microseconds),
            ])
        }

        if let claim = request.idempotency {
            try db.cachedStatement(sql: """
                INSERT OR REPLACE INTO idempotency_keys (tenant, key, request_digest, first_sequence, event_count, created_at)
                VALUES (?, ?, ?, ?, ?, ?)
                """).execute(arguments: [
                    tenant, claim.key, Data(claim.requestDigest), rows.isEmpty ? nil : chain.sequence + 1,
                    rows.count, now.microseconds,
                ])
        }
        return AppendResult(events: rows.map(\.event), recordedAt: now, replayed: false)
    }

    /// The tenant's newest event, which its next one follows.
    private func chain(_ tenant: String, db: Database) throws -> ChainHead {
        if let chain = cache.chain(tenant) { return chain }
        return try SQLiteRows.chain(db, tenant: tenant)
    }

    /// The head a resource is expected to have when the writer reaches it: the cached one, or none. Called
    /// outside the writer, to compute transitions in advance.
    func expectedHead(_ key: HeadKey) -> ResourceHead? {
        cache.head(key)
    }

    /// See ``HeadCache/generation``.
    var cacheGeneration: Int { cache.generation }

    /// Forgets every cached head, for a change of heads made outside appends (an erasure); call it inside the
    /// writer's transaction that makes the change.
    func forgetCachedHeads() {
        cache.removeAll()
    }

    /// Inserts the head a new resource gets from `applied`, if the resource has no head yet: one insert instead
    /// of a lookup and an insert for the common case of a first event. False if a head exists (nothing written).
    private func claimNewHead(
        _ key: HeadKey, _ head: ResourceHead, _ applied: AppliedTransition, sequence: Int64, now: Timestamp,
        db: Database
    ) throws -> Bool {
        let insert = try RawStatement(db.cachedStatement(sql: SQLiteAppender.insertHead + """
            ON CONFLICT (tenant, resource_type, resource_id) DO NOTHING
            """))
        try insert.execute(db, [
            .text(key.tenant), .text(key.type), .text(key.id), .integer(head.version),
            .text(applied.stateJSON), .text(applied.digestsJSON), .integer(sequence), .integer(now.microseconds),
        ])
        return db.changesCount == 1
    }

    /// The insert of a resource head, to be completed by an `ON CONFLICT` clause.
    private static let insertHead = """
        INSERT INTO resource_heads (tenant, resource_type, resource_id, version, state, secret_digests,
            last_sequence, updated_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?)

        """

    /// The first answer to a repeated idempotency key, or nil if the key is new (or expired).
    private func replay(_ claim: IdempotencyClaim, tenant: String, db: Database, now: Timestamp) throws -> AppendResult? {
        let statement = try db.cachedStatement(sql: """
            SELECT request_digest, first_sequence, event_count, created_at FROM idempotency_keys
            WHERE tenant = ? AND key = ? AND created_at >= ?
            """)
        let cutoff = now.microseconds - configuration.idempotencyRetentionSeconds * 1_000_000
        guard let row = try Row.fetchOne(statement, arguments: [tenant, claim.key, cutoff]) else { return nil }
        let digest: Data = row[0]
        guard Array(digest) == claim.requestDigest else {
            throw StoreError.reused(claim)
        }
        let count: Int64 = row[2]
        var events: [RecordedEvent] = []
        if count > 0, let first: Int64 = row[1] {
            events = try SQLiteRows.events(db, sql: """
                SELECT \(SQLiteRows.eventColumns) FROM events
                WHERE tenant = ? AND sequence BETWEEN ? AND ? ORDER BY sequence
                """, arguments: [tenant, first, first + count - 1])
        }
        return AppendResult(events: events, recordedAt: Timestamp(microseconds: row[3]), replayed: true)
    }

    /// Forgets idempotency keys past their retention, at most once a minute.
    private func purgeExpiredKeys(_ db: Database, now: Timestamp) throws {
        let minute: Int64 = 60_000_000
        guard now.microseconds / minute != lastPurgeMinute.load(ordering: .relaxed) else { return }
        lastPurgeMinute.store(now.microseconds / minute, ordering: .relaxed)
        let cutoff = now.microseconds - configuration.idempotencyRetentionSeconds * 1_000_000
        try db.execute(sql: "DELETE FROM idempotency_keys WHERE created_at < ?", arguments: [cutoff])
    }
}
