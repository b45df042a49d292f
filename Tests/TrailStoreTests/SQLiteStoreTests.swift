import Foundation
import GRDB
import Synchronization
import Testing
import TrailCore
@testable import TrailStore
import TrailTestSupport

/// What only the SQLite store has: its file, its schema's own refusals. The shared contract is in
/// StoreContractTests.
@Suite struct SQLiteStoreTests {
    final class Directory: Sendable {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("trail-store-\(UUID().uuidString)")
        var path: String { url.appendingPathComponent("trail.sqlite").path }
        init() { try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true) }
        deinit { try? FileManager.default.removeItem(at: url) }
    }

    let directory = Directory()

    func open(_ configuration: StoreConfiguration = StoreConfiguration()) throws -> SQLiteEventStore {
        try SQLiteEventStore(path: directory.path, configuration: configuration)
    }

    @Test func redactedValuesAreNowhereInTheFile() async throws {
        let store = try open()
        for password in ["hunter2", "hunter3"] {
            _ = try await store.append(AppendRequest(tenant: "default", activities: [
                StoreContractTests.activity("update", "acc", StoreContractTests.data(("password", .string(password)))),
            ]))
        }
        let bytes = try Data(contentsOf: URL(fileURLWithPath: directory.path))
            + ((try? Data(contentsOf: URL(fileURLWithPath: directory.path + "-wal"))) ?? Data())
        #expect(bytes.range(of: Data("hunter2".utf8)) == nil)
        #expect(bytes.range(of: Data("hunter3".utf8)) == nil)
    }

    @Test func schemaRefusesSkippedOrDuplicatedSequencesAndVersions() async throws {
        let store = try open()
        _ = try await store.append(AppendRequest(tenant: "default", activities: [
            StoreContractTests.activity("create", "a", StoreContractTests.data(("n", 1))),
        ]))
        let queue = try outsideConnection(directory.path)
        func insert(sequence: Int, version: Int, newVersion: Int, id: String) throws {
            try queue.write { db in
                try db.execute(sql: """
                    INSERT INTO events (tenant, sequence, id, occurred_at, recorded_at, action, resource_type,
                        resource_id, version, new_version, summary)
                    VALUES ('default', ?, ?, 0, 0, 'updated', 'doc', 'a', ?, ?, 's')
                    """, arguments: [sequence, id, version, newVersion])
            }
        }
        #expect(throws: DatabaseError.self) { try insert(sequence: 3, version: 2, newVersion: 1, id: "x1") }  // skipped sequence
        #expect(throws: DatabaseError.self) { try insert(sequence: 1, version: 2, newVersion: 1, id: "x2") }  // duplicated sequence
        #expect(throws: DatabaseError.self) { try insert(sequence: 2, version: 3, newVersion: 1, id: "x3") }  // skipped version
        #expect(throws: DatabaseError.self) { try insert(sequence: 2, version: 1, newVersion: 1, id: "x4") }  // duplicated version
        #expect(throws: DatabaseError.self) { try insert(sequence: 2, version: 2, newVersion: 0, id: "x5") }  // version without a change
        try insert(sequence: 2, version: 2, newVersion: 1, id: "x6")  // the one valid next event
    }

    /// The durability asked for is the one the writer's connection has (GRDB enables WAL with `NORMAL`, after
    /// the connection's own setup: the default `full` was silently `normal` until this test).
    @Test func theWriterHasTheDurabilityAskedFor() throws {
        for (durability, level) in [(SQLiteEventStore.Durability.full, 2), (.normal, 1), (.off, 0)] {
            let store = try SQLiteEventStore(path: directory.path, durability: durability)
            let synchronous = try store.pool.write { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") }
            #expect(synchronous == level, "\(durability)")
        }
        let store = try SQLiteEventStore(path: directory.path)
        #expect(try store.pool.write { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") } == 2, "full by default")
    }

    @Test func anUnwritablePathIsUnavailable() {
        #expect {
            _ = try SQLiteEventStore(path: directory.url.appendingPathComponent("missing/dir/x.sqlite").path)
        } throws: { ($0 as? StoreError)?.code == .unavailable }
    }
}
