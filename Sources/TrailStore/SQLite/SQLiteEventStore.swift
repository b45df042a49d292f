import CTrailSQLite
import Dispatch
import Foundation
import GRDB
import GRDBSQLite
public import TrailCore

/// The embedded store: one SQLite file in WAL mode, written by one group-commit writer.
public final class SQLiteEventStore: EventStore {
    /// How hard a commit waits for the disk (SQLite's `synchronous`): `full` (the default) survives power loss,
    /// `normal` may lose the last transactions on power loss (never on a process crash), `off` trusts the OS.
    public enum Durability: String, Sendable, CaseIterable {
        case full, normal, off
    }

    public let path: String
    let pool: DatabasePool
    /// Every async read of the pool goes through it (``ReaderGate``).
    let readers: ReaderGate
    let writer: GroupCommit<SQLiteAppender.Write, SQLiteAppender.Outcome>
    /// Wakes this process's workers when a message is queued.
    let queued = WorkSignal()
    let appender: SQLiteAppender
    public let commits: CommitFeed
    /// Builds the search index behind the writer (``SQLiteSearch``).
    let indexer: SQLiteSearchIndexer
    /// Seals personal values on the way in, opens them on the way out (SPEC §11).
    let personal: PersonalData

    /// Opens (creating if needed) the store at `path` and brings its schema up to date.
    public init(
        path: String, durability: Durability = .full, busyTimeoutSeconds: Double = 5,
        configuration: StoreConfiguration = StoreConfiguration()
    ) throws(StoreError) {
        self.path = path
        try SQLiteEventStore.registerMappedReads()
        var config = Configuration()
        config.busyMode = .timeout(busyTimeoutSeconds)
        config.prepareDatabase { db in
            // Statement journals in memory rather than in temporary files.
            try db.execute(sql: "PRAGMA temp_store = MEMORY")
            // The writer's larger page cache keeps the hot index pages of the events table in memory (64 MiB).
            // Readers keep 8 MiB each: they share the operating system's cache of the file, and a private cache
            // per reader would hold the same pages several times (an export would fill it to no use).
            try db.execute(sql: "PRAGMA cache_size = \(db.configuration.readonly ? -8192 : -65536)")
            // Readers take pages from a mapping of the whole file (`CTrailSQLite`) instead of a `pread` each.
            if db.configuration.readonly { try SQLiteEventStore.setMapping(db, on: true) }
        }
        let pool: DatabasePool
        let redactor: Redactor
        do {
            pool = try DatabasePool(path: path, configuration: config)
            // After the pool is open: GRDB sets `synchronous = NORMAL` on the writer when it enables WAL, after
            // `prepareDatabase` has run (until 2026-11-30 that silently made every store `normal`). Only the
            // writer's setting matters; it keeps its one connection for the pool's life.
            try pool.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA synchronous = \(durability.rawValue.uppercased())")
            }
            try SQLiteMigrations.migrate(pool)
            try pool.write { db in try SQLiteSearch.prepareWatermark(db) }
            let secret = try pool.read { db in
                try Data.fetchOne(db, sql: "SELECT value FROM settings WHERE name = 'redaction_secret'")
            }
            guard let secret else { throw StoreError(.corrupt, "the store has no redaction secret") }
            redactor = Redactor(sensitiveKeys: configuration.sensitiveKeys, secret: Array(secret))
        } catch {
            throw SQLiteFailure.storeError(error, path: path)
        }
        self.pool = pool
        let readers = ReaderGate(readers: config.maximumReaderCount)
        self.readers = readers
        let vault = try SQLiteSubjectKeys(path: SQLiteSubjectKeys.path(forStore: path), busyTimeoutSeconds: busyTimeoutSeconds)
        personal = PersonalData(
            policy: PersonalDataPolicy(personalKeys: configuration.personalKeys), sealing: configuration.sealsPersonalData,
            vault: vault, secret: try vault.secret()
        ) { tenant throws(StoreError) in
            do {
                return try await readers.run {
                    try await pool.read { db in
                        try String.fetchAll(db, sql: "SELECT key FROM personal_keys WHERE tenant = ? ORDER BY key", arguments: [tenant])
                    }
                }
            } catch {
                throw SQLiteFailure.storeError(error, path: path)
            }
        }
        let appender = SQLiteAppender(redactor: redactor, configuration: configuration)
        self.appender = appender
        let commits = CommitFeed()
        self.commits = commits
        let indexer = SQLiteSearchIndexer(pool: pool, gather: configuration.searchIndexDelay)
        self.indexer = indexer
        // SQLite blocks while it writes: the writer gets a thread of its own, off Swift's cooperative pool.
        let thread = DispatchQueue(label: "trail.sqlite.writer", qos: .userInitiated)
        writer = GroupCommit(maximumWeight: configuration.maximumEventsPerTransaction, on: thread) { requests in
            let start = ContinuousClock.now
            let outcomes = appender.commit(requests, in: pool)
            let appended = outcomes.compactMap { if case .success(.appended(let result)) = $0 { result } else { nil } }
            StoreMetrics.committed(events: StoreMetrics.newEvents(appended), since: start)
            commits.published(appended)
            if !appended.isEmpty { indexer.signal.notify() }
            return outcomes
        }
    }

    /// Any size above zero switches a connection's mapping on (Trail's VFS maps the whole file whatever the
    /// size; SQLite caps the number at its own `SQLITE_MAX_MMAP_SIZE`).
    static let mappedReads = 1 << 30

    /// Makes Trail's VFS the process's default, once, before the first connection opens.
    static func registerMappedReads() throws(StoreError) {
        let code = trail_sqlite_register_mapped_vfs()
        guard code == SQLITE_OK else { throw StoreError(.unavailable, "SQLite's VFS could not be registered (code \(code))") }
    }

    /// Switches a reader's mapping of the file on or off.
    static func setMapping(_ db: Database, on: Bool) throws {
        try db.cachedStatement(sql: "PRAGMA mmap_size = \(on ? mappedReads : 0)").execute()
    }

    /// Runs `body` on a reader with its mapping of the file on or off (``EventQuery/bulk``); back on after.
    static func mapping<T>(_ db: Database, on: Bool, _ body: () throws -> T) throws -> T {
        if on { return try body() }
        try setMapping(db, on: false)
        defer { try? setMapping(db, on: true) }
        return try body()
    }

    /// Refuses a path that holds no Trail store (no file, or a file that is not one), without creating anything.
    static func requireStore(at path: String) throws(StoreError) {
        guard FileManager.default.fileExists(atPath: path) else {
            throw StoreError(.missing, "there is no Trail store at \(path): trail serve or trail migrate creates one")
        }
        do {
            var configuration = Configuration()
            configuration.readonly = true
            let isStore = try DatabaseQueue(path: path, configuration: configuration).read { db in
                try db.tableExists("grdb_migrations") && db.tableExists("events")
            }
            guard isStore else { throw StoreError(.missing, "\(path) is a SQLite file but not a Trail store") }
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(.missing, "\(path) is not a Trail store: \(SQLiteFailure.storeError(error, path: path).message)")
        }
    }

    /// Applies pending migrations without opening a store for use (the `trail migrate` command).
    /// Returns the identifiers of the migrations applied now.
    public static func migrate(path: String) throws(StoreError) -> [String] {
        do {
            let pool = try DatabasePool(path: path)
            let before = try pool.read { db in try SQLiteMigrations.migrator.appliedIdentifiers(db) }
            try SQLiteMigrations.migrate(pool)
            let after = try pool.read { db in try SQLiteMigrations.migrator.appliedIdentifiers(db) }
            return after.subtracting(before).sorted()
        } catch {
            throw SQLiteFailure.storeError(error, path: path)
        }
    }

    func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws(StoreError) -> T {
        do {
            return try await pool.write(body)
        } catch {
            throw SQLiteFailure.storeError(error, path: path)
        }
    }

    /// A write transaction whose deleted content SQLite overwrites with zeros (`secure_delete`): for removals and
    /// erasures, so that what they take out does not linger in freed space.
    func secureWrite<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws(StoreError) -> T {
        do {
            return try await pool.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA secure_delete = ON")
                defer { try? db.execute(sql: "PRAGMA secure_delete = OFF") }
                var result: T?
                try db.inTransaction(.immediate) {
                    result = try body(db)
                    return .commit
                }
                return result!
            }
        } catch {
            throw SQLiteFailure.storeError(error, path: path)
        }
    }

    var clock: @Sendable () -> Timestamp { appender.configuration.clock }

    func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws(StoreError) -> T {
        do {
            return try await readers.run { try await pool.unsafeRead { db in try db.inCachedTransaction(.deferred) { try body(db) } } }
        } catch {
            throw SQLiteFailure.storeError(error, path: path)
        }
    }

    /// A short read (a resource's head or state, one event, a page of one resource's history), run on the
    /// caller's own thread: SQLite answers it from its cache in microseconds, less than handing it to a reader's
    /// thread and waking the caller again costs. Reads that may take long (lists, summaries, exports,
    /// verification) use ``read(_:)``, which holds no thread of Swift's cooperative pool while SQLite works.
    func readHere<T: Sendable>(_ body: (Database) throws -> T) async throws(StoreError) -> T {
        do {
            return try await readers.run { try Self.readNow(pool, body) }
        } catch {
            throw SQLiteFailure.storeError(error, path: path)
        }
    }

    /// A blocking read in one transaction (a reader is free: ``ReaderGate`` admitted the caller).
    private static func readNow<T>(_ pool: DatabasePool, _ body: (Database) throws -> T) throws -> T {
        try pool.unsafeRead { db in try db.inCachedTransaction(.deferred) { try body(db) } }
    }
}
