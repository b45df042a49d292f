import Foundation
import GRDB
import Testing
import TrailCore
@testable import TrailStore
import TrailTestSupport

/// Searches see every acknowledged event, whether the search index has reached it or not (issue 27: the SQLite
/// store indexes behind its writer; PostgreSQL indexes in the writer's transaction).
@Suite struct SearchIndexerTests {
    /// Write, then search for it at once on another connection, `TRAIL_TEST_READ_YOUR_WRITES` times (.ci/run runs
    /// 10,000 on each store, alone; 1,000 within the whole suite): never a miss, never a double.
    @Test(arguments: StoreKind.available)
    func aJustAcknowledgedEventIsAlwaysFound(kind: StoreKind) async throws {
        let rounds = ProcessInfo.processInfo.environment["TRAIL_TEST_READ_YOUR_WRITES"].flatMap { Int($0) } ?? 1_000
        try await withFreshLocation(kind) { location, _ in
            try await location.withStore { store in
                for n in 0..<rounds {
                    let word = "ryw\(n)x"
                    let stored = try await store.append(AppendRequest(tenant: "default", activities: [
                        StoreContractTests.activity("create", "doc-\(n)", StoreContractTests.data(("title", .string("note \(word)")))),
                    ]))
                    let found = try await store.events(tenant: "default", matching: EventQuery(search: SearchQuery(word)))
                    guard found.map(\.id) == stored.events.map(\.id) else {
                        Issue.record("search \(n) found \(found.map(\.id)) for \(stored.events.map(\.id))")
                        return
                    }
                }
            }
        }
    }

    /// The words of events past the index's watermark are matched as the index matches them: words, prefixes,
    /// several terms, a sealed value's token, one tenant only; lists page across the watermark without a gap or
    /// a double, oldest and newest first; summaries count both sides.
    @Test func unindexedEventsAreMatchedAsTheIndexMatchesThem() async throws {
        let directory = SQLiteStoreTests.Directory()
        var configuration = StoreConfiguration()
        configuration.searchIndexDelay = .seconds(3_600)  // the indexer indexes at start, then not during the test
        let store = try SQLiteEventStore(path: directory.path, configuration: configuration)
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
        func lag() async throws -> Int { try await store.read { db in try SQLiteSearch.lag(db) } }
        #expect(try await lag() == 7)
        let unindexed = try await answers()
        let expected: [[Int]] = [[5, 3, 0], [5, 3, 1, 0], [0], [3, 2], [4, 1], [5, 4, 3, 2, 1, 0], [5, 4, 3, 2, 1, 0], [], [5, 3, 1, 0]]
        #expect(unindexed == expected.map { $0.map { ids[$0] } })

        // Half indexed: pages cross the watermark.
        _ = try await store.write { db in try SQLiteSearch.indexPending(db, limit: 3) }
        #expect(try await lag() == 4)
        #expect(try await answers() == unindexed)
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
        _ = try await store.write { db in try SQLiteSearch.indexPending(db) }
        #expect(try await lag() == 0)
        #expect(try await answers() == unindexed)
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
