import Foundation
import GRDB
public import TrailCore

extension SQLiteEventStore: KeyStore {
    static let keyColumns = "id, tenant, name, role, created_at, revoked_at, secret_digest"

    public func insertKey(_ key: APIKey, secretDigest: String) async throws(StoreError) {
        try await write { db in
            try db.execute(sql: "INSERT INTO api_keys (\(Self.keyColumns)) VALUES (?, ?, ?, ?, ?, ?, ?)",
                           arguments: [key.id, key.tenant, key.name, key.role.rawValue, key.createdAt.microseconds,
                                       key.revokedAt?.microseconds, secretDigest])
        }
    }

    public func key(id: String) async throws(StoreError) -> (key: APIKey, secretDigest: String)? {
        try await read { db in
            try Row.fetchOne(db, sql: "SELECT \(Self.keyColumns) FROM api_keys WHERE id = ?", arguments: [id])
                .map { row in (try Self.key(row), row[6]) }
        }
    }

    public func keys(tenant: String?) async throws(StoreError) -> [APIKey] {
        try await read { db in
            try Row.fetchAll(db, sql: """
                SELECT \(Self.keyColumns) FROM api_keys WHERE ?1 IS NULL OR tenant = ?1 ORDER BY created_at, id
                """, arguments: [tenant]).map(Self.key)
        }
    }

    public func revokeKey(tenant: String?, id: String) async throws(StoreError) -> APIKey? {
        let now = clock()
        return try await write { db in
            try db.execute(sql: """
                UPDATE api_keys SET revoked_at = ? WHERE id = ? AND (?3 IS NULL OR tenant = ?3) AND revoked_at IS NULL
                """, arguments: [now.microseconds, id, tenant])
            return try Row.fetchOne(db, sql: """
                SELECT \(Self.keyColumns) FROM api_keys WHERE id = ? AND (?2 IS NULL OR tenant = ?2)
                """, arguments: [id, tenant]).map(Self.key)
        }
    }

    public func insertFirstKey(_ key: APIKey, secretDigest: String) async throws(StoreError) -> Bool {
        // One statement in the single writer's transaction: atomic between processes too (SQLite locks the file).
        try await write { db in
            try db.execute(sql: """
                INSERT INTO api_keys (\(Self.keyColumns)) SELECT ?, ?, ?, ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM api_keys)
                """, arguments: [key.id, key.tenant, key.name, key.role.rawValue, key.createdAt.microseconds,
                                 key.revokedAt?.microseconds, secretDigest])
            return db.changesCount == 1
        }
    }

    static func key(_ row: Row) throws -> APIKey {
        let roleText: String = row[3]
        guard let role = Role(rawValue: roleText) else {
            throw StoreError(.corrupt, "API key \(row[0] as String) has an unknown role \(roleText)")
        }
        return APIKey(id: row[0], tenant: row[1], name: row[2], role: role, createdAt: Timestamp(microseconds: row[4]),
                      revokedAt: (row[5] as Int64?).map(Timestamp.init(microseconds:)))
    }
}
