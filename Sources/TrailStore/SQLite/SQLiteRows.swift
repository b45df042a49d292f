import Foundation
import GRDB
import TrailCore

/// Reading stored rows back into core values.
enum SQLiteRows {
    static let eventColumns = """
        id, sequence, tenant, occurred_at, recorded_at, action, actor, resource_type, resource_id, version, \
        changes, summary, context, metadata
        """

    static func events(_ db: Database, sql: String, arguments: StatementArguments) throws -> [RecordedEvent] {
        let statement = try db.cachedStatement(sql: sql)
        return try Row.fetchAll(statement, arguments: arguments).map(event)
    }

    static func event(_ row: Row) throws -> RecordedEvent {
        RecordedEvent(
            id: row[0], sequence: row[1], tenant: row[2],
            occurredAt: Timestamp(microseconds: row[3]), recordedAt: Timestamp(microseconds: row[4]),
            action: row[5], actor: try object(row[6]), resourceType: row[7], resourceId: row[8], version: row[9],
            changes: try object(row[10]) ?? JSONObject(), summary: row[11],
            context: try object(row[12]), metadata: try object(row[13]))
    }

    /// One resource's head (read on the writer's hot path, hence through the C API).
    static func head(_ db: Database, tenant: String, type: String, id: String) throws -> ResourceHead? {
        let select = try RawStatement(db.cachedStatement(sql: """
            SELECT version, state, secret_digests FROM resource_heads
            WHERE tenant = ? AND resource_type = ? AND resource_id = ?
            """))
        return try select.first(db, [.text(tenant), .text(type), .text(id)]) { row in
            ResourceHead(version: row.int64(0), state: try object(row.text(1)), digests: try digests(row.text(2)))
        }
    }

    static func object(_ text: String?) throws -> JSONObject? {
        guard let text else { return nil }
        do {
            guard case .object(let object) = try JSONParser.parse(text) else {
                throw StoreError(.corrupt, "a stored JSON column holds something other than an object")
            }
            return object
        } catch let error as JSONParseError {
            throw StoreError(.corrupt, "a stored JSON column cannot be read: \(error)")
        }
    }

    static func digests(_ text: String?) throws -> Redactor.Digests {
        guard let object = try object(text) else { return [:] }
        var result: Redactor.Digests = [:]
        for member in object {
            guard case .string(let digest) = member.value else {
                throw StoreError(.corrupt, "a stored digest is not a string")
            }
            result[member.key] = digest
        }
        return result
    }

    static func json(_ object: JSONObject?) -> String? {
        object.map { JSONWriter.string($0) }
    }

    static func json(_ digests: Redactor.Digests) -> String? {
        guard !digests.isEmpty else { return nil }
        return JSONWriter.string(JSONObject(digests.sorted { $0.key < $1.key }.map { .init(key: $0.key, value: .string($0.value)) }))
    }
}
