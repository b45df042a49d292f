import Foundation
import Testing
import TrailCore
@testable import TrailStore
import TrailTestSupport

/// Searches see every acknowledged event, whether the search index has reached it or not (issue 27: both stores
/// index behind their writers).
@Suite struct SearchIndexerTests {
    /// Write, then search for it at once on another connection, `TRAIL_TEST_READ_YOUR_WRITES` times (.ci/run runs
    /// 10,000 on each store, alone; 1,000 within the whole suite): never a miss, never a double.
    @Test(arguments: StoreKind.available)
    func aJustAcknowledgedEventIsAlwaysFound(kind: StoreKind) async throws {
        let rounds = ProcessInfo.processInfo.environment["TRAIL_TEST_READ_YOUR_WRITES"].flatMap { Int($0) } ?? 1_000
        try await withFreshLocation(kind) { location, _ in
            try await location.withStore { store in
                try await Self.writeThenSearch(rounds, writing: store, searching: store)
            }
        }
    }

    /// Read-your-writes across processes: an event one store (process) acknowledged is found at once by a search
    /// on another store of the same location, whose indexer never heard of the commit; both indexers run.
    @Test(arguments: StoreKind.available)
    func anEventAcknowledgedByOneProcessIsFoundByAnother(kind: StoreKind) async throws {
        try await withFreshLocation(kind) { location, _ in
            try await location.withStore { writer in
                try await location.withStore { reader in
                    try await Self.writeThenSearch(300, writing: writer, searching: reader)
                }
            }
        }
    }

    /// `rounds` times: an event with a word of its own appended to `writer`, then searched for on `searcher` at
    /// once; records the first round whose search does not find exactly that event.
    static func writeThenSearch(_ rounds: Int, writing writer: any TrailStorage, searching searcher: any TrailStorage) async throws {
        for n in 0..<rounds {
            let word = "ryw\(n)x"
            let stored = try await writer.append(AppendRequest(tenant: "default", activities: [
                StoreContractTests.activity("create", "doc-\(n)", StoreContractTests.data(("title", .string("note \(word)")))),
            ]))
            let found = try await searcher.events(tenant: "default", matching: EventQuery(search: SearchQuery(word)))
            guard found.map(\.id) == stored.events.map(\.id) else {
                Issue.record("search \(n) found \(found.map(\.id)) for \(stored.events.map(\.id))")
                return
            }
        }
    }

    /// Events the index has not reached are found as the index finds them: words, prefixes, several terms, a
    /// sealed value's token, one tenant only; on SQLite lists page across the watermark without a gap or a
    /// double, oldest and newest first, and summaries count both sides (PostgreSQL's searches index what is
    /// pending first).
    @Test(arguments: StoreKind.available)
    func unindexedEventsAreMatchedAsTheIndexMatchesThem(kind: StoreKind) async throws {
        var configuration = StoreConfiguration()
        configuration.searchIndexDelay = .seconds(3_600)  // the indexer does not index during the test
        try await withFreshLocation(kind) { location, _ in
            try await location.withStore(configuration: configuration) { store in
                try await Self.matchAcrossTheWatermark(store, kind)
            }
        }
    }

    static func matchAcrossTheWatermark(_ store: any TrailStorage, _ kind: StoreKind) async throws {
        let indexing = try #require(store as? any SearchIndexing)
        let texts = ["Zebra census", "zebras and lions", "Annual report", "zebra report", "lion count", "Zebra"]
        var ids: [String] = []
        for (n, text) in texts.enumerated() {
            let stored = try await store.append(AppendRequest(tenant: "acme", activities: [
                StoreContractTests.activity("create", "d\(n)", StoreContractTests.data(("title", .string(text)), ("email", "ann@example.com"))),
            ]))
            ids.append(stored.events[0].id)
        }
        _ = try await store.append(AppendRequest(tenant: "globex", activities: [
            StoreContractTests.activity("create", "g", StoreContractTests.data(("title", "zebra census"))),
        ]))
        let queries = ["zebra", "zebra*", "zebra census", "report", "lion*", "example", "ann", "nothing", "zeb*"]
        func answers() async throws -> [[String]] {
            var all: [[String]] = []
            for query in queries {
                let events = try await store.events(tenant: "acme", matching: EventQuery(search: SearchQuery(query)))
                all.append(events.map(\.id))
            }
            return all
        }
        #expect(try await indexing.searchIndexLag() == 7)
        let expected: [[Int]] = [[5, 3, 0], [5, 3, 1, 0], [0], [3, 2], [4, 1], [5, 4, 3, 2, 1, 0], [5, 4, 3, 2, 1, 0], [], [5, 3, 1, 0]]
        let unindexed = try await answers()
        #expect(unindexed == expected.map { $0.map { ids[$0] } })
        if kind == .postgres {
            // PostgreSQL's searches wait for their tenant's watermark: acme's events are indexed now, globex's not.
            #expect(try await indexing.searchIndexLag() == 1)
        } else {
            // SQLite's read past it. Half indexed: pages cross the watermark.
            #expect(try await indexing.indexSearch(limit: 3) == 3)
            #expect(try await indexing.searchIndexLag() == 4)
            #expect(try await answers() == unindexed)
        }
        for oldestFirst in [false, true] {
            var seen: [String] = []
            var cursor: Int64?
            repeat {
                var query = EventQuery(search: SearchQuery("zebra*"), oldestFirst: oldestFirst, limit: 1)
                if oldestFirst { query.afterSequence = cursor } else { query.beforeSequence = cursor }
                let page = try await store.events(tenant: "acme", matching: query)
                seen += page.map(\.id)
                cursor = page.last?.sequence
            } while cursor != nil && seen.count < 10
            #expect(seen == (oldestFirst ? expected[1].reversed() : expected[1]).map { ids[$0] }, "oldest first: \(oldestFirst)")
        }
        let summary = try await store.summary(tenant: "acme", matching: EventQuery(search: SearchQuery("zebra*")))
        #expect(summary.total == 4)

        // All indexed: the same answers from the index alone.
        try await indexing.indexSearch(limit: .max)
        #expect(try await indexing.searchIndexLag() == 0)
        #expect(try await answers() == unindexed)
    }

    /// Events whose words go (retention, erasure) are found no more, whether the index had reached them or not,
    /// and the indexer does not bring their words back.
    @Test(arguments: StoreKind.available)
    func removedEventsAreNotFoundOnEitherSideOfTheWatermark(kind: StoreKind) async throws {
        var configuration = StoreConfiguration()
        configuration.searchIndexDelay = .seconds(3_600)
        try await withFreshLocation(kind) { location, _ in
            try await location.withStore(configuration: configuration) { store in
                let indexing = try #require(store as? any SearchIndexing)
                for n in 1...4 {
                    _ = try await store.append(AppendRequest(tenant: "acme", activities: [
                        StoreContractTests.activity("create", "d\(n)", StoreContractTests.data(("title", .string("zebra \(n)")))),
                    ]))
                }
                try await indexing.indexSearch(limit: 2)
                let zebras = EventQuery(search: SearchQuery("zebra"))
                // 1 is indexed, 3 is not.
                #expect(try await store.removeEvents(tenant: "acme", sequences: [1, 3], at: Timestamp(microseconds: 1)) == 2)
                #expect(try await store.events(tenant: "acme", matching: zebras).map(\.sequence) == [4, 2])
                try await indexing.indexSearch(limit: .max)
                #expect(try await indexing.searchIndexLag() == 0)
                #expect(try await store.events(tenant: "acme", matching: zebras).map(\.sequence) == [4, 2])
            }
        }
    }

    @Test func matchingADocument() throws {
        let words = "annual zebra census _pabc"
        #expect(SQLiteSearch.matches(words: words, try #require(SearchQuery("Zebra census"))))
        #expect(SQLiteSearch.matches(words: words, try #require(SearchQuery("cen*"))))
        #expect(!SQLiteSearch.matches(words: words, try #require(SearchQuery("zebras"))))
        var blind = try #require(SearchQuery("ann"))
        blind.terms[0].blind = "_pabc"
        #expect(SQLiteSearch.matches(words: words, blind))
        #expect(!SQLiteSearch.matches(words: "", try #require(SearchQuery("ann"))))
    }
}
