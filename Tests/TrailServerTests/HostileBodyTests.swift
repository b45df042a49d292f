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

/// A corpus of hostile bodies sent to every POST route of the router (SPEC §6, issue 22 point 4), through the
/// real HTTP server on loopback: never a 5xx; every refusal is problem+json; the malformed ones (not JSON, not
/// UTF-8, NUL, too deep, too large, the wrong media type) are refused by every route but the verifier (which
/// reads any body as an export and answers a report); and the server still answers afterwards.
@Suite struct HostileBodyTests {
    static let limit = 64 * 1024

    /// Bodies some routes may accept (an id as long as a key allows, an empty batch, a scalar where a route takes
    /// anything): they must only never be a 5xx.
    static let acceptable: Set<String> = ["long id", "empty batch", "huge number", "long integer", "wrong types", "duplicate keys",
                                          "array of 10,000 nulls", "bare scalar", "null"]

    /// (name, content type, body).
    static var corpus: [(String, String, [UInt8])] {
        let json = "application/json"
        var bodies: [(String, String, [UInt8])] = [
            ("empty", json, []),
            ("truncated object", json, Array(#"{"verb":"created","actor":{"id":"1"},"object":{"id":"a","type":"#.utf8)),
            ("truncated string", json, Array(#"{"verb":"crea"#.utf8)),
            ("bare scalar", json, Array("42".utf8)),
            ("null", json, Array("null".utf8)),
            ("deep arrays", json, Array(String(repeating: "[", count: 20_000).utf8)),
            ("deep objects", json, Array((String(repeating: #"{"a":"#, count: 5_000) + "1" + String(repeating: "}", count: 5_000)).utf8)),
            ("huge number", json, Array(#"{"verb":"created","actor":{"id":"1"},"object":{"id":"a","type":"t","n":1e400}}"#.utf8)),
            ("long integer", json, Array(#"{"verb":"created","actor":{"id":"1"},"object":{"id":"a","type":"t","n":\#(String(repeating: "9", count: 5_000))}}"#.utf8)),
            ("long id", json, Array(#"{"verb":"created","actor":{"id":"1"},"object":{"id":"\#(String(repeating: "x", count: 10_000))","type":"t"}}"#.utf8)),
            ("invalid UTF-8", json, Array(#"{"verb":"created","actor":{"id":""#.utf8) + [0xC3, 0x28, 0xFF] + Array(#""},"object":{"id":"a","type":"t"}}"#.utf8)),
            ("raw NUL", json, Array(#"{"verb":"created","actor":{"id":"1"#.utf8) + [0] + Array(#""},"object":{"id":"a","type":"t"}}"#.utf8)),
            ("escaped NUL", json, Array(#"{"verb":"created","actor":{"id":"1\u0000"},"object":{"id":"a","type":"t"}}"#.utf8)),
            ("lone surrogate", json, Array(#"{"verb":"created","actor":{"id":"\ud800"},"object":{"id":"a","type":"t"}}"#.utf8)),
            ("duplicate keys", json, Array(#"{"verb":"created","verb":"deleted","actor":{"id":"1"},"object":{"id":"a","type":"t"}}"#.utf8)),
            ("trailing garbage", json, Array(#"{"verb":"created","actor":{"id":"1"},"object":{"id":"a","type":"t"}} x"#.utf8)),
            ("byte order mark", json, [0xEF, 0xBB, 0xBF] + Array("{}".utf8)),
            ("wrong types", json, Array(#"{"verb":7,"actor":[],"object":"a","logs":{},"role":9}"#.utf8)),
            ("empty batch", json, Array(#"[]"#.utf8)),
            ("over the limit", json, Array(("[" + String(repeating: #"{"verb":"created"},"#, count: limit / 18) + "{}]").utf8)),
            ("text/plain", "text/plain", Array("hello".utf8)),
            ("XML", "application/xml", Array("<a/>".utf8)),
            ("form", "application/x-www-form-urlencoded", Array("verb=created".utf8)),
        ]
        bodies.append(("array of 10,000 nulls", json, Array(("[" + Array(repeating: "null", count: 10_000).joined(separator: ",") + "]").utf8)))
        return bodies
    }

    @Test(.timeLimit(.minutes(10)), arguments: StoreKind.available)
    func everyPostRefusesHostileBodiesWithoutA5xx(kind: StoreKind) async throws {
        try await withFreshLocation(kind) { location, _ in
            try await location.withStore { store in
                let table = RouteTable()
                let configuration = ServerConfiguration(port: 0, maximumBodyBytes: Self.limit, authentication: .disabled, rateLimit: nil)
                _ = buildRouter(configuration: configuration, store: store, routes: table)
                let posts = table.all.filter { $0.method == .post }.map(\.path)
                #expect(posts.count >= 6)
                let app = buildApplication(configuration: configuration, store: store, workers: WorkerConfiguration(count: 0))
                try await app.test(.live) { client in
                    for path in posts {
                        for (name, type, body) in Self.corpus {
                            let response = try await client.execute(uri: path, method: .post, headers: [.contentType: type],
                                                                    body: ByteBuffer(bytes: body))
                            let status = response.status.code
                            #expect(status < 500, "\(name) → \(path): \(status) \(String(buffer: response.body).prefix(300))")
                            if (400..<500).contains(status) {
                                #expect(response.headers[.contentType] == "application/problem+json", "\(name) → \(path)")
                                continue
                            }
                            if path == "/api/v1/integrity/verify" {
                                // The verifier reads any body as an export (an empty one: the stored log): a report.
                                #expect(try parseJSON(response.body)["status"]?.stringValue != nil, "\(name) → \(path)")
                            } else if path == "/api/v1/retention/run" && ["empty", "byte order mark"].contains(name) {
                                // No options (no body, `{}`): a cleanup, of nothing here (no rules).
                                #expect(try parseJSON(response.body)["removed"] == 0, "\(name) → \(path)")
                            } else {
                                #expect(Self.acceptable.contains(name), "\(name) → \(path) was accepted: \(status)")
                            }
                        }
                    }
                    #expect(try await client.execute(uri: "/health", method: .get).status == .ok)
                }
            }
        }
    }
}
