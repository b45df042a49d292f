import Foundation
import GRDB
import Synchronization
import Testing
import TrailCore
import TrailStore

/// The store contract, on a real SQLite file.
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

    static func activity(_ verb: String, _ id: String, _ data: JSONObject = JSONObject(), type: String = "doc") -> Activity {
        Activity(action: Verb.normalize(verb), actor: JSONObject([.init(key: "id", value: "7")]), actorId: "7",
                 resourceType: type, resourceId: id, data: data)
    }

    static func data(_ pairs: (String, JSONValue)...) -> JSONObject {
        JSONObject(pairs.map { .init(key: $0.0, value: $0.1) })
    }

    @Test func appendAssignsSequencesVersionsAndRecordedTime() async throws {
        let store = try open(StoreConfiguration(clock: { Timestamp(microseconds: 1_000_000) }))
        let result = try await store.append(AppendRequest(tenant: "default", activities: [
            Self.activity("create", "a", Self.data(("n", 1))),
            Self.activity("update", "a", Self.data(("n", 2))),
            Self.activity("create", "b"),
        ]))
        #expect(result.events.map(\.sequence) == [1, 2, 3])
        #expect(result.events.map(\.version) == [1, 2, 1])
        #expect(result.events.allSatisfy { $0.recordedAt.microseconds == 1_000_000 && $0.occurredAt.microseconds == 1_000_000 })
        #expect(Set(result.events.map(\.id)).count == 3)
        let head = try await store.head(tenant: "default", resourceType: "doc", resourceId: "a")
        #expect(head?.version == 2)
        #expect(head?.state == Self.data(("n", 2)))
        let history = try await store.history(tenant: "default", resourceType: "doc", resourceId: "a")
        #expect(history == Array(result.events.prefix(2)))
    }

    @Test func tenantsHaveTheirOwnSequencesAndResources() async throws {
        let store = try open()
        _ = try await store.append(AppendRequest(tenant: "t1", activities: [Self.activity("create", "a", Self.data(("n", 1)))]))
        let other = try await store.append(AppendRequest(tenant: "t2", activities: [Self.activity("create", "a", Self.data(("n", 5)))]))
        #expect(other.events[0].sequence == 1)
        #expect(other.events[0].version == 1)
        #expect(try await store.head(tenant: "t1", resourceType: "doc", resourceId: "a")?.state == Self.data(("n", 1)))
        #expect(try await store.history(tenant: "t3", resourceType: "doc", resourceId: "a").isEmpty)
    }

    @Test func concurrentAppendsOnOneResourceNeverRace() async throws {
        let store = try open()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<200 {
                group.addTask {
                    _ = try await store.append(AppendRequest(tenant: "default", activities: [
                        Self.activity("update", "hot", Self.data(("k\(i % 20)", .number(JSONNumber(i))))),
                    ]))
                }
            }
            try await group.waitForAll()
        }
        let history = try await store.history(tenant: "default", resourceType: "doc", resourceId: "hot")
        #expect(history.count == 200)
        #expect(Set(history.map(\.sequence)) == Set(1...200))
        // Every update sets a new value, so every event makes a version: 1…200 with no gap.
        #expect(history.map(\.version) == (1...200).map { Int64($0) })
        // Each event's changes start from the state the previous one left (no change computed on a stale state).
        var replayed: [String: JSONValue] = [:]
        for event in history {
            for change in event.changes {
                guard case .array(let pair) = change.value else { Issue.record("bad change"); continue }
                #expect(pair[0] == (replayed[change.key] ?? .null), "event \(event.sequence), \(change.key)")
                replayed[change.key] = pair[1]
            }
        }
        let head = try await store.head(tenant: "default", resourceType: "doc", resourceId: "hot")
        #expect(head?.state == JSONObject(replayed.sorted { $0.key < $1.key }.map { .init(key: $0.key, value: $0.value) }))
    }

    @Test func idempotentReplayAndConflict() async throws {
        let store = try open()
        let claim = IdempotencyClaim(key: "k", requestDigest: [1, 2, 3])
        let first = try await store.append(AppendRequest(tenant: "default", activities: [
            Self.activity("create", "a", Self.data(("n", 1))),
        ], idempotency: claim))
        let again = try await store.append(AppendRequest(tenant: "default", activities: [
            Self.activity("create", "a", Self.data(("n", 1))),
        ], idempotency: claim))
        #expect(again.replayed)
        #expect(!first.replayed)
        #expect(again.events == first.events)
        #expect(again.recordedAt == first.recordedAt)
        await #expect {
            _ = try await store.append(AppendRequest(tenant: "default", activities: [], idempotency:
                IdempotencyClaim(key: "k", requestDigest: [9])))
        } throws: { ($0 as? StoreError)?.code == .idempotencyConflict }
        // The same key in another tenant is another key.
        let elsewhere = try await store.append(AppendRequest(tenant: "other", activities: [], idempotency: claim))
        #expect(!elsewhere.replayed)
        #expect(try await store.history(tenant: "default", resourceType: "doc", resourceId: "a").count == 1)
    }

    @Test func idempotencyKeysExpire() async throws {
        let now = Mutex<Int64>(0)
        let store = try open(StoreConfiguration(idempotencyRetentionSeconds: 10, clock: {
            Timestamp(microseconds: now.withLock { $0 })
        }))
        let claim = IdempotencyClaim(key: "k", requestDigest: [1])
        _ = try await store.append(AppendRequest(tenant: "default", activities: [Self.activity("create", "a")], idempotency: claim))
        now.withLock { $0 = 11_000_000 }
        let later = try await store.append(AppendRequest(tenant: "default", activities: [Self.activity("approve", "a")], idempotency: claim))
        #expect(!later.replayed)
        #expect(later.events[0].sequence == 2)
    }

    @Test func redactionSecretSurvivesReopening() async throws {
        do {
            let store = try open()
            _ = try await store.append(AppendRequest(tenant: "default", activities: [
                Self.activity("create", "acc", Self.data(("password", "hunter2"))),
            ]))
        }
        let reopened = try open()
        let same = try await reopened.append(AppendRequest(tenant: "default", activities: [
            Self.activity("update", "acc", Self.data(("password", "hunter2"))),
        ]))
        #expect(same.events[0].changes.isEmpty)
        let changed = try await reopened.append(AppendRequest(tenant: "default", activities: [
            Self.activity("update", "acc", Self.data(("password", "hunter3"))),
        ]))
        #expect(changed.events[0].summary == "Password changed.")
        #expect(changed.events[0].version == 2)
        // Neither value is anywhere in the file.
        let bytes = try Data(contentsOf: URL(fileURLWithPath: directory.path))
            + ((try? Data(contentsOf: URL(fileURLWithPath: directory.path + "-wal"))) ?? Data())
        #expect(bytes.range(of: Data("hunter2".utf8)) == nil)
        #expect(bytes.range(of: Data("hunter3".utf8)) == nil)
    }

    @Test func schemaRefusesSkippedOrDuplicatedSequencesAndVersions() async throws {
        let store = try open()
        _ = try await store.append(AppendRequest(tenant: "default", activities: [
            Self.activity("create", "a", Self.data(("n", 1))),
        ]))
        let queue = try DatabaseQueue(path: directory.path)
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

    @Test func twoWritersOnOneFileSeeEachOthersVersions() async throws {
        // Like `trail ingest` next to `trail serve`: two stores, two connections, one file.
        let first = try open()
        let second = try open()
        _ = try await first.append(AppendRequest(tenant: "default", activities: [Self.activity("create", "a", Self.data(("n", 1)))]))
        _ = try await second.append(AppendRequest(tenant: "default", activities: [Self.activity("update", "a", Self.data(("n", 2)))]))
        let third = try await first.append(AppendRequest(tenant: "default", activities: [Self.activity("update", "a", Self.data(("m", 3)))]))
        #expect(third.events[0].sequence == 3)
        #expect(third.events[0].version == 3)
        #expect(JSONWriter.string(third.events[0].changes) == #"{"m":[null,3]}"#)
        #expect(try await second.head(tenant: "default", resourceType: "doc", resourceId: "a")?.state == Self.data(("n", 2), ("m", 3)))
    }

    @Test func aBatchOnAResourceThisProcessHasNotSeenBuildsOnItsStoredState() async throws {
        _ = try await open().append(AppendRequest(tenant: "default", activities: [
            Self.activity("create", "r", Self.data(("a", 1))),
        ]))
        // A second store has nothing cached: the batch's first event finds the stored head, the second must
        // build on what the first left, not on a guess.
        let fresh = try open()
        let result = try await fresh.append(AppendRequest(tenant: "default", activities: [
            Self.activity("approve", "r"),
            Self.activity("update", "r", Self.data(("x", 1))),
        ]))
        #expect(result.events.map(\.version) == [1, 2])
        #expect(JSONWriter.string(result.events[1].changes) == #"{"x":[null,1]}"#)
        #expect(try await fresh.head(tenant: "default", resourceType: "doc", resourceId: "r")?.state == Self.data(("a", 1), ("x", 1)))
    }

    @Test func migrateIsIdempotent() throws {
        #expect(try SQLiteEventStore.migrate(path: directory.path) == ["0001_events_heads_idempotency"])
        #expect(try SQLiteEventStore.migrate(path: directory.path).isEmpty)
    }

    @Test func anUnwritablePathIsUnavailable() {
        #expect {
            _ = try SQLiteEventStore(path: directory.url.appendingPathComponent("missing/dir/x.sqlite").path)
        } throws: { ($0 as? StoreError)?.code == .unavailable }
    }
}
