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

/// The live tail (SPEC §14) through the real HTTP server on loopback: order, exact resumption, filters,
/// heartbeats, tenancy, slow subscribers, and commits of another process (PostgreSQL).
@Suite(.timeLimit(.minutes(10))) struct StreamTests {
    static func activity(_ verb: String, _ id: String, _ n: Int) -> String {
        #"{"actor":{"id":"12"},"verb":"\#(verb)","object":{"id":"\#(id)","type":"user","n":\#(n)}}"#
    }

    static func withLiveServer(
        _ kind: StoreKind, configuration: ServerConfiguration = ServerConfiguration(port: 0, authentication: .disabled),
        _ body: @escaping @Sendable (any TestClientProtocol, Int, any TrailStorage, StoreLocation) async throws -> Void
    ) async throws {
        try await withFreshLocation(kind) { location, _ in
            try await location.withStore { store in
                try await buildApplication(configuration: configuration, store: store).test(.live) { client in
                    try await body(client, try #require(client.port), store, location)
                }
            }
        }
    }

    static func post(_ client: any TestClientProtocol, _ body: String, headers: HTTPFields = jsonHeaders) async throws {
        let response = try await client.execute(uri: "/audit/activity-stream/", method: .post, headers: headers,
                                                body: ByteBuffer(string: body))
        #expect(response.status == .created, "\(String(buffer: response.body))")
    }

    static func sequences(_ frames: [SSEClient.Frame]) -> [Int64] {
        frames.compactMap { $0.id.flatMap { Int64($0) } }
    }

    @Test(arguments: StoreKind.available)
    func eventsArriveInOrderAndResumeExactly(kind: StoreKind) async throws {
        var configuration = ServerConfiguration(port: 0, authentication: .disabled)
        configuration.live.heartbeat = .milliseconds(300)
        try await Self.withLiveServer(kind, configuration: configuration) { client, port, _, _ in
            for n in 0..<3 { try await Self.post(client, Self.activity(n == 0 ? "create" : "update", "u-1", n)) }
            let stream = try SSEClient(port: port, path: "/api/v1/audit/stream?after=0")
            let replayed = try await stream.frames(3)
            #expect(stream.status == 200 && stream.headers["content-type"]?.hasPrefix("text/event-stream") == true)
            #expect(Self.sequences(replayed) == [1, 2, 3] && replayed.allSatisfy { $0.event == "audit" })
            let first = try parseJSON(ByteBuffer(string: replayed[0].data))
            #expect(first["sequence"]?.intValue == 1 && first["resource"]?["id"] == "u-1" && first["version"]?.intValue == 1)

            // Written while the stream follows: every one, in order, once.
            async let live = stream.frames(20)
            for n in 0..<20 { try await Self.post(client, Self.activity("update", "u-\(n % 3)", n)) }
            #expect(Self.sequences(try await live) == Array(4...23))

            // Nothing new: heartbeats.
            try await Task.sleep(for: .milliseconds(800))
            _ = try await stream.next(timeout: .milliseconds(100))
            #expect(stream.comments.contains("heartbeat"))

            // An EventSource reconnecting sends Last-Event-ID, which wins over ?after.
            for n in 0..<2 { try await Self.post(client, Self.activity("update", "u-1", 100 + n)) }
            let resumed = try SSEClient(port: port, path: "/api/v1/audit/stream?after=0", headers: ["Last-Event-ID": "21"])
            #expect(Self.sequences(try await resumed.frames(4)) == [22, 23, 24, 25])
            try await Self.post(client, Self.activity("update", "u-1", 200))
            #expect(Self.sequences(try await resumed.frames(1)) == [26])
            #expect(try await resumed.next(timeout: .milliseconds(300)) == nil, "no duplicate")

            // The list's filters.
            let filtered = try SSEClient(port: port, path: "/api/v1/audit/stream?after=0&resource_id=u-2&action=update")
            let u2 = try await filtered.frames(6)
            #expect(u2.count == 6 && u2.allSatisfy { (try? parseJSON(ByteBuffer(string: $0.data))["resource"]?["id"]) == "u-2" })
            // With a search, which only the store can tell.
            let searched = try SSEClient(port: port, path: "/api/v1/audit/stream?q=300&after=26")
            try await Self.post(client, Self.activity("update", "u-1", 300))
            try await Self.post(client, Self.activity("update", "u-2", 301))
            #expect(Self.sequences(try await searched.frames(1)) == [27])
            // Streams left open end when the server shuts down (or this test would not end).
        }
    }

    @Test(arguments: StoreKind.available)
    func concurrentWritesReachAFollowerWithoutGapOrDuplicate(kind: StoreKind) async throws {
        try await Self.withLiveServer(kind) { client, port, _, _ in
            try await Self.post(client, Self.activity("create", "seed", 0))
            // Resumes from the start while writers add more: the switch from the store to the buffer loses nothing.
            let stream = try SSEClient(port: port, path: "/api/v1/audit/stream?after=0")
            async let frames = stream.frames(201, timeout: .seconds(60))
            try await withThrowingTaskGroup(of: Void.self) { group in
                for writer in 0..<4 {
                    group.addTask {
                        for n in 0..<50 { try await Self.post(client, Self.activity("update", "w-\(writer)", n)) }
                    }
                }
                try await group.waitForAll()
            }
            #expect(Self.sequences(try await frames) == Array(1...201))
        }
    }

    @Test(arguments: StoreKind.available)
    func aTenantsStreamCarriesOnlyItsOwnEvents(kind: StoreKind) async throws {
        try await withFreshLocation(kind) { location, _ in
            try await location.withStore { store in
                var keys: [String: String] = [:]
                for (tenant, role) in [("acme", Role.writer), ("acme", .reader), ("globex", .writer), ("globex", .reader)] {
                    keys["\(tenant)-\(role.rawValue)"] = try await store.createKey(tenant: tenant, role: role, name: "k").1
                }
                try await buildApplication(configuration: ServerConfiguration(port: 0), store: store).test(.live) { [keys] client in
                    let port = try #require(client.port)
                    let globex = try SSEClient(port: port, path: "/api/v1/audit/stream?after=0",
                                               headers: ["Authorization": "ApiKey \(keys["globex-reader"]!)"])
                    let acme = try SSEClient(port: port, path: "/api/v1/audit/stream?after=0",
                                             headers: ["Authorization": "ApiKey \(keys["acme-reader"]!)"])
                    for n in 0..<3 {
                        try await Self.post(client, Self.activity(n == 0 ? "create" : "update", "secret", n),
                                            headers: SecurityTests.header(keys["acme-writer"]!))
                    }
                    try await Self.post(client, Self.activity("create", "mine", 0), headers: SecurityTests.header(keys["globex-writer"]!))
                    let globexFrames = try await globex.frames(1)
                    #expect(globexFrames.count == 1 && globexFrames[0].data.contains(#""id":"mine""#))
                    #expect(try await globex.next(timeout: .milliseconds(500)) == nil, "none of acme's events")
                    // (Opening the stream was itself recorded, as every read of the log is: not listed by default.)
                    let acmeFrames = try await acme.frames(3)
                    #expect(acmeFrames.count == 3 && acmeFrames.allSatisfy { $0.data.contains(#""id":"secret""#) })
                    #expect(Self.sequences(acmeFrames) == Self.sequences(acmeFrames).sorted())

                    let anonymous = try SSEClient(port: port, path: "/api/v1/audit/stream")
                    _ = try await anonymous.next(timeout: .milliseconds(500))
                    #expect(anonymous.status == 401)
                }
            }
        }
    }

    @Test(arguments: StoreKind.available)
    func badStartsAreRefusedWithTheirName(kind: StoreKind) async throws {
        try await withRouter(kind) { client in
            for (path, headers, name) in [
                ("/api/v1/audit/stream?after=-1", HTTPFields(), "after"),
                ("/api/v1/audit/stream?after=soon", HTTPFields(), "after"),
                ("/api/v1/audit/stream", [HTTPField.Name("Last-Event-ID")!: "abc"], "Last-Event-ID"),
                ("/api/v1/audit/stream?since=yesterday", HTTPFields(), "since"),
                ("/api/v1/audit/stream?cursor=3", HTTPFields(), "cursor"),
            ] {
                let response = try await client.execute(uri: path, method: .get, headers: headers)
                #expect(response.status == .badRequest, "\(path)")
                #expect(response.headers[.contentType] == "application/problem+json")
                let errors = try parseJSON(response.body)["errors"]?.arrayValue ?? []
                #expect(errors.contains { $0["path"]?.stringValue == name }, "\(path): \(String(buffer: response.body))")
            }
        }
    }

    @Test(arguments: StoreKind.available)
    func aSubscriberFallingBehindTheBufferIsCutOffClearly(kind: StoreKind) async throws {
        var configuration = ServerConfiguration(port: 0, authentication: .disabled)
        configuration.live.bufferedEvents = 4
        configuration.live.heartbeat = .milliseconds(200)
        try await Self.withLiveServer(kind, configuration: configuration) { client, port, _, _ in
            let stream = try SSEClient(port: port, path: "/api/v1/audit/stream")
            #expect(try await stream.heartbeat(), "following: \(stream.described)")
            // One batch of 12 is more than the buffer holds: the follower cannot have kept up.
            let batch = (0..<12).map { Self.activity($0 == 0 ? "create" : "update", "b", $0) }.joined(separator: ",")
            try await Self.post(client, "[\(batch)]")
            let frames = try await stream.frames(13)
            let close = try #require(frames.last)
            #expect(close.event == "close" && close.data.contains("too_slow"), "\(frames)")
            // Reconnecting from where it was resumes from the store.
            let resumed = try SSEClient(port: port, path: "/api/v1/audit/stream?after=0")
            #expect(Self.sequences(try await resumed.frames(12)) == Array(1...12))
        }
    }

    /// Another process's commits reach this one's followers through `NOTIFY`, not by polling (the poll is set to
    /// a minute here).
    @Test(arguments: StoreKind.available.filter { $0 == .postgres })
    func anotherProcesssCommitsArriveAtOnce(kind: StoreKind) async throws {
        var configuration = ServerConfiguration(port: 0, authentication: .disabled)
        configuration.live.pollInterval = .seconds(60)
        configuration.live.heartbeat = .milliseconds(200)
        try await Self.withLiveServer(kind, configuration: configuration) { client, port, _, location in
            try await Self.post(client, Self.activity("create", "here", 0))
            let stream = try SSEClient(port: port, path: "/api/v1/audit/stream")
            #expect(try await stream.heartbeat(), "following: \(stream.described)")
            try await location.withStore { other in
                try await buildApplication(configuration: ServerConfiguration(authentication: .disabled), store: other).test(.router) { second in
                    try await Self.post(second, Self.activity("update", "here", 1))
                }
            }
            let frames = try await stream.frames(1, timeout: .seconds(10))
            #expect(Self.sequences(frames) == [2])
        }
    }
}
