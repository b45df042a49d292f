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

/// Sinks (SPEC §14) through the real HTTP server on loopback, with real receivers: a webhook that fails at first
/// still gets every event, signed; syslog collectors get RFC 5424 and CEF frames; a `kill -9` in the middle of a
/// delivery loses nothing; bad definitions are 422 with their path.
@Suite(.timeLimit(.minutes(10))) struct SinkTests {
    static let secret = "s3cret-0123456789abcdef"

    static var configuration: ServerConfiguration {
        var configuration = ServerConfiguration(port: 0, authentication: .disabled)
        configuration.followers = FollowerConfiguration(
            allowPrivateSinks: true, batchSize: 8, refreshInterval: .milliseconds(100), pollInterval: .milliseconds(500),
            initialBackoff: .milliseconds(20), maximumBackoff: .milliseconds(100))
        return configuration
    }

    static func post(_ client: any TestClientProtocol, _ path: String, _ body: String) async throws -> (HTTPResponse.Status, JSONValue) {
        let response = try await client.execute(uri: path, method: .post, headers: jsonHeaders, body: ByteBuffer(string: body))
        return (response.status, try parseJSON(response.body))
    }

    static func batch(_ count: Int, resource: String, from start: Int = 0) -> String {
        "[" + (0..<count).map { StreamTests.activity($0 + start == 0 ? "create" : "update", resource, $0 + start) }.joined(separator: ",") + "]"
    }

    @Test(arguments: StoreKind.available)
    func aWebhookThatFailsAtFirstStillGetsEveryEventSigned(kind: StoreKind) async throws {
        let receiver = WebhookReceiver(failFirst: 3)
        try await receiver.run { hookPort in
            try await StreamTests.withLiveServer(kind, configuration: Self.configuration) { client, _, store, _ in
                let (status, sink) = try await Self.post(client, "/api/v1/sinks", """
                    {"type": "webhook", "name": "siem", "url": "http://127.0.0.1:\(hookPort)/hook", "secret": "\(Self.secret)", "after": 0}
                    """)
                #expect(status == .created, "\(sink)")
                let id = try #require(sink["id"]?.stringValue)
                #expect(sink["secret"] == nil && sink["cursor"]?.intValue == 0)
                for round in 0..<3 {
                    let (stored, _) = try await Self.post(client, "/audit/activity-stream/", Self.batch(10, resource: "u-1", from: round * 10))
                    #expect(stored == .created)
                }
                let head = try await store.chainHead(tenant: "default").sequence
                #expect(try await receiver.waitFor(1...head), "every event, despite \(receiver.failed) failed deliveries")
                #expect(receiver.failed == 3)
                // In order (a batch that failed is sent again, whole, before anything after it).
                let sequences = try receiver.sequences()
                #expect(sequences == sequences.sorted() && Set(sequences).count == Int(head))
                let now = Int64(Date().timeIntervalSince1970)
                for delivery in receiver.deliveries.withLock({ $0 }) {
                    let signature = try #require(delivery.signature)
                    #expect(WebhookSignature.verify(header: signature, secret: Array(Self.secret.utf8), body: delivery.body, now: now))
                    #expect(!WebhookSignature.verify(header: signature, secret: Array("another-secret-0123456".utf8), body: delivery.body, now: now))
                    #expect(delivery.sink == id)
                }
                // What the admin sees: where it is, that it caught up, the failures it got over; never the secret.
                var shown = try parseJSON(try await client.execute(uri: "/api/v1/sinks/\(id)", method: .get).body)
                for _ in 0..<100 where shown["cursor"]?.intValue != head {
                    try await Task.sleep(for: .milliseconds(50))
                    shown = try parseJSON(try await client.execute(uri: "/api/v1/sinks/\(id)", method: .get).body)
                }
                #expect(shown["cursor"]?.intValue == head && shown["lag"]?.intValue != nil && shown["failures"]?.intValue == 0)
                #expect(shown["last_error"]?.stringValue?.contains("503") == true && shown["last_success_at"]?.stringValue != nil)
                #expect(shown["delivered"]?.intValue ?? 0 >= head)
                let listed = try await client.execute(uri: "/api/v1/sinks", method: .get)
                #expect(!String(buffer: listed.body).contains(Self.secret))
                #expect(try parseJSON(listed.body)["data"]?.arrayValue?.count == 1)

                // Deleted: gone from the list, recorded in the log.
                #expect(try await client.execute(uri: "/api/v1/sinks/\(id)", method: .delete).status == .noContent)
                #expect(try await client.execute(uri: "/api/v1/sinks/\(id)", method: .get).status == .notFound)
                let admin = try parseJSON(try await client.execute(uri: "/api/v1/audit/logs?category=AUDIT_ADMIN", method: .get).body)
                #expect(Set(admin["data"]?.arrayValue?.compactMap { $0["action"]?.stringValue } ?? []) == ["sink_created", "sink_deleted"])
            }
        }
    }

    @Test(arguments: StoreKind.available)
    func syslogCollectorsGetRFC5424AndCEF(kind: StoreKind) async throws {
        let tcp = try await SyslogReceiver(udp: false)
        let udp = try await SyslogReceiver(udp: true)
        defer { Task { await tcp.close(); await udp.close() } }
        try await StreamTests.withLiveServer(kind, configuration: Self.configuration) { client, _, store, _ in
            for body in [#"{"type": "syslog", "address": "tcp://127.0.0.1:\#(tcp.port)", "match": {"resource_type": "user"}}"#,
                         #"{"type": "syslog", "address": "udp://127.0.0.1:\#(udp.port)", "format": "cef", "match": {"resource_type": "user"}}"#] {
                let (status, sink) = try await Self.post(client, "/api/v1/sinks", body)
                #expect(status == .created, "\(sink)")
            }
            let (stored, _) = try await Self.post(client, "/audit/activity-stream/", """
                [{"actor":{"id":"12"},"verb":"create","object":{"id":"u|1","type":"user","note":"a=b \\\\ c]"}},
                 {"actor":{"id":"12"},"verb":"delete","object":{"id":"u|1","type":"user"}}]
                """)
            #expect(stored == .created)
            let head = try await store.chainHead(tenant: "default").sequence
            for _ in 0..<200 where tcp.frames().count < 2 || udp.datagrams.withLock({ $0.count }) < 2 {
                try await Task.sleep(for: .milliseconds(50))
            }
            let frames = tcp.frames()
            #expect(frames.count == 2)
            for (index, frame) in frames.enumerated() {
                let text = String(decoding: frame, as: UTF8.self)
                #expect(text.hasPrefix("<110>1 "), "facility 13 (log audit), informational: \(text)")
                #expect(text.contains(#"[trail@32473 tenant="default" sequence="\#(head - 1 + Int64(index))""#))
                #expect(text.contains(#"resource_id="u|1""#))
                // The message: a byte-order mark, then the event's JSON.
                let bom = try #require(frame.firstRange(of: [0xEF, 0xBB, 0xBF]))
                let event = try JSONParser.parse(Array(frame[bom.upperBound...]))
                #expect(event["sequence"]?.intValue == head - 1 + Int64(index))
            }
            let datagrams = udp.datagrams.withLock { $0 }.map { String(decoding: $0, as: UTF8.self) }
            #expect(datagrams.count == 2)
            #expect(datagrams.allSatisfy { $0.contains(" CEF:0|Trail|Trail|\(Product.version)|") }, "\(datagrams)")
            #expect(datagrams.first?.contains("cs3=u|1") == true && datagrams.first?.contains("|created|") == true)
        }
    }

    @Test(arguments: StoreKind.available)
    func badSinksAreRefusedWithTheirPath(kind: StoreKind) async throws {
        try await withRouter(kind) { client in
            for (body, path) in [
                (#"{"type": "webhook", "url": "ftp://siem.example/in", "secret": "0123456789abcdef"}"#, "url"),
                (#"{"type": "webhook", "url": "https://siem.example/in", "secret": "short"}"#, "secret"),
                (#"{"type": "webhook", "url": "https://siem.example/in"}"#, "secret"),
                (#"{"type": "webhook", "url": "https://127.0.0.1/in", "secret": "0123456789abcdef"}"#, "url"),
                (#"{"type": "webhook", "url": "http://10.1.2.3:8088/in", "secret": "0123456789abcdef"}"#, "url"),
                (#"{"type": "webhook", "url": "https://siem.example/in", "secret": "0123456789abcdef", "format": "cef"}"#, "format"),
                (#"{"type": "webhook", "url": "https://siem.example/in", "secret": "0123456789abcdef", "headers": {"X-Trail-Signature": "x"}}"#, "headers.X-Trail-Signature"),
                (#"{"type": "syslog", "address": "siem.example:514"}"#, "address"),
                (#"{"type": "syslog", "address": "http://siem.example:514"}"#, "address"),
                (#"{"type": "syslog", "address": "tcp://siem.example:99999"}"#, "address"),
                (#"{"type": "syslog", "address": "udp://[::1]:514"}"#, "address"),
                (#"{"type": "kafka"}"#, "type"),
                (#"{"type": "syslog", "address": "tcp://siem.example:514", "match": {"colour": "red"}}"#, "match.colour"),
                (#"{"type": "syslog", "address": "tcp://siem.example:514", "after": -1}"#, "after"),
            ] {
                let response = try await client.execute(uri: "/api/v1/sinks", method: .post, headers: jsonHeaders, body: ByteBuffer(string: body))
                #expect(response.status == .unprocessableContent, "\(body): \(response.status)")
                #expect(response.headers[.contentType] == "application/problem+json")
                let errors = try parseJSON(response.body)["errors"]?.arrayValue ?? []
                #expect(errors.contains { $0["path"]?.stringValue == path }, "\(body): \(String(buffer: response.body))")
            }
            let listed = try parseJSON(try await client.execute(uri: "/api/v1/sinks", method: .get).body)
            #expect(listed["data"]?.arrayValue?.isEmpty == true, "nothing stored")
        }
    }

    /// `kill -9` while a (slow) receiver is being delivered to, then a restart on the same store: every event
    /// arrives (some perhaps twice), none is missing.
    @Test(.timeLimit(.minutes(10)), arguments: StoreKind.available)
    func aKilledServerDeliversEverythingAfterItsRestart(kind: StoreKind) async throws {
        let receiver = WebhookReceiver(holdAfter: 1)
        try await receiver.run { hookPort in
            try await withFreshLocation(kind) { location, fresh in
                let first = try TrailProcess(database: fresh.text, arguments: ["--allow-private-sinks"])
                let port = try await first.port()
                try await TestClient.withClient(host: "127.0.0.1", port: port) { connection in
                    for round in 0..<20 {
                        let stored = try await connection.post("/audit/activity-stream/", headers: jsonHeaders,
                                                               body: ByteBuffer(string: Self.batch(10, resource: "k", from: round * 10)))
                        #expect(stored.status == .created)
                    }
                    // Created once the events are stored, from the first: deliveries of 100; the receiver takes the
                    // first and holds the second, so the kill comes while it is in flight.
                    let created = try await connection.post("/api/v1/sinks", headers: jsonHeaders, body: ByteBuffer(string: """
                        {"type": "webhook", "url": "http://127.0.0.1:\(hookPort)/hook", "secret": "\(Self.secret)", "after": 0}
                        """))
                    #expect(created.status == .created)
                }
                // Killed in the middle of delivering.
                for _ in 0..<1500 where receiver.arrived.withLock({ $0 }) < 2 { try await Task.sleep(for: .milliseconds(20)) }
                first.kill9()
                receiver.release()
                let deliveredBefore = Set(try receiver.sequences()).count
                #expect(deliveredBefore == 100, "killed mid-way: \(deliveredBefore)")
                let second = try TrailProcess(database: fresh.text, arguments: ["--allow-private-sinks"])
                _ = try await second.port()
                let head = try await location.withStore { try await $0.chainHead(tenant: "default").sequence }
                #expect(head == 201)
                #expect(try await receiver.waitFor(1...head, timeout: .seconds(60)), "every event after the restart: \(second.log)")
                second.terminate()
            }
        }
    }
}
