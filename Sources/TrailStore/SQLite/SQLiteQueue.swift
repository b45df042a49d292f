import Foundation
import GRDB
import TrailCore

/// The message queue's statements on SQLite (see `MessageQueue`).
enum SQLiteQueue {
    static let columns = """
        id, tenant, kind, status, attempts, error, created_at, updated_at, first_sequence, event_count
        """

    static func message(_ row: Row) throws -> QueuedMessage {
        guard let status = QueuedMessage.Status(rawValue: row[3]) else {
            throw StoreError(.corrupt, "a message has an unknown status")
        }
        return QueuedMessage(
            id: row[0], tenant: row[1], kind: row[2], status: status, attempts: row[4], error: row[5],
            createdAt: Timestamp(microseconds: row[6]), updatedAt: Timestamp(microseconds: row[7]),
            firstSequence: row[8], eventCount: row[9])
    }

    /// Queues a message (inside the writer's transaction), or returns the one its idempotency key names.
    static func enqueue(_ message: NewMessage, db: Database, now: Timestamp) throws -> EnqueueResult {
        if let claim = message.idempotency, let row = try Row.fetchOne(db.cachedStatement(sql: """
            SELECT \(columns), request_digest FROM messages WHERE tenant = ? AND idempotency_key = ?
            """), arguments: [message.tenant, claim.key]) {
            guard Array(row[10] as Data) == claim.requestDigest else { throw StoreError.reused(claim) }
            return EnqueueResult(message: try self.message(row), replayed: true)
        }
        let id = EventID.make(at: now)
        try db.cachedStatement(sql: """
            INSERT INTO messages (id, tenant, kind, body, idempotency_key, request_digest, status, available_at,
                created_at, updated_at, request_context)
            VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?)
            """).execute(arguments: [
                id, message.tenant, message.kind, Data(message.body), message.idempotency?.key,
                message.idempotency.map { Data($0.requestDigest) }, now.microseconds, now.microseconds, now.microseconds,
                StoredJSON.text(message.requestContext),
            ])
        let sequence = db.lastInsertedRowID
        let insert = try db.cachedStatement(sql: """
            INSERT OR IGNORE INTO message_resources (queue_seq, tenant, resource_type, resource_id) VALUES (?, ?, ?, ?)
            """)
        for resource in message.resources {
            try insert.execute(arguments: [sequence, message.tenant, resource.type, resource.id])
        }
        return EnqueueResult(message: QueuedMessage(
            id: id, tenant: message.tenant, kind: message.kind, status: .pending, attempts: 0, error: nil,
            createdAt: now, updatedAt: now, firstSequence: nil, eventCount: 0), replayed: false)
    }

    /// Throws `claimLost` unless `claim` still holds its message.
    static func verify(_ claim: MessageClaim, db: Database) throws {
        let token = try String.fetchOne(db.cachedStatement(sql: """
            SELECT claim_token FROM messages WHERE id = ? AND status = 'processing'
            """), arguments: [claim.id])
        guard token == claim.token else { throw StoreError.lost(claim) }
    }


    /// Marks a verified claim's message completed with the result of its append.
    static func complete(_ claim: MessageClaim, with result: AppendResult, db: Database, now: Timestamp) throws {
        try db.cachedStatement(sql: """
            UPDATE messages SET status = 'completed', error = NULL, claim_token = NULL, claimed_until = NULL,
                first_sequence = ?, event_count = ?, updated_at = ?
            WHERE id = ?
            """).execute(arguments: [result.events.first?.sequence, result.events.count, now.microseconds, claim.id])
    }

    /// Claims messages in queue order (see `ClaimPlanner`), inside a write transaction.
    static func claim(limit: Int, leaseSeconds: Int64, db: Database, now: Timestamp) throws -> [ClaimedMessage] {
        let open = try Row.fetchAll(db.cachedStatement(sql: """
            SELECT queue_seq, status, available_at, claimed_until FROM messages
            WHERE status IN ('pending', 'processing') ORDER BY queue_seq LIMIT ?
            """), arguments: [ClaimPlanner.scan])
        guard !open.isEmpty else { return [] }
        let resources = try resourcesOf(open.map { $0[0] as Int64 }, db: db)
        let candidates = open.map { row in
            ClaimPlanner.Candidate(
                sequence: row[0], claimable: ClaimPlanner.claimable(
                    status: row[1], availableAt: row[2], claimedUntil: row[3], now: now.microseconds),
                resources: resources[row[0] as Int64] ?? [])
        }
        let chosen = ClaimPlanner.choose(candidates, limit: limit)
        var claimed: [ClaimedMessage] = []
        let until = now.microseconds + leaseSeconds * 1_000_000
        for sequence in chosen {
            let token = EventID.make(at: now)
            try db.cachedStatement(sql: """
                UPDATE messages SET status = 'processing', attempts = attempts + 1, claim_token = ?, claimed_until = ?,
                    updated_at = ?
                WHERE queue_seq = ?
                """).execute(arguments: [token, until, now.microseconds, sequence])
            guard let row = try Row.fetchOne(db.cachedStatement(sql: """
                SELECT id, tenant, kind, body, idempotency_key, request_digest, attempts, request_context
                FROM messages WHERE queue_seq = ?
                """), arguments: [sequence]) else { continue }
            let key: String? = row[4]
            let digest: Data? = row[5]
            claimed.append(ClaimedMessage(
                claim: MessageClaim(id: row[0], token: token), tenant: row[1], kind: row[2], body: Array(row[3] as Data),
                idempotency: key.map { IdempotencyClaim(key: $0, requestDigest: Array(digest ?? Data())) },
                attempts: row[6], requestContext: try StoredJSON.object(row[7])))
        }
        return claimed
    }

    private static func resourcesOf(_ sequences: [Int64], db: Database) throws -> [Int64: [HeadKey]] {
        guard let first = sequences.first, let last = sequences.last else { return [:] }
        var result: [Int64: [HeadKey]] = [:]
        let rows = try Row.fetchCursor(db.cachedStatement(sql: """
            SELECT queue_seq, resource_type, resource_id, tenant FROM message_resources WHERE queue_seq BETWEEN ? AND ?
            """), arguments: [first, last])
        while let row = try rows.next() {
            result[row[0], default: []].append(HeadKey(tenant: row[3], type: row[1], id: row[2]))
        }
        return result
    }

    static func release(_ claim: MessageClaim, error: String, retryAt: Timestamp?, db: Database, now: Timestamp) throws {
        try db.cachedStatement(sql: """
            UPDATE messages SET status = ?, error = ?, available_at = ?, claim_token = NULL, claimed_until = NULL,
                updated_at = ?
            WHERE id = ? AND status = 'processing' AND claim_token = ?
            """).execute(arguments: [
                retryAt == nil ? "failed" : "pending", error, retryAt?.microseconds ?? now.microseconds, now.microseconds,
                claim.id, claim.token,
            ])
    }
}
