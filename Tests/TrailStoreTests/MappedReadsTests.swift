import CTrailSQLite
import Foundation
import GRDB
import GRDBSQLite
import Synchronization
import Testing
import TrailCore
@testable import TrailStore

/// Trail's SQLite VFS (`CTrailSQLite`): readers take pages from a shared mapping of the whole file. Every other
/// SQLite test runs through it too (it is the process's default); these check what is particular to it, on real
/// files: that readers do read through the mapping, and that they see the file grow, shrink and grow again —
/// remapped while other readers hold pages of the old mapping — without ever reading a wrong or missing row.
@Suite struct MappedReadsTests {
    let directory = SQLiteStoreTests.Directory()

    /// The writer's progress: 0 filling, 1 emptied and vacuumed, 3 done.
    final class Phases: Sendable {
        let value = Mutex(0)
    }

    @Test func readersOfTheStoreReadThroughTheMapping() async throws {
        let store = try SQLiteEventStore(path: directory.path)
        _ = try await store.append(AppendRequest(tenant: "default", activities: [
            StoreContractTests.activity("create", "a", StoreContractTests.data(("n", 1))),
        ]))
        let history = try await store.eventColumns(tenant: "default", matching: .history(resourceType: "doc", resourceId: "a"))
        #expect(history.count == 1)
        // Pages still in the WAL are read from it; the mapping serves the database file's own pages.
        try await store.pool.writeWithoutTransaction { db in _ = try Row.fetchAll(db, sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
        #expect(try await store.eventColumns(tenant: "default", matching: .history(resourceType: "doc", resourceId: "a")).count == 1)
        let (vfs, mmapSize) = try await store.read { db in
            var name: UnsafeMutablePointer<CChar>?
            let code = sqlite3_file_control(db.sqliteConnection, "main", SQLITE_FCNTL_VFSNAME, &name)
            defer { sqlite3_free(name) }
            return (code == SQLITE_OK ? name.map { String(cString: $0) } : nil,
                    try Int.fetchOne(db, sql: "PRAGMA mmap_size"))
        }
        #expect(vfs == "trail-mapped/unix")
        #expect(mmapSize == SQLiteEventStore.mappedReads)
        #if os(Linux)
        // Read to its end: a /proc file reports no size, and a reader that trusts the size stops short.
        let maps = try #require(FileHandle(forReadingAtPath: "/proc/self/maps")).readToEnd() ?? Data()
        let mapped = String(decoding: maps, as: UTF8.self).split(separator: "\n").filter { $0.hasSuffix(directory.path) }
        #expect(mapped.count == 1, "the store's file is mapped once, for every reader")
        #endif
    }

    @Test func aBulkReadLeavesTheMappingOffAndTurnsItBackOn() async throws {
        let store = try SQLiteEventStore(path: directory.path)
        _ = try await store.append(AppendRequest(tenant: "default", activities: [
            StoreContractTests.activity("create", "a", StoreContractTests.data(("n", 1))),
        ]))
        var query = EventQuery.history(resourceType: "doc", resourceId: "a")
        query.bulk = true
        let sizes = try await store.read { db in
            try SQLiteEventStore.mapping(db, on: false) {
                [try Int.fetchOne(db, sql: "PRAGMA mmap_size"), try Int.fetchOne(db, sql: "SELECT count(*) FROM events")]
            } + [try Int.fetchOne(db, sql: "PRAGMA mmap_size")]
        }
        #expect(sizes == [0, 1, SQLiteEventStore.mappedReads])
        #expect(try await store.eventColumns(tenant: "default", matching: query).count == 1)
    }

    /// One writer fills a table in transactions of 200 rows (x = 1…n, each with a 1 KB blob), empties most of it
    /// and vacuums (the file shrinks), then fills it again; four readers keep checking that every snapshot they
    /// see is whole: n rows with sum(x) = n(n+1)/2 and every blob intact. The mapping's room is 64 KB, so the file
    /// outgrows its mapping every few transactions.
    @Test func readersSeeTheFileGrowShrinkAndGrowAgain() async throws {
        try SQLiteEventStore.registerMappedReads()
        trail_sqlite_set_mapping_room(64 * 1024)
        defer { trail_sqlite_set_mapping_room(256 * 1024 * 1024) }
        var configuration = Configuration()
        configuration.maximumReaderCount = 4
        configuration.prepareDatabase { db in
            if db.configuration.readonly { try SQLiteEventStore.setMapping(db, on: true) }
        }
        let pool = try DatabasePool(path: directory.path, configuration: configuration)
        try await pool.write { db in
            try db.execute(sql: "CREATE TABLE t (x INTEGER PRIMARY KEY, b BLOB NOT NULL)")
        }
        let phases = Phases()
        try await withThrowingTaskGroup { group in
            group.addTask {
                func fill(from first: Int, to last: Int) async throws {
                    for start in stride(from: first, through: last, by: 200) {
                        try await pool.write { db in
                            for x in start..<start + 200 {
                                try db.execute(sql: "INSERT INTO t VALUES (?, zeroblob(1024))", arguments: [x])
                            }
                        }
                        // Into the database file, where readers take pages from the mapping (not from the WAL).
                        try await pool.writeWithoutTransaction { db in
                            _ = try Row.fetchAll(db, sql: "PRAGMA wal_checkpoint(PASSIVE)")
                        }
                    }
                }
                try await fill(from: 1, to: 6_000)
                try await pool.write { db in try db.execute(sql: "DELETE FROM t WHERE x > 200") }
                try await pool.writeWithoutTransaction { db in
                    try db.execute(sql: "VACUUM")
                    try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)")
                }
                phases.value.withLock { $0 = 1 }
                try await fill(from: 201, to: 4_000)
                phases.value.withLock { $0 = 3 }
            }
            for _ in 0..<4 {
                group.addTask {
                    var snapshots = 0
                    while phases.value.withLock({ $0 }) < 3 || snapshots < 20 {
                        let row = try await pool.read { db in
                            try Row.fetchOne(db, sql: """
                                SELECT count(*), coalesce(sum(x), 0), coalesce(sum(length(b)), 0),
                                    coalesce(sum(b != zeroblob(1024)), 0) FROM t
                                """)!
                        }
                        let (count, sum, bytes, damaged): (Int, Int, Int, Int) = (row[0], row[1], row[2], row[3])
                        #expect(sum == count * (count + 1) / 2)
                        #expect(bytes == count * 1024)
                        #expect(damaged == 0)
                        snapshots += 1
                        if snapshots > 10_000 { break }  // bounded, whatever the writer does
                        try await Task.sleep(for: .milliseconds(2))  // leave the writer some of the CPU
                    }
                }
            }
            try await group.waitForAll()
        }
        let size = try FileManager.default.attributesOfItem(atPath: directory.path)[.size] as? Int ?? 0
        #expect(size > 4_000 * 1024)
        let count = try await pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM t") }
        #expect(count == 4_000)
    }
}
