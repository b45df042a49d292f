import Foundation
import GRDB
import Synchronization
import TrailCore

/// The write side of the SQLite store: one group-commit transaction over many submissions.
final class SQLiteAppender: Sendable {
    let redactor: Redactor
    let configuration: StoreConfiguration
    private let lastPurgeMinute = Atomic<Int64>(0)
    private let cache = Mutex(HeadCache())

    init(redactor: Redactor, configuration: StoreConfiguration) {
        self.redactor = redactor
        self.configuration = configuration
    }

    /// Writes the submissions in one transaction and commits once.
    ///
    /// A refused idempotency key is answered without writing anything, so it never disturbs the others. Any other
    /// failure aborts the whole transaction; then, if it held several submissions, each is retried in a
    /// transaction of its own, so that one faulty submission fails alone. (Savepoints per submission would do the
    /// same, but cost every transaction a scan of SQLite's page cache.)
    func commit(_ requests: [PreparedRequest], in pool: DatabasePool) -> [Result<AppendResult, StoreError>] {
        var results: [Result<AppendResult, StoreError>] = []
        var written = Written()
        do {
            try pool.writeWithoutTransaction { db in
                try db.inTransaction(.immediate) {
                    try invalidateCacheIfOthersWrote(db)
                    let now = configuration.clock()
                    try purgeExpiredKeys(db, now: now)
                    for request in requests {
                        do {
                            results.append(.success(try append(request, db: db, now: now, written: &written)))
                        } catch let error as StoreError where error.code == .idempotencyConflict {
                            results.append(.failure(error))
                        }
                    }
                    return .commit
                }
            }
        } catch {
            cache.withLock { $0.removeAll() }
            let failure = SQLiteEventStore.storeError(error, path: pool.path)
            // A refused write may be one submission's fault: find it. Unavailable storage is everyone's.
            if requests.count > 1 && failure.code == .rejected {
                return requests.flatMap { commit([$0], in: pool) }
            }
            return requests.map { _ in .failure(failure) }
        }
        cache.withLock { cache in
            for (key, head) in written.heads { cache.store(key, head.head) }
            cache.sequences.merge(written.sequences) { _, new in new }
        }
        return results
    }

    /// Another connection (another process on the same file) committed since our last look: what we cached
    /// may be stale. `PRAGMA data_version` changes only for commits of other connections.
    private func invalidateCacheIfOthersWrote(_ db: Database) throws {
        let version = try Int64.fetchOne(db.cachedStatement(sql: "PRAGMA data_version")) ?? 0
        cache.withLock { cache in
            if cache.dataVersion != version {
                cache.removeAll()
                cache.dataVersion = version
            }
        }
    }

    struct HeadKey: Hashable, Sendable {
        var tenant: String
        var type: String
        var id: String
    }

    /// What the current transaction has written so far, seen by its later submissions.
    struct Written {
        var heads: [HeadKey: WrittenHead] = [:]
        var sequences: [String: Int64] = [:]
    }

    /// A head as the transaction left it, with its stored forms.
    struct WrittenHead {
        var head: ResourceHead
        var lastSequence: Int64
        var stateJSON: String?
        var digestsJSON: String?
    }

    /// Recently written resource heads, so the writer need not read and parse them again. Bounded; filled only
    /// with committed heads, emptied when another connection writes.
    struct HeadCache: Sendable {
        static let capacity = 50_000
        var entries: [HeadKey: ResourceHead] = [:]
        /// The last sequence committed per tenant.
        var sequences: [String: Int64] = [:]
        var dataVersion: Int64 = -1

        mutating func store(_ key: HeadKey, _ head: ResourceHead) {
            if entries.count >= HeadCache.capacity { entries.removeAll(keepingCapacity: true) }
            entries[key] = head
        }

        mutating func removeAll() {
            entries.removeAll()
            sequences.removeAll()
        }
    }

    /// Appends one submission, after those of the same transaction in `written`.
    private func append(
        _ request: PreparedRequest, db: Database, now: Timestamp, written: inout Written
    ) throws -> AppendResult {
        let tenant = request.tenant
        if let claim = request.idempotency, let replay = try replay(claim, tenant: tenant, db: db, now: now) {
            return replay
        }

        var sequence = try written.sequences[tenant] ?? lastSequence(tenant, db: db)
        let firstSequence = sequence + 1
        var events: [RecordedEvent] = []
        events.reserveCapacity(request.items.count)
        var touched = Set<HeadKey>()
        /// Heads inserted as new by `claimNewHead`, with the sequence of the event that claimed them.
        var claimed: [HeadKey: Int64] = [:]
        let insert = try RawStatement(db.cachedStatement(sql: """
            INSERT INTO events (tenant, sequence, id, occurred_at, recorded_at, action, actor_id, actor,
                resource_type, resource_id, version, new_version, changes, summary, state_after, secret_digests,
                context, metadata)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """))

        var speculationHeld: [Bool] = []
        speculationHeld.reserveCapacity(request.items.count)
        for item in request.items {
            let activity = item.activity
            sequence += 1
            let key = HeadKey(tenant: tenant, type: activity.resourceType, id: activity.resourceId)
            let current: ResourceHead?
            if let head = written.heads[key]?.head ?? cache.withLock({ $0.entries[key] }) {
                current = head
            } else if item.speculation.basisVersion == nil, item.speculation.dependsOn == nil,
                      try claimNewHead(key, item.speculation.applied, sequence: sequence, now: now, db: db) {
                // The resource had no head: the transition computed in advance for a new resource holds.
                current = nil
                claimed[key] = sequence
            } else {
                current = try SQLiteRows.head(db, tenant: tenant, type: key.type, id: key.id)
            }
            let holds = item.speculationHolds(on: current, speculationHeld: speculationHeld)
            speculationHeld.append(holds)
            let applied = item.applied(to: current, holds: holds, redactor: redactor)
            let transition = applied.transition
            let event = RecordedEvent(
                id: item.id, sequence: sequence, tenant: tenant,
                occurredAt: activity.occurredAt ?? now, recordedAt: now, action: activity.action,
                actor: activity.actor, resourceType: activity.resourceType, resourceId: activity.resourceId,
                version: transition.head.version, changes: applied.changes,
                summary: transition.summary, context: activity.context, metadata: activity.metadata)
            try insert.execute(db, [
                .text(tenant), .integer(sequence), .text(item.id), .integer(event.occurredAt.microseconds),
                .integer(now.microseconds), .text(event.action), .text(activity.actorId), .text(item.actorJSON),
                .text(activity.resourceType), .text(activity.resourceId), .integer(transition.head.version),
                .integer(transition.advancesVersion ? 1 : 0), .text(applied.changesJSON), .text(event.summary),
                .text(applied.stateJSON), .text(applied.digestsJSON), .text(item.contextJSON), .text(item.metadataJSON),
            ])
            written.heads[key] = WrittenHead(
                head: transition.head, lastSequence: sequence, stateJSON: applied.stateJSON, digestsJSON: applied.digestsJSON)
            touched.insert(key)
            events.append(event)
        }

        let upsert = try RawStatement(db.cachedStatement(sql: SQLiteAppender.insertHead + """
            ON CONFLICT (tenant, resource_type, resource_id) DO UPDATE SET
                version = excluded.version, state = excluded.state, secret_digests = excluded.secret_digests,
                last_sequence = excluded.last_sequence, updated_at = excluded.updated_at
            """))
        for key in touched {
            guard let last = written.heads[key], claimed[key] != last.lastSequence else {
                continue  // the head claimed by this submission's only event on the resource is already stored
            }
            try upsert.execute(db, [
                .text(tenant), .text(key.type), .text(key.id), .integer(last.head.version),
                .text(last.stateJSON), .text(last.digestsJSON), .integer(last.lastSequence),
                .integer(now.microseconds),
            ])
        }

        if let claim = request.idempotency {
            try db.cachedStatement(sql: """
                INSERT OR REPLACE INTO idempotency_keys (tenant, key, request_digest, first_sequence, event_count, created_at)
                VALUES (?, ?, ?, ?, ?, ?)
                """).execute(arguments: [
                    tenant, claim.key, Data(claim.requestDigest), events.isEmpty ? nil : firstSequence,
                    events.count, now.microseconds,
                ])
        }
        written.sequences[tenant] = sequence
        return AppendResult(events: events, recordedAt: now, replayed: false)
    }

    private func lastSequence(_ tenant: String, db: Database) throws -> Int64 {
        if let sequence = cache.withLock({ $0.sequences[tenant] }) { return sequence }
        return try Int64.fetchOne(
            db.cachedStatement(sql: "SELECT MAX(sequence) FROM events WHERE tenant = ?"), arguments: [tenant]) ?? 0
    }

    /// The head a resource is expected to have when the writer reaches it: the cached one, or none. Called
    /// outside the writer, to compute transitions in advance.
    func expectedHead(tenant: String, type: String, id: String) -> ResourceHead? {
        cache.withLock { $0.entries[HeadKey(tenant: tenant, type: type, id: id)] }
    }

    /// Inserts the head a new resource gets from `applied`, if the resource has no head yet: one insert instead
    /// of a lookup and an insert for the common case of a first event. False if a head exists (nothing written).
    private func claimNewHead(
        _ key: HeadKey, _ applied: AppliedTransition, sequence: Int64, now: Timestamp, db: Database
    ) throws -> Bool {
        let insert = try RawStatement(db.cachedStatement(sql: SQLiteAppender.insertHead + """
            ON CONFLICT (tenant, resource_type, resource_id) DO NOTHING
            """))
        try insert.execute(db, [
            .text(key.tenant), .text(key.type), .text(key.id), .integer(applied.transition.head.version),
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
            throw StoreError(.idempotencyConflict,
                "the idempotency key \"\(claim.key)\" was already used with a different body; use a new key for a new submission")
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
