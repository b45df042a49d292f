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

/// The read endpoints beyond the conformance scenarios, on every available store.
@Suite struct ReadAPITests {
    static func post(_ client: some TestClientProtocol, _ body: String) async throws -> JSONValue {
        let response = try await client.execute(uri: "/audit/activity-stream/", method: .post, headers: jsonHeaders,
                                                body: ByteBuffer(string: body))
        #expect(response.status == .created)
        return try #require(try parseJSON(response.body)[0])
    }

    @Test(arguments: StoreKind.available)
    func eventsByIdAndStatesAtATime(kind: StoreKind) async throws {
        try await withRouter(kind) { client in
            let created = try await Self.post(client, #"{"actor":{"id":"1"},"verb":"create","object":{"id":"i-1","type":"invoice","total":10}}"#)
            try await Task.sleep(for: .milliseconds(5))
            let between = Timestamp(microseconds: Int64(Date().timeIntervalSince1970 * 1_000_000))
            try await Task.sleep(for: .milliseconds(5))
            _ = try await Self.post(client, #"{"actor":{"id":"2"},"verb":"update","object":{"id":"i-1","type":"invoice","total":12}}"#)

            let id = try #require(created["id"]?.stringValue)
            let event = try parseJSON(try await client.execute(uri: "/api/v1/audit/logs/\(id)", method: .get).body)
            #expect(event["id"]?.stringValue == id && event["sequence"]?.intValue == 1 && event["tenant"] == "default")
            #expect(event["resource"]?["type"] == "invoice" && event["resource"]?["name"] == .null)
            #expect(event["changes"]?["total"]?[1]?.intValue == 10)
            #expect(event["outcome"] == "success" && event["error"] == .null)
            for missing in ["01a209c4-ffe1-7ceb-a9a2-36ffb2490cb0", "not-an-id"] {
                let response = try await client.execute(uri: "/api/v1/audit/logs/\(missing)", method: .get)
                #expect(response.status == .notFound)
                #expect(response.headers[.contentType] == "application/problem+json")
            }

            let then = try parseJSON(try await client.execute(uri: "/api/v1/resources/invoice/i-1?at=\(between.formatted())", method: .get).body)
            #expect(then["version"]?.intValue == 1 && then["state"]?["total"]?.intValue == 10)
            #expect(then["event_id"]?.stringValue == id)
            let now = try parseJSON(try await client.execute(uri: "/api/v1/resources/invoice/i-1?at=2999-01-01T00:00:00Z", method: .get).body)
            #expect(now["version"]?.intValue == 2 && now["state"]?["total"]?.intValue == 12 && now["deleted"] == false)

            for (query, parameter) in [("version=0", "version"), ("version=x", "version"), ("at=yesterday", "at"),
                                       ("version=1&at=2026-01-01T00:00:00Z", "at")] {
                let response = try await client.execute(uri: "/api/v1/resources/invoice/i-1?\(query)", method: .get)
                #expect(response.status == .badRequest, "\(query)")
                #expect(try parseJSON(response.body)["errors"]?[0]?["path"]?.stringValue == parameter, "\(query)")
            }
            let empty = try parseJSON(try await client.execute(uri: "/api/v1/resources/invoice/none/history", method: .get).body)
            #expect(empty["data"]?.arrayValue?.isEmpty == true)
        }
    }

    /// A history is paged oldest first (100 by default, at most 1000), with a cursor of its own.
    @Test(arguments: StoreKind.available)
    func historiesArePagedOldestFirst(kind: StoreKind) async throws {
        try await withRouter(kind) { client in
            let updates = (1...250).map { #"{"actor":"a","verb":"update","object":{"id":"long","type":"doc","n":\#($0)}}"# }
            let created = try await client.execute(uri: "/audit/activity-stream/", method: .post, headers: jsonHeaders,
                                                   body: ByteBuffer(string: "[" + updates.joined(separator: ",") + "]"))
            #expect(created.status == .created)
            _ = try await Self.post(client, #"{"actor":"a","verb":"create","object":{"id":"other","type":"doc"}}"#)
            var versions: [Int64] = []
            var cursor: String? = nil
            var pages = 0
            repeat {
                let uri = "/api/v1/resources/doc/long/history" + (cursor.map { "?cursor=\($0)" } ?? "")
                let page = try parseJSON(try await client.execute(uri: uri, method: .get).body)
                versions += page["data"]?.arrayValue?.compactMap { $0["version"]?.intValue } ?? []
                cursor = page["next_cursor"]?.stringValue
                pages += 1
            } while cursor != nil && pages < 10
            #expect(pages == 3 && versions == (1...250).map(Int64.init), "100, 100 and 50, oldest first")
            let small = try parseJSON(try await client.execute(uri: "/api/v1/resources/doc/long/history?limit=250", method: .get).body)
            #expect(small["data"]?.arrayValue?.count == 250 && small["next_cursor"]?.stringValue != nil, "a full page has a next one")
            let last = try parseJSON(try await client.execute(uri: "/api/v1/resources/doc/long/history?limit=250&cursor=\(small["next_cursor"]!.stringValue!)", method: .get).body)
            #expect(last["data"]?.arrayValue?.isEmpty == true && last["next_cursor"] == .null)
            // A list's cursor means "before": it is refused here rather than read the other way.
            let list = try parseJSON(try await client.execute(uri: "/api/v1/audit/logs?limit=1", method: .get).body)
            for (query, parameter) in [("limit=1001", "limit"), ("limit=0", "limit"), ("cursor=\(list["next_cursor"]!.stringValue!)", "cursor")] {
                let refused = try await client.execute(uri: "/api/v1/resources/doc/long/history?\(query)", method: .get)
                #expect(refused.status == .badRequest, "\(query)")
                #expect(try parseJSON(refused.body)["errors"]?[0]?["path"]?.stringValue == parameter)
            }
        }
    }

    @Test(arguments: StoreKind.available)
    func listsFilterNewestFirstAndPageWithAStableCursor(kind: StoreKind) async throws {
        try await withRouter(kind) { client in
            for n in 0..<7 {
                let actor = n % 2 == 0 ? "a" : "b"
                _ = try await Self.post(client, #"{"actor":{"id":"\#(actor)"},"verb":"\#(n < 5 ? "create" : "delete")","object":{"id":"d-\#(n % 5)","type":"\#(n == 3 ? "img" : "doc")","n":\#(n)}}"#)
            }
            func list(_ query: String) async throws -> JSONValue {
                let response = try await client.execute(uri: "/api/v1/audit/logs\(query)", method: .get)
                #expect(response.status == .ok, "\(query)")
                return try parseJSON(response.body)
            }
            func sequences(_ page: JSONValue) -> [Int64] { page["data"]?.arrayValue?.compactMap { $0["sequence"]?.intValue } ?? [] }

            #expect(sequences(try await list("")) == [7, 6, 5, 4, 3, 2, 1])
            #expect(sequences(try await list("?action=deleted")) == [7, 6])
            #expect(sequences(try await list("?action=DELETE")) == [7, 6], "actions are normalised like verbs")
            #expect(sequences(try await list("?actor=b&resource_type=doc")) == [6, 2])
            #expect(sequences(try await list("?resource_type=doc&resource_id=d-0")) == [6, 1])
            #expect(sequences(try await list("?outcome=SUCCESS&days=1")).count == 7)
            #expect(sequences(try await list("?until=2000-01-01T00:00:00Z")).isEmpty)

            let actor = try parseJSON(try await client.execute(uri: "/api/v1/actors/a/activity?limit=2", method: .get).body)
            #expect(sequences(actor) == [7, 5])

            // Pages of 3, while more events arrive: no event is skipped or repeated.
            var seen: [Int64] = []
            var page = try await list("?limit=3")
            seen += sequences(page)
            _ = try await Self.post(client, #"{"actor":{"id":"z"},"verb":"create","object":{"id":"late","type":"doc"}}"#)
            while let cursor = page["next_cursor"]?.stringValue {
                page = try await list("?limit=3&cursor=\(cursor)")
                seen += sequences(page)
            }
            #expect(seen == [7, 6, 5, 4, 3, 2, 1])

            for (query, parameter) in [("?limit=0", "limit"), ("?limit=1001", "limit"), ("?since=yesterday", "since"),
                                       ("?cursor=not-a-cursor", "cursor"), ("?days=0", "days"), ("?outcome=maybe", "outcome"),
                                       ("?q=%20", "q"), ("?q=*", "q")] {
                let response = try await client.execute(uri: "/api/v1/audit/logs\(query)", method: .get)
                #expect(response.status == .badRequest, "\(query)")
                #expect(response.headers[.contentType] == "application/problem+json")
                #expect(try parseJSON(response.body)["errors"]?[0]?["path"]?.stringValue == parameter, "\(query)")
            }
        }
    }

    @Test(arguments: StoreKind.available)
    func summaryCountsByFacet(kind: StoreKind) async throws {
        try await withRouter(kind) { client in
            for (verb, type, actor) in [("create", "doc", "a"), ("update", "doc", "a"), ("create", "img", "b"), ("delete", "doc", "a")] {
                _ = try await Self.post(client, #"{"actor":{"id":"\#(actor)"},"verb":"\#(verb)","object":{"id":"x-\#(type)","type":"\#(type)","n":"\#(verb)"}}"#)
            }
            let response = try await client.execute(uri: "/api/v1/audit/logs/summary?days=7", method: .get)
            #expect(response.status == .ok)
            let summary = try parseJSON(response.body)
            #expect(summary["days"]?.intValue == 7 && summary["total"]?.intValue == 4)
            #expect(summary["by_action"]?.objectValue?.keys == ["created", "deleted", "updated"])
            #expect(summary["by_action"]?["created"]?.intValue == 2)
            #expect(summary["by_resource_type"]?["doc"]?.intValue == 3 && summary["by_resource_type"]?["img"]?.intValue == 1)
            #expect(summary["by_actor"]?.objectValue?.keys == ["a", "b"])
            #expect(summary["by_day"]?[SystemClock.now().day]?.intValue == 4)
            #expect(summary["by_outcome"]?["success"]?.intValue == 4)
            #expect(summary["duration_ms_by_action"]?.objectValue?.isEmpty == true)
            #expect(try await client.execute(uri: "/api/v1/audit/logs/summary?days=-1", method: .get).status == .badRequest)
        }
    }

    @Test(arguments: StoreKind.available)
    func exportsStreamEveryMatchingEventOldestFirst(kind: StoreKind) async throws {
        try await withRouter(kind) { client in
            // 1,005 events: more than one page of the export.
            let batch = (0..<1005).map { n in
                #"{"actor":{"id":"a"},"verb":"create","object":{"id":"e-\#(n)","type":"doc","title":"t, \"\#(n)\""}}"#
            }.joined(separator: ",")
            let stored = try await client.execute(uri: "/audit/activity-stream/", method: .post, headers: jsonHeaders,
                                                  body: ByteBuffer(string: "[\(batch)]"))
            #expect(stored.status == .created)
            _ = try await Self.post(client, #"{"actor":{"id":"b"},"verb":"delete","object":{"id":"e-0","type":"doc"}}"#)

            let json = try await client.execute(uri: "/api/v1/audit/logs/export?format=json", method: .get)
            #expect(json.headers[.contentType] == "application/json")
            let all = try #require(try parseJSON(json.body).arrayValue)
            #expect(all.count == 1006)
            #expect(all.compactMap { $0["sequence"]?.intValue } == (1...1006).map { Int64($0) })

            let ndjson = try await client.execute(uri: "/api/v1/audit/logs/export?format=ndjson&action=deleted", method: .get)
            let lines = String(buffer: ndjson.body).split(separator: "\n")
            #expect(lines.count == 1)
            #expect(try JSONParser.parse(String(lines[0]))["sequence"]?.intValue == 1006)

            let csv = try await client.execute(uri: "/api/v1/audit/logs/export?format=csv&resource_id=e-7", method: .get)
            #expect(csv.headers[.contentType] == "text/csv; charset=utf-8")
            let rows = String(buffer: csv.body).components(separatedBy: "\r\n")
            #expect(rows.first == "id,sequence,tenant,occurred_at,recorded_at,action,category,outcome,actor,resource,version,changes,summary,context,metadata,duration_ms,error,prev_hash,hash")
            #expect(rows.count == 3 && rows[2].isEmpty, "header, one row, and the final line break")
            #expect(rows[1].contains(#","Title set to t, ""7"".","#), "RFC 4180 quoting")
            #expect(rows[1].contains(#","{""type"":""doc"",""id"":""e-7"",""name"":null}","#))

            let empty = try await client.execute(uri: "/api/v1/audit/logs/export?format=json&actor=nobody", method: .get)
            #expect(String(buffer: empty.body) == "[]")
            let refused = try await client.execute(uri: "/api/v1/audit/logs/export?format=xml", method: .get)
            #expect(refused.status == .badRequest)
            #expect(try parseJSON(refused.body)["errors"]?[0]?["path"] == "format")
        }
    }

    @Test(arguments: StoreKind.available)
    func djangoTrailCompatibilityReads(kind: StoreKind) async throws {
        try await withRouter(kind) { client in
            _ = try await Self.post(client, #"{"actor":{"id":"7","name":"Ann","email":"ann@x.io"},"verb":"create","object":{"id":"p-1","type":"Product","price":"19.99"}}"#)
            _ = try await Self.post(client, #"{"actor":{"id":"8"},"verb":"update","object":{"id":"p-1","type":"Product","price":"24.99"},"context":{"ip":"192.168.1.100"}}"#)
            _ = try await Self.post(client, #"{"actor":{"id":"7"},"verb":"create","object":{"id":"o-1","type":"Order"}}"#)

            let all = try #require(try parseJSON(try await client.execute(uri: "/api/audit/logs/?days=7", method: .get).body).arrayValue)
            #expect(all.count == 3)
            let updated = try #require(try parseJSON(try await client.execute(
                uri: "/api/audit/logs/?action=updated&model=Product", method: .get).body).arrayValue)
            #expect(updated.count == 1)
            let log = try #require(updated.first)
            #expect(log["model_name"] == "Product" && log["object_id"] == "p-1" && log["action"] == "updated")
            #expect(log["changes"]?["price"]?["old"] == "19.99" && log["changes"]?["price"]?["new"] == "24.99")
            #expect(log["user_display"]?["id"] == "8" && log["ip_address"] == "192.168.1.100")

            let mine = try #require(try parseJSON(try await client.execute(
                uri: "/api/audit/logs/my_activity/?actor=7", method: .get).body).arrayValue)
            #expect(mine.count == 2 && mine[0]["user_display"]?["username"] == .null)
            #expect(mine[1]["user_display"]?["username"] == "Ann" && mine[1]["user_display"]?["email"] == "ann@x.io")
            #expect(try await client.execute(uri: "/api/audit/logs/my_activity/", method: .get).status == .badRequest)

            let summary = try parseJSON(try await client.execute(uri: "/api/audit/logs/summary/?days=30", method: .get).body)
            #expect(summary["total"]?.intValue == 3 && summary["by_resource_type"]?["Product"]?.intValue == 2)
        }
    }
}
