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
    private let writer: GroupCommit<SQLiteAppender.Write, SQLiteAppender.Outcome>
    /// Wakes this process's workers when a message is queued.
    let queued = WorkSignal()
    private let appender: SQLiteAppender

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
            let secret = try pool.read { db in
                try Data.fetchOne(db, sql: "SELECT value FROM settings WHERE name = 'redaction_secret'")
            }
            guard let secret else { throw StoreError(.corrupt, "the store has no redaction secret") }
            redactor = Redactor(sensitiveKeys: configuration.sensitiveKeys, secret: Array(secret))
        } catch {
            throw SQLiteEventStore.storeError(error, path: path)
        }
        self.pool = pool
        let appender = SQLiteAppender(redactor: redactor, configuration: configuration)
        self.appender = appender
        // SQLite blocks while it writes: the writer gets a thread of its own, off Swift's cooperative pool.
        let thread = DispatchQueue(label: "trail.sqlite.writer", qos: .userInitiated)
        writer = GroupCommit(maximumWeight: configuration.maximumEventsPerTransaction, on: thread) { requests in
            appender.commit(requests, in: pool)
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
            throw StoreError(.missing, "\(path) is not a Trail store: \(storeError(error, path: path).message)")
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
            throw storeError(error, path: path)
        }
    }

    public func append(_ request: AppendRequest) async throws(StoreError) -> AppendResult {
        try await append([request])[0].get()
    }

    public func append(_ requests: [AppendRequest]) async -> [Result<AppendResult, StoreError>] {
        // Work that does not depend on current state happens here, on the caller's thread, not the writer's.
        let writes = requests.map { request in
            let prepared = PreparedRequest(request, redactor: appender.redactor, expectedHead: appender.expectedHead)
            return (SQLiteAppender.Write.append(prepared), weight: max(request.activities.count, 1))
        }
        return await writer.submit(writes).map { result in
            result.flatMap { outcome in
                guard case .appended(let appended) = outcome else { return .failure(StoreError(.rejected, "unexpected outcome")) }
                return .success(appended)
            }
        }
    }

    func enqueueThroughWriter(_ message: NewMessage) async throws(StoreError) -> EnqueueResult {
        let outcome = try await writer.submit(.enqueue(message), weight: max(message.resources.count, 1))
        guard case .enqueued(let result) = outcome else { throw StoreError(.rejected, "unexpected outcome") }
        if !result.replayed { queued.notify() }
        return result
    }

    public func head(tenant: String, resourceType: String, resourceId: String) async throws(StoreError) -> ResourceHead? {
        try await read { db in try SQLiteRows.head(db, tenant: tenant, type: resourceType, id: resourceId) }
    }

    public func event(tenant: String, id: String) async throws(StoreError) -> RecordedEvent? {
        try await read { db in
            try SQLiteRows.events(db, sql: "SELECT \(SQLiteRows.eventColumns) FROM events WHERE id = ? AND tenant = ?",
                                  arguments: [id, tenant]).first
        }
    }

    /// The `WHERE` clause of the events matching `query` (all but its order, pages and limit).
    /// - Parameter searching: false when the caller's query reads from the search index itself.
    static func filter(tenant: String, _ query: EventQuery, searching: Bool = true) -> (sql: String, arguments: StatementArguments) {
        var conditions = ["tenant = ?"]
        var arguments: StatementArguments = [tenant]
        if searching, let search = query.search {
            conditions.append("rowid IN (SELECT rowid FROM events_fts WHERE events_fts MATCH ?)")
            arguments += [SQLiteSearch.match(tenant: tenant, search)]
        }
        func add(_ condition: String, _ value: (any DatabaseValueConvertible)?) {
            guard let value else { return }
            conditions.append(condition)
            arguments += [value]
        }
        add("actor_id = ?", query.actorId)
        add("action = ?", query.action)
        add("resource_type = ?", query.resourceType)
        add("resource_id = ?", query.resourceId)
        add("category = ?", query.category)
        if query.category == nil && !query.includesAccess {
            conditions.append("category IS NOT '\(EventQuery.accessCategory)'")
        }
        add("outcome = ?", query.outcome)
        add("recorded_at >= ?", query.since?.microseconds)
        add("recorded_at <= ?", query.until?.microseconds)
        add("sequence < ?", query.beforeSequence)
        add("sequence > ?", query.afterSequence)
        return (conditions.joined(separator: " AND "), arguments)
    }

    /// A page of a list. SQLite's planner, without statistics, would rather scan a whole tenant in sequence order
    /// (or a whole time range) than sort, so each shape of query names the index that serves it:
    /// - full-text search: the search index, newest match first;
    /// - one resource: its history (small), sorted;
    /// - one actor: the actor index, whose entries are in rowid order, which within a tenant is sequence order
    ///   (one writer appends a tenant's events in sequence order);
    /// - a resource type and an action: their index, in sequence order;
    /// - anything else: the tenant's events in sequence order (without the meta-audit's, unless asked for), filtered as they come, which finds the newest
    ///   matches first (and `days`/`since` filters match the newest events); oldest first with `since`, from
    ///   the first event recorded since then.
    /// Cursors, which carry sequences, become rowid bounds where the order is by rowid.
    static func list(tenant: String, _ query: EventQuery) -> (sql: String, arguments: StatementArguments) {
        let direction = query.oldestFirst ? "ASC" : "DESC"
        if query.search == nil && !(query.resourceType != nil && query.resourceId != nil) && query.actorId == nil {
            var filter = SQLiteEventStore.filter(tenant: tenant, query)
            if query.oldestFirst, query.afterSequence == nil, let since = query.since {
                // Oldest first from a time (an export's first page): start at the first event recorded since
                // then instead of scanning the tenant's older events. Found through the time index by rowid, the
                // order of a tenant's sequences; the bound is exact whatever the order of recorded times.
                filter.sql += """
                     AND sequence >= COALESCE((SELECT sequence FROM events WHERE rowid = (
                        SELECT MIN(rowid) FROM events INDEXED BY events_recorded WHERE tenant = ? AND recorded_at >= ?)), 0)
                    """
                filter.arguments += [tenant, since.microseconds]
            }
            // A resource type and an action: their own index. Otherwise, without a category, the filter leaves out
            // the meta-audit's events: the partial index without them.
            let index = query.resourceType != nil && query.action != nil ? "events_type_action"
                : query.category == nil && !query.includesAccess ? "events_data_sequence" : "events_tenant_sequence"
            return ("""
                SELECT \(SQLiteRows.eventColumns) FROM events INDEXED BY \(index) WHERE \(filter.sql)
                ORDER BY sequence \(direction) LIMIT ?
                """, filter.arguments + [query.limit])
        }
        if query.search == nil, query.resourceType != nil, query.resourceId != nil {
            let filter = SQLiteEventStore.filter(tenant: tenant, query)
            return ("""
                SELECT \(SQLiteRows.eventColumns) FROM events INDEXED BY events_resource_version WHERE \(filter.sql)
                ORDER BY sequence \(direction) LIMIT ?
                """, filter.arguments + [query.limit])
        }
        let filter = SQLiteEventStore.filter(tenant: tenant, query, searching: false)
        let source: String
        var arguments: StatementArguments = []
        let rowid: String
        if let search = query.search {
            source = "events_fts JOIN events ON events.rowid = events_fts.rowid WHERE events_fts MATCH ?"
            arguments += [SQLiteSearch.match(tenant: tenant, search)]
            rowid = "events_fts.rowid"
        } else {
            source = "events INDEXED BY events_actor WHERE 1"
            rowid = "events.rowid"
        }
        var bounds = ""
        if let before = query.beforeSequence {
            bounds += """
                 AND \(rowid) < COALESCE((SELECT rowid FROM events WHERE tenant = ? AND sequence >= ?
                    ORDER BY sequence LIMIT 1), 9223372036854775807)
                """
            arguments += [tenant, before]
        }
        if let after = query.afterSequence {
            bounds += """
                 AND \(rowid) > COALESCE((SELECT rowid FROM events WHERE tenant = ? AND sequence <= ?
                    ORDER BY sequence DESC LIMIT 1), 0)
                """
            arguments += [tenant, after]
        }
        return ("""
            SELECT \(SQLiteRows.eventColumns) FROM \(source)\(bounds) AND \(filter.sql)
            ORDER BY \(rowid) \(direction) LIMIT ?
            """, arguments + filter.arguments + [query.limit])
    }

    public func events(tenant: String, matching query: EventQuery) async throws(StoreError) -> [RecordedEvent] {
        try await read { db in
            let (sql, arguments) = SQLiteEventStore.list(tenant: tenant, query)
            return try SQLiteRows.events(db, sql: sql, arguments: arguments)
        }
    }

    public func eventColumns(tenant: String, matching query: EventQuery) async throws(StoreError) -> [StoredEventColumns] {
        try await read { db in
            try SQLiteEventStore.mapping(db, on: !query.bulk) {
                let (sql, arguments) = SQLiteEventStore.list(tenant: tenant, query)
                return try RawStatement(db.cachedStatement(sql: sql)).all(db, arguments) { SQLiteRows.columns($0) }
            }
        }
    }

    public func summary(tenant: String, matching query: EventQuery) async throws(StoreError) -> EventSummary {
        try await read { db in
            let filter = SQLiteEventStore.filter(tenant: tenant, query)
            var counts: [(facet: String, key: String, count: Int)] = []
            for (name, expression) in EventSummary.facets {
                let rows = try Row.fetchAll(db, sql: """
                    SELECT CAST(\(expression) AS TEXT), COUNT(*) FROM events
                    WHERE \(filter.sql) AND \(expression) IS NOT NULL GROUP BY 1
                    """, arguments: filter.arguments)
                counts += rows.map { (name, $0[0], $0[1]) }
            }
            let durations = try Row.fetchAll(db, sql: """
                SELECT action, MIN(duration_ms), AVG(duration_ms), MAX(duration_ms) FROM events
                WHERE \(filter.sql) AND duration_ms IS NOT NULL GROUP BY action
                """, arguments: filter.arguments).map { row in
                    (row[0] as String, EventSummary.Durations(minimum: row[1], average: row[2], maximum: row[3]))
                }
            return EventSummary.assemble(counts: counts, durations: durations)
        }
    }

    public func snapshot(
        tenant: String, resourceType: String, resourceId: String, at point: SnapshotPoint
    ) async throws(StoreError) -> ResourceSnapshot? {
        try await read { db in
            let resource = "tenant = ? AND resource_type = ? AND resource_id = ? AND version IS NOT NULL"
            var arguments: StatementArguments = [tenant, resourceType, resourceId]
            let condition: String
            switch point {
            case .latest:
                condition = ""
            case .version(let version):
                condition = "AND version = ? AND new_version = 1"
                arguments += [version]
            case .time(let time):
                condition = "AND recorded_at <= ?"
                arguments += [time.microseconds]
            }
            // Versions never decrease along a resource's events: the index on (…, version) finds the last one.
            let row = try Row.fetchOne(db, sql: """
                SELECT version, state_after, id, recorded_at FROM events INDEXED BY events_resource_version
                WHERE \(resource) \(condition)
                ORDER BY version DESC, sequence DESC LIMIT 1
                """, arguments: arguments)
            return try row.map { row in
                ResourceSnapshot(version: row[0], state: try StoredJSON.object(row[1]), eventId: row[2],
                                 asOf: Timestamp(microseconds: row[3]))
            }
        }
    }

    func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws(StoreError) -> T {
        do {
            return try await pool.write(body)
        } catch {
            throw SQLiteEventStore.storeError(error, path: path)
        }
    }

    var clock: @Sendable () -> Timestamp { appender.configuration.clock }

    func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws(StoreError) -> T {
        do {
            return try await pool.read(body)
        } catch {
            throw SQLiteEventStore.storeError(error, path: path)
        }
    }

    static func storeError(_ error: any Error, path: String) -> StoreError {
        if let error = error as? StoreError { return error }
        if let error = error as? DatabaseError {
            switch error.resultCode {
            case .SQLITE_BUSY, .SQLITE_LOCKED, .SQLITE_FULL, .SQLITE_IOERR, .SQLITE_CANTOPEN, .SQLITE_READONLY,
                .SQLITE_NOMEM, .SQLITE_PROTOCOL:
                return StoreError(.unavailable, "the SQLite store at \(path) is unavailable: \(error.message ?? "\(error.resultCode)")")
            case .SQLITE_CORRUPT, .SQLITE_NOTADB:
                return StoreError(.corrupt, "the SQLite store at \(path) is damaged: \(error.message ?? "\(error.resultCode)")")
            default:
                return StoreError(.rejected, "SQLite refused the operation: \(error.message ?? "\(error.resultCode)")")
            }
        }
        return StoreError(.rejected, "\(error)")
    }
}
