import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Synchronization
import Testing
import TrailCore
import TrailServer
@testable import TrailService
import TrailStore
import TrailTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// Through the real HTTP server on loopback: concurrency on one resource, and a `kill -9` in the middle of a
/// stream of writes.
@Suite struct LiveServerTests {
    static func updateBody(resource: String, value: Int) -> ByteBuffer {
        ByteBuffer(string: #"{"actor":{"id":"c"},"verb":"update","object":{"id":"\#(resource)","type":"counter","n":\#(value)}}"#)
    }

    @Test(arguments: StoreKind.available)
    func concurrentClientsOnOneResourceGetEveryVersionOnce(kind: StoreKind) async throws {
        try await withFreshLocation(kind) { location, _ in try await location.withStore { store in
        let app = buildApplication(configuration: ServerConfiguration(port: 0, authentication: .disabled), store: store)
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
        } }
    }

    @Test(.timeLimit(.minutes(10)), arguments: StoreKind.available)
    func acknowledgedEventsSurviveKill9(kind: StoreKind) async throws {
        try await withFreshLocation(kind) { location, fresh in
        let first = try TrailProcess(database: fresh.text)
        let port = try await first.port()

        struct Ack: Sendable { var resource: String; var id: String; var sequence: Int64; var version: Int64 }
        let acks = Locked<[Ack]>([])
        let killed = Locked(false)
        let writers = Task {
            await withTaskGroup(of: Void.self) { group in
                for c in 0..<4 {
                    group.addTask {
                        let resource = "r\(c)"
                        // Bounded: stops at the kill, or after 5,000 writes. A request that times out before the kill
                        // (a machine busy with other tests' fsyncs) is no acknowledgement: the writer connects again.
                        let sent = Locked(0)
                        while !killed.withLock({ $0 }) && sent.withLock({ $0 }) < 5000 {
                            do {
                                try await TestClient.withClient(host: "127.0.0.1", port: port,
                                                                configuration: .init(timeout: .seconds(5))) { connection in
                                    while sent.withLock({ $0 }) < 5000 {
                                        let i = sent.withLock { n in defer { n += 1 }; return n }
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
                            } catch {
                                try? await Task.sleep(for: .milliseconds(50))
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
        killed.withLock { $0 = true }
        first.kill9()
        await writers.value
        let acknowledged = acks.withLock { $0 }
        #expect(acknowledged.count >= 300)

        // Restart on the same database: it opens, and goes on from the last stored sequence.
        let second = try TrailProcess(database: fresh.text)
        let secondPort = try await second.port()
        let after = try await TestClient.withClient(host: "127.0.0.1", port: secondPort) { connection in
            try await connection.post("/audit/activity-stream/", headers: jsonHeaders, body: Self.updateBody(resource: "after", value: 1))
        }
        #expect(after.status == .created)
        second.terminate()

        // Every event is on one of these resources: together their histories are the whole store.
        let stored = try await location.withStore { store in
            var events: [String: [RecordedEvent]] = [:]
            for resource in ["r0", "r1", "r2", "r3", "after"] {
                events[resource] = try await store.history(tenant: "default", resourceType: "counter", resourceId: resource)
            }
            return events
        }
        let sequences = stored.values.flatMap { $0.map(\.sequence) }.sorted()
        #expect(sequences == (0..<sequences.count).map { Int64($0 + 1) }, "sequences are gapless")
        let byId = Dictionary(uniqueKeysWithValues: stored.values.joined().map { ($0.id, $0) })
        for ack in acknowledged {
            let event = byId[ack.id]
            #expect(event != nil, "acknowledged event \(ack.id) is stored")
            #expect(event?.sequence == ack.sequence)
            #expect(event?.version == ack.version)
        }
        for (resource, events) in stored {
            #expect(events.map(\.version) == (0..<events.count).map { Int64($0 + 1) }, "\(resource): versions contiguous")
        }
        }
    }

    /// `trail serve` as an operator sees it: the listen address once, then one line per request with the id the
    /// client got; and a second server on the same port fails at once, in one line, having created nothing.
    @Test(.timeLimit(.minutes(2)))
    func serveLogsOneLinePerRequestAndABusyPortCreatesNothing() async throws {
        try await withFreshLocation(.sqlite) { _, fresh in
            let server = try TrailProcess(database: fresh.text, authenticated: true)
            let port = try await server.port()
            let answer = try await TestClient.withClient(host: "127.0.0.1", port: port) { connection in
                try await connection.get("/api/v1/audit/logs?limit=1", headers: [HTTPField.Name("X-Request-ID")!: "trace-42"])
            }
            #expect(answer.status == .unauthorized && answer.headers[HTTPField.Name("X-Request-ID")!] == "trace-42")
            try await Task.sleep(for: .milliseconds(200))
            let log = server.log
            #expect(log.components(separatedBy: "listening").count == 2, "the address once: \(log)")
            #expect(!log.contains("Server started"))
            let line = try #require(log.split(separator: "\n").first { $0.contains("request_id=trace-42") && $0.contains(" info request ") })
            #expect(line.contains(" info request request_id=trace-42 method=GET route=/api/v1/audit/logs status=401 duration_ms="), "\(line)")
            #expect(!log.contains("CoreRequestContextStorage") && !log.contains("PSQLError("), "no struct dumps")

            let other = fresh.directory.appendingPathComponent("other")
            try FileManager.default.createDirectory(at: other, withIntermediateDirectories: true)
            let busy = try await CommandLineTests().trail(["serve", "--port", "\(port)", "--database", other.appendingPathComponent("second.sqlite").path])
            server.terminate()
            #expect(busy.status == 1)
            #expect(busy.errors == "error: port \(port) on 127.0.0.1 is in use: stop what holds it, or choose another port with --port\n", "\(busy.errors)")
            #expect(busy.output.isEmpty, "no key printed")
            #expect(try FileManager.default.contentsOfDirectory(atPath: other.path).isEmpty, "no store created")
        }
    }

    /// PostgreSQL unreachable under load — every connection reset, new ones refused, as when it crashes
    /// (`pg_ctl stop -m immediate`) — through a TCP proxy (the server is shared with other tests): each request
    /// fails within the store's timeout with 503 and Retry-After, nothing acknowledged is lost, and once it is
    /// reachable again requests succeed within seconds, without restarting Trail.
    @Test(.timeLimit(.minutes(10)), .enabled(if: StoreKind.postgresURL != nil))
    func aPostgreSQLOutageFailsRequestsQuicklyAndPasses() async throws {
        try await withProxiedPostgres { location, proxy in
            let timeout = Duration.seconds(1)
            try await location.withStore(configuration: StoreConfiguration(connectionTimeout: timeout)) { store in
                let app = buildApplication(configuration: ServerConfiguration(port: 0, authentication: .disabled), store: store)
                try await app.test(.live) { client in
                    let port = try #require(client.port)
                    struct Answer: Sendable { var started: ContinuousClock.Instant; var took: Duration; var status: Int; var retryAfter: String?; var id: String?; var error: String? = nil }
                    let answers = Locked<[Answer]>([])
                    let stop = Locked(false)
                    let writers = Task {
                        await withTaskGroup(of: Void.self) { group in
                            for c in 0..<4 {
                                group.addTask {
                                    // Bounded: until told to stop, at most 20,000 requests.
                                    for i in 0..<20_000 where !stop.withLock({ $0 }) {
                                        let started = ContinuousClock.now
                                        do {
                                            let response = try await TestClient.withClient(host: "127.0.0.1", port: port, configuration: .init(timeout: .seconds(30))) { connection in
                                                try await connection.post("/audit/activity-stream/", headers: jsonHeaders, body: Self.updateBody(resource: "o\(c)", value: i))
                                            }
                                            let id = response.status == .created ? response.body.flatMap { try? parseJSON($0)[0]?["id"]?.stringValue } : nil
                                            answers.withLock { $0.append(Answer(started: started, took: .now - started, status: response.status.code,
                                                                                retryAfter: response.headers[.retryAfter], id: id)) }
                                            if response.status != .created { try? await Task.sleep(for: .milliseconds(20)) }
                                        } catch {
                                            answers.withLock { $0.append(Answer(started: started, took: .now - started, status: 0, retryAfter: nil, id: nil, error: "\(error)")) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                    // Writes go through first (bounded: 30 s on a loaded machine).
                    let warm = ContinuousClock.now + .seconds(30)
                    while ContinuousClock.now < warm && answers.withLock({ $0.filter { $0.status == 201 }.count }) < 20 {
                        try await Task.sleep(for: .milliseconds(50))
                    }
                    let cut = ContinuousClock.now
                    proxy.cut()
                    try await Task.sleep(for: .seconds(4))
                    let resumed = ContinuousClock.now
                    proxy.resume()
                    var recovered: ContinuousClock.Instant?
                    while recovered == nil && ContinuousClock.now < resumed + .seconds(20) {
                        try await Task.sleep(for: .milliseconds(100))
                        recovered = answers.withLock { $0.first { $0.started > resumed && $0.status == 201 }?.started }
                    }
                    try await Task.sleep(for: .milliseconds(500))
                    stop.withLock { $0 = true }
                    await writers.value
                    let all = answers.withLock { $0 }
                    #expect(all.contains { $0.started < cut && $0.status == 201 }, "writes went through before")
                    // Requests made while it was unreachable (after those in flight at the cut failed).
                    let during = all.filter { $0.started > cut + .milliseconds(700) && $0.started + $0.took < resumed }
                    #expect(!during.isEmpty)
                    #expect(during.allSatisfy { $0.status == 503 && $0.retryAfter == "1" }, "\(during.map(\.status))")
                    // (The margin is for a loaded test machine: the wait itself is the timeout.)
                    #expect(during.map(\.took).max().map { $0 < timeout + .milliseconds(1500) } == true, "\(during.map(\.took).max().map(String.init(describing:)) ?? "-")")
                    #expect(all.allSatisfy { $0.status != 500 && $0.status != 0 }, "no 500, no hung request: \(all.filter { $0.status == 500 || $0.status == 0 }.map { "\($0.status) after \($0.took): \($0.error ?? "")" })")
                    let back = try #require(recovered, "requests succeed again without a restart")
                    #expect(back - resumed < .seconds(10))
                    // Nothing acknowledged is lost.
                    let acknowledged = all.compactMap(\.id)
                    let stored = try await withThrowingTaskGroup(of: [RecordedEvent].self) { group in
                        for c in 0..<4 { group.addTask { try await store.history(tenant: "default", resourceType: "counter", resourceId: "o\(c)") } }
                        return try await group.reduce(into: []) { $0 += $1 }
                    }
                    #expect(Set(acknowledged).isSubset(of: Set(stored.map(\.id))), "\(acknowledged.count) acknowledged, \(stored.count) stored")
                }
            }
        }
    }

    /// Several Trail processes on one database (the PostgreSQL deployment; SQLite allows it on one machine too):
    /// 24 clients update 10 shared resources through 3 servers.
    @Test(.timeLimit(.minutes(10)), arguments: StoreKind.available)
    func threeProcessesOnOneDatabaseKeepVersionsAndSequencesGapless(kind: StoreKind) async throws {
        try await withFreshLocation(kind) { location, fresh in
            // Migrate first, so the three processes do not all create a SQLite file at once.
            _ = try await location.migrate()
            let servers = try (0..<3).map { _ in try TrailProcess(database: fresh.text) }
            var ports: [Int] = []
            for server in servers { ports.append(try await server.port()) }
            struct Sent: Sendable { var resource: String; var data: JSONObject; var sequence: Int64; var version: Int64 }
            let sent = try await withThrowingTaskGroup(of: [Sent].self) { group in
                for client in 0..<24 {
                    let port = ports[client % 3]
                    group.addTask {
                        // Three processes on one SQLite file take turns for its write lock: on a loaded machine
                        // one answer can take longer than the client's default timeout.
                        try await TestClient.withClient(host: "127.0.0.1", port: port, configuration: .init(timeout: .seconds(60))) { connection in
                            var sent: [Sent] = []
                            for i in 0..<25 {
                                let resource = "shared-\((client + i) % 10)"
                                let data = JSONObject([
                                    .init(key: "last", value: .string("c\(client)-\(i)")),
                                    .init(key: "c\(client)", value: .number(JSONNumber(i))),
                                ])
                                var object = data
                                object["id"] = .string(resource)
                                object["type"] = "counter"
                                let body = JSONValue.object(JSONObject([
                                    .init(key: "actor", value: .object(JSONObject([.init(key: "id", value: .string("c\(client)"))]))),
                                    .init(key: "verb", value: "update"), .init(key: "object", value: .object(object)),
                                ]))
                                let response = try await connection.post("/audit/activity-stream/", headers: jsonHeaders, body: jsonBody(body))
                                #expect(response.status == .created)
                                let responseBody = try #require(response.body)
                                let record = try #require(try parseJSON(responseBody)[0])
                                sent.append(Sent(resource: resource, data: data, sequence: try #require(record["sequence"]?.intValue),
                                                 version: try #require(record["version"]?.intValue)))
                            }
                            return sent
                        }
                    }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            for server in servers { server.terminate() }

            #expect(sent.count == 600)
            #expect(sent.map(\.sequence).sorted() == (1...600).map { Int64($0) }, "sequences 1…600, none lost, none twice")
            try await location.withStore { store in
                for r in 0..<10 {
                    let resource = "shared-\(r)"
                    let mine = sent.filter { $0.resource == resource }.sorted { $0.sequence < $1.sequence }
                    #expect(mine.map(\.version) == (0..<mine.count).map { Int64($0 + 1) }, "\(resource): versions gapless")
                    // The final state equals a sequential replay of the submissions in sequence order.
                    var replayed = JSONValue.object(JSONObject())
                    for submission in mine { replayed = MergePatch.apply(.object(submission.data), to: replayed) }
                    let head = try await store.head(tenant: "default", resourceType: "counter", resourceId: resource)
                    #expect(head.map { JSONValue.object($0.state ?? JSONObject()) } == replayed, "\(resource): final state")
                    let history = try await store.history(tenant: "default", resourceType: "counter", resourceId: resource)
                    #expect(history.map(\.sequence) == mine.map(\.sequence))
                }
            }
        }
    }
}

/// A `trail serve` child process on port 0, on loopback.
final class TrailProcess: Sendable {
    let process: Spawned
    private let output = Locked<String>("")
    private let printed = Locked<String>("")

    /// `trail serve` on port 0 with `arguments` (and authentication off unless `authenticated`); or, with
    /// `command`, another long-running command (`worker`).
    init(database: String, arguments: [String] = [], command: String = "serve", authenticated: Bool = false) throws {
        let serve = ["serve", "--host", "127.0.0.1", "--port", "0"] + (authenticated ? [] : ["--insecure-no-auth"])
        let process = try Spawned(try TrailProcess.binary().path, (command == "serve" ? serve : [command]) + ["--database", database] + arguments)
        process.closeInput()
        self.process = process
        // Its output, read as it comes on a thread of its own until the process ends.
        Thread { [output, printed] in
            process.drain(onOutput: { data in printed.withLock { $0 += String(decoding: data, as: UTF8.self) } },
                          onError: { data in output.withLock { $0 += String(decoding: data, as: UTF8.self) } })
        }.start()
    }

    deinit { if process.isRunning { process.signal(SIGTERM) } }

    /// What the process printed on standard output so far.
    var standardOutputText: String { printed.withLock { $0 } }

    /// What the process logged on standard error so far.
    var log: String { output.withLock { $0 } }

    /// The port the server logged once it listens, as soon as it also logged that it serves the API on its
    /// store (it listens first, and answers 503 until then).
    func port() async throws -> Int {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            let text = output.withLock { $0 }
            if let match = text.firstMatch(of: /Trail listening on http:\/\/127\.0\.0\.1:(\d+)/), text.contains("Trail ready") {
                return Int(match.1)!
            }
            guard process.isRunning else { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw TrailProcessError(message: "trail serve did not start: \(output.withLock { $0 })")
    }

    func kill9() {
        process.signal(SIGKILL)
        process.wait()
    }

    func terminate() {
        process.signal(SIGTERM)
        process.wait()
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
