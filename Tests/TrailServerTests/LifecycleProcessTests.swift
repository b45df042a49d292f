import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import TrailCore
import TrailTestSupport

/// Retention across processes on one SQLite file (issue 23 point 7): `trail cleanup` in one process, then the file
/// shrunk (VACUUM, a truncating checkpoint) from another, while `trail serve` reads through its mapping of the
/// file: the server never touches a page beyond the file's end (no SIGBUS), and every read is whole and right.
@Suite struct LifecycleProcessTests {
    static let events = 1_500

    @Test(.timeLimit(.minutes(3)))
    func aFileShrunkUnderAServersReadsIsReadRight() async throws {
        try await withFreshLocation(.sqlite) { _, fresh in
            let server = try TrailProcess(database: fresh.text)
            let port = try await server.port()
            let padding = String(repeating: "x", count: 1_000)
            try await TestClient.withClient(host: "127.0.0.1", port: port) { connection in
                for batch in 0..<(Self.events / 100) {
                    let items = (0..<100).map { n in
                        #"{"actor":{"id":"1"},"verb":"create","object":{"id":"b-\#(batch)-\#(n)","type":"blob","pad":"\#(padding)"}}"#
                    }
                    let response = try await connection.post("/api/v1/audit/activity-stream", headers: jsonHeaders,
                                                             body: ByteBuffer(string: "[" + items.joined(separator: ",") + "]"))
                    #expect(response.status == .created)
                }
                let rules = try await connection.put("/api/v1/retention", headers: jsonHeaders,
                                                     body: ByteBuffer(string: #"{"rules":[{"resource_type":"blob","keep_days":0.000001}]}"#))
                #expect(rules.status == .ok)
            }
            try await Task.sleep(for: .milliseconds(300))
            func size() throws -> Int { try FileManager.default.attributesOfItem(atPath: fresh.text)[.size] as? Int ?? 0 }

            let done = Locked(false)
            let pages = Locked(0)
            try await withThrowingTaskGroup(of: Void.self) { group in
                // Readers in the server: pages of events and exports, over and over, until the file has shrunk.
                for reader in 0..<2 {
                    group.addTask {
                        try await TestClient.withClient(host: "127.0.0.1", port: port) { connection in
                            while !done.withLock({ $0 }) {
                                let uri = reader == 0 ? "/api/v1/audit/logs/export?format=ndjson&resource_type=blob"
                                                      : "/api/v1/audit/logs?resource_type=blob&limit=1000"
                                try await Task.sleep(for: .milliseconds(50))  // a steady reader, not a load test
                                let response = try await connection.get(uri)
                                #expect(response.status == .ok, "\(uri): \(response.status)")
                                let body = String(buffer: response.body ?? ByteBuffer())
                                if reader == 0 {
                                    let lines = body.split(separator: "\n")
                                    #expect(lines.count == Self.events && lines.allSatisfy { (try? JSONParser.parse(Array($0.utf8))) != nil })
                                } else {
                                    #expect(try parseJSON(ByteBuffer(string: body))["data"]?.arrayValue?.count == 1_000)
                                }
                                pages.withLock { $0 += 1 }
                            }
                        }
                    }
                }
                group.addTask {
                    defer { done.withLock { $0 = true } }
                    while pages.withLock({ $0 }) < 5 { try await Task.sleep(for: .milliseconds(20)) }
                    // Another process empties the events…
                    let cleanup = try await CommandLineTests().trail(["cleanup", "--database", fresh.text])
                    #expect(cleanup.status == 0, "\(cleanup.errors)")
                    // …and this one shrinks the file under the server's readers.
                    let before = try size()
                    var configuration = Configuration()
                    configuration.busyMode = .timeout(30)
                    let queue = try DatabaseQueue(path: fresh.text, configuration: configuration)
                    try await queue.writeWithoutTransaction { db in
                        try db.execute(sql: "VACUUM")
                        _ = try Row.fetchAll(db, sql: "PRAGMA wal_checkpoint(TRUNCATE)")
                    }
                    try queue.close()
                    let after = try size()
                    #expect(after < before * 3 / 4, "the file shrank from \(before) to \(after) bytes")
                    let more = pages.withLock { $0 } + 6
                    while pages.withLock({ $0 }) < more { try await Task.sleep(for: .milliseconds(20)) }
                }
                try await group.waitForAll()
            }
            #expect(server.process.isRunning, "the server is alive: \(server.log.suffix(2_000))")
            try await TestClient.withClient(host: "127.0.0.1", port: port) { connection in
                let page = try await connection.get("/api/v1/audit/logs?resource_type=blob&limit=1")
                let event = try parseJSON(page.body ?? ByteBuffer())["data"]?[0]
                #expect(event?["removed"] == .bool(true))
                let verified = try await connection.post("/api/v1/integrity/verify", body: ByteBuffer())
                #expect(try parseJSON(verified.body ?? ByteBuffer())["removed_events"] == .number(JSONNumber(Self.events)))
            }
            server.terminate()
        }
    }
}
