import Foundation
import GRDB
import TrailCore

/// Reading stored rows back into core values.
enum SQLiteRows {
    static let eventColumns = """
        id, sequence, tenant, occurred_at, recorded_at, action, actor, resource_type, resource_id, version, \
        changes, summary, context, metadata, category, outcome, resource_name, duration_ms, error, prev_hash, hash, \
        removed_at, erased_at
        """

    /// How many columns ``eventColumns`` are: a column selected after them has this index.
    static let eventColumnCount: Int32 = 23

    static func events(_ db: Database, sql: String, arguments: StatementArguments) throws -> [RecordedEvent] {
        try RawStatement(db.cachedStatement(sql: sql)).all(db, arguments) { try RecordedEvent(columns($0)) }
    }

    /// The columns of ``eventColumns`` of the current row of a raw statement, JSON as stored text (rows are read
    /// through the C API: GRDB's rows box every column).
    static func columns(_ row: RawStatement) -> StoredEventColumns {
        StoredEventColumns(
            id: row.text(0) ?? "", sequence: row.int64(1), tenant: row.text(2) ?? "",
            occurredAt: Timestamp(microseconds: row.int64(3)), recordedAt: Timestamp(microseconds: row.int64(4)),
            action: row.text(5) ?? "", category: row.text(14), outcome: row.text(15) ?? "", actor: row.text(6),
            resourceType: row.text(7), resourceId: row.text(8), resourceName: row.text(16), version: row.optionalInt64(9),
            changes: row.text(10) ?? "{}", summary: row.text(11) ?? "", context: row.text(12), metadata: row.text(13),
            durationMs: row.optionalInt64(17), error: row.text(18), prevHash: row.blob(19), hash: row.blob(20),
            removedAt: row.optionalInt64(21).map(Timestamp.init(microseconds:)),
            erasedAt: row.optionalInt64(22).map(Timestamp.init(microseconds:)))
    }

    /// The tenant's newest event's sequence and hash (``ChainHead/empty`` before its first).
    static func chain(_ db: Database, tenant: String) throws -> ChainHead {
        let select = try RawStatement(db.cachedStatement(sql: """
            SELECT sequence, hash FROM events WHERE tenant = ? ORDER BY sequence DESC LIMIT 1
            """))
        return try select.first(db, [.text(tenant)]) { ChainHead(sequence: $0.int64(0), hash: $0.blob(1)) } ?? .empty
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
