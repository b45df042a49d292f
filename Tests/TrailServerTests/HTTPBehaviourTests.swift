import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import TrailCore
import TrailServer
import TrailStore
import GRDB
import TrailTestSupport

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
            try expectProblem(try await client.execute(uri: "/audit/activity-stream/", method: .get), .notFound)
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
