import Crypto
import Foundation
import GRDB
import TrailCore

/// The subjects' keys of a SQLite store: a SQLite file of their own next to the store (`trail.db.keys` beside
/// `trail.db`), which `trail backup` does not copy. Deleted keys are overwritten with zeros (`secure_delete`)
/// and the rollback journal that briefly held them is deleted at commit, so a destroyed key is in no file.
final class SQLiteSubjectKeys: SubjectKeyVault {
    let path: String
    let queue: DatabaseQueue

    /// The vault of the store at `storePath`.
    static func path(forStore storePath: String) -> String { storePath + ".keys" }

    init(path: String, busyTimeoutSeconds: Double) throws(StoreError) {
        self.path = path
        var configuration = Configuration()
        configuration.busyMode = .timeout(busyTimeoutSeconds)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA secure_delete = ON")
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        do {
            queue = try DatabaseQueue(path: path, configuration: configuration)
            try queue.write { db in
                try db.execute(sql: """
                    CREATE TABLE IF NOT EXISTS vault_settings (name TEXT PRIMARY KEY, value BLOB NOT NULL);
                    CREATE TABLE IF NOT EXISTS subject_keys (
                        lookup TEXT PRIMARY KEY, id TEXT NOT NULL UNIQUE, tenant TEXT NOT NULL, key BLOB NOT NULL);
                    INSERT OR IGNORE INTO vault_settings (name, value) VALUES ('secret', ?);
                    """, arguments: [Data(SubjectKey.make().bytes)])
            }
        } catch {
            throw SQLiteFailure.storeError(error, path: path)
        }
    }

    private func run<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws(StoreError) -> T {
        do {
            return try await queue.write(body)
        } catch {
            throw SQLiteFailure.storeError(error, path: path)
        }
    }

    func secret() throws(StoreError) -> [UInt8] {
        do {
            return try queue.read { db in
                guard let secret = try Data.fetchOne(db, sql: "SELECT value FROM vault_settings WHERE name = 'secret'") else {
                    throw StoreError(.corrupt, "the key vault at \(path) has no secret")
                }
                return Array(secret)
            }
        } catch {
            throw SQLiteFailure.storeError(error, path: path)
        }
    }

    func keys(tenant: String, lookups: [String]) async throws(StoreError) -> [String: SubjectKey] {
        try await run { db in
            let insert = try db.cachedStatement(sql: "INSERT OR IGNORE INTO subject_keys (lookup, id, tenant, key) VALUES (?, ?, ?, ?)")
            let select = try db.cachedStatement(sql: "SELECT id, key FROM subject_keys WHERE lookup = ?")
            var keys: [String: SubjectKey] = [:]
            for lookup in lookups {
                let made = SubjectKey.make()
                try insert.execute(arguments: [lookup, made.id, tenant, Data(made.bytes)])
                if let row = try Row.fetchOne(select, arguments: [lookup]) {
                    keys[lookup] = SubjectKey(id: row[0], key: SymmetricKey(data: row[1] as Data))
                }
            }
            return keys
        }
    }

    func keys(ids: [String]) async throws(StoreError) -> [String: SymmetricKey] {
        try await run { db in
            let select = try db.cachedStatement(sql: "SELECT key FROM subject_keys WHERE id = ?")
            var keys: [String: SymmetricKey] = [:]
            for id in ids {
                if let bytes = try Data.fetchOne(select, arguments: [id]) { keys[id] = SymmetricKey(data: bytes) }
            }
            return keys
        }
    }

    func keyID(lookup: String) async throws(StoreError) -> String? {
        try await run { db in try String.fetchOne(db, sql: "SELECT id FROM subject_keys WHERE lookup = ?", arguments: [lookup]) }
    }

    func destroy(lookup: String) async throws(StoreError) -> String? {
        try await run { db in
            let id = try String.fetchOne(db, sql: "SELECT id FROM subject_keys WHERE lookup = ?", arguments: [lookup])
            try db.execute(sql: "DELETE FROM subject_keys WHERE lookup = ?", arguments: [lookup])
            return id
        }
    }
}
