import Foundation
import GRDB
import TrailCore

/// Reading stored rows back into core values.
enum SQLiteRows {
    static let eventColumns = """
        id, sequence, tenant, occurred_at, recorded_at, action, actor, resource_type, resource_id, version, \
        changes, summary, context, metadata, category, outcome, resource_name, duration_ms, error
        """

    static func events(_ db: Database, sql: String, arguments: StatementArguments) throws -> [RecordedEvent] {
        let statement = try db.cachedStatement(sql: sql)
        return try Row.fetchAll(statement, arguments: arguments).map { try event($0) }
    }

    /// The event in the columns of ``eventColumns``, starting at column `first`.
    static func event(_ row: Row, first: Int = 0) throws -> RecordedEvent {
        try RecordedEvent(columns(row, first: first))
    }

    /// The columns of ``eventColumns`` as they are stored, JSON as text.
    static func columns(_ row: Row, first: Int = 0) -> StoredEventColumns {
        let o = first
        return StoredEventColumns(
            id: row[o], sequence: row[o + 1], tenant: row[o + 2],
            occurredAt: Timestamp(microseconds: row[o + 3]), recordedAt: Timestamp(microseconds: row[o + 4]),
            action: row[o + 5], category: row[o + 14], outcome: row[o + 15], actor: row[o + 6],
            resourceType: row[o + 7], resourceId: row[o + 8], resourceName: row[o + 16], version: row[o + 9],
            changes: row[o + 10], summary: row[o + 11], context: row[o + 12], metadata: row[o + 13],
            durationMs: row[o + 17], error: row[o + 18])
    }

    /// The columns of ``eventColumns`` of the current row of a raw statement (exports and histories read many
    /// rows: the C API spares a boxed value per column).
    static func columns(_ row: RawStatement) -> StoredEventColumns {
        StoredEventColumns(
            id: row.text(0) ?? "", sequence: row.int64(1), tenant: row.text(2) ?? "",
            occurredAt: Timestamp(microseconds: row.int64(3)), recordedAt: Timestamp(microseconds: row.int64(4)),
            action: row.text(5) ?? "", category: row.text(14), outcome: row.text(15) ?? "", actor: row.text(6),
            resourceType: row.text(7), resourceId: row.text(8), resourceName: row.text(16), version: row.optionalInt64(9),
            changes: row.text(10) ?? "{}", summary: row.text(11) ?? "", context: row.text(12), metadata: row.text(13),
            durationMs: row.optionalInt64(17), error: row.text(18))
    }

    /// One resource's head (read on the writer's hot path, hence through the C API).
    static func head(_ db: Database, tenant: String, type: String, id: String) throws -> ResourceHead? {
        let select = try RawStatement(db.cachedStatement(sql: """
            SELECT version, state, secret_digests FROM resource_heads
            WHERE tenant = ? AND resource_type = ? AND resource_id = ?
            """))
        return try select.first(db, [.text(tenant), .text(type), .text(id)]) { row in
            ResourceHead(version: row.int64(0), state: try StoredJSON.object(row.text(1)), digests: try StoredJSON.digests(row.text(2)))
        }
    }
}
