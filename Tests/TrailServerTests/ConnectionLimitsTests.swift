import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import TrailCore
@testable import TrailServer
import TrailService
import TrailStore
import TrailTestSupport

/// What a client can make the server hold (issue 22 point 4): a request that trickles in is cut off at the request
/// deadline with a 408; an idle connection is closed; request bodies together stay within the body budget.
@Suite struct ConnectionLimitsTests {
    func withServer(
        _ configuration: ServerConfiguration, _ body: @escaping @Sendable (Int) async throws -> Void
    ) async throws {
        try await withFreshLocation(.sqlite) { location, _ in try await location.withStore { store in
            let app = buildApplication(configuration: configuration, store: store, workers: WorkerConfiguration(count: 0))
            try await app.test(.live) { client in try await body(try #require(client.port)) }
        } }
    }

    static let quick = ServerConfiguration(port: 0, authentication: .disabled, rateLimit: nil, requestTimeout: .seconds(1))

    /// Sends `first`, then `next` every 200 ms until the server answers or closes (at most `limit` times): whether
    /// it did, and what it said.
    func trickle(port: Int, _ first: String, _ next: String, limit: Int = 50) throws -> (cutOff: Bool, answer: String) {
        let connection = try RawConnection(port: port)
        connection.send(first)
        for _ in 0..<limit {
            if connection.hasAnswered(within: 200) {
                let answer = connection.readToEnd()
                return (connection.closedByServer, answer)
            }
            guard connection.send(next) else { return (true, connection.readToEnd()) }
        }
        return (false, "")
    }

    func expectTimeout(_ answer: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(answer.hasPrefix("HTTP/1.1 408 "), "\(answer.prefix(300))", sourceLocation: sourceLocation)
        #expect(answer.contains("Content-Type: application/problem+json"), sourceLocation: sourceLocation)
        #expect(answer.contains("Connection: close"), sourceLocation: sourceLocation)
        #expect(answer.contains(#""type":"urn:trail:problem:request-timeout""#), sourceLocation: sourceLocation)
    }

    @Test func aHeadTricklingInIsCutOff() async throws {
        try await withServer(Self.quick) { port in
            let (cutOff, answer) = try trickle(port: port, "GET /health HTTP/1.1\r\nHost: x\r\n", "X-Slow: 1\r\n")
            #expect(cutOff)
            expectTimeout(answer)
        }
    }

    @Test func aBodyTricklingInIsCutOff() async throws {
        try await withServer(Self.quick) { port in
            let head = "POST /api/v1/audit/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n["
            let (cutOff, answer) = try trickle(port: port, head, " ")
            #expect(cutOff)
            expectTimeout(answer)
            #expect(!answer.contains("HTTP/1.1 2"))
        }
    }

    /// A connection that sent nothing of a next request is closed without a word; one that keeps asking in time
    /// is served, the deadline counting again from each answer.
    @Test func idleConnectionsAreClosedQuietly() async throws {
        let configuration = ServerConfiguration(port: 0, authentication: .disabled, rateLimit: nil, requestTimeout: .seconds(2))
        try await withServer(configuration) { port in
            let idle = try RawConnection(port: port)
            #expect(idle.readToEnd() == "")
            #expect(idle.closedByServer)

            let busy = try RawConnection(port: port)
            var answers = ""
            for _ in 0..<3 {
                #expect(busy.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n"))
                #expect(busy.hasAnswered(within: 5000))
                try await Task.sleep(for: .milliseconds(800))  // the response is read below; < the 2 s deadline
            }
            answers = busy.readToEnd()
            #expect(busy.closedByServer)
            #expect(answers.components(separatedBy: "HTTP/1.1 200 ").count == 4, "\(answers)")
            #expect(!answers.contains("408"))
        }
    }

    /// Bodies held at once stay within the budget: while two requests hold most of it, a third is refused 503 with
    /// Retry-After, and nothing of it is stored; once they are done, it goes through.
    @Test func bodiesTogetherStayWithinTheBudget() async throws {
        let configuration = ServerConfiguration(port: 0, maximumBodyBytes: 64 * 1024, authentication: .disabled, rateLimit: nil,
                                                requestTimeout: .seconds(30), bodyMemory: 128 * 1024)
        try await withServer(configuration) { port in
            func event(_ id: String, padding: Int) -> String {
                #"{"actor":{"id":"1"},"verb":"create","object":{"id":"\#(id)","type":"t"}}"# + String(repeating: " ", count: padding)
            }
            func post(_ body: String) -> String {
                "POST /api/v1/audit/activity-stream HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n"
            }
            // Two requests of 60,000 bytes each send their head and a part of their body, and wait.
            let holders = try ["a", "b"].map { id in
                let body = event(id, padding: 60_000 - event(id, padding: 0).utf8.count)
                let connection = try RawConnection(port: port, readTimeout: 20)
                connection.send(post(body) + body.prefix(100))
                return (connection, String(body.dropFirst(100)))
            }
            // A third of 20,000 bytes is refused once they hold their share (their handlers run concurrently).
            let third = event("c", padding: 20_000 - event("c", padding: 0).utf8.count)
            var refused = ""
            for _ in 0..<100 {
                let answer = try RawHTTP.exchange(port: port, post(third) + third)
                if answer.hasPrefix("HTTP/1.1 503 ") { refused = answer; break }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(refused.contains(#""type":"urn:trail:problem:server-busy""#), "\(refused.prefix(300))")
            #expect(refused.contains("Retry-After: 1"))
            for (connection, rest) in holders {
                connection.send(rest)
                #expect(connection.readToEnd().hasPrefix("HTTP/1.1 201 "))
            }
            #expect(try RawHTTP.exchange(port: port, post(third) + third).hasPrefix("HTTP/1.1 201 "))
        }
    }
}
