import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import TrailCore
import TrailServer
@testable import TrailService
import TrailStore
import TrailTestSupport

/// `q`: full-text search over summaries, resource names, actor names and metadata values, on every store.
@Suite struct SearchTests {
    static func list(_ client: some TestClientProtocol, _ query: String) async throws -> JSONValue {
        let response = try await client.execute(uri: "/api/v1/audit/logs?\(query)", method: .get)
        #expect(response.status == .ok, "\(query)")
        return try parseJSON(response.body)
    }

    static func ids(_ page: JSONValue) -> [String] {
        page["data"]?.arrayValue?.compactMap { $0["resource"]?["id"]?.stringValue } ?? []
    }

    @Test(arguments: StoreKind.available)
    func wordsMatchWhereverTheEventSaysThem(kind: StoreKind) async throws {
        try await withRouter(kind) { client in
            let bodies = [
                #"{"actor":"a","verb":"create","object":{"type":"invoice","id":"summary","customer":"Zebra Logistics GmbH"}}"#,
                #"{"action":"viewed","actor":{"id":"u9","name":"Émilie Zola"},"resource":{"type":"doc","id":"actor-name"}}"#,
                #"{"action":"exported","actor":"b","resource":{"type":"doc","id":"resource-name","name":"Quarterly Zebra-Report"}}"#,
                #"{"action":"login","actor":"c","resource":{"type":"session","id":"metadata"},"metadata":{"client":{"os":"Plan9"},"tags":["night-shift", 42]}}"#,
            ]
            for body in bodies {
                let path = body.contains("\"verb\"") ? "/audit/activity-stream/" : "/api/v1/audit/logs"
                let response = try await client.execute(uri: path, method: .post, headers: jsonHeaders, body: ByteBuffer(string: body))
                #expect(response.status == .created)
            }
            #expect(Self.ids(try await Self.list(client, "q=zebra")) == ["resource-name", "summary"], "newest first")
            #expect(Self.ids(try await Self.list(client, "q=ZEBRA%20gmbh")) == ["summary"], "every word must match, any case")
            #expect(Self.ids(try await Self.list(client, "q=%C3%A9milie")) == ["actor-name"])
            #expect(Self.ids(try await Self.list(client, "q=plan9")) == ["metadata"], "nested metadata values")
            #expect(Self.ids(try await Self.list(client, "q=42")) == ["metadata"], "numbers in metadata")
            #expect(Self.ids(try await Self.list(client, "q=night%20shift")) == ["metadata"])
            #expect(Self.ids(try await Self.list(client, "q=zeb")) == [], "whole words only")
            #expect(Self.ids(try await Self.list(client, "q=zeb*")) == ["resource-name", "summary"], "a trailing * matches a prefix")
            #expect(Self.ids(try await Self.list(client, "q=zebra&resource_type=invoice")) == ["summary"], "with the other filters")
            #expect(Self.ids(try await Self.list(client, "q=u9")) == [], "actor ids are a filter, not text")

            let summary = try parseJSON(try await client.execute(uri: "/api/v1/audit/logs/summary?q=zebra", method: .get).body)
            #expect(summary["total"]?.intValue == 2)
            let export = try await client.execute(uri: "/api/v1/audit/logs/export?format=ndjson&q=zebra", method: .get)
            #expect(String(buffer: export.body).split(separator: "\n").count == 2)

            for bad in ["q=%20%20", "q=*", "q=%2C.%3B"] {
                let response = try await client.execute(uri: "/api/v1/audit/logs?\(bad)", method: .get)
                #expect(response.status == .badRequest, "\(bad)")
                #expect(try parseJSON(response.body)["errors"]?[0]?["path"] == "q")
            }
        }
    }

    @Test(arguments: StoreKind.available)
    func searchesPageWithTheCursorAndStayInTheirTenant(kind: StoreKind) async throws {
        try await withFreshLocation(kind) { location, _ in
            try await location.withStore { store in
                @Sendable func append(_ tenant: String, _ n: Int) async throws {
                    let activity = Activity(action: "created", actor: JSONObject([.init(key: "id", value: "a")]), actorId: "a",
                                            resourceType: "doc", resourceId: "\(tenant)-\(n)",
                                            data: JSONObject([.init(key: "title", value: .string("needle \(n)"))]))
                    _ = try await store.append(AppendRequest(tenant: tenant, activities: [activity]))
                }
                for n in 1...7 {
                    try await append("default", n)
                    try await append("other", n)
                }
                try await buildApplication(configuration: ServerConfiguration(authentication: .disabled), store: store).test(.router) { client in
                    var seen: [String] = []
                    var cursor: String?
                    repeat {
                        let page = try await Self.list(client, "q=needle&limit=3" + (cursor.map { "&cursor=\($0)" } ?? ""))
                        seen += Self.ids(page)
                        cursor = page["next_cursor"]?.stringValue
                        // Events written between pages do not disturb the pages.
                        try await append("default", 100 + seen.count)
                    } while cursor != nil
                    #expect(seen == (1...7).reversed().map { "default-\($0)" })
                }
                let oldestFirst = try await store.events(tenant: "other", matching: EventQuery(
                    afterSequence: 2, search: SearchQuery("needle"), oldestFirst: true, limit: 3))
                #expect(oldestFirst.map(\.resourceId) == ["other-3", "other-4", "other-5"])
            }
        }
    }

    @Test func queriesAndDocumentsSplitTheSameWay() throws {
        #expect(SearchText.words(in: "Status changed from draft to approved.") == ["status", "changed", "from", "draft", "to", "approved"])
        #expect(SearchText.words(in: "john@example.com 3.14 Ünïcode_ok") == ["john", "example", "com", "3", "14", "ünïcode", "ok"])
        #expect(SearchQuery("  ") == nil && SearchQuery("*") == nil)
        #expect(SearchQuery("inv* Zebra zebra")?.terms == [.init(word: "inv", prefix: true), .init(word: "zebra", prefix: false)])
        #expect(SearchQuery("john@example.com*")?.terms.map(\.word) == ["john", "example", "com"])
        #expect(SearchQuery("john@example.com*")?.terms.last?.prefix == true)
    }
}
