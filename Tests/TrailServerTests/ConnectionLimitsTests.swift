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
            let head = "POST /api/v1/audit/logs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n["
            let (cutOff, answer) = try trickle(port: port, head, " ")
            #expect(cutOff)
            expectTimeout(answer)
            #expect(!answer.contains("HTTP/1.1 2"))
        }
    }

    /// A connection that sent nothing of a next request is closed without a word; one that keeps asking in time
    /// is served, the deadline counting again from each answer.
    @Test func idleConnectionsAreClosedQuietly() async throws {
        let configuration = ServerConfiguration(port: 0, authentication: .disabled, rateLimit: nil, requestTimeout: .seconds(6))
        try await withServer(configuration) { port in
            let idle = try RawConnection(port: port, readTimeout: 30)
            #expect(idle.readToEnd() == "")
            #expect(idle.closedByServer)

            // Four requests 2.5 s apart: longer than the deadline in all, each well within it.
            let busy = try RawConnection(port: port, readTimeout: 30)
            for n in 0..<4 {
                #expect(busy.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n"))
                if n < 3 { try await Task.sleep(for: .milliseconds(2500)) }
            }
            let answers = busy.readToEnd()
            #expect(busy.closedByServer)
            #expect(answers.components(separatedBy: "HTTP/1.1 200 ").count == 5, "\(answers)")
            #expect(!answers.contains("408"))
        }
    }

    /// Bodies held at once stay within the budget: while a request holds most of it, another is refused 503 with
    /// Retry-After; once the first is done, the other goes through.
    @Test func bodiesTogetherStayWithinTheBudget() async throws {
        let configuration = ServerConfiguration(port: 0, maximumBodyBytes: 64 * 1024, authentication: .disabled, rateLimit: nil,
                                                requestTimeout: .seconds(60), bodyMemory: 100 * 1024)
        try await withServer(configuration) { port in
            func event(_ id: String, bytes: Int) -> String {
                let event = #"{"actor":{"id":"1"},"verb":"create","object":{"id":"\#(id)","type":"t"}}"#
                return event + String(repeating: " ", count: bytes - event.utf8.count)
            }
            func post(_ body: String) -> String {
                "POST /api/v1/audit/activity-stream HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n" + body
            }
            // The holder (60,000 bytes) sends its head and the start of its body, and waits; the other (50,000)
            // fits alone but not beside it. The holder's handler runs when the server gets to it: until the
            // other is refused, it is sent again (and the holder too, if the other held the budget first).
            let held = post(event("held", bytes: 60_000))
            let split = held.index(held.endIndex, offsetBy: -1_000)
            let other = post(event("other", bytes: 50_000))
            var holder = try RawConnection(port: port, readTimeout: 30)
            holder.send(String(held[..<split]))
            var refused = ""
            // A refusal counts only while the holder still waits for the end of its body: a holder answered by
            // then was refused itself, and the budget was held by a slow earlier request (a loaded machine).
            for _ in 0..<200 where refused.isEmpty {
                let answer = try RawHTTP.exchange(port: port, other, readTimeout: 30)
                let wasRefused = answer.hasPrefix("HTTP/1.1 503 ")
                if holder.hasAnswered(within: wasRefused ? 200 : 0) {
                    holder = try RawConnection(port: port, readTimeout: 30)
                    holder.send(String(held[..<split]))
                } else if wasRefused {
                    refused = answer
                }
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(refused.contains(#""type":"urn:trail:problem:server-busy""#), "\(refused.prefix(300))")
            #expect(refused.contains("Retry-After: 1"))
            holder.send(String(held[split...]))
            #expect(holder.readToEnd().hasPrefix("HTTP/1.1 201 "))
            #expect(try RawHTTP.exchange(port: port, other).hasPrefix("HTTP/1.1 201 "))
        }
    }
}
