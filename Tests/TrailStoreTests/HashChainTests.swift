import Foundation
import GRDB
import Testing
import TrailCore
import TrailStore
import TrailTestSupport

/// Every stored event carries `hash` and `prev_hash` (SPEC §8), computed in its append transaction, on both
/// stores; events stored before the chain existed are hashed by the migration, with the same hashes.
@Suite struct HashChainTests {
    /// A tenant's whole chain, oldest first, records of reads included.
    static func chain(_ store: any EventStore, tenant: String) async throws -> [RecordedEvent] {
        try await store.events(tenant: tenant, matching: EventQuery(oldestFirst: true, includesAccess: true, limit: 100_000))
    }

    /// The chain is unbroken: sequences 1…n, each `prev_hash` the previous `hash`, each `hash` recomputed from
    /// the event (directly, and from its JSON as reads return it, as an outside verifier would).
    static func expectUnbroken(_ events: [RecordedEvent], count: Int, sourceLocation: SourceLocation = #_sourceLocation) throws {
        #expect(events.map(\.sequence) == (1...Int64(count)).map { $0 }, sourceLocation: sourceLocation)
        var previous = EventHash.genesis
        for event in events {
            #expect(event.prevHash == previous, "prev_hash of \(event.sequence)", sourceLocation: sourceLocation)
            #expect(try EventHash.of(event) == event.hash, "hash of \(event.sequence)", sourceLocation: sourceLocation)
            var writer = JSONWriter()
            StoredEventJSON.write(event, into: &writer)
            let returned = try #require(try JSONParser.parse(writer.bytes).objectValue)
            #expect(returned["hash"]?.stringValue == EventHash.hex(event.hash), sourceLocation: sourceLocation)
            #expect(try EventHash.of(returned: returned) == event.hash, "hash of \(event.sequence) as JSON", sourceLocation: sourceLocation)
            previous = event.hash
        }
    }

    /// Three stores on one location (three processes) appending to the same tenants at once: every event is
    /// answered as it was stored (whichever path a PostgreSQL plan took: checked, refused and locked), the chains
    /// are unbroken, and every resource's versions run without gap.
    @Test(arguments: StoreKind.available)
    func threeWritersOfOneTenantAnswerWhatTheyStored(kind: StoreKind) async throws {
        try await withFreshLocation(kind) { location, _ in
            try await location.withStore { first in
                try await location.withStore { second in
                    try await location.withStore { third in
                        let stores: [any EventStore] = [first, second, third]
                        let answered = try await withThrowingTaskGroup(of: [RecordedEvent].self) { group in
                            for (s, store) in stores.enumerated() {
                                for task in 0..<6 {
                                    group.addTask {
                                        var events: [RecordedEvent] = []
                                        for n in 0..<20 {
                                            let tenant = n % 3 == 0 ? "globex" : "acme"
                                            // New resources, and updates of five shared ones (which the other
                                            // writers change too), some in two-event submissions.
                                            var activities = [StoreContractTests.activity(
                                                "update", "shared-\(n % 5)",
                                                StoreContractTests.data(("by", .string("\(s)-\(task)-\(n)")), ("note", "é \"q\"")))]
                                            if n % 4 == 1 {
                                                activities.append(StoreContractTests.activity("create", "d-\(s)-\(task)-\(n)",
                                                                                              StoreContractTests.data(("n", .number(JSONNumber(n))))))
                                            }
                                            let result = try await store.append(AppendRequest(tenant: tenant, activities: activities))
                                            events += result.events
                                        }
                                        return events
                                    }
                                }
                            }
                            var all: [RecordedEvent] = []
                            for try await events in group { all += events }
                            return all
                        }
                        for tenant in ["acme", "globex"] {
                            let chain = try await Self.chain(first, tenant: tenant)
                            let mine = answered.filter { $0.tenant == tenant }
                            try Self.expectUnbroken(chain, count: mine.count)
                            let stored = Dictionary(uniqueKeysWithValues: chain.map { ($0.id, $0) })
                            for event in mine {
                                #expect(stored[event.id] == event, "answered as stored: \(event.id)")
                            }
                            var versions: [String: [Int64]] = [:]
                            for event in chain { versions[event.resourceId ?? "", default: []].append(event.version ?? 0) }
                            for (resource, list) in versions {
                                #expect(list == Array(1...Int64(list.count)), "versions of \(resource)")
                            }
                        }
                    }
                }
            }
        }
    }

    /// A create of a resource that another store on the location made, which this store has never seen: it is
    /// versioned on the resource's head (on PostgreSQL such a create is planned as new without reading the head,
    /// and the write's check of the head refuses it; planned again, it is the resource's second version).
    @Test(arguments: StoreKind.available)
    func aCreateOfAResourceAnotherStoreMadeIsItsNextVersion(kind: StoreKind) async throws {
        try await withFreshLocation(kind) { location, _ in
            try await location.withStore { first in
                try await location.withStore { second in
                    let made = try await first.append(AppendRequest(tenant: "acme", activities: [
                        StoreContractTests.activity("create", "r", StoreContractTests.data(("a", 1), ("b", "kept")))]))
                    // The second store learns the tenant's position from a write of its own, not the resource.
                    _ = try await second.append(AppendRequest(tenant: "acme", activities: [
                        StoreContractTests.activity("create", "other")]))
                    let again = try await second.append(AppendRequest(tenant: "acme", activities: [
                        StoreContractTests.activity("create", "r", StoreContractTests.data(("a", 2)))]))
                    #expect(made.events.map(\.version) == [1])
                    #expect(again.events.map(\.version) == [2])
                    #expect(again.events.first?.sequence == 3)
                    let head = try await first.head(tenant: "acme", resourceType: "doc", resourceId: "r")
                    #expect(head?.version == 2)
                    #expect(head?.state == StoreContractTests.data(("a", 2)))
                    let chain = try await Self.chain(first, tenant: "acme")
                    try Self.expectUnbroken(chain, count: 3)
                    #expect(chain.last == again.events.first)
                    // And again from the store that made it first (its cache holds version 1).
                    let third = try await first.append(AppendRequest(tenant: "acme", activities: [
                        StoreContractTests.activity("update", "r", StoreContractTests.data(("c", true)))]))
                    #expect(third.events.map(\.version) == [3])
                    let after = try await second.head(tenant: "acme", resourceType: "doc", resourceId: "r")
                    #expect(after?.state == StoreContractTests.data(("a", 2), ("c", true)))
                }
            }
        }
    }

    @Test(arguments: StoreKind.available)
    func concurrentAppendsOfTwoTenantsEachFormOneChain(kind: StoreKind) async throws {
        try await withFreshLocation(kind) { location, _ in
            try await location.withStore { store in
                // 40 submissions at once (group commits mixing both tenants), of 1 to 3 events, some on one
                // shared resource, with numbers, nested objects and escapes the canonical form must get right.
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for i in 0..<40 {
                        group.addTask {
                            let tenant = i % 2 == 0 ? "acme" : "globex"
                            var activities: [Activity] = []
                            for j in 0..<(1 + i % 3) {
                                var activity = StoreContractTests.activity(
                                    j == 0 && i < 4 ? "create" : "update", j == 1 ? "shared-\(tenant)" : "d-\(i)-\(j)",
                                    StoreContractTests.data(("n", .number(JSONNumber(literal: "1.50e\(j)")!)),
                                                            ("text", .string("é \"q\" \u{1}\n\(i)")),
                                                            ("z", ["b": 2, "a": [1, 1e-7, 1e21]])))
                                activity.metadata = StoreContractTests.data(("big", .number(JSONNumber(literal: "12345678901234567890")!)))
                                activities.append(activity)
                            }
                            _ = try await store.append(AppendRequest(tenant: tenant, activities: activities))
                        }
                    }
                    try await group.waitForAll()
                }
                let acme = try await Self.chain(store, tenant: "acme")
                let globex = try await Self.chain(store, tenant: "globex")
                try Self.expectUnbroken(acme, count: (0..<40).filter { $0 % 2 == 0 }.map { 1 + $0 % 3 }.reduce(0, +))
                try Self.expectUnbroken(globex, count: (0..<40).filter { $0 % 2 == 1 }.map { 1 + $0 % 3 }.reduce(0, +))
                // The chain heads the signer and the proofs start from.
                let heads = try await store.chainHeads()
                #expect(heads == ["acme": ChainHead(sequence: acme.last!.sequence, hash: acme.last!.hash),
                                  "globex": ChainHead(sequence: globex.last!.sequence, hash: globex.last!.hash)])
                #expect(try await store.chainHead(tenant: "acme") == heads["acme"])
                #expect(try await store.chainHead(tenant: "nobody") == .empty)
                #expect(try await store.eventHashes(tenant: "acme", after: 2, limit: 3) == acme[2..<5].map(\.hash))
                // What a single read returns carries the same hashes.
                let one = try #require(try await store.event(tenant: "acme", id: acme[3].id))
                #expect(one.hash == acme[3].hash && one.prevHash == acme[2].hash)
            }
        }
    }

    @Test(arguments: StoreKind.available)
    func eventsStoredBeforeTheChainExistedAreHashedByTheMigration(kind: StoreKind) async throws {
        try await withFreshLocation(kind) { location, _ in
            let original = try await location.withStore { store in
                for i in 0..<5 {
                    _ = try await store.append(AppendRequest(tenant: i % 2 == 0 ? "acme" : "globex", activities: [
                        StoreContractTests.activity("create", "d-\(i)", StoreContractTests.data(("i", .number(JSONNumber(i))))),
                        StoreContractTests.activity("update", "d-\(i)", StoreContractTests.data(("i", .number(JSONNumber(i + 1))))),
                    ]))
                }
                return (try await Self.chain(store, tenant: "acme"), try await Self.chain(store, tenant: "globex"))
            }
            // Back to the schema before the chain (migration 0007), as an older Trail left it.
            switch location {
            case .sqlite(let path, _):
                let queue = try outsideConnection(path)
                try await queue.write { db in
                    try db.execute(sql: """
                        DROP TRIGGER events_no_update;
                        ALTER TABLE events DROP COLUMN hash;
                        ALTER TABLE events DROP COLUMN prev_hash;
                        CREATE TRIGGER events_no_update BEFORE UPDATE OF summary ON events
                        BEGIN SELECT RAISE(ABORT, 'stored events are immutable'); END;
                        DELETE FROM grdb_migrations WHERE identifier IN ('0008_hash_chain', '0009_hash_chain_checks');
                        """)
                }
            case .postgres(let url, _):
                for statement in [
                    "DROP TRIGGER events_no_update ON events",
                    "ALTER TABLE events DROP COLUMN hash, DROP COLUMN prev_hash",
                    "ALTER TABLE tenant_heads DROP COLUMN last_hash",
                    """
                    CREATE TRIGGER events_no_update BEFORE UPDATE OF summary ON events
                    FOR EACH STATEMENT EXECUTE FUNCTION trail_refuse_event_change()
                    """,
                    "DELETE FROM trail_migrations WHERE id IN ('0008_hash_chain', '0009_hash_chain_checks')",
                ] {
                    try await PostgresAdmin.execute(statement, on: url)
                }
            }
            #expect(try await location.migrate() == ["0008_hash_chain", "0009_hash_chain_checks"])
            try await location.withStore { store in
                let acme = try await Self.chain(store, tenant: "acme")
                #expect(acme == original.0, "the same hashes as computed at append time")
                #expect(try await Self.chain(store, tenant: "globex") == original.1)
                // The next append continues the chain.
                let next = try await store.append(AppendRequest(tenant: "acme", activities: [StoreContractTests.activity("create", "later")]))
                #expect(next.events[0].prevHash == acme.last?.hash)
                try Self.expectUnbroken(try await Self.chain(store, tenant: "acme"), count: acme.count + 1)
            }
        }
    }
}
