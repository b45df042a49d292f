import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Synchronization
import Testing
import TrailCore
import TrailServer

#if canImport(Glibc)
import Glibc
#endif

/// Through the real HTTP server on loopback: concurrency on one resource, and a `kill -9` in the middle of a
/// stream of writes.
@Suite struct LiveServerTests {
    static func updateBody(resource: String, value: Int) -> ByteBuffer {
        ByteBuffer(string: #"{"actor":{"id":"c"},"verb":"update","object":{"id":"\#(resource)","type":"counter","n":\#(value)}}"#)
    }

    @Test func concurrentClientsOnOneResourceGetEveryVersionOnce() async throws {
        let database = try TemporaryDatabase()
        let app = try buildApplication(configuration: ServerConfiguration(port: 0, databasePath: database.path))
        try await app.test(.live) { client in
            let port = try #require(client.port)
            let versions = try await withThrowingTaskGroup(of: [Int64].self) { group in
                for c in 0..<8 {
                    group.addTask {
                        try await TestClient.withClient(host: "127.0.0.1", port: port) { connection in
                            var seen: [Int64] = []
                            for i in 0..<50 {
                                let response = try await connection.post("/audit/activity-stream/", headers: jsonHeaders,
                                                                         body: Self.updateBody(resource: "shared", value: c * 1000 + i))
                                #expect(response.status == .created)
                                seen.append(try #require(try parseJSON(response.body!)[0]?["version"]?.intValue))
                            }
                            return seen
                        }
                    }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            #expect(versions.count == 400)
            #expect(versions.sorted() == (1...400).map { Int64($0) }, "versions 1…400, none lost, none twice")
        }
    }

    @Test(.timeLimit(.minutes(2)))
    func acknowledgedEventsSurviveKill9() async throws {
        let database = try TemporaryDatabase()
        let first = try TrailProcess(database: database.path)
        let port = try await first.port()

        struct Ack: Sendable { var resource: String; var id: String; var sequence: Int64; var version: Int64 }
        let acks = Locked<[Ack]>([])
        let writers = Task {
            await withTaskGroup(of: Void.self) { group in
                for c in 0..<4 {
                    group.addTask {
                        let resource = "r\(c)"
                        try? await TestClient.withClient(host: "127.0.0.1", port: port,
                                                         configuration: .init(timeout: .seconds(5))) { connection in
                            // Bounded: stops at the kill (the connection fails) or after 5,000 writes.
                            for i in 0..<5000 {
                                let response = try await connection.post("/audit/activity-stream/", headers: jsonHeaders,
                                                                          body: Self.updateBody(resource: resource, value: i))
                                guard response.status == .created, let body = response.body,
                                      let record = try parseJSON(body)[0] else { return }
                                acks.withLock {
                                    $0.append(Ack(resource: resource, id: record["id"]!.stringValue!,
                                                  sequence: record["sequence"]!.intValue!, version: record["version"]!.intValue!))
                                }
                            }
                        }
                    }
                }
            }
        }
        // Let a stream of writes build up, then kill the server in the middle of it.
        let deadline = ContinuousClock.now + .seconds(60)
        while acks.withLock({ $0.count }) < 300 && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        first.kill9()
        await writers.value
        let acknowledged = acks.withLock { $0 }
        #expect(acknowledged.count >= 300)

        // Restart on the same file: it opens, and goes on from the last stored sequence.
        let second = try TrailProcess(database: database.path)
        let secondPort = try await second.port()
        let after = try await TestClient.withClient(host: "127.0.0.1", port: secondPort) { connection in
            try await connection.post("/audit/activity-stream/", headers: jsonHeaders, body: Self.updateBody(resource: "after", value: 1))
        }
        #expect(after.status == .created)
        second.terminate()

        let queue = try DatabaseQueue(path: database.path)
        try await queue.read { db in
            let (count, minimum, maximum) = try Row.fetchOne(db, sql: "SELECT COUNT(*), MIN(sequence), MAX(sequence) FROM events WHERE tenant = 'default'")
                .map { (Int64($0[0] as Int64), Int64($0[1] as Int64), Int64($0[2] as Int64)) }!
            #expect(minimum == 1)
            #expect(count == maximum, "sequences are gapless")
            let stored = try Row.fetchAll(db, sql: "SELECT id, sequence, version, resource_id FROM events")
            let byId = Dictionary(uniqueKeysWithValues: stored.map { (String($0[0] as String), $0) })
            for ack in acknowledged {
                let row = byId[ack.id]
                #expect(row != nil, "acknowledged event \(ack.id) is stored")
                #expect((row?[1] as Int64?) == ack.sequence)
                #expect((row?[2] as Int64?) == ack.version)
            }
            for c in 0..<4 {
                let versions = try Int64.fetchAll(db, sql: "SELECT version FROM events WHERE resource_id = ? ORDER BY sequence", arguments: ["r\(c)"])
                #expect(versions == (0..<versions.count).map { Int64($0 + 1) }, "r\(c): versions contiguous")
            }
        }
    }
}

/// A `trail serve` child process on port 0, on loopback.
final class TrailProcess: Sendable {
    let process: Process
    private let output = Locked<String>("")

    init(database: String) throws {
        let process = Process()
        process.executableURL = try TrailProcess.binary()
        process.arguments = ["serve", "--host", "127.0.0.1", "--port", "0", "--database", database]
        let pipe = Pipe()
        process.standardError = pipe
        process.standardOutput = FileHandle.nullDevice
        self.process = process
        pipe.fileHandleForReading.readabilityHandler = { [output] handle in
            let data = handle.availableData
            if !data.isEmpty { output.withLock { $0 += String(decoding: data, as: UTF8.self) } }
        }
        try process.run()
    }

    deinit { if process.isRunning { process.terminate() } }

    /// The port the server logged once it listens.
    func port() async throws -> Int {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            let text = output.withLock { $0 }
            if let match = text.firstMatch(of: /Trail listening on http:\/\/127\.0\.0\.1:(\d+)/) {
                return Int(match.1)!
            }
            guard process.isRunning else { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw TrailProcessError(message: "trail serve did not start: \(output.withLock { $0 })")
    }

    func kill9() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    func terminate() {
        process.terminate()
        process.waitUntilExit()
    }

    /// The `trail` executable built beside the test bundle (or `TRAIL_BINARY`).
    static func binary() throws -> URL {
        if let path = ProcessInfo.processInfo.environment["TRAIL_BINARY"] { return URL(fileURLWithPath: path) }
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<6 {
            let candidate = directory.appendingPathComponent("trail")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            directory.deleteLastPathComponent()
        }
        throw TrailProcessError(message: "no trail executable near \(CommandLine.arguments[0]); build it or set TRAIL_BINARY")
    }
}

/// Shared mutable state for test tasks.
final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    init(_ value: Value) { mutex = Mutex(value) }
    func withLock<T: Sendable>(_ body: (inout Value) -> T) -> T { mutex.withLock { body(&$0) } }
}

struct TrailProcessError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
