import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import TrailCore
import TrailServer
@testable import TrailService
import TrailStore
import GRDB
import TrailTestSupport

extension HTTPField.Name {
    static let allowTest = HTTPField.Name("Allow")!
}

/// Edges of the HTTP contract beyond the conformance scenarios, through the real router.
@Suite struct HTTPBehaviourTests {
    func withApp(
        _ kind: StoreKind, maximumBodyBytes: Int = 10 * 1024 * 1024,
        _ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void
    ) async throws {
        try await withRouter(kind, configuration: ServerConfiguration(maximumBodyBytes: maximumBodyBytes, authentication: .disabled), body)
    }

    static let payload = #"{"actor":{"id":"1"},"verb":"create","object":{"id":"x","type":"t","n":1}}"#

    func expectProblem(_ response: TestResponse, _ status: HTTPResponse.Status, sourceLocation: SourceLocation = #_sourceLocation) throws {
        #expect(response.status == status, sourceLocation: sourceLocation)
        #expect(response.headers[.contentType] == "application/problem+json", sourceLocation: sourceLocation)
        let problem = try parseJSON(response.body)
        #expect(problem["status"]?.intValue == Int64(status.code), sourceLocation: sourceLocation)
        #expect(problem["title"]?.stringValue?.isEmpty == false, sourceLocation: sourceLocation)
        #expect(problem["detail"]?.stringValue?.isEmpty == false, sourceLocation: sourceLocation)
        #expect(problem["type"]?.stringValue?.hasPrefix("urn:trail:problem:") == true, sourceLocation: sourceLocation)
        #expect(problem["errors"]?.arrayValue != nil, sourceLocation: sourceLocation)
    }

    @Test(arguments: StoreKind.available)
    func pathsWithAndWithoutTrailingSlash(kind: StoreKind) async throws {
        try await withApp(kind) { client in
            for path in ["/audit/activity-stream", "/audit/activity-stream/", "/api/v1/audit/activity-stream", "/api/v1/audit/activity-stream/"] {
                let response = try await client.execute(uri: path, method: .post, headers: jsonHeaders, body: ByteBuffer(string: Self.payload))
                #expect(response.status == .created, "\(path)")
            }
        }
    }

    @Test(arguments: StoreKind.available)
    func bodyTooLargeIs413AndStoresNothing(kind: StoreKind) async throws {
        try await withApp(kind, maximumBodyBytes: 200) { client in
            let big = "[" + Array(repeating: Self.payload, count: 10).joined(separator: ",") + "]"
            try expectProblem(try await client.execute(uri: "/audit/activity-stream/", method: .post, headers: jsonHeaders, body: ByteBuffer(string: big)), .contentTooLarge)
            let small = try await client.execute(uri: "/audit/activity-stream/", method: .post, headers: jsonHeaders, body: ByteBuffer(string: Self.payload))
            #expect(try parseJSON(small.body)[0]?["sequence"]?.intValue == 1)
        }
    }

    @Test(arguments: StoreKind.available)
    func strictParsingErrorsAre400WithTheirPlace(kind: StoreKind) async throws {
        try await withApp(kind) { client in
            let deep = String(repeating: "[", count: 70) + String(repeating: "]", count: 70)
            try expectProblem(try await client.execute(uri: "/audit/activity-stream/", method: .post, headers: jsonHeaders, body: ByteBuffer(string: deep)), .badRequest)
            var invalid = ByteBuffer(string: #"{"actor":{"id":"1"},"verb":"create","object":{"id":"x","type":"t","n":""#)
            invalid.writeBytes([0xFF, 0x22, 0x7D, 0x7D])
            let response = try await client.execute(uri: "/audit/activity-stream/", method: .post, headers: jsonHeaders, body: invalid)
            try expectProblem(response, .badRequest)
            #expect(try parseJSON(response.body)["detail"]?.stringValue?.contains("UTF-8") == true)
            try expectProblem(try await client.execute(uri: "/audit/activity-stream/", method: .post, headers: jsonHeaders, body: ByteBuffer()), .badRequest)
        }
    }

    /// A number beyond the range of doubles has no RFC 8785 form, so its event could not be hashed (SPEC §8).
    @Test(arguments: StoreKind.available)
    func numbersWithoutCanonicalFormAre422WithTheirPath(kind: StoreKind) async throws {
        try await withApp(kind) { client in
            let body = #"[{"actor":{"id":"1"},"verb":"create","object":{"id":"x","type":"t","n":1}},{"actor":{"id":"1"},"verb":"create","object":{"id":"y","type":"t","sizes":[1,1e400]}}]"#
            let response = try await client.execute(uri: "/audit/activity-stream/", method: .post, headers: jsonHeaders, body: ByteBuffer(string: body))
            try expectProblem(response, .unprocessableContent)
            let error = try parseJSON(response.body)["errors"]?[0]
            #expect(error?["path"]?.stringValue == "[1].object.sizes[1]")
            #expect(error?["message"]?.stringValue?.contains("1e400") == true)
            let logs = try await client.execute(uri: "/api/v1/audit/logs/batch", method: .post, headers: jsonHeaders,
                                                body: ByteBuffer(string: #"{"logs":[{"action":"login","metadata":{"n":-1E+999}}]}"#))
            try expectProblem(logs, .unprocessableContent)
            let list = try await client.execute(uri: "/api/v1/audit/logs", method: .get)
            #expect(try parseJSON(list.body)["data"]?.arrayValue?.isEmpty == true, "nothing stored")
        }
    }

    @Test(arguments: StoreKind.available)
    func mediaTypes(kind: StoreKind) async throws {
        try await withApp(kind) { client in
            for accepted in ["application/json; charset=utf-8", "application/activity+json", "APPLICATION/JSON"] {
                let response = try await client.execute(uri: "/audit/activity-stream/", method: .post,
                                                        headers: [.contentType: accepted], body: ByteBuffer(string: Self.payload))
                #expect(response.status == .created, "\(accepted)")
            }
            for refused in ["text/plain", "application/x-www-form-urlencoded", "application/json; charset=latin1"] {
                try expectProblem(try await client.execute(uri: "/audit/activity-stream/", method: .post,
                                                           headers: [.contentType: refused], body: ByteBuffer(string: Self.payload)), .unsupportedMediaType)
            }
            // No Content-Type at all: taken as JSON.
            let bare = try await client.execute(uri: "/audit/activity-stream/", method: .post, headers: [:], body: ByteBuffer(string: Self.payload))
            #expect(bare.status == .created)
        }
    }

    @Test(arguments: StoreKind.available)
    func unknownRoutesAndMethodsAreProblems(kind: StoreKind) async throws {
        try await withApp(kind) { client in
            try expectProblem(try await client.execute(uri: "/nowhere", method: .get), .notFound)
            // A method the path lacks: 405 naming the ones it takes.
            let get = try await client.execute(uri: "/audit/activity-stream/", method: .get)
            try expectProblem(get, .methodNotAllowed)
            #expect(get.headers[.allowTest] == "OPTIONS, POST")
            for (path, method, allow) in [("/api/v1/audit/logs", HTTPRequest.Method.delete, "GET, HEAD, OPTIONS, POST"),
                                          ("/api/v1/audit/logs/batch", .get, "OPTIONS, POST"),
                                          ("/api/v1/resources/doc/a", .put, "GET, HEAD, OPTIONS"),
                                          ("/health", HTTPRequest.Method("PROPFIND")!, "GET, HEAD, OPTIONS")] {
                let response = try await client.execute(uri: path, method: method)
                try expectProblem(response, .methodNotAllowed)
                #expect(response.headers[.allowTest] == allow, "\(method) \(path)")
                #expect(response.headers[.xContentTypeOptionsTest] == "nosniff")
            }
            let options = try await client.execute(uri: "/api/v1/admin/keys/abc", method: .options)
            #expect(options.status == .noContent && options.headers[.allowTest] == "DELETE, OPTIONS")
        }
    }

    /// Requests the HTTP parser refuses get problem+json with the security headers, and the connection closes.
    @Test func protocolErrorsAreProblems() async throws {
        try await withFreshLocation(.sqlite) { location, _ in try await location.withStore { store in
            let app = buildApplication(configuration: ServerConfiguration(port: 0, authentication: .disabled), store: store)
            try await app.test(.live) { client in
                let port = try #require(client.port)
                let long = String(repeating: "a", count: 100_000)
                for (request, status, type) in [
                    ("FOO / HTTP/1.1\r\nHost: x\r\n\r\n", 501, "unknown-method"),
                    ("POST /audit/activity-stream/ HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n", 400, "bad-content-length"),
                    ("GET /api/v1/audit/logs?q=\(long) HTTP/1.1\r\nHost: x\r\n\r\n", 431, "request-head-too-large"),
                    ("GET /health HTTP/1.1\r\nHost: x\r\nX-Long: \(long)\r\n\r\n", 431, "request-head-too-large"),
                ] {
                    let answer = try RawHTTP.exchange(port: port, request)
                    #expect(answer.hasPrefix("HTTP/1.1 \(status) "), "\(answer.prefix(200))")
                    #expect(answer.contains("Content-Type: application/problem+json"))
                    #expect(answer.contains("X-Content-Type-Options: nosniff") && answer.contains("Cache-Control: no-store"))
                    #expect(answer.contains("\"type\":\"urn:trail:problem:\(type)\""), "\(answer)")
                }
            }
        } }
    }

    /// HEAD answers every GET route with its status and headers and no body.
    @Test(arguments: StoreKind.available)
    func headAnswersEveryGetRoute(kind: StoreKind) async throws {
        // The signer looks once, at start, so a checkpoint signed between the GET and the HEAD of a proof cannot
        // change its answer.
        try await withRouter(kind, checkpoints: CheckpointConfiguration(pollInterval: .seconds(3_600))) { client in
            let created = try await client.execute(uri: "/audit/activity-stream/", method: .post, headers: jsonHeaders,
                                                   body: ByteBuffer(string: Self.payload))
            let id = try #require(try parseJSON(created.body)[0]?["id"]?.stringValue)
            let routes = RouteTable()
            try await withFreshLocation(.sqlite) { location, _ in
                try await location.withStore { store in _ = buildRouter(configuration: ServerConfiguration(), store: store, routes: routes) }
            }
            let gets = routes.all.filter { $0.method == .get }
            #expect(gets.count >= 15)
            for route in gets {
                let path = route.path.replacingOccurrences(of: "/audit/logs/{id}", with: "/audit/logs/\(id)")
                    .replacingOccurrences(of: "/inclusion/{id}", with: "/inclusion/\(id)")
                    .replacingOccurrences(of: "{type}", with: "t").replacingOccurrences(of: "{id}", with: "x")
                let query = route.path.hasSuffix("/consistency") ? "?from=1&to=1" : ""
                if route.path == "/api/v1/audit/stream" {
                    // A GET never ends there (StreamTests reads it); HEAD answers the headers of a stream.
                    let head = try await client.execute(uri: path, method: .head)
                    #expect(head.status == .ok && head.headers[.contentType] == "text/event-stream; charset=utf-8")
                    #expect(head.body.readableBytes == 0)
                    continue
                }
                let get = try await client.execute(uri: path + query, method: .get)
                let head = try await client.execute(uri: path + query, method: .head)
                #expect(head.status == get.status, "\(route)")
                #expect(head.headers[.contentType] == get.headers[.contentType], "\(route)")
                #expect(head.body.readableBytes == 0, "\(route)")
            }
        }
    }

    /// Ids in paths are percent-decoded, as every HTTP client encodes them.
    @Test(arguments: StoreKind.available)
    func idsInPathsArePercentDecoded(kind: StoreKind) async throws {
        // The signer looks once, at start: the event has no checkpoint to be proven in, however slow the machine.
        try await withRouter(kind, checkpoints: CheckpointConfiguration(pollInterval: .seconds(3_600))) { client in
            let ids = ["my doc", "a/b", "x@y.z", "100%", "naïve ☃", "q?#&=+"]
            for (n, id) in ids.enumerated() {
                var object = JSONObject()
                object.append("id", .string(id))
                object.append("type", "doc type")
                object.append("n", .number(JSONNumber(n)))
                var actor = JSONObject()
                actor.append("id", "john@example.com")
                var payload = JSONObject()
                payload.append("actor", .object(actor))
                payload.append("verb", "update")
                payload.append("object", .object(object))
                let created = try await client.execute(uri: "/audit/activity-stream/", method: .post, headers: jsonHeaders,
                                                       body: jsonBody(.object(payload)))
                #expect(created.status == .created)
            }
            func encoded(_ text: String) -> String { text.addingPercentEncoding(withAllowedCharacters: .alphanumerics)! }
            for id in ids {
                let base = "/api/v1/resources/\(encoded("doc type"))/\(encoded(id))"
                let state = try await client.execute(uri: base, method: .get)
                #expect(state.status == .ok, "\(id)")
                #expect(try parseJSON(state.body)["id"]?.stringValue == id)
                #expect(try parseJSON(try await client.execute(uri: base + "?version=1", method: .get).body)["version"]?.intValue == 1)
                let history = try parseJSON(try await client.execute(uri: base + "/history", method: .get).body)
                #expect(history["data"]?.arrayValue?.count == 1, "\(id)")
                #expect(history["data"]?[0]?["resource"]?["id"]?.stringValue == id)
            }
            let activity = try parseJSON(try await client.execute(uri: "/api/v1/actors/john%40example.com/activity", method: .get).body)
            #expect(activity["data"]?.arrayValue?.count == ids.count)
            // Every other route with an id in its path decodes it too (here each character encoded).
            func everyCharacter(_ text: String) -> String { text.utf8.map { String(format: "%%%02X", $0) }.joined() }
            let eventId = try #require(activity["data"]?[0]?["id"]?.stringValue)
            let event = try parseJSON(try await client.execute(uri: "/api/v1/audit/logs/\(everyCharacter(eventId))", method: .get).body)
            #expect(event["id"]?.stringValue == eventId)
            // (An explicit size: whether the signer has made a checkpoint yet does not matter.)
            let sequence = try #require(event["sequence"]?.intValue)
            let proof = try parseJSON(try await client.execute(uri: "/api/v1/integrity/proofs/inclusion/\(everyCharacter(eventId))?size=\(sequence)", method: .get).body)
            #expect(proof["event_id"]?.stringValue == eventId, "the event was found: \(proof)")
            let queued = try parseJSON(try await client.execute(uri: "/audit/activity-stream/?async=true", method: .post, headers: jsonHeaders,
                                                                 body: ByteBuffer(string: Self.payload)).body)
            let messageId = try #require(queued["message_id"]?.stringValue)
            #expect(try parseJSON(try await client.execute(uri: "/api/v1/messages/\(everyCharacter(messageId))", method: .get).body)["message_id"]?.stringValue == messageId)
            let key = try parseJSON(try await client.execute(uri: "/api/v1/admin/keys", method: .post, headers: jsonHeaders,
                                                              body: ByteBuffer(string: #"{"role":"reader"}"#)).body)
            let keyId = try #require(key["id"]?.stringValue)
            let revoked = try await client.execute(uri: "/api/v1/admin/keys/\(everyCharacter(keyId))", method: .delete)
            let revokedAt = try parseJSON(revoked.body)["revoked_at"]?.stringValue
            #expect(revoked.status == .ok && revokedAt != nil)
            let bad = try await client.execute(uri: "/api/v1/resources/doc/%E2%28", method: .get)
            try expectProblem(bad, .badRequest)
        }
    }

    /// A batch with thousands of bad items is refused with the first 100 errors and the count of all.
    @Test(arguments: StoreKind.available)
    func errorListsAreCapped(kind: StoreKind) async throws {
        try await withApp(kind) { client in
            let items = (0..<2_500).map { _ in #"{"verb":"create","object":{"id":"x","type":"t"}}"# }
            let response = try await client.execute(uri: "/audit/activity-stream/", method: .post, headers: jsonHeaders,
                                                    body: ByteBuffer(string: "[" + items.joined(separator: ",") + "]"))
            try expectProblem(response, .unprocessableContent)
            let problem = try parseJSON(response.body)
            #expect(problem["errors"]?.arrayValue?.count == 100)
            #expect(problem["errors"]?[99]?["index"]?.intValue == 99)
            #expect(problem["detail"]?.stringValue?.contains("2500 errors (the first 100 are listed in errors)") == true, "\(problem)")
            let few = try await client.execute(uri: "/audit/activity-stream/", method: .post, headers: jsonHeaders,
                                               body: ByteBuffer(string: "[" + items.prefix(3).joined(separator: ",") + "]"))
            #expect(try parseJSON(few.body)["detail"]?.stringValue?.hasSuffix("3 errors (see errors).") == true)
            #expect(try parseJSON(try await client.execute(uri: "/api/v1/audit/logs", method: .get).body)["data"]?.arrayValue?.isEmpty == true)
        }
    }

    /// A query parameter a route does not read is refused, naming it, instead of being ignored.
    @Test(arguments: StoreKind.available)
    func unknownQueryParametersAreRefused(kind: StoreKind) async throws {
        try await withApp(kind) { client in
            _ = try await client.execute(uri: "/audit/activity-stream/", method: .post, headers: jsonHeaders, body: ByteBuffer(string: Self.payload))
            for (uri, name, suggestion) in [("/api/v1/audit/logs?user=12", "user", "actor"),
                                            ("/api/v1/audit/logs?limt=1", "limt", "limit"),
                                            ("/api/v1/audit/logs/summary?cursor=x", "cursor", nil),
                                            ("/api/v1/audit/logs/export?format=csv&limit=5", "limit", nil),
                                            ("/api/v1/resources/t/x/history?verison=1", "verison", nil),
                                            ("/api/v1/resources/t/x?versoin=1", "versoin", "version"),
                                            ("/api/v1/messages?state=failed", "state", "status"),
                                            ("/health?x=1", "x", nil),
                                            ("/audit/activity-stream/?asyn=true", "asyn", "async")] as [(String, String, String?)] {
                let response = try await client.execute(uri: uri, method: uri.contains("activity-stream") ? .post : .get,
                                                        headers: jsonHeaders, body: ByteBuffer(string: Self.payload))
                try expectProblem(response, .badRequest)
                let problem = try parseJSON(response.body)
                #expect(problem["errors"]?[0]?["path"]?.stringValue == name, "\(uri)")
                if let suggestion {
                    #expect(problem["detail"]?.stringValue?.contains("did you mean \(suggestion)?") == true, "\(uri): \(problem)")
                }
            }
            let twice = try await client.execute(uri: "/api/v1/audit/logs?actor=1&actor=2", method: .get)
            try expectProblem(twice, .badRequest)
            #expect(try await client.execute(uri: "/api/v1/audit/logs?actor=1&limit=5", method: .get).status == .ok)
        }
    }

    @Test(arguments: StoreKind.available)
    func wrapperIdReplaysTheFirstResponse(kind: StoreKind) async throws {
        try await withApp(kind) { client in
            let wrapped = #"{"type":"audit_logs","id":"w-1","payload":{"actor":"1","verb":"create","type":"t","id":"a","n":1}}"#
            let first = try await client.execute(uri: "/api/v1/audit/activity-stream/", method: .post, headers: jsonHeaders, body: ByteBuffer(string: wrapped))
            let second = try await client.execute(uri: "/api/v1/audit/activity-stream/", method: .post, headers: jsonHeaders, body: ByteBuffer(string: wrapped))
            #expect(first.status == .created)
            #expect(String(buffer: first.body) == String(buffer: second.body))
            let changed = wrapped.replacingOccurrences(of: "\"n\":1", with: "\"n\":2")
            try expectProblem(try await client.execute(uri: "/api/v1/audit/activity-stream/", method: .post, headers: jsonHeaders, body: ByteBuffer(string: changed)), .conflict)
            let next = try await client.execute(uri: "/audit/activity-stream/", method: .post, headers: jsonHeaders, body: ByteBuffer(string: Self.payload))
            #expect(try parseJSON(next.body)[0]?["sequence"]?.intValue == 2, "the replay stored nothing")
        }
    }

    @Test(arguments: StoreKind.available)
    func badIdempotencyKeyHeader(kind: StoreKind) async throws {
        try await withApp(kind) { client in
            let long = String(repeating: "k", count: 256)
            try expectProblem(try await client.execute(uri: "/audit/activity-stream/", method: .post,
                                                       headers: [.contentType: "application/json", HTTPField.Name("Idempotency-Key")!: long],
                                                       body: ByteBuffer(string: Self.payload)), .badRequest)
        }
    }

    @Test(arguments: StoreKind.available)
    func recordFormat(kind: StoreKind) async throws {
        try await withApp(kind) { client in
            let response = try await client.execute(uri: "/audit/activity-stream/", method: .post, headers: jsonHeaders, body: ByteBuffer(string: Self.payload))
            let record = try #require(try parseJSON(response.body)[0]?.objectValue)
            #expect(record.keys == ["id", "actor", "verb", "object", "description", "version", "sequence", "created_at", "updated_at"])
            let created = try #require(record["created_at"]?.stringValue)
            #expect(created == record["updated_at"]?.stringValue)
            #expect(created.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00/) != nil)
            #expect(UUID(uuidString: record["id"]!.stringValue!) != nil)
        }
    }

    @Test func lockedStorageIs503WithRetryAfterAndStoresNothing() async throws {
        try await withFreshLocation(.sqlite) { _, fresh in
            let store = try SQLiteEventStore(path: fresh.text, busyTimeoutSeconds: 0.2)
            let app = buildApplication(configuration: ServerConfiguration(authentication: .disabled), store: store)
            // Another process holds SQLite's write lock for longer than the store's busy timeout.
            var unsafe = Configuration()
            unsafe.allowsUnsafeTransactions = true  // to hold the lock across two accesses
            let other = try DatabaseQueue(path: fresh.text, configuration: unsafe)
            try await app.test(.router) { client in
                try await other.writeWithoutTransaction { db in
                    try db.execute(sql: "BEGIN IMMEDIATE")
                }
                let refused = try await client.execute(uri: "/audit/activity-stream/", method: .post, headers: jsonHeaders, body: ByteBuffer(string: Self.payload))
                try expectProblem(refused, .serviceUnavailable)
                #expect(refused.headers[.retryAfter] == "1")
                try await other.writeWithoutTransaction { db in try db.execute(sql: "ROLLBACK") }
                let accepted = try await client.execute(uri: "/audit/activity-stream/", method: .post, headers: jsonHeaders, body: ByteBuffer(string: Self.payload))
                #expect(try parseJSON(accepted.body)[0]?["sequence"]?.intValue == 1)
            }
        }
    }

    @Test func matcherFindsDifferences() throws {
        let expected = try JSONParser.parse(#"{"a":[1,{"fields":{"x":[null,1],"y":[null,2]}}],"b":null}"#)
        #expect(ConformanceMatcher.mismatches(expected: expected, actual: expected).isEmpty)
        let reordered = try JSONParser.parse(#"{"a":[1.0,{"fields":{"y":[null,2],"x":[null,1]}}],"b":null,"extra":1}"#)
        #expect(ConformanceMatcher.mismatches(expected: expected, actual: reordered).count == 1, "fields order matters")
        let missing = try JSONParser.parse(#"{"a":[1,{"fields":{"x":[null,1],"y":[null,2]}}]}"#)
        #expect(!ConformanceMatcher.mismatches(expected: expected, actual: missing).isEmpty, "an expected null needs the key")
        let shorter = try JSONParser.parse(#"{"a":[1],"b":null}"#)
        #expect(!ConformanceMatcher.mismatches(expected: expected, actual: shorter).isEmpty)
    }
}
