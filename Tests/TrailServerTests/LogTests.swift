import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import JWTKit
import Testing
import TrailCore
@testable import TrailServer
import TrailStore
import TrailTestSupport

/// `trail serve --log-format json` (SPEC §10), as an operator's log shipper reads it: one JSON object per line
/// with `ts`, `level`, `msg`; one access line per request; the request id (and a `traceparent`'s trace id) on
/// every line written while serving a request; and no key, token, secret or cookie anywhere, at the most
/// verbose level.
@Suite struct LogTests {
    static let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

    @Test(.timeLimit(.minutes(2)))
    func jsonLinesCarryRequestIdsAndNoSecrets() async throws {
        try await withFreshLocation(.sqlite) { _, fresh in
            let secret = "log test secret of thirty-two bytes or more"
            let secretFile = fresh.directory.appendingPathComponent("jwt-secret")
            try Data(secret.utf8).write(to: secretFile)
            let server = try TrailProcess(database: fresh.text, arguments: [
                "--log-format", "json", "--log-level", "trace", "--jwt-hs256-secret-file", secretFile.path,
            ], authenticated: true)
            let port = try await server.port()
            let key = server.standardOutputText.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(key.hasPrefix("trail_"))
            let signer = JWTKeyCollection()
            await signer.add(hmac: HMACKey(from: Array(secret.utf8)), digestAlgorithm: .sha256)
            let token = try await signer.sign(JWTTests.Claims.valid())
            let stranger = JWTKeyCollection()
            await stranger.add(hmac: HMACKey(from: Array("not the server's secret, but as long as one".utf8)), digestAlgorithm: .sha256)
            let forged = try await stranger.sign(JWTTests.Claims.valid())
            let wrongKey = String(key.dropLast(4)) + (key.hasSuffix("AAAA") ? "BBBB" : "AAAA")
            let cookie = "session=cookie-value-5150"
            let id = HTTPField.Name("X-Request-ID")!

            let created = try await TestClient.withClient(host: "127.0.0.1", port: port) { connection in
                let read = try await connection.get("/api/v1/audit/logs?limit=1", headers: [
                    .authorization: "ApiKey \(key)", id: "log-test-read", HTTPField.Name("traceparent")!: Self.traceparent,
                    .cookie: cookie])
                #expect(read.status == .ok)
                let ingest = try await connection.post("/api/v1/audit/activity-stream", headers: [
                    .authorization: "Bearer \(key)", .contentType: "application/json", id: "log-test-ingest"],
                    body: ByteBuffer(string: #"{"verb":"created","actor":{"id":"7"},"object":{"type":"user","id":"u-1","password":"hunter2-hunter2"}}"#))
                #expect(ingest.status == .created)
                #expect(try await connection.get("/api/v1/audit/logs", headers: [.authorization: "ApiKey \(wrongKey)", id: "log-test-refused"]).status == .unauthorized)
                #expect(try await connection.get("/api/v1/audit/logs", headers: [.authorization: "Bearer \(token)", id: "log-test-jwt"]).status == .ok)
                #expect(try await connection.get("/api/v1/audit/logs", headers: [.authorization: "Bearer \(forged)"]).status == .unauthorized)
                let made = try await connection.post("/api/v1/admin/keys", headers: [
                    .authorization: "ApiKey \(key)", .contentType: "application/json"],
                    body: ByteBuffer(string: #"{"role":"reader","name":"second"}"#))
                #expect(made.status == .created)
                return try parseJSON(made.body ?? ByteBuffer())["key"]?.stringValue
            }
            let createdKey = try #require(created)
            try await Task.sleep(for: .milliseconds(300))
            server.terminate()
            let log = server.log

            // Every line is one JSON object with ts, level and msg.
            var lines: [JSONValue] = []
            for line in log.split(separator: "\n") {
                let object = try JSONParser.parse(Array(line.utf8))
                #expect(object["ts"]?.stringValue != nil && object["level"]?.stringValue != nil && object["msg"]?.stringValue != nil, "\(line)")
                lines.append(object)
            }
            let access = try #require(lines.first { $0["msg"] == "request" && $0["request_id"] == "log-test-read" }, "\(log)")
            #expect(access["method"] == "GET" && access["route"] == "/api/v1/audit/logs" && access["tenant"] == "default")
            #expect(access["status"] == .number(JSONNumber(200)))
            guard case .number = access["duration_ms"] else { Issue.record("duration_ms is not a number: \(access)"); return }
            #expect(access["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736")
            #expect(lines.filter { $0["msg"] == "request" && $0["request_id"] == "log-test-read" }.count == 1, "one access line")
            #expect(lines.contains { $0["msg"] == "request" && $0["request_id"] == "log-test-jwt" && $0["tenant"] == "acme" })
            // A line other than the access line, written while serving the request, carries its id.
            #expect(lines.contains { $0["msg"] == "authentication refused" && $0["request_id"] == "log-test-refused" }, "\(log)")

            for (name, value) in [("the key", key), ("the key's secret", String(key.split(separator: "_", maxSplits: 2).last!)),
                                  ("a wrong key", wrongKey), ("a created key", createdKey), ("a token", token),
                                  ("a forged token", forged), ("the JWT secret", secret), ("a cookie", "cookie-value-5150"),
                                  ("a redacted field", "hunter2-hunter2")] {
                #expect(!log.contains(value), "\(name) is in the log")
            }
        }
    }

    @Test func traceparentGivesATraceIdOnlyWhenWellFormed() {
        #expect(RequestIDMiddleware.traceID(Self.traceparent) == "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(RequestIDMiddleware.traceID("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-future") == "4bf92f3577b34da6a3ce929d0e0e4736")
        for bad in ["", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7", "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
                    "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                    "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra"] {
            #expect(RequestIDMiddleware.traceID(bad) == nil, "\(bad)")
        }
    }

    /// Request ids are 32 lower-case hex digits, and no two of a process are alike.
    @Test func requestIdsAreDistinctHex() {
        var seen = Set<String>()
        for _ in 0..<10_000 {
            let id = RequestIDMiddleware.make()
            #expect(id.utf8.count == 32 && id.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }, "\(id)")
            seen.insert(id)
        }
        #expect(seen.count == 10_000)
    }
}
