import Crypto
import Logging
import NIOCore
import PostgresNIO
import TrailCore

/// The subjects' keys of a PostgreSQL store: the tables of the `trail_vault` schema, shared by every server of
/// the database, and left out of the store's dumps (`pg_dump --exclude-schema=trail_vault`, docs/lifecycle.md).
struct PostgresSubjectKeys: SubjectKeyVault {
    let client: PostgresClient
    let timeout: Duration
    let logger: Logger

    private func run<T: Sendable>(
        _ body: @escaping @Sendable (PostgresConnection, Logger) async throws -> T
    ) async throws(StoreError) -> T {
        let logger = logger
        do {
            return try await client.withConnection(within: timeout) { connection in try await body(connection, logger) }
        } catch {
            throw PostgresFailure.storeError(error)
        }
    }

    func secret() async throws(StoreError) -> [UInt8] {
        let made = SubjectKey.make().bytes
        return try await run { connection, logger in
            try await connection.query("""
                INSERT INTO trail_vault.settings (name, value) VALUES ('secret', decode(\(EventHash.hex(made)), 'hex'))
                ON CONFLICT (name) DO NOTHING
                """, logger: logger)
            for try await value in try await connection.query(
                "SELECT value FROM trail_vault.settings WHERE name = 'secret'", logger: logger).decode(ByteBuffer.self) {
                return Array(buffer: value)
            }
            throw StoreError(.corrupt, "the key vault has no secret")
        }
    }

    func keys(tenant: String, lookups: [String]) async throws(StoreError) -> [String: SubjectKey] {
        // In one order for every writer: two processes inserting the same new subjects in different orders
        // would each wait for the other's uncommitted index entry (a deadlock).
        let lookups = Set(lookups).sorted()
        let made = lookups.map { _ in SubjectKey.make() }
        return try await run { connection, logger in
            try await connection.query("""
                INSERT INTO trail_vault.subject_keys (lookup, id, tenant, key)
                SELECT l, i, \(tenant), decode(k, 'hex')
                FROM unnest(\(lookups)::text[], \(made.map(\.id))::text[], \(made.map { EventHash.hex($0.bytes) })::text[]) AS t(l, i, k)
                ON CONFLICT (lookup) DO NOTHING
                """, logger: logger)
            var keys: [String: SubjectKey] = [:]
            for try await (lookup, id, key) in try await connection.query("""
                SELECT lookup, id, key FROM trail_vault.subject_keys WHERE lookup = ANY(\(lookups)::text[])
                """, logger: logger).decode((String, String, ByteBuffer).self) {
                keys[lookup] = SubjectKey(id: id, key: SymmetricKey(data: Array(buffer: key)))
            }
            return keys
        }
    }

    func keys(ids: [String]) async throws(StoreError) -> [String: SymmetricKey] {
        try await run { connection, logger in
            var keys: [String: SymmetricKey] = [:]
            for try await (id, key) in try await connection.query("""
                SELECT id, key FROM trail_vault.subject_keys WHERE id = ANY(\(ids)::text[])
                """, logger: logger).decode((String, ByteBuffer).self) {
                keys[id] = SymmetricKey(data: Array(buffer: key))
            }
            return keys
        }
    }

    func keyID(lookup: String) async throws(StoreError) -> String? {
        try await run { connection, logger in
            for try await id in try await connection.query(
                "SELECT id FROM trail_vault.subject_keys WHERE lookup = \(lookup)", logger: logger).decode(String.self) {
                return id
            }
            return nil
        }
    }

    func destroy(lookup: String) async throws(StoreError) -> String? {
        try await run { connection, logger in
            for try await id in try await connection.query("""
                DELETE FROM trail_vault.subject_keys WHERE lookup = \(lookup) RETURNING id
                """, logger: logger).decode(String.self) {
                return id
            }
            return nil
        }
    }
}
