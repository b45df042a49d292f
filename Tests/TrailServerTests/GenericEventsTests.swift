import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import TrailCore
@testable import TrailServer
@testable import TrailService
import TrailStore
import TrailTestSupport

/// Generic audit events (SPEC §3) and the request context of every ingest, on every available store.
@Suite struct GenericEventsTests {
    static func post(
        _ client: some TestClientProtocol, _ path: String, _ body: String, headers: HTTPFields = jsonHeaders,
        status: HTTPResponse.Status = .created
    ) async throws -> (JSONValue, HTTPFields) {
        let response = try await client.execute(uri: path, method: .post, headers: headers, body: ByteBuffer(string: body))
        #expect(response.status == status, "\(path) \(body)")
        return (try parseJSON(response.body), response.headers)
    }

    static func get(_ client: some TestClientProtocol, _ uri: String) async throws -> JSONValue {
        let response = try await client.execute(uri: uri, method: .get)
        #expect(response.status == .ok, "\(uri)")
        return try parseJSON(response.body)
    }

    @Test(arguments: StoreKind.available)
    func everyFieldIsStoredAndReadBack(kind: StoreKind) async throws {
        try await withRouter(kind) { client in
            let (stored, _) = try await Self.post(client, "/api/v1/audit/logs", #"""
                {"action_type":"EXPORT","action_category":"REPORTS","actor":{"id":"u-1","name":"Ann"},
                 "resource":{"type":"Report","id":"r-9","name":"Q4 numbers"},"status":"PARTIAL","duration_ms":1250,
                 "error":{"message":"2 rows skipped","detail":"row 7: bad date"},"occurred_at":"2026-02-16T11:31:39Z",
                 "summary":"Exported Q4 with gaps","metadata":{"rows":120},"region":"eu"}
                """#)
            let id = try #require(stored["id"]?.stringValue)
            let read = try await Self.get(client, "/api/v1/audit/logs/\(id)")
            for event in [stored, read] {
                #expect(event["action"] == "export")
                #expect(event["category"] == "REPORTS")
                #expect(event["outcome"] == "partial")
                #expect(event["actor"] == .object(JSONObject([.init(key: "id", value: "u-1"), .init(key: "name", value: "Ann")])))
                #expect(event["resource"] == .object(JSONObject([.init(key: "type", value: "Report"), .init(key: "id", value: "r-9"), .init(key: "name", value: "Q4 numbers")])))
                #expect(event["version"] == .null, "no changes, and Trail does not know the report: no version")
                #expect(event["duration_ms"]?.intValue == 1250)
                #expect(event["error"]?["detail"] == "row 7: bad date")
                #expect(event["occurred_at"] == "2026-02-16T11:31:39.000000+00:00")
                #expect(event["summary"] == "Exported Q4 with gaps")
                #expect(event["metadata"] == .object(JSONObject([.init(key: "rows", value: 120), .init(key: "region", value: "eu")])))
                #expect(event["changes"] == .object(JSONObject()))
            }
            #expect(stored == read, "what the POST answers is what reads return")

            // The list filters on the new columns; the summary reports durations.
            _ = try await Self.post(client, "/api/v1/audit/logs", #"{"action":"export","user_id":"u-2","duration_ms":250}"#)
            _ = try await Self.post(client, "/api/v1/audit/logs", #"{"action":"login","status":"failure"}"#)
            let failures = try await Self.get(client, "/api/v1/audit/logs?outcome=failure")
            #expect(failures["data"]?.arrayValue?.map { $0["action"] } == ["login"])
            let reports = try await Self.get(client, "/api/v1/audit/logs?category=REPORTS")
            #expect(reports["data"]?.arrayValue?.count == 1)
            let summary = try await Self.get(client, "/api/v1/audit/logs/summary")
            #expect(summary["by_outcome"]?["failure"]?.intValue == 1)
            let durations = try #require(summary["duration_ms_by_action"]?["export"])
            #expect(durations["min"]?.intValue == 250 && durations["max"]?.intValue == 1250)
            #expect(durations["avg"].map { JSONWriter.string($0) } == "750.0")

            // CSV export carries them too.
            let csv = try await client.execute(uri: "/api/v1/audit/logs/export?format=csv&category=REPORTS", method: .get)
            let text = String(buffer: csv.body)
            #expect(text.contains(",REPORTS,partial,"))
            #expect(text.contains(",1250,"))

            // Values a spreadsheet would run as formulas are neutralised in CSV, exact in NDJSON.
            _ = try await Self.post(client, "/api/v1/audit/logs",
                                    #"{"action":"@SUM(1+1)","category":"=1+2","user_id":"u","description":"-2+3 =cmd|'/C calc'!A0"}"#)
            let injected = String(buffer: try await client.execute(uri: "/api/v1/audit/logs/export?format=csv&category=%3D1%2B2", method: .get).body)
            #expect(injected.contains(",'@sum(1+1),'=1+2,success,"), "\(injected)")
            #expect(injected.contains(",'-2+3 =cmd|'/C calc'!A0,"), "\(injected)")
            let exact = String(buffer: try await client.execute(uri: "/api/v1/audit/logs/export?format=ndjson&category=%3D1%2B2", method: .get).body)
            #expect(exact.contains(#""category":"=1+2""#) && exact.contains(#""summary":"-2+3 =cmd|'/C calc'!A0""#))
        }
    }

    @Test(arguments: StoreKind.available)
    func reportedChangesShareStateAndVersionsWithTheActivityStream(kind: StoreKind) async throws {
        try await withRouter(kind) { client in
            _ = try await Self.post(client, "/audit/activity-stream/", #"{"actor":"a","verb":"create","object":{"type":"invoice","id":"7","total":10,"status":"draft"}}"#)
            let (changed, _) = try await Self.post(client, "/api/v1/audit/logs", #"""
                {"action":"approve","user":"boss","model_name":"invoice","object_id":7,
                 "changes":{"status":{"old":"draft","new":"approved"},"approved_by":[null,"boss"]}}
                """#)
            #expect(changed["version"]?.intValue == 2)
            #expect(changed["summary"] == "Status changed from draft to approved and approved_by set to boss.")
            let (viewed, _) = try await Self.post(client, "/api/v1/audit/logs", #"{"action":"viewed","user_id":"c","entity_type":"invoice","entity_id":"7"}"#)
            #expect(viewed["version"]?.intValue == 2, "an event without changes names the version it saw")
            let (updated, _) = try await Self.post(client, "/api/v1/audit/activity-stream/", #"{"actor":"a","verb":"update","object":{"type":"invoice","id":"7","total":12}}"#)
            #expect(updated["data"]?[0]?["version"]?.intValue == 3)

            let state = try await Self.get(client, "/api/v1/resources/invoice/7")
            #expect(JSONWriter.string(try #require(state["state"])) == #"{"total":12,"status":"approved","approved_by":"boss"}"#)
            let atTwo = try await Self.get(client, "/api/v1/resources/invoice/7?version=2")
            #expect(atTwo["state"]?["total"]?.intValue == 10)
            let history = try await Self.get(client, "/api/v1/resources/invoice/7/history")
            #expect(history["data"]?.arrayValue?.map { $0["action"] } == ["created", "approve", "viewed", "updated"])
            #expect(history["data"]?.arrayValue?.map { $0["version"]?.intValue } == [1, 2, 2, 3])
        }
    }

    @Test(arguments: StoreKind.available)
    func batchesAreAtomicAndKeysAreIdempotent(kind: StoreKind) async throws {
        try await withRouter(kind) { client in
            let (refused, _) = try await Self.post(client, "/api/v1/audit/logs/batch",
                                                   #"{"logs":[{"action":"a","actor":"u","entity_type":"T","entity_id":"1","changes":{"x":[null,1]}},{"action":"b"}]}"#,
                                                   status: .unprocessableContent)
            #expect(refused["errors"]?[0]?["index"]?.intValue == 1)
            #expect(try await Self.get(client, "/api/v1/audit/logs")["data"]?.arrayValue?.isEmpty == true, "nothing of a refused batch is stored")
            #expect(try await client.execute(uri: "/api/v1/resources/T/1", method: .get).status == .notFound)

            var keyed = jsonHeaders
            keyed[HTTPField.Name("Idempotency-Key")!] = "k-1"
            let body = #"{"logs":[{"action":"a","actor":"u"},{"action":"b","actor":"u"}]}"#
            let (first, _) = try await Self.post(client, "/api/v1/audit/logs/batch", body, headers: keyed)
            let (again, _) = try await Self.post(client, "/api/v1/audit/logs/batch", body, headers: keyed)
            #expect(first["data"]?.arrayValue?.map { $0["sequence"]?.intValue } == [1, 2])
            #expect(again["data"]?.arrayValue?.map { $0["id"] } == first["data"]?.arrayValue?.map { $0["id"] })
            _ = try await Self.post(client, "/api/v1/audit/logs", #"{"action":"c","actor":"u"}"#, headers: keyed, status: .conflict)
            // The same key and body on another endpoint is another submission.
            let both = #"{"logs":[],"action":"c","actor":"u"}"#
            keyed[HTTPField.Name("Idempotency-Key")!] = "k-2"
            _ = try await Self.post(client, "/api/v1/audit/logs/batch", both, headers: keyed)
            _ = try await Self.post(client, "/api/v1/audit/logs", both, headers: keyed, status: .conflict)
            #expect(try await Self.get(client, "/api/v1/audit/logs")["data"]?.arrayValue?.count == 2)
        }
    }

    @Test(arguments: StoreKind.available)
    func theRequestIsPartOfEveryEventsContext(kind: StoreKind) async throws {
        try await withRouter(kind) { client in
            var headers = jsonHeaders
            headers[.userAgent] = "billing-service/2.1"
            headers[HTTPField.Name("X-Request-ID")!] = "req-42"
            let (event, answered) = try await Self.post(client, "/api/v1/audit/logs", #"{"action":"a","actor":"u"}"#, headers: headers)
            #expect(answered[HTTPField.Name("X-Request-ID")!] == "req-42")
            #expect(event["context"]?["user_agent"] == "billing-service/2.1")
            #expect(event["context"]?["request_id"] == "req-42")

            // The payload's own context says otherwise: it wins, key by key.
            let (stream, _) = try await Self.post(client, "/api/v1/audit/activity-stream/",
                                                  #"{"actor":"u","verb":"create","object":{"type":"T","id":"1"},"context":{"request_id":"mine"}}"#,
                                                  headers: headers)
            let id = try #require(stream["data"]?[0]?["id"]?.stringValue)
            let read = try await Self.get(client, "/api/v1/audit/logs/\(id)")
            #expect(read["context"]?["request_id"] == "mine")
            #expect(read["context"]?["user_agent"] == "billing-service/2.1")

            // Without an X-Request-ID (or with an unusable one), Trail makes one up and says which.
            for given: String? in [nil, String(repeating: "x", count: 201), "bad id"] {
                var plain = jsonHeaders
                if let given { plain[HTTPField.Name("X-Request-ID")!] = given }
                let (made, madeHeaders) = try await Self.post(client, "/api/v1/audit/logs", #"{"action":"a","actor":"u"}"#, headers: plain)
                let header = try #require(madeHeaders[HTTPField.Name("X-Request-ID")!])
                #expect(header.count == 32 && header != given)
                #expect(made["context"]?["request_id"]?.stringValue == header)
            }
            // Errors carry it too.
            let refused = try await client.execute(uri: "/api/v1/audit/logs", method: .post, headers: headers, body: ByteBuffer(string: "{"))
            #expect(refused.status == .badRequest)
            #expect(refused.headers[HTTPField.Name("X-Request-ID")!] == "req-42")
        }
    }

    // The limit includes the wait for one of the few PostgreSQL test databases, behind the slow process tests.
    @Test(.timeLimit(.minutes(10)), arguments: StoreKind.available)
    func queuedGenericEventsKeepTheirRequestsContext(kind: StoreKind) async throws {
        try await withRouter(kind, workers: WorkerConfiguration(count: 1)) { client in
            var headers = jsonHeaders
            headers[HTTPField.Name("Prefer")!] = "respond-async"
            headers[HTTPField.Name("X-Request-ID")!] = "queued-1"
            headers[.userAgent] = "batch-job"
            let (accepted, _) = try await Self.post(client, "/api/v1/audit/logs/batch",
                                                    #"{"logs":[{"action":"a","actor":"u","entity_type":"T","entity_id":"1","changes":{"n":[null,1]}},{"action":"b","actor":"u"}]}"#,
                                                    headers: headers, status: .accepted)
            let id = try #require(accepted["message_id"]?.stringValue)
            let done = try await AsyncIngestTests.poll(client, [id]) { $0["status"] == "completed" }
            let records = try #require(done[id]?["records"]?.arrayValue)
            #expect(records.map { $0["action"] } == ["a", "b"])
            #expect(records[0]["version"]?.intValue == 1)
            #expect(records[0]["context"]?["request_id"] == "queued-1")
            #expect(records[1]["context"]?["user_agent"] == "batch-job")
            #expect(done[id]?["kind"] == "audit-event-batch")
        }
    }

    @Test func clientAddressesBelieveOnlyTrustedProxies() async throws {
        func ipOf(trusting proxies: [String], forwardedFor: String?) async throws -> JSONValue? {
            let result = Locked<JSONValue?>(nil)
            try await withFreshLocation(.sqlite) { location, _ in
                try await location.withStore { store in
                    let configuration = ServerConfiguration(port: 0, trustedProxies: proxies.compactMap(IPNetwork.init), authentication: .disabled)
                    try await buildApplication(configuration: configuration, store: store).test(.live) { client in
                        var headers = jsonHeaders
                        if let forwardedFor { headers[HTTPField.Name("X-Forwarded-For")!] = forwardedFor }
                        let (event, _) = try await Self.post(client, "/api/v1/audit/logs", #"{"action":"a","actor":"u"}"#, headers: headers)
                        result.withLock { $0 = event["context"]?["ip"] }
                    }
                }
            }
            return result.withLock { $0 }
        }
        #expect(try await ipOf(trusting: [], forwardedFor: "203.0.113.9") == "127.0.0.1", "an untrusted peer cannot claim another address")
        #expect(try await ipOf(trusting: ["127.0.0.0/8"], forwardedFor: "203.0.113.9") == "203.0.113.9")
        #expect(try await ipOf(trusting: ["127.0.0.1", "10.0.0.0/8"], forwardedFor: "198.51.100.1, 203.0.113.9, 10.1.1.1") == "203.0.113.9",
                "the nearest address that is not a trusted proxy")
        #expect(try await ipOf(trusting: ["127.0.0.1"], forwardedFor: "garbage") == "127.0.0.1")
        #expect(try await ipOf(trusting: ["127.0.0.1"], forwardedFor: nil) == "127.0.0.1")
    }

    @Test func networksParseAndMatch() throws {
        let ten = try #require(IPNetwork("10.0.0.0/8"))
        #expect(ten.contains([10, 200, 1, 1]) && !ten.contains([11, 0, 0, 1]))
        let one = try #require(IPNetwork("192.168.1.7"))
        #expect(one.contains([192, 168, 1, 7]) && !one.contains([192, 168, 1, 8]))
        let v6 = try #require(IPNetwork("fd00::/8"))
        #expect(v6.contains(try #require(IPNetwork.parseAddress("fd12::1"))))
        #expect(IPNetwork.parseAddress("::ffff:10.1.2.3") == [10, 1, 2, 3], "IPv4-mapped addresses are their IPv4 address")
        for bad in ["", "10.0.0.0/33", "host.example", "10.0.0.0/x", "1.2.3.4/8/9"] {
            #expect(IPNetwork(bad) == nil, "\(bad)")
        }
    }
}
