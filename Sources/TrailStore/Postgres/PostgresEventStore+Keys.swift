import PostgresNIO
public import TrailCore

extension PostgresEventStore: KeyStore {
    static let keyColumns = "id, tenant, name, role, created_at, revoked_at, secret_digest"

    public func insertKey(_ key: APIKey, secretDigest: String) async throws(StoreError) {
        try await read { connection, logger in
            for try await _ in try await connection.query("""
                INSERT INTO api_keys (id, tenant, name, role, created_at, revoked_at, secret_digest)
                VALUES (\(key.id), \(key.tenant), \(key.name), \(key.role.rawValue), \(key.createdAt.microseconds),
                        \(key.revokedAt?.microseconds), \(secretDigest))
                """, logger: logger) {}
        }
    }

    public func key(id: String) async throws(StoreError) -> (key: APIKey, secretDigest: String)? {
        try await read { connection, logger in
            try await Self.keys(connection.query("""
                SELECT \(unescaped: Self.keyColumns) FROM api_keys WHERE id = \(id)
                """, logger: logger)).first
        }
    }

    public func keys(tenant: String?) async throws(StoreError) -> [APIKey] {
        try await read { connection, logger in
            try await Self.keys(connection.query("""
                SELECT \(unescaped: Self.keyColumns) FROM api_keys
                WHERE \(tenant)::text IS NULL OR tenant = \(tenant) ORDER BY created_at, id
                """, logger: logger)).map(\.key)
        }
    }

    public func revokeKey(tenant: String?, id: String) async throws(StoreError) -> APIKey? {
        let now = clock()
        return try await read { connection, logger in
            // One statement: revoke if not yet revoked, and answer the key either way.
            try await Self.keys(connection.query("""
                WITH revoked AS (
                    UPDATE api_keys SET revoked_at = \(now.microseconds)
                    WHERE id = \(id) AND (\(tenant)::text IS NULL OR tenant = \(tenant)) AND revoked_at IS NULL
                    RETURNING \(unescaped: Self.keyColumns)
                )
                SELECT \(unescaped: Self.keyColumns) FROM revoked
                UNION ALL
                SELECT \(unescaped: Self.keyColumns) FROM api_keys
                WHERE id = \(id) AND (\(tenant)::text IS NULL OR tenant = \(tenant)) AND NOT EXISTS (SELECT 1 FROM revoked)
                """, logger: logger)).first?.key
        }
    }

    public func insertFirstKey(_ key: APIKey, secretDigest: String) async throws(StoreError) -> Bool {
        try await read { connection, logger in
            try await connection.withTransaction(logger: logger) { connection in
                // A lock that conflicts with itself: of two processes starting at once, the second sees the
                // first one's key (READ COMMITTED reads what committed before each statement).
                try await connection.run("LOCK TABLE api_keys IN SHARE ROW EXCLUSIVE MODE", logger: logger)
                var inserted = false
                for try await _ in try await connection.query("""
                    INSERT INTO api_keys (id, tenant, name, role, created_at, revoked_at, secret_digest)
                    SELECT \(key.id), \(key.tenant), \(key.name), \(key.role.rawValue), \(key.createdAt.microseconds),
                           \(key.revokedAt?.microseconds), \(secretDigest)
                    WHERE NOT EXISTS (SELECT 1 FROM api_keys)
                    RETURNING id
                    """, logger: logger) {
                    inserted = true
                }
                return inserted
            }
        }
    }

    static func keys(_ rows: PostgresRowSequence) async throws -> [(key: APIKey, secretDigest: String)] {
        var keys: [(key: APIKey, secretDigest: String)] = []
        for try await (id, tenant, name, roleText, created, revoked, digest)
            in rows.decode((String, String, String, String, Int64, Int64?, String).self) {
            guard let role = Role(rawValue: roleText) else {
                throw StoreError(.corrupt, "API key \(id) has an unknown role \(roleText)")
            }
            keys.append((APIKey(id: id, tenant: tenant, name: name, role: role, createdAt: Timestamp(microseconds: created),
                                revokedAt: revoked.map(Timestamp.init(microseconds:))), digest))
        }
        return keys
    }
}
