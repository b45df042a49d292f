import Foundation
import GRDB
import TrailCore
import Synchronization

/// The write side of the SQLite store: one group-commit transaction over many submissions.
final class SQLiteAppender: Sendable {
    let redactor: Redactor
    let configuration: StoreConfiguration
    private let lastPurgeMinute = Atomic<Int64>(0)

    init(redactor: Redactor, configuration: StoreConfiguration) {
        self.redactor = redactor
        self.configuration = configuration
    }

    /// Writes the submissions in one transaction, each inside its own savepoint so that one refused submission
    /// leaves the others intact. If the commit itself fails, every submission fails.
    func commit(_ requests: [AppendRequest], in pool: DatabasePool) -> [Result<AppendResult, StoreError>] {
        var results: [Result<AppendResult, StoreError>] = []
        results.reserveCapacity(requests.count)
        do {
            try pool.writeWithoutTransaction { db in
                try db.inTransaction(.immediate) {
                    results.removeAll(keepingCapacity: true)
                    let now = configuration.clock()
                    try purgeExpiredKeys(db, now: now)
                    for request in requests {
                        var outcome: Result<AppendResult, StoreError> = .failure(StoreError(.rejected, "not attempted"))
                        do {
                            try db.inSavepoint {
                                outcome = .success(try append(request, db: db, now: now))
                                return .commit
                            }
                        } catch {
                            outcome = .failure(SQLiteEventStore.storeError(error, path: pool.path))
                        }
                        results.append(outcome)
                    }
                    return .commit
                }
            }
        } catch {
            let failure = SQLiteEventStore.storeError(error, path: pool.path)
            return requests.map { _ in .failure(failure) }
        }
        return results
    }

    private struct HeadKey: Hashable {
        var type: String
        var id: String
    }

    private struct CachedHead {
        var head: ResourceHead?
        var lastSequence: Int64 = 0
        var dirty = false
    }

    func append(_ request: AppendRequest, db: Database, now: Timestamp) throws -> AppendResult {
        let tenant = request.tenant
        if let claim = request.idempotency, let replay = try replay(claim, tenant: tenant, db: db, now: now) {
            return replay
        }

        var sequence = try Int64.fetchOne(
            db.cachedStatement(sql: "SELECT MAX(sequence) FROM events WHERE tenant = ?"), arguments: [tenant]) ?? 0
        let firstSequence = sequence + 1
        var heads: [HeadKey: CachedHead] = [:]
        var events: [RecordedEvent] = []
        events.reserveCapacity(request.activities.count)
        let insert = try db.cachedStatement(sql: """
            INSERT INTO events (tenant, sequence, id, occurred_at, recorded_at, action, actor_id, actor,
                resource_type, resource_id, version, new_version, changes, summary, state_after, secret_digests,
                context, metadata)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)

        for activity in request.activities {
            sequence += 1
            let key = HeadKey(type: activity.resourceType, id: activity.resourceId)
            let cached = try heads[key]
                ?? CachedHead(head: SQLiteRows.head(db, tenant: tenant, type: key.type, id: key.id))
            let transition = Transition(applying: activity, to: cached.head, redactor: redactor)
            let event = RecordedEvent(
                id: UUID().uuidString.lowercased(), sequence: sequence, tenant: tenant,
                occurredAt: activity.occurredAt ?? now, recordedAt: now, action: activity.action,
                actor: activity.actor, resourceType: activity.resourceType, resourceId: activity.resourceId,
                version: transition.head.version, changes: Diff.encode(transition.changes),
                summary: transition.summary, context: activity.context, metadata: activity.metadata)
            try insert.execute(arguments: [
                tenant, sequence, event.id, event.occurredAt.microseconds, now.microseconds, event.action,
                activity.actorId, SQLiteRows.json(activity.actor), activity.resourceType, activity.resourceId,
                transition.head.version, transition.advancesVersion ? 1 : 0, JSONWriter.string(event.changes),
                event.summary, SQLiteRows.json(transition.head.state), SQLiteRows.json(transition.head.digests),
                SQLiteRows.json(activity.context), SQLiteRows.json(activity.metadata),
            ])
            heads[key] = CachedHead(head: transition.head, lastSequence: sequence, dirty: true)
            events.append(event)
        }

        let upsert = try db.cachedStatement(sql: """
            INSERT INTO resource_heads (tenant, resource_type, resource_id, version, state, secret_digests,
                last_sequence, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (tenant, resource_type, resource_id) DO UPDATE SET
                version = excluded.version, state = excluded.state, secret_digests = excluded.secret_digests,
                last_sequence = excluded.last_sequence, updated_at = excluded.updated_at
            """)
        for (key, cached) in heads where cached.dirty {
            guard let head = cached.head else { continue }
            try upsert.execute(arguments: [
                tenant, key.type, key.id, head.version, SQLiteRows.json(head.state), SQLiteRows.json(head.digests),
                cached.lastSequence, now.microseconds,
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
        return AppendResult(events: events, recordedAt: now, replayed: false)
    }

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
