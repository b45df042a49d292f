import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import TrailClient
import TrailHummingbird
import TrailTestSupport
@testable import trail_example

/// The example application (Examples/HummingbirdApp) against a live Trail: each change it makes is recorded
/// with the request's user as actor, its address, user agent and request id, and the fields that changed.
@Suite struct TrailHummingbirdTests {
    @Test(arguments: StoreKind.available)
    func theExampleAppRecordsCreateUpdateAndDelete(_ kind: StoreKind) async throws {
        try await TrailClientTests.withTrail(kind) { port, key in
            let trail = TrailClientTests.client(port: port, key: key)
            let app = InvoiceApp.buildApplication(audit: Audit(client: trail), port: 0)
            try await app.test(.router) { client in
                var headers: HTTPFields = [.contentType: "application/json", HTTPField.Name("X-User")!: "12",
                                           .userAgent: "tests/1.0", HTTPField.Name("X-Request-ID")!: "req-1",
                                           HTTPField.Name("X-Forwarded-For")!: "203.0.113.9"]
                var statuses: [HTTPResponse.Status] = []
                for (method, body) in [(HTTPRequest.Method.post, #"{"customer":"ACME","total":10}"#),
                                       (.put, #"{"customer":"ACME","total":12,"lines":["a"]}"#),
                                       (.put, #"{"customer":"ACME","total":12,"lines":["a"]}"#)] {  // the same again: nothing to record
                    statuses.append(try await client.execute(uri: "/invoices/i-1", method: method, headers: headers,
                                                             body: ByteBuffer(string: body)).status)
                }
                headers[HTTPField.Name("X-User")!] = "13"
                statuses.append(try await client.execute(uri: "/invoices/i-1", method: .delete, headers: headers).status)
                #expect(statuses == [.ok, .ok, .ok, .noContent])
            }
            let history = try await trail.history(type: "invoice", id: "i-1").collect()
            #expect(history.map(\.action) == ["created", "updated", "deleted"])
            #expect(history.map(\.actorId) == ["12", "12", "13"])
            #expect(history[0].context?["ip"] == "203.0.113.9" && history[0].context?["user_agent"] == "tests/1.0"
                    && history[0].context?["request_id"] == "req-1")
            #expect(history[1].changes == ["total": [10, 12], "lines": [nil, ["a"]]])
            #expect(Set(history[2].changes.keys) == ["customer", "total", "lines"])
            #expect(try await trail.state(type: "invoice", id: "i-1", version: 2)?.state?["total"] == 12)
        }
    }

    @Test func changedFieldsAreDottedPaths() throws {
        let before: TrailJSON = ["name": "Ann", "address": ["city": "Oslo", "zip": "0150"], "tags": ["a"]]
        let after: TrailJSON = ["name": "Ann", "address": ["city": "Bergen", "zip": "0150"], "tags": ["a", "b"], "vip": true]
        #expect(FieldChange.between(before, after) == [
            "address.city": FieldChange(old: "Oslo", new: "Bergen"), "tags": FieldChange(old: ["a"], new: ["a", "b"]),
            "vip": FieldChange(old: nil, new: true),
        ])
        #expect(FieldChange.between(after, after).isEmpty)
        #expect(FieldChange.between(nil, ["a": 1] as TrailJSON) == ["a": FieldChange(old: nil, new: 1)])
    }
}
