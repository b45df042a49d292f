import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Testing
import TrailCore
@testable import TrailServer
@testable import TrailService
import TrailStore
import TrailTestSupport

/// Authentication, roles and tenant isolation (SPEC §7) through the real router, on every available store.
@Suite struct SecurityTests {
    /// Keys of two tenants, and what tenant acme stored before the matrix runs.
    struct World: Sendable {
        var keys: [String: String] = [:]       // name → key text
        var acmeEventIds: [String] = []
        var acmeKeyIds: [String] = []
        var acmeMessageId = ""
        var revokedKeyId = ""
        static let marker = "acmeconfidential"
    }

    static func header(_ key: String) -> HTTPFields {
        [.contentType: "application/json", .authorization: "ApiKey \(key)"]
    }

    /// A router with authentication on (the default configuration) over a fresh store with keys for tenants
    /// acme and globex, and a few acme events.
    static func withWorld(_ kind: StoreKind, _ body: @escaping @Sendable (any TestClientProtocol, World, any TrailStorage) async throws -> Void) async throws {
        try await withFreshLocation(kind) { location, _ in
            try await location.withStore { store in
                var world = World()
                for (tenant, role) in [("acme", Role.writer), ("acme", .reader), ("acme", .auditor), ("acme", .admin),
                                       ("globex", .writer), ("globex", .reader), ("globex", .admin)] {
                    let (key, text) = try await store.createKey(tenant: tenant, role: role, name: "\(tenant) \(role)")
                    world.keys["\(tenant)-\(role.rawValue)"] = text
                    if tenant == "acme" { world.acmeKeyIds.append(key.id) }
                }
                let (revoked, revokedText) = try await store.createKey(tenant: "acme", role: .reader, name: "gone")
                _ = try await store.revokeKey(tenant: nil, id: revoked.id)
                world.keys["acme-revoked"] = revokedText
                world.revokedKeyId = revoked.id
                world.acmeKeyIds.append(revoked.id)

                try await buildApplication(configuration: ServerConfiguration(), store: store).test(.router) { [world] client in
                    var world = world
                    let acme = Self.header(world.keys["acme-writer"]!)
                    for body in [
                        #"{"actor":{"id":"1","name":"Ann"},"verb":"create","object":{"id":"i-1","type":"invoice","note":"\#(World.marker)"}}"#,
                        #"{"actor":{"id":"1"},"verb":"update","object":{"id":"i-1","type":"invoice","note":"\#(World.marker) 2"}}"#,
                    ] {
                        let response = try await client.execute(uri: "/audit/activity-stream/", method: .post, headers: acme,
                                                                body: ByteBuffer(string: body))
                        #expect(response.status == .created)
                        world.acmeEventIds.append(try #require(try parseJSON(response.body)[0]?["id"]?.stringValue))
                    }
                    var async = acme
                    async[HTTPField.Name("Prefer")!] = "respond-async"
                    let queued = try await client.execute(uri: "/api/v1/audit/logs", method: .post, headers: async,
                                                          body: ByteBuffer(string: #"{"action":"login","user_id":"1","metadata":{"m":"\#(World.marker)"}}"#))
                    #expect(queued.status == .accepted)
                    world.acmeMessageId = try #require(try parseJSON(queued.body)["message_id"]?.stringValue)
                    // The queue's workers store it meanwhile: wait, bounded, so every test starts from the same world.
                    for _ in 0..<200 {
                        let message = try await client.execute(uri: "/api/v1/messages/\(world.acmeMessageId)", method: .get, headers: acme)
                        if try parseJSON(message.body)["status"] == "completed" { break }
                        try await Task.sleep(for: .milliseconds(25))
                    }
                    let globex = try await client.execute(
                        uri: "/audit/activity-stream/", method: .post, headers: Self.header(world.keys["globex-writer"]!),
                        body: ByteBuffer(string: #"{"actor":{"id":"9"},"verb":"create","object":{"id":"c-1","type":"contract","title":"globex only"}}"#))
                    #expect(globex.status == .created)
                    try await Checkpointer(store: store, configuration: CheckpointConfiguration(), logger: Logger(label: "test")).signDue()
                    try await body(client, world, store)
                }
            }
        }
    }

    struct Endpoint: Sendable, CustomStringConvertible {
        var method: HTTPRequest.Method
        var uri: String
        var body: String?
        var permission: Permission
        var description: String { "\(method) \(uri)" }
    }

    static func endpoints(_ world: World) -> [Endpoint] {
        let event = #"{"actor":{"id":"1"},"verb":"create","object":{"id":"n-\#(UUID().uuidString)","type":"note"}}"#
        return [
            Endpoint(method: .post, uri: "/audit/activity-stream/", body: event, permission: .ingest),
            Endpoint(method: .post, uri: "/api/v1/audit/activity-stream/", body: event, permission: .ingest),
            Endpoint(method: .post, uri: "/api/v1/audit/logs", body: #"{"action":"login","user_id":"1"}"#, permission: .ingest),
            Endpoint(method: .post, uri: "/api/v1/audit/logs/batch", body: #"{"logs":[{"action":"login","user_id":"1"}]}"#, permission: .ingest),
            Endpoint(method: .get, uri: "/api/v1/audit/logs", permission: .read),
            Endpoint(method: .get, uri: "/api/v1/audit/logs?q=\(World.marker)", permission: .read),
            Endpoint(method: .get, uri: "/api/v1/audit/logs/\(world.acmeEventIds[0])", permission: .read),
            Endpoint(method: .get, uri: "/api/v1/audit/logs/summary", permission: .read),
            Endpoint(method: .get, uri: "/api/v1/audit/logs/export?format=csv", permission: .read),
            Endpoint(method: .get, uri: "/api/v1/audit/logs/export?format=ndjson", permission: .read),
            Endpoint(method: .get, uri: "/api/v1/resources/invoice/i-1/history", permission: .read),
            Endpoint(method: .get, uri: "/api/v1/resources/invoice/i-1", permission: .read),
            Endpoint(method: .get, uri: "/api/v1/resources/invoice/i-1?version=1", permission: .read),
            Endpoint(method: .get, uri: "/api/v1/actors/1/activity", permission: .read),
            Endpoint(method: .get, uri: "/api/audit/logs/", permission: .read),
            Endpoint(method: .get, uri: "/api/audit/logs/summary/", permission: .read),
            Endpoint(method: .get, uri: "/api/audit/logs/my_activity/?actor=1", permission: .read),
            Endpoint(method: .get, uri: "/api/v1/messages", permission: .messages),
            Endpoint(method: .get, uri: "/api/v1/messages/\(world.acmeMessageId)", permission: .messages),
            Endpoint(method: .get, uri: "/api/v1/admin/keys", permission: .manageKeys),
            Endpoint(method: .post, uri: "/api/v1/admin/keys", body: #"{"role":"reader","name":"matrix"}"#, permission: .manageKeys),
            Endpoint(method: .delete, uri: "/api/v1/admin/keys/\(world.revokedKeyId)", permission: .manageKeys),
            Endpoint(method: .get, uri: "/api/v1/integrity/checkpoints/latest", permission: .read),
            Endpoint(method: .get, uri: "/api/v1/integrity/proofs/inclusion/\(world.acmeEventIds[0])", permission: .read),
            Endpoint(method: .get, uri: "/api/v1/integrity/proofs/consistency?from=1", permission: .read),
            Endpoint(method: .post, uri: "/api/v1/integrity/verify", permission: .verify),
        ]
    }

    /// Every endpoint × {no credentials, malformed, unknown key, wrong secret, revoked key, wrong role, another
    /// tenant's key, the right key}.
    @Test(arguments: StoreKind.available)
    func everyEndpointRefusesWhomItShould(kind: StoreKind) async throws {
        try await Self.withWorld(kind) { client, world, _ in
            let valid = world.keys["acme-writer"]!
            let parsed = try #require(APIKeyText(parsing: valid))
            let wrongSecret = APIKeyText(id: parsed.id, secret: String(repeating: "A", count: 43)).text
            let unknown = APIKeyText(id: "0123456789abcdef", secret: parsed.secret).text
            let unauthenticated: [(String, HTTPFields)] = [
                ("none", [.contentType: "application/json"]),
                ("malformed", [.contentType: "application/json", .authorization: "Bearer not-a-key"]),
                ("other scheme", [.contentType: "application/json", .authorization: "Basic \(valid)"]),
                ("unknown", Self.header(unknown)),
                ("wrong secret", Self.header(wrongSecret)),
                ("revoked", Self.header(world.keys["acme-revoked"]!)),
            ]
            for endpoint in Self.endpoints(world) {
                func call(_ headers: HTTPFields) async throws -> TestResponse {
                    try await client.execute(uri: endpoint.uri, method: endpoint.method, headers: headers,
                                             body: endpoint.body.map { ByteBuffer(string: $0) })
                }
                for (name, headers) in unauthenticated {
                    let response = try await call(headers)
                    #expect(response.status == .unauthorized, "\(endpoint) with \(name) credentials")
                    #expect(response.headers[.contentType] == "application/problem+json")
                    #expect(response.headers[.wwwAuthenticate]?.contains("ApiKey") == true)
                    #expect(!String(buffer: response.body).contains(World.marker))
                }
                // The right role, and each role the permission does not grant.
                for role in Role.allCases {
                    let headers = Self.header(world.keys["acme-\(role.rawValue)"]!)
                    let response = try await call(headers)
                    if role.allows(endpoint.permission) {
                        #expect((200..<300).contains(response.status.code), "\(endpoint) as acme \(role): \(response.status) \(String(buffer: response.body))")
                    } else {
                        #expect(response.status == .forbidden, "\(endpoint) as acme \(role)")
                        #expect(response.headers[.contentType] == "application/problem+json")
                        #expect(String(buffer: response.body).contains(endpoint.permission.roles.map(\.rawValue).joined(separator: " or ")))
                    }
                }
                // Another tenant's admin may call everything, and sees none of acme's data.
                let response = try await call(Self.header(world.keys["globex-admin"]!))
                let text = String(buffer: response.body)
                #expect(response.status.code < 500, "\(endpoint) as globex")
                #expect(!text.contains(World.marker), "\(endpoint) as globex leaked acme's data: \(text)")
                for id in world.acmeEventIds + world.acmeKeyIds + [world.acmeMessageId] where !endpoint.uri.contains(id) {
                    #expect(!text.contains(id), "\(endpoint) as globex leaked acme's id \(id)")
                }
                if endpoint.uri.contains(world.acmeEventIds[0]) || endpoint.uri.contains("/resources/invoice/i-1?")
                    || endpoint.uri.hasSuffix("/resources/invoice/i-1") || endpoint.uri.contains(world.acmeMessageId)
                    || endpoint.uri.contains(world.revokedKeyId) {
                    #expect(response.status == .notFound, "\(endpoint) as globex")
                }
            }
        }
    }

    /// Counts and lists of one tenant hold that tenant's events only; writes land in the writer's tenant.
    @Test(arguments: StoreKind.available)
    func tenantsSeeOnlyTheirOwnEvents(kind: StoreKind) async throws {
        try await Self.withWorld(kind) { client, world, store in
            let globex = Self.header(world.keys["globex-reader"]!)
            let list = try parseJSON(try await client.execute(uri: "/api/v1/audit/logs", method: .get, headers: globex).body)
            let events = try #require(list["data"]?.arrayValue)
            #expect(events.count == 1 && events[0]["tenant"] == "globex" && events[0]["resource"]?["id"] == "c-1")
            let summary = String(buffer: try await client.execute(uri: "/api/v1/audit/logs/summary", method: .get, headers: globex).body)
            #expect(summary.contains("\"contract\"") && !summary.contains("\"invoice\""))
            let export = String(buffer: try await client.execute(uri: "/api/v1/audit/logs/export?format=ndjson", method: .get, headers: globex).body)
            #expect(export.split(separator: "\n").count == 1)
            let history = try parseJSON(try await client.execute(uri: "/api/v1/resources/invoice/i-1/history", method: .get, headers: globex).body)
            #expect(history["data"]?.arrayValue?.isEmpty == true)
            // The store itself keeps them apart.
            #expect(try await store.events(tenant: "acme", matching: EventQuery()).count == 3)
            #expect(try await store.events(tenant: "globex", matching: EventQuery()).map(\.tenant) == ["globex"])
            let acmeKeys = try parseJSON(try await client.execute(uri: "/api/v1/admin/keys", method: .get,
                                                                  headers: Self.header(world.keys["acme-admin"]!)).body)
            #expect(acmeKeys["data"]?.arrayValue?.allSatisfy { $0["tenant"] == "acme" && $0["key"] == nil } == true)
            #expect(acmeKeys["data"]?.arrayValue?.count == world.acmeKeyIds.count)
        }
    }

    /// A record of a read keeps the route and the route's own parameters, each cut short: a 50 KB query adds a
    /// few hundred bytes to the log, whatever its parameters.
    @Test(arguments: StoreKind.available)
    func accessRecordsAreBounded(kind: StoreKind) async throws {
        try await Self.withWorld(kind) { client, world, store in
            let reader = Self.header(world.keys["acme-reader"]!)
            let long = String(repeating: "zebra ", count: 8_500)  // 51 KB
            for query in ["q=\(long.replacingOccurrences(of: " ", with: "+"))", "actor=\(String(repeating: "a", count: 50_000))",
                          "\(String(repeating: "x", count: 50_000))=1"] {
                let response = try await client.execute(uri: "/api/v1/audit/logs?\(query)", method: .get, headers: reader)
                #expect([.ok, .badRequest].contains(response.status))
                let record = try #require(try await store.events(tenant: "acme", matching: EventQuery(category: EventQuery.accessCategory, limit: 1)).first)
                let stored = JSONWriter.encode(.object(try #require(record.metadata)))
                #expect(stored.count < 600, "\(stored.count) bytes: \(String(decoding: stored.prefix(300), as: UTF8.self))")
                #expect(record.metadata?["route"] == "/api/v1/audit/logs")
                #expect(record.summary.utf8.count < 300)
            }
        }
    }

    /// A read refused by a use case (nothing there) is recorded with the status the caller got, not as a 500.
    @Test(arguments: StoreKind.available)
    func refusedReadsAreRecordedWithTheirStatus(kind: StoreKind) async throws {
        try await Self.withWorld(kind) { client, world, store in
            let reader = Self.header(world.keys["acme-reader"]!)
            for uri in ["/api/v1/integrity/proofs/inclusion/no-such-event", "/api/v1/integrity/proofs/consistency"] {
                let response = try await client.execute(uri: uri, method: .get, headers: reader)
                let record = try #require(try await store.events(tenant: "acme", matching: EventQuery(category: EventQuery.accessCategory, limit: 1)).first)
                #expect(record.metadata?["status"]?.intValue == Int64(response.status.code), "\(uri)")
                #expect([404, 400].contains(response.status.code), "\(uri)")
                #expect(record.outcome == .failure)
            }
        }
    }

    /// A parameter holding NUL (`%00`), in the query or the path, is refused with 400 on both stores (PostgreSQL
    /// refused it with a 500 before), and the refusal's access record reads back (NUL kept as U+FFFD; it once made
    /// every later list of access records fail with 500). Both found by schemathesis.
    @Test(arguments: StoreKind.available)
    func nulInParametersIsRefusedAndRecordedReadably(kind: StoreKind) async throws {
        try await Self.withWorld(kind) { client, world, store in
            let reader = Self.header(world.keys["acme-reader"]!)
            for uri in ["/api/v1/audit/logs?category=a%00b", "/api/audit/logs/summary?action=%00", "/api/v1/audit/logs/ab%00",
                        "/api/v1/resources/invoice/i%00/history", "/api/audit/logs?model=%00"] {
                let response = try await client.execute(uri: uri, method: .get, headers: reader)
                #expect(response.status == .badRequest, "\(uri)")
                #expect(response.headers[.contentType] == "application/problem+json")
            }
            let listed = try await client.execute(uri: "/api/v1/audit/logs?category=AUDIT_ACCESS", method: .get, headers: reader)
            #expect(listed.status == .ok)
            let record = try #require(try parseJSON(listed.body)["data"]?[0])
            #expect(record["metadata"]?["query"]?["model"] == "\u{FFFD}")
        }
    }

    /// Reads, exports, refused reads, key creation and revocation and refused keys are recorded as AUDIT_ACCESS
    /// events in the caller's tenant, and appear only when that category is asked for.
    @Test(arguments: StoreKind.available)
    func accessToTheLogIsRecorded(kind: StoreKind) async throws {
        try await Self.withWorld(kind) { client, world, store in
            let reader = Self.header(world.keys["acme-reader"]!)
            let readerId = try #require(APIKeyText(parsing: world.keys["acme-reader"]!)).id
            let before = try await store.events(tenant: "acme", matching: EventQuery(category: EventQuery.accessCategory)).count
            #expect(try await client.execute(uri: "/api/v1/audit/logs?actor=1", method: .get, headers: reader).status == .ok)
            #expect(try await client.execute(uri: "/api/v1/audit/logs/export?format=csv", method: .get, headers: reader).status == .ok)
            #expect(try await client.execute(uri: "/api/v1/resources/invoice/nope", method: .get, headers: reader).status == .notFound)
            #expect(try await client.execute(uri: "/api/v1/audit/logs", method: .get,
                                             headers: Self.header(world.keys["acme-writer"]!)).status == .forbidden)
            let admin = Self.header(world.keys["acme-admin"]!)
            let created = try parseJSON(try await client.execute(uri: "/api/v1/admin/keys", method: .post, headers: admin,
                                                                 body: ByteBuffer(string: #"{"role":"reader"}"#)).body)
            let createdId = try #require(created["id"]?.stringValue)
            #expect(try await client.execute(uri: "/api/v1/admin/keys/\(createdId)", method: .delete, headers: admin).status == .ok)
            // A verification reads the whole log.
            let auditor = Self.header(world.keys["acme-auditor"]!)
            #expect(try await client.execute(uri: "/api/v1/integrity/verify", method: .post, headers: auditor).status == .ok)
            // A revoked key tried 15 times: recorded 10 times (10 a minute per key).
            for _ in 0..<15 {
                #expect(try await client.execute(uri: "/api/v1/audit/logs", method: .get,
                                                 headers: Self.header(world.keys["acme-revoked"]!)).status == .unauthorized)
            }

            // Lists, summaries and exports leave them out unless asked for.
            let plain = try parseJSON(try await client.execute(uri: "/api/v1/audit/logs?limit=1000", method: .get, headers: reader).body)
            #expect(plain["data"]?.arrayValue?.allSatisfy { $0["category"] != .string(EventQuery.accessCategory) } == true)
            #expect(plain["data"]?.arrayValue?.count == 3)
            let export = String(buffer: try await client.execute(uri: "/api/v1/audit/logs/export?format=ndjson", method: .get, headers: reader).body)
            #expect(!export.contains(EventQuery.accessCategory))
            let summary = String(buffer: try await client.execute(uri: "/api/v1/audit/logs/summary", method: .get, headers: reader).body)
            #expect(!summary.contains("exported") && !summary.contains("api_key_created"))

            let access = try parseJSON(try await client.execute(uri: "/api/v1/audit/logs?category=AUDIT_ACCESS&limit=1000", method: .get, headers: reader).body)
            let events = try #require(access["data"]?.arrayValue).reversed().map { $0 }
            #expect(events.allSatisfy { $0["tenant"] == "acme" && $0["category"] == "AUDIT_ACCESS" })
            let mine = events.dropFirst(before)
            let actions = mine.map { $0["action"]?.stringValue ?? "" }
            #expect(actions.prefix(7) == ["read", "exported", "read", "read", "api_key_created", "api_key_revoked", "verified"], "\(actions)")
            // The log with its records of reads is still one unbroken chain.
            let chain = try parseJSON(try await client.execute(uri: "/api/v1/integrity/verify", method: .post, headers: auditor).body)
            #expect(chain["valid"] == true, "\(chain)")
            #expect(actions.filter { $0 == "authentication_failed" }.count == 10)
            let list = try #require(mine.first)
            #expect(list["actor"]?["id"]?.stringValue == readerId && list["actor"]?["type"] == "api_key")
            #expect(list["metadata"]?["route"] == "/api/v1/audit/logs" && list["metadata"]?["path"] == "/api/v1/audit/logs")
            #expect(list["metadata"]?["query"]?["actor"] == "1" && list["metadata"]?["query"]?.objectValue?.count == 1)
            #expect(list["metadata"]?["status"]?.intValue == 200 && list["outcome"] == "success")
            #expect(list["context"]?["request_id"]?.stringValue != nil)
            let refused = mine.dropFirst(2).prefix(2)
            #expect(refused.map { $0["metadata"]?["status"]?.intValue } == [404, 403] && refused.allSatisfy { $0["outcome"] == "failure" })
            #expect(mine.dropFirst(4).first?["metadata"]?["key_id"]?.stringValue == createdId)
            #expect(!String(describing: mine).contains(created["key"]?.stringValue ?? "-"))
            // (The reads just above are recorded after the failures.)
            #expect(actions.suffix(3) == ["read", "exported", "read"])
            let failed = try #require(mine.last { $0["action"] == "authentication_failed" })
            #expect(failed["actor"]?["id"]?.stringValue == world.revokedKeyId && failed["metadata"]?["reason"] == "revoked")
            // Records of reads are not searchable (each would hold the words of the search it records).
            let searched = try parseJSON(try await client.execute(uri: "/api/v1/audit/logs?q=\(World.marker)", method: .get, headers: reader).body)
            #expect(searched["data"]?.arrayValue?.allSatisfy { $0["category"] != .string(EventQuery.accessCategory) } == true)
            #expect(searched["data"]?.arrayValue?.isEmpty == false)
            let searchedAccess = try parseJSON(try await client.execute(uri: "/api/v1/audit/logs?q=\(World.marker)&category=AUDIT_ACCESS",
                                                                        method: .get, headers: reader).body)
            #expect(searchedAccess["data"]?.arrayValue?.isEmpty == true)
            // globex sees none of it.
            let globex = try parseJSON(try await client.execute(uri: "/api/v1/audit/logs?category=AUDIT_ACCESS&limit=1000", method: .get,
                                                                headers: Self.header(world.keys["globex-reader"]!)).body)
            #expect(globex["data"]?.arrayValue?.allSatisfy { $0["tenant"] == "globex" } == true)
        }
    }
}

extension HTTPField.Name {
    static let xContentTypeOptionsTest = HTTPField.Name("X-Content-Type-Options")!
}
