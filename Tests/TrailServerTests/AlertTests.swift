import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import TrailCore
import TrailServer
import TrailService
import TrailStore
import TrailTestSupport

/// Alert rules (SPEC §14) through the real server: a rule fires once at its threshold and not below it, per
/// group; a fired alert is listed, recorded as a `SECURITY` event and sent to its sink; bad rules are 422.
@Suite(.timeLimit(.minutes(10))) struct AlertTests {
    static func delete(_ actor: String, _ id: String) -> String {
        #"{"actor":{"id":"\#(actor)"},"verb":"delete","object":{"id":"\#(id)","type":"user"}}"#
    }

    static func get(_ client: any TestClientProtocol, _ path: String) async throws -> JSONValue {
        try parseJSON(try await client.execute(uri: path, method: .get).body)
    }

    /// Waits until the rule has dealt with the tenant's whole log.
    static func caughtUp(_ client: any TestClientProtocol, rule: String, store: any TrailStorage) async throws {
        for _ in 0..<200 {
            let head = try await store.chainHead(tenant: "default").sequence
            // (Reading the rule is itself no event: admin reads of sinks and rules are not reads of the log.)
            if try await get(client, "/api/v1/alerts/rules/\(rule)")["cursor"]?.intValue == head { return }
            try await Task.sleep(for: .milliseconds(25))
        }
        Issue.record("the rule did not catch up")
    }

    @Test(arguments: StoreKind.available)
    func aRuleFiresOnceAtItsThresholdAndNotBelow(kind: StoreKind) async throws {
        let receiver = WebhookReceiver()
        try await receiver.run { hookPort in
            try await StreamTests.withLiveServer(kind, configuration: SinkTests.configuration) { client, _, store, _ in
                // A sink that forwards nothing of the log (no event has this category): only the alerts sent to it.
                let (_, sink) = try await SinkTests.post(client, "/api/v1/sinks", """
                    {"type": "webhook", "url": "http://127.0.0.1:\(hookPort)/hook", "secret": "\(SinkTests.secret)", "match": {"category": "NONE"}}
                    """)
                let sinkId = try #require(sink["id"]?.stringValue)
                let (status, rule) = try await SinkTests.post(client, "/api/v1/alerts/rules", """
                    {"name": "mass deletions", "match": {"action": "delete"}, "group_by": "actor", "threshold": 3,
                     "window_seconds": 60, "sink": "\(sinkId)"}
                    """)
                #expect(status == .created, "\(rule)")
                let ruleId = try #require(rule["id"]?.stringValue)
                #expect(rule["match"]?["action"] == "deleted" && rule["threshold"]?.intValue == 3)

                // Below the threshold: two by actor 7, one by actor 8, and updates, which the rule does not match.
                for body in [Self.delete("7", "a"), Self.delete("7", "b"), Self.delete("8", "c"), StreamTests.activity("update", "d", 1)] {
                    let (stored, _) = try await SinkTests.post(client, "/audit/activity-stream/", body)
                    #expect(stored == .created)
                }
                try await Self.caughtUp(client, rule: ruleId, store: store)
                #expect(try await Self.get(client, "/api/v1/alerts")["data"]?.arrayValue?.isEmpty == true)
                #expect(try await Self.get(client, "/api/v1/alerts/rules/\(ruleId)")["counted"]?.intValue == 3)

                // The third by actor 7: it fires, once.
                _ = try await SinkTests.post(client, "/audit/activity-stream/", Self.delete("7", "e"))
                try await Self.caughtUp(client, rule: ruleId, store: store)
                let alerts = try #require(try await Self.get(client, "/api/v1/alerts")["data"]?.arrayValue)
                #expect(alerts.count == 1)
                #expect(alerts.first?["group"] == "7" && alerts.first?["count"]?.intValue == 3 && alerts.first?["rule_id"]?.stringValue == ruleId)
                // Two more by actor 7: the count started again, two is below three.
                for id in ["f", "g"] { _ = try await SinkTests.post(client, "/audit/activity-stream/", Self.delete("7", id)) }
                try await Self.caughtUp(client, rule: ruleId, store: store)
                #expect(try await Self.get(client, "/api/v1/alerts")["data"]?.arrayValue?.count == 1)

                // Recorded in the log, as a SECURITY event.
                let security = try #require(try await Self.get(client, "/api/v1/audit/logs?category=SECURITY")["data"]?.arrayValue)
                #expect(security.count == 1 && security.first?["action"] == "alert_fired")
                #expect(security.first?["metadata"]?["rule_id"]?.stringValue == ruleId && security.first?["metadata"]?["group"] == "7")
                // And sent to the rule's sink.
                let sequence = try #require(security.first?["sequence"]?.intValue)
                #expect(try await receiver.waitFor(sequence...sequence), "the alert reached its sink")
                #expect(try receiver.sequences() == [sequence])
                for _ in 0..<100 where try await Self.get(client, "/api/v1/alerts")["data"]?[0]?["delivered_at"] == .null {
                    try await Task.sleep(for: .milliseconds(25))
                }
                #expect(try await Self.get(client, "/api/v1/alerts")["data"]?[0]?["delivered_at"]?.stringValue != nil)
            }
        }
    }

    @Test(arguments: StoreKind.available)
    func badRulesAreRefusedWithTheirPath(kind: StoreKind) async throws {
        try await withRouter(kind) { client in
            for (body, path) in [
                (#"{"name": "x", "threshold": 0, "window_seconds": 60}"#, "threshold"),
                (#"{"name": "x", "threshold": 2.5, "window_seconds": 60}"#, "threshold"),
                (#"{"name": "x", "threshold": 3, "window_seconds": 0}"#, "window_seconds"),
                (#"{"name": "x", "threshold": 3}"#, "window_seconds"),
                (#"{"threshold": 3, "window_seconds": 60}"#, "name"),
                (#"{"name": "x", "threshold": 3, "window_seconds": 60, "group_by": "colour"}"#, "group_by"),
                (#"{"name": "x", "threshold": 3, "window_seconds": 60, "sink": "no-such-sink"}"#, "sink"),
                (#"{"name": "x", "threshold": 3, "window_seconds": 60, "match": {"outcome": "maybe"}}"#, "match.outcome"),
                (#"{"name": "x", "threshold": 3, "window_seconds": 60, "every": "minute"}"#, "every"),
                // 1,001 code points that Swift counts as one character (a letter and 1,000 emoji modifiers)
                (#"{"name": "x", "threshold": 3, "window_seconds": 60, "match": {"resource_type": "a\#(String(repeating: "\u{1F3FB}", count: 1_000))"}}"#,
                 "match.resource_type"),
            ] {
                let response = try await client.execute(uri: "/api/v1/alerts/rules", method: .post, headers: jsonHeaders, body: ByteBuffer(string: body))
                #expect(response.status == .unprocessableContent, "\(body): \(response.status)")
                let errors = try parseJSON(response.body)["errors"]?.arrayValue ?? []
                #expect(errors.contains { $0["path"]?.stringValue == path }, "\(body): \(String(buffer: response.body))")
            }
            #expect(try await AlertTests.get(client, "/api/v1/alerts/rules")["data"]?.arrayValue?.isEmpty == true)
            #expect(try await client.execute(uri: "/api/v1/alerts?limit=0", method: .get).status == .badRequest)
            #expect(try await client.execute(uri: "/api/v1/alerts/rules/nope", method: .delete).status == .notFound)
        }
    }
}
