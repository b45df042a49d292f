import Foundation
import GRDB
public import TrailCore

extension SQLiteEventStore: MessageQueue {
    public func enqueue(_ message: NewMessage) async throws(StoreError) -> EnqueueResult {
        // Through the group-commit writer: many acceptances share one transaction and one fsync.
        try await enqueueThroughWriter(message)
    }

    public func message(tenant: String, id: String) async throws(StoreError) -> QueuedMessage? {
        try await read { db in
            try Row.fetchOne(db, sql: "SELECT \(SQLiteQueue.columns) FROM messages WHERE tenant = ? AND id = ?",
                             arguments: [tenant, id]).map(SQLiteQueue.message)
        }
    }

    public func messages(tenant: String?, status: QueuedMessage.Status?, limit: Int) async throws(StoreError) -> [QueuedMessage] {
        try await read { db in
            var conditions: [String] = []
            var arguments: StatementArguments = []
            if let tenant { conditions.append("tenant = ?"); arguments += [tenant] }
            if let status { conditions.append("status = ?"); arguments += [status.rawValue] }
            let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
            return try Row.fetchAll(db, sql: """
                SELECT \(SQLiteQueue.columns) FROM messages \(filter) ORDER BY queue_seq LIMIT ?
                """, arguments: arguments + [limit]).map(SQLiteQueue.message)
        }
    }

    public func events(of message: QueuedMessage) async throws(StoreError) -> [RecordedEvent] {
        guard let first = message.firstSequence, message.eventCount > 0 else { return [] }
        return try await personal.open(read { db in
            try SQLiteRows.events(db, sql: """
                SELECT \(SQLiteRows.eventColumns) FROM events WHERE tenant = ? AND sequence BETWEEN ? AND ? ORDER BY sequence
                """, arguments: [message.tenant, first, first + Int64(message.eventCount) - 1])
        })
    }

    public func claim(limit: Int, leaseSeconds: Int64) async throws(StoreError) -> [ClaimedMessage] {
        let now = clock()
        return try await write { db in
            try SQLiteQueue.claim(limit: limit, leaseSeconds: leaseSeconds, db: db, now: now)
        }
    }

    public func release(_ claim: MessageClaim, error: String, retryAfter: Duration?) async throws(StoreError) {
        let now = clock()
        let retryAt = retryAfter.map { now.adding($0) }
        try await write { db in
            try SQLiteQueue.release(claim, error: error, retryAt: retryAt, db: db, now: now)
        }
    }

    public func retry(tenant: String, id: String) async throws(StoreError) -> Bool {
        let now = clock()
        let retried = try await write { db in
            try db.execute(sql: """
                UPDATE messages SET status = 'pending', available_at = ?, updated_at = ?
                WHERE tenant = ? AND id = ? AND status = 'failed'
                """, arguments: [now.microseconds, now.microseconds, tenant, id])
            return db.changesCount == 1
        }
        if retried { queued.notify() }
        return retried
    }

    public func openMessageCount() async throws(StoreError) -> Int {
        try await read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM messages WHERE status IN ('pending', 'processing')") ?? 0
        }
    }

    public func messageCounts() async throws(StoreError) -> [QueuedMessage.Status: Int] {
        try await read { db in
            // Two statements, each on its partial index (messages_open, messages_failed).
            var counts: [QueuedMessage.Status: Int] = [.pending: 0, .processing: 0, .failed: 0]
            for row in try Row.fetchAll(db, sql: """
                SELECT status, COUNT(*) FROM messages WHERE status IN ('pending', 'processing') GROUP BY status
                """) {
                if let status = QueuedMessage.Status(rawValue: row[0]) { counts[status] = row[1] }
            }
            counts[.failed] = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM messages WHERE status = 'failed'") ?? 0
            return counts
        }
    }

    public func waitForMessages(timeout: Duration) async {
        await queued.wait(timeout: timeout)
    }
}
