import Foundation
import GRDB
import Synchronization
import Testing
import TrailCore
import TrailStore
import TrailTestSupport

/// The store contract, on every available store: a real SQLite file, and a real PostgreSQL database when
/// `TRAIL_TEST_POSTGRES_URL` is set (CI sets it).
@Suite struct StoreContractTests {
    static func activity(_ verb: String, _ id: String, _ data: JSONObject = JSONObject(), type: String = "doc") -> Activity {
        Activity(action: Verb.normalize(verb), actor: JSONObject([.init(key: "id", value: "7")]), actorId: "7",
                 resourceType: type, resourceId: id, data: data)
    }

    static func data(_ pairs: (String, JSONValue)...) -> JSONObject {
        JSONObject(pairs.map { .init(key: $0.0, value: $0.1) })
    }

    /// A fresh store of `kind`, with `configuration`.
    func withStore<T: Sendable>(
        _ kind: StoreKind, _ configuration: StoreConfiguration = StoreConfiguration(),
        _ body: (any EventStore) async throws -> T
    ) async throws -> T {
        try await withFreshLocation(kind) { location, _ in
            try await location.withStore(configuration: configuration, body)
        }
    }

    @Test(arguments: StoreKind.available)
    func appendAssignsSequencesVersionsAndRecordedTime(kind: StoreKind) async throws {
        try await withStore(kind, StoreConfiguration(clock: { Timestamp(microseconds: 1_000_000) })) { store in
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
    }

    @Test(arguments: StoreKind.available)
    func storedJSONKeepsKeyOrderAndExactNumbers(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let data = Self.data(("zeta", 1), ("alpha", .number(JSONNumber(literal: "12345678901234567890.5")!)),
                                 ("mid", .object(Self.data(("b", true), ("a", "x")))))
            var activity = Self.activity("create", "o", data)
            activity.metadata = Self.data(("z", "last"), ("a", "first"))
            let written = try await store.append(AppendRequest(tenant: "default", activities: [activity]))
            let read = try await store.history(tenant: "default", resourceType: "doc", resourceId: "o")
            #expect(read == written.events)
            #expect(JSONWriter.string(read[0].changes)
                == #"{"zeta":[null,1],"alpha":[null,12345678901234567890.5],"mid.b":[null,true],"mid.a":[null,"x"]}"#)
            #expect(read[0].metadata.map { JSONWriter.string($0) } == #"{"z":"last","a":"first"}"#)
            let head = try await store.head(tenant: "default", resourceType: "doc", resourceId: "o")
            #expect(head?.state.map { JSONWriter.string($0) } == JSONWriter.string(data))
        }
    }

    @Test(arguments: StoreKind.available)
    func tenantsHaveTheirOwnSequencesAndResources(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            _ = try await store.append(AppendRequest(tenant: "t1", activities: [Self.activity("create", "a", Self.data(("n", 1)))]))
            let other = try await store.append(AppendRequest(tenant: "t2", activities: [Self.activity("create", "a", Self.data(("n", 5)))]))
            #expect(other.events[0].sequence == 1)
            #expect(other.events[0].version == 1)
            #expect(try await store.head(tenant: "t1", resourceType: "doc", resourceId: "a")?.state == Self.data(("n", 1)))
            #expect(try await store.history(tenant: "t3", resourceType: "doc", resourceId: "a").isEmpty)
        }
    }

    @Test(arguments: StoreKind.available)
    func concurrentAppendsOnOneResourceNeverRace(kind: StoreKind) async throws {
        try await withStore(kind) { store in
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
            try await Self.expectConsistentHistory(history, count: 200, store: store)
        }
    }

    @Test(arguments: StoreKind.available)
    func twoStoresOnOneLocationWritingAtOnceNeverRace(kind: StoreKind) async throws {
        // Like two Trail processes on one database: each store has its own writer, connections and caches.
        try await withFreshLocation(kind) { location, _ in
            try await location.withStore { first in
                try await location.withStore { second in
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        for i in 0..<120 {
                            let store = i % 2 == 0 ? first : second
                            group.addTask {
                                _ = try await store.append(AppendRequest(tenant: "default", activities: [
                                    Self.activity("update", "hot", Self.data(("k\(i % 12)", .number(JSONNumber(i))))),
                                ]))
                            }
                        }
                        try await group.waitForAll()
                    }
                    let history = try await second.history(tenant: "default", resourceType: "doc", resourceId: "hot")
                    try await Self.expectConsistentHistory(history, count: 120, store: first)
                }
            }
        }
    }

    /// Sequences 1…count, versions 1…count, each event's changes built on the state the previous one left, and
    /// the head equal to the replay.
    static func expectConsistentHistory(_ history: [RecordedEvent], count: Int, store: any EventStore) async throws {
        #expect(history.count == count)
        #expect(history.map(\.sequence) == (1...count).map { Int64($0) })
        #expect(history.map(\.version) == (1...count).map { Int64($0) })
        var replayed: [String: JSONValue] = [:]
        for event in history {
            for change in event.changes {
                guard case .array(let pair) = change.value else { Issue.record("bad change"); continue }
                #expect(pair[0] == (replayed[change.key] ?? .null), "event \(event.sequence), \(change.key)")
                replayed[change.key] = pair[1]
            }
        }
        let head = try await store.head(tenant: "default", resourceType: "doc", resourceId: "hot")
        #expect(head?.version == Int64(count))
        #expect(head.map { Dictionary(uniqueKeysWithValues: ($0.state ?? JSONObject()).map { ($0.key, $0.value) }) } == replayed)
    }

    @Test(arguments: StoreKind.available)
    func idempotentReplayAndConflict(kind: StoreKind) async throws {
        try await withStore(kind) { store in
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
    }

    @Test(arguments: StoreKind.available)
    func concurrentRetriesWithOneKeyStoreOnce(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let claim = IdempotencyClaim(key: "retry", requestDigest: [7])
            let results = try await withThrowingTaskGroup(of: AppendResult.self) { group in
                for _ in 0..<16 {
                    group.addTask {
                        try await store.append(AppendRequest(tenant: "default", activities: [
                            Self.activity("create", "once", Self.data(("n", 1))),
                        ], idempotency: claim))
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(results.filter { !$0.replayed }.count == 1)
            #expect(Set(results.map { $0.events.map(\.id) }).count == 1)
            #expect(try await store.history(tenant: "default", resourceType: "doc", resourceId: "once").count == 1)
        }
    }

    /// Oldest first from a time (an export's pages) gives exactly the events recorded since then, whatever the
    /// order of recorded times (a clock that went back included), and leaves out the meta-audit's events unless
    /// asked for.
    @Test(arguments: StoreKind.available)
    func oldestFirstSinceATimeStartsAtTheRightEvent(kind: StoreKind) async throws {
        let now = Mutex<Int64>(1_000_000)
        try await withStore(kind, StoreConfiguration(clock: { Timestamp(microseconds: now.withLock { $0 }) })) { store in
            // Recorded at 1, 2, 3, 5, 4 (the clock went back), 6, 7 … 10 seconds.
            for (i, second) in [1, 2, 3, 5, 4, 6, 7, 8, 9, 10].enumerated() {
                now.withLock { $0 = Int64(second) * 1_000_000 }
                var activity = Self.activity("create", "r\(i)")
                if i == 7 { activity.category = EventQuery.accessCategory }
                _ = try await store.append(AppendRequest(tenant: "default", activities: [activity]))
            }
            let since = Timestamp(microseconds: 4_000_000)
            var page = EventQuery(since: since, oldestFirst: true, limit: 3)
            var seen: [String] = []
            while true {
                let events = try await store.eventColumns(tenant: "default", matching: page)
                seen += events.compactMap(\.resourceId)
                guard events.count == page.limit, let last = events.last else { break }
                page.afterSequence = last.sequence
            }
            #expect(seen == ["r3", "r4", "r5", "r6", "r8", "r9"])
            let access = try await store.events(tenant: "default", matching: EventQuery(category: EventQuery.accessCategory, since: since, oldestFirst: true))
            #expect(access.map(\.resourceId) == ["r7"])
        }
    }

    @Test(arguments: StoreKind.available)
    func idempotencyKeysExpire(kind: StoreKind) async throws {
        let now = Mutex<Int64>(1_000_000)
        let configuration = StoreConfiguration(idempotencyRetentionSeconds: 10, clock: {
            Timestamp(microseconds: now.withLock { $0 })
        })
        try await withStore(kind, configuration) { store in
            let claim = IdempotencyClaim(key: "k", requestDigest: [1])
            _ = try await store.append(AppendRequest(tenant: "default", activities: [Self.activity("create", "a")], idempotency: claim))
            now.withLock { $0 = 12_000_000 }
            let later = try await store.append(AppendRequest(tenant: "default", activities: [Self.activity("approve", "a")], idempotency: claim))
            #expect(!later.replayed)
            #expect(later.events[0].sequence == 2)
        }
    }

    @Test(arguments: StoreKind.available)
    func redactionSecretSurvivesReopening(kind: StoreKind) async throws {
        try await withFreshLocation(kind) { location, _ in
            try await location.withStore { store in
                _ = try await store.append(AppendRequest(tenant: "default", activities: [
                    Self.activity("create", "acc", Self.data(("password", "hunter2"))),
                ]))
            }
            try await location.withStore { reopened in
                let same = try await reopened.append(AppendRequest(tenant: "default", activities: [
                    Self.activity("update", "acc", Self.data(("password", "hunter2"))),
                ]))
                #expect(same.events[0].changes.isEmpty)
                let changed = try await reopened.append(AppendRequest(tenant: "default", activities: [
                    Self.activity("update", "acc", Self.data(("password", "hunter3"))),
                ]))
                #expect(changed.events[0].summary == "Password changed.")
                #expect(changed.events[0].version == 2)
            }
        }
    }

    @Test(arguments: StoreKind.available)
    func twoWritersOnOneLocationSeeEachOthersVersions(kind: StoreKind) async throws {
        // Like `trail ingest` next to `trail serve`: two stores, two connections, one database.
        try await withFreshLocation(kind) { location, _ in
            try await location.withStore { first in
                try await location.withStore { second in
                    _ = try await first.append(AppendRequest(tenant: "default", activities: [Self.activity("create", "a", Self.data(("n", 1)))]))
                    _ = try await second.append(AppendRequest(tenant: "default", activities: [Self.activity("update", "a", Self.data(("n", 2)))]))
                    let third = try await first.append(AppendRequest(tenant: "default", activities: [Self.activity("update", "a", Self.data(("m", 3)))]))
                    #expect(third.events[0].sequence == 3)
                    #expect(third.events[0].version == 3)
                    #expect(JSONWriter.string(third.events[0].changes) == #"{"m":[null,3]}"#)
                    #expect(try await second.head(tenant: "default", resourceType: "doc", resourceId: "a")?.state == Self.data(("n", 2), ("m", 3)))
                }
            }
        }
    }

    @Test(arguments: StoreKind.available)
    func aBatchOnAResourceThisProcessHasNotSeenBuildsOnItsStoredState(kind: StoreKind) async throws {
        try await withFreshLocation(kind) { location, _ in
            try await location.withStore { store in
                _ = try await store.append(AppendRequest(tenant: "default", activities: [
                    Self.activity("create", "r", Self.data(("a", 1))),
                ]))
            }
            // A second store has nothing cached: the batch's first event finds the stored head, the second must
            // build on what the first left, not on a guess.
            try await location.withStore { fresh in
                let result = try await fresh.append(AppendRequest(tenant: "default", activities: [
                    Self.activity("approve", "r"),
                    Self.activity("update", "r", Self.data(("x", 1))),
                ]))
                #expect(result.events.map(\.version) == [1, 2])
                #expect(JSONWriter.string(result.events[1].changes) == #"{"x":[null,1]}"#)
                #expect(try await fresh.head(tenant: "default", resourceType: "doc", resourceId: "r")?.state == Self.data(("a", 1), ("x", 1)))
            }
        }
    }

    @Test(arguments: StoreKind.available)
    func migrateIsIdempotent(kind: StoreKind) async throws {
        try await withFreshLocation(kind) { location, _ in
            let first = try await location.migrate()
            let second = try await location.migrate()
            #expect(first == ["0001_events_heads_idempotency", "0002_messages", "0003_message_context", "0004_search", "0005_api_keys", "0006_immutable_events_signing_key", "0007_data_events_index", "0008_hash_chain", "0009_hash_chain_checks", "0010_checkpoints", "0011_type_action_index", "0012_subtree_roots", "0013_failed_messages_index", "0014_retention_holds", "0015_personal_data", "0016_streams", "0017_console_sessions"] + (kind == .postgres ? ["0018_append_function", "0019_search_behind_writer", "0020_append_checks_heads"] : []))
            #expect(second.isEmpty)
        }
    }

    @Test(arguments: StoreKind.available)
    func eventsStoredBeforeTheSearchIndexExistedAreFound(kind: StoreKind) async throws {
        try await withFreshLocation(kind) { location, fresh in
            try await location.withStore { store in
                _ = try await store.append(AppendRequest(tenant: "default", activities: [
                    Self.activity("create", "old", Self.data(("title", "Annual Zebra census"))),
                ]))
            }
            // Back to the schema before the index: the migration must index what is already stored.
            switch location {
            case .sqlite:
                try await DatabaseQueue(path: fresh.text).write { db in
                    try db.execute(sql: "DROP TABLE events_fts; DELETE FROM grdb_migrations WHERE identifier = '0004_search'")
                }
            case .postgres(let url, _):
                for statement in ["DROP TABLE event_search", "DROP TABLE search_progress", "DROP FUNCTION trail_index_search",
                                  "ALTER TABLE events DROP COLUMN search",
                                  "DELETE FROM trail_migrations WHERE id IN ('0004_search', '0019_search_behind_writer')"] {
                    try await PostgresAdmin.execute(statement, on: url)
                }
            }
            try await location.withStore { store in
                let found = try await store.events(tenant: "default", matching: EventQuery(search: SearchQuery("zebra census")))
                #expect(found.map(\.resourceId) == ["old"])
                #expect(try await store.events(tenant: "default", matching: EventQuery(search: SearchQuery("zebras"))).isEmpty)
            }
        }
    }
}
