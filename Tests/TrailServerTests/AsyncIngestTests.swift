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

/// `Prefer: respond-async` and the message endpoints (SPEC §9), on every available store.
@Suite struct AsyncIngestTests {
    static let asyncHeaders: HTTPFields = [.contentType: "application/json", HTTPField.Name("Prefer")!: "respond-async"]

    static func update(_ resource: String, _ n: Int) -> ByteBuffer {
        ByteBuffer(string: #"{"actor":{"id":"c"},"verb":"update","object":{"id":"\#(resource)","type":"counter","n":\#(n)}}"#)
    }

    @Test(arguments: StoreKind.available)
    func acceptedAtOnceQueuedDurablyRefusedWhenInvalidOrFull(kind: StoreKind) async throws {
        // No workers: messages stay pending.
        try await withRouter(kind, configuration: ServerConfiguration(maximumQueuedMessages: 3, authentication: .disabled),
                             workers: WorkerConfiguration(count: 0)) { client in
            let accepted = try await client.execute(uri: "/api/v1/audit/activity-stream/", method: .post,
                                                    headers: Self.asyncHeaders, body: Self.update("a", 1))
            #expect(accepted.status == .accepted)
            let body = try parseJSON(accepted.body)
            let id = try #require(body["message_id"]?.stringValue)
            #expect(body["status"] == "pending")
            #expect(accepted.headers[.location] == "/api/v1/messages/\(id)")

            let polled = try parseJSON(try await client.execute(uri: "/api/v1/messages/\(id)", method: .get).body)
            #expect(polled["status"] == "pending" && polled["attempts"]?.intValue == 0 && polled["records"] == nil)

            // Invalid: 422 at once, nothing queued.
            let invalid = try await client.execute(uri: "/audit/activity-stream/?async=true", method: .post,
                                                   headers: jsonHeaders, body: ByteBuffer(string: #"{"verb":"create"}"#))
            #expect(invalid.status == .unprocessableContent)

            // The same Idempotency-Key and body: the same message.
            var keyed = Self.asyncHeaders
            keyed[HTTPField.Name("Idempotency-Key")!] = "k-1"
            let first = try parseJSON(try await client.execute(uri: "/audit/activity-stream/", method: .post,
                                                               headers: keyed, body: Self.update("b", 1)).body)
            let again = try parseJSON(try await client.execute(uri: "/audit/activity-stream/", method: .post,
                                                               headers: keyed, body: Self.update("b", 1)).body)
            #expect(first["message_id"] != nil && first["message_id"] == again["message_id"])
            let conflict = try await client.execute(uri: "/audit/activity-stream/", method: .post,
                                                    headers: keyed, body: Self.update("b", 2))
            #expect(conflict.status == .conflict)

            // Three messages wait: the queue is full.
            let third = try await client.execute(uri: "/audit/activity-stream/", method: .post,
                                                 headers: Self.asyncHeaders, body: Self.update("c", 1))
            #expect(third.status == .accepted)
            let full = try await client.execute(uri: "/audit/activity-stream/", method: .post,
                                                headers: Self.asyncHeaders, body: Self.update("d", 1))
            #expect(full.status == .serviceUnavailable)
            #expect(full.headers[.retryAfter] == "1")
            #expect(full.headers[.contentType] == "application/problem+json")

            let list = try parseJSON(try await client.execute(uri: "/api/v1/messages?status=pending", method: .get).body)
            #expect(list["data"]?.arrayValue?.count == 3)
            #expect(try await client.execute(uri: "/api/v1/messages?status=lost", method: .get).status == .badRequest)
            #expect(try await client.execute(uri: "/api/v1/messages/01a209c4-ffe1-7ceb-a9a2-36ffb2490cb0", method: .get).status == .notFound)
            #expect(try await client.execute(uri: "/api/v1/messages/not-a-uuid", method: .get).status == .notFound)
        }
    }

    // The limit includes the wait for one of the few PostgreSQL test databases, behind the slow process tests.
    @Test(.timeLimit(.minutes(10)), arguments: StoreKind.available)
    func workersCompleteMessagesAndFailThemForGood(kind: StoreKind) async throws {
        try await withFreshLocation(kind) { location, _ in
            try await location.withStore { store in
                let app = buildApplication(configuration: ServerConfiguration(port: 0, authentication: .disabled), store: store)
                try await app.test(.live) { client in
                    var ids: [String] = []
                    for n in 1...5 {
                        let response = try await client.execute(uri: "/api/v1/audit/activity-stream/", method: .post,
                                                                headers: Self.asyncHeaders, body: Self.update("live", n))
                        ids.append(try #require(try parseJSON(response.body)["message_id"]?.stringValue))
                    }
                    // A key first used synchronously with another body: the message fails for good, with why.
                    var keyed = jsonHeaders
                    keyed[HTTPField.Name("Idempotency-Key")!] = "used"
                    _ = try await client.execute(uri: "/audit/activity-stream/", method: .post, headers: keyed, body: Self.update("x", 1))
                    keyed[HTTPField.Name("Prefer")!] = "respond-async"
                    let doomed = try parseJSON(try await client.execute(uri: "/audit/activity-stream/", method: .post,
                                                                        headers: keyed, body: Self.update("x", 2)).body)
                    let doomedId = try #require(doomed["message_id"]?.stringValue)

                    let done = try await Self.poll(client, ids + [doomedId]) { ["completed", "failed"].contains($0["status"]?.stringValue ?? "") }
                    for (n, id) in ids.enumerated() {
                        let message = try #require(done[id])
                        #expect(message["status"] == "completed")
                        let record = try #require(message["records"]?[0])
                        #expect(record["version"]?.intValue == Int64(n + 1), "in submission order")
                        #expect(record["object"]?["fields"]?["n"]?[1]?.intValue == Int64(n + 1))
                    }
                    let failed = try #require(done[doomedId])
                    #expect(failed["status"] == "failed")
                    #expect(failed["error"]?.stringValue?.contains("idempotency key") == true)
                    let history = try await store.history(tenant: "default", resourceType: "counter", resourceId: "live")
                    #expect(history.map(\.version) == [1, 2, 3, 4, 5])
                }
            }
        }
    }

    @Test func retriesBackOffExponentiallyUpToFiveMinutes() {
        let waits = (1...12).map { WorkerConfiguration.backoff(afterAttempt: $0) }
        #expect(waits.prefix(4) == [.seconds(1), .seconds(2), .seconds(4), .seconds(8)])
        #expect(waits.last == .seconds(300))
        #expect(waits == waits.sorted())
    }

    /// Polls each message until `done` holds for all (bounded: 30 s).
    static func poll(
        _ client: some TestClientProtocol, _ ids: [String], until done: (JSONValue) -> Bool
    ) async throws -> [String: JSONValue] {
        var result: [String: JSONValue] = [:]
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            for id in ids where result[id] == nil {
                let message = try parseJSON(try await client.execute(uri: "/api/v1/messages/\(id)", method: .get).body)
                if done(message) { result[id] = message }
            }
            if result.count == ids.count { return result }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("messages not done in time: \(ids.filter { result[$0] == nil })")
        return result
    }
}
