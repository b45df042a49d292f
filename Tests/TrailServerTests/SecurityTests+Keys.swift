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

/// API keys (made, revoked, kept as digests, the first admin key), rate limits and security headers.
extension SecurityTests {
    /// Keys made over the API work at once, show their text once, and stop working when revoked; a bad request
    /// to make one is a 422 that names the field.
    @Test(arguments: StoreKind.available)
    func adminsManageTheirTenantsKeys(kind: StoreKind) async throws {
        try await Self.withWorld(kind) { client, world, _ in
            let admin = Self.header(world.keys["acme-admin"]!)
            let created = try await client.execute(uri: "/api/v1/admin/keys", method: .post, headers: admin,
                                                   body: ByteBuffer(string: #"{"role":"auditor","name":"the auditors"}"#))
            #expect(created.status == .created)
            let key = try parseJSON(created.body)
            #expect(key["tenant"] == "acme" && key["role"] == "auditor" && key["name"] == "the auditors" && key["revoked_at"] == .null)
            let text = try #require(key["key"]?.stringValue)
            let id = try #require(key["id"]?.stringValue)
            let auditor = Self.header(text)
            #expect(try await client.execute(uri: "/api/v1/audit/logs", method: .get, headers: auditor).status == .ok)
            let revoked = try await client.execute(uri: "/api/v1/admin/keys/\(id)", method: .delete, headers: admin)
            #expect(revoked.status == .ok)
            #expect(try parseJSON(revoked.body)["revoked_at"]?.stringValue != nil)
            #expect(try await client.execute(uri: "/api/v1/audit/logs", method: .get, headers: auditor).status == .unauthorized)
            // globex's admin cannot revoke acme's keys.
            let foreign = try await client.execute(uri: "/api/v1/admin/keys/\(world.acmeKeyIds[0])", method: .delete,
                                                   headers: Self.header(world.keys["globex-admin"]!))
            #expect(foreign.status == .notFound)
            #expect(try await client.execute(uri: "/api/v1/audit/logs", method: .get,
                                             headers: Self.header(world.keys["acme-reader"]!)).status == .ok)
            for (body, path) in [(#"{"role":"root"}"#, "role"), (#"{"name":"x"}"#, "role"), (#"{"role":"reader","tenant":"globex"}"#, "tenant"),
                                 (#"{"role":"reader","name":7}"#, "name")] {
                let response = try await client.execute(uri: "/api/v1/admin/keys", method: .post, headers: admin, body: ByteBuffer(string: body))
                #expect(response.status == .unprocessableContent, "\(body)")
                #expect(try parseJSON(response.body)["errors"]?[0]?["path"]?.stringValue == path)
            }
            let malformed = try await client.execute(uri: "/api/v1/admin/keys", method: .post, headers: admin, body: ByteBuffer(string: "{"))
            #expect(malformed.status == .badRequest)
        }
    }

    /// A key revoked behind the server's back (`trail keys revoke`, another process) is refused once the
    /// server's one-second memory of it lapses; revoked through the server, at once.
    @Test func keysRevokedElsewhereAreRefusedSoon() async throws {
        try await withFreshLocation(.sqlite) { location, _ in
            try await location.withStore { store in
                let (key, text) = try await store.createKey(tenant: "acme", role: .reader, name: "a")
                try await buildApplication(configuration: ServerConfiguration(), store: store).test(.router) { client in
                    #expect(try await client.execute(uri: "/api/v1/audit/logs", method: .get, headers: Self.header(text)).status == .ok)
                    _ = try await store.revokeKey(tenant: nil, id: key.id)
                    var status = HTTPResponse.Status.ok
                    for _ in 0..<50 where status == .ok {  // bounded: 5 s
                        try await Task.sleep(for: .milliseconds(100))
                        status = try await client.execute(uri: "/api/v1/audit/logs", method: .get, headers: Self.header(text)).status
                    }
                    #expect(status == .unauthorized)
                }
            }
        }
    }

    /// Each key has its own bucket: past its burst a key gets 429 with Retry-After, others go on.
    @Test func rateLimitsPerKey() async throws {
        try await withFreshLocation(.sqlite) { location, _ in
            try await location.withStore { store in
                let first = try await store.createKey(tenant: "acme", role: .reader, name: "a").text
                let second = try await store.createKey(tenant: "acme", role: .reader, name: "b").text
                let configuration = ServerConfiguration(rateLimit: RateLimit(perSecond: 0.01, burst: 3))
                try await buildApplication(configuration: configuration, store: store).test(.router) { client in
                    for _ in 0..<3 {
                        #expect(try await client.execute(uri: "/api/v1/audit/logs", method: .get, headers: Self.header(first)).status == .ok)
                    }
                    let limited = try await client.execute(uri: "/api/v1/audit/logs", method: .get, headers: Self.header(first))
                    #expect(limited.status == .tooManyRequests)
                    #expect(limited.headers[.contentType] == "application/problem+json")
                    #expect(limited.headers[.retryAfter].flatMap(Int.init).map { $0 >= 1 && $0 <= 100 } == true)
                    #expect(try await client.execute(uri: "/api/v1/audit/logs", method: .get, headers: Self.header(second)).status == .ok)
                    // /health is never limited.
                    #expect(try await client.execute(uri: "/health", method: .get).status == .ok)
                }
            }
        }
    }

    /// A burst of bad keys from one address gets 429 with Retry-After, before any key is checked; a valid key
    /// from elsewhere goes on.
    @Test func failedAuthenticationsAreLimitedPerAddress() async throws {
        try await withFreshLocation(.sqlite) { location, _ in
            try await location.withStore { store in
                let valid = try await store.createKey(tenant: "acme", role: .reader, name: "a").text
                let configuration = ServerConfiguration(port: 0, authenticationFailureLimit: RateLimit(perSecond: 0.01, burst: 5))
                try await buildApplication(configuration: configuration, store: store).test(.live) { client in
                    let guesses = (0..<5).map { _ in APIKeyText(idBytes: Array(repeating: 1, count: 8), secretBytes: (0..<32).map { _ in UInt8.random(in: 0...255) }).text }
                    for guess in guesses {
                        #expect(try await client.execute(uri: "/api/v1/audit/logs", method: .get, headers: Self.header(guess)).status == .unauthorized)
                    }
                    for headers in [Self.header(guesses[0]), [:], Self.header(valid)] as [HTTPFields] {
                        let limited = try await client.execute(uri: "/api/v1/audit/logs", method: .get, headers: headers)
                        #expect(limited.status == .tooManyRequests)
                        #expect(limited.headers[.retryAfter].flatMap(Int.init).map { $0 >= 1 } == true)
                        #expect(try parseJSON(limited.body)["type"] == "urn:trail:problem:authentication-rate-limited")
                    }
                    #expect(try await client.execute(uri: "/health", method: .get).status == .ok, "no credential asked, none limited")
                }
                // Another server's limiter (another address, as far as buckets go): the valid key works.
                try await buildApplication(configuration: configuration, store: store).test(.live) { client in
                    let status = try await client.execute(uri: "/api/v1/audit/logs", method: .get, headers: Self.header(valid)).status
                    #expect(status == .ok)
                }
            }
        }
    }

    /// Refused JWTs count against their address's limit of failed authentications, like refused keys.
    @Test func failedTokensAreLimitedPerAddress() async throws {
        try await withFreshLocation(.sqlite) { location, _ in
            try await location.withStore { store in
                let jwt = try JWTConfiguration(keys: [.hs256(secret: Array(repeating: 7, count: 32))])
                let configuration = ServerConfiguration(port: 0, jwt: jwt, authenticationFailureLimit: RateLimit(perSecond: 0.01, burst: 3))
                try await buildApplication(configuration: configuration, store: store).test(.live) { client in
                    // {"alg":"HS256","typ":"JWT"} . {} . a signature no key made
                    let forged: HTTPFields = [.authorization: "Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.e30.c2lnbmF0dXJl"]
                    for _ in 0..<3 {
                        #expect(try await client.execute(uri: "/api/v1/audit/logs", method: .get, headers: forged).status == .unauthorized)
                    }
                    let limited = try await client.execute(uri: "/api/v1/audit/logs", method: .get, headers: forged)
                    #expect(limited.status == .tooManyRequests)
                    #expect(try parseJSON(limited.body)["type"] == "urn:trail:problem:authentication-rate-limited")
                }
            }
        }
    }

    /// Two stores opened at once on a new location, as two processes starting together, make one first key.
    @Test(arguments: StoreKind.available)
    func concurrentFirstStartsCreateOneAdminKey(kind: StoreKind) async throws {
        try await withFreshLocation(kind) { location, _ in
            try await location.withStore { first in
                try await location.withStore { second in
                    let created = try await withThrowingTaskGroup(of: Bool.self) { group in
                        for n in 0..<16 {
                            let store = n % 2 == 0 ? first : second
                            group.addTask { try await store.createFirstKey(tenant: "default", role: .admin, name: "first \(n)") != nil }
                        }
                        return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
                    }
                    #expect(created == 1)
                    #expect(try await first.keys(tenant: nil).count == 1)
                    #expect(try await second.createFirstKey(tenant: "default", role: .admin, name: "later") == nil)
                }
            }
        }
    }

    /// The bucket refills at its rate, up to its burst (pure: the clock is passed in).
    @Test func tokenBucketRefills() {
        let limiter = RateLimiter(limit: RateLimit(perSecond: 2, burst: 2))
        let start = ContinuousClock.now
        #expect(limiter.take("k", now: start) == nil && limiter.take("k", now: start) == nil)
        #expect(limiter.take("k", now: start) == 1)
        #expect(limiter.take("k", now: start + .milliseconds(500)) == nil)
        #expect(limiter.take("k", now: start + .milliseconds(500)) == 1)
        #expect(limiter.take("k", now: start + .seconds(60)) == nil && limiter.take("k", now: start + .seconds(60)) == nil)
        #expect(limiter.take("k", now: start + .seconds(60)) == 1)
    }

    /// Headers that keep browsers from doing anything with Trail's answers, on successes and errors alike; CORS
    /// headers only for a configured origin.
    @Test func securityHeadersOnEveryResponseAndCORSOnlyWhenConfigured() async throws {
        try await withFreshLocation(.sqlite) { location, _ in
            try await location.withStore { store in
                let configuration = ServerConfiguration(allowedOrigins: ["https://console.example.com"])
                try await buildApplication(configuration: configuration, store: store).test(.router) { client in
                    for (uri, status) in [("/health", HTTPResponse.Status.ok), ("/api/v1/audit/logs", .unauthorized), ("/nowhere", .notFound)] {
                        let response = try await client.execute(uri: uri, method: .get)
                        #expect(response.status == status)
                        #expect(response.headers[.xContentTypeOptionsTest] == "nosniff", "\(uri)")
                        #expect(response.headers[.contentSecurityPolicy]?.contains("default-src 'none'") == true)
                        #expect(response.headers[.cacheControl] == "no-store")
                        #expect(response.headers[.accessControlAllowOrigin] == nil)
                    }
                    let allowed = try await client.execute(uri: "/api/v1/audit/logs", method: .get,
                                                           headers: [.origin: "https://console.example.com"])
                    #expect(allowed.headers[.accessControlAllowOrigin] == "https://console.example.com")
                    let preflight = try await client.execute(uri: "/api/v1/audit/logs", method: .options, headers: [
                        .origin: "https://console.example.com", .accessControlRequestMethod: "GET",
                        .accessControlRequestHeaders: "authorization"])
                    #expect(preflight.status == .noContent)
                    #expect(preflight.headers[.accessControlAllowHeaders]?.contains("Authorization") == true)
                    let other = try await client.execute(uri: "/api/v1/audit/logs", method: .get, headers: [.origin: "https://evil.example"])
                    #expect(other.headers[.accessControlAllowOrigin] == nil)
                }
            }
        }
    }

    /// `trail keys create|list|revoke` as an operator uses them; the store holds the secret's digest, never the
    /// key (the SQLite file and its WAL are read byte by byte; PostgreSQL's table row by row).
    @Test(arguments: StoreKind.available)
    func keysFromTheCommandLineAreStoredAsDigests(kind: StoreKind) async throws {
        try await withFreshLocation(kind) { location, fresh in
            let cli = CommandLineTests()
            #expect(try await cli.trail(["migrate", "--database", fresh.text]).status == 0)
            let created = try await cli.trail(["keys", "create", "--database", fresh.text, "--tenant", "acme", "--role", "writer", "--name", "ci"])
            #expect(created.status == 0, "\(created.errors)")
            let text = String(try #require(created.output.split(separator: "\n").last))
            let key = try #require(APIKeyText(parsing: text))
            #expect(created.output.contains("writer key \(key.id) for tenant acme"))
            for bad in [["--tenant", "a b", "--role", "writer"], ["--tenant", "acme", "--role", "root"]] {
                let refused = try await cli.trail(["keys", "create", "--database", fresh.text] + bad)
                #expect(refused.status != 0 && !refused.errors.isEmpty)
            }

            let table = try await cli.trail(["keys", "list", "--database", fresh.text]).output
            #expect(table.hasPrefix("ID ") && CommandLineTests.row(of: key.id, in: table).prefix(3) == [key.id, "acme", "writer"])
            #expect(CommandLineTests.row(of: key.id, in: table).dropFirst(4).first == "active", "after the time it was created")
            #expect(try await cli.trail(["keys", "list", "--tenant", "nobody", "--database", fresh.text]).output == "No API keys for tenant nobody.\n")
            let listed = try await cli.trail(["keys", "list", "--database", fresh.text, "--json"])
            let keys = try JSONParser.parse(listed.output)
            #expect(keys[0]?["id"]?.stringValue == key.id && keys[0]?["role"] == "writer" && keys[0]?["revoked_at"] == .null)
            #expect(!listed.output.contains(key.secret))

            switch location {
            case .sqlite(let path, _):
                var bytes = Data()
                for file in [path, path + "-wal"] { bytes += (try? Data(contentsOf: URL(fileURLWithPath: file))) ?? Data() }
                #expect(bytes.range(of: Data(key.secret.utf8)) == nil)
                #expect(bytes.range(of: Data(key.secretDigest.utf8)) != nil)
            case .postgres(let url, _):
                let rows = try await PostgresAdmin.rows("SELECT id, tenant, name, role, secret_digest FROM api_keys", on: url)
                #expect(rows == [[key.id, "acme", "ci", "writer", key.secretDigest]])
            }

            let revoked = try await cli.trail(["keys", "revoke", key.id, "--database", fresh.text])
            #expect(revoked.status == 0 && revoked.output.contains("Revoked key \(key.id)"))
            #expect(try await cli.trail(["keys", "revoke", "ffffffffffffffff", "--database", fresh.text]).status == 1)
            let (authenticated, stored) = try await location.withStore { store in
                (try await store.authenticate(key), try await store.keys(tenant: "acme"))
            }
            #expect(authenticated == nil && stored.first?.revokedAt != nil)
        }
    }

    /// Two processes starting at once on a new store print one admin key between them, and the store holds one.
    @Test(.timeLimit(.minutes(10)), arguments: StoreKind.available)
    func twoFirstStartsAtOnceMakeOneAdminKey(kind: StoreKind) async throws {
        try await withFreshLocation(kind) { location, fresh in
            let processes = try [TrailProcess(database: fresh.text, authenticated: true), TrailProcess(database: fresh.text, authenticated: true)]
            for process in processes { _ = try await process.port() }
            let printed = processes.flatMap { $0.standardOutputText.split(separator: "\n") }
            for process in processes { process.terminate() }
            #expect(printed.count == 1, "\(printed)")
            #expect(try await location.withStore { try await $0.keys(tenant: nil) }.count == 1)
        }
    }

    /// First start creates one admin key, printed alone on standard output; later starts create none.
    @Test(.timeLimit(.minutes(10)), arguments: StoreKind.available)
    func firstStartPrintsAnAdminKeyOnce(kind: StoreKind) async throws {
        try await withFreshLocation(kind) { _, fresh in
            let first = try TrailProcess(database: fresh.text, authenticated: true)
            let port = try await first.port()
            let printed = first.standardOutputText.split(separator: "\n")
            #expect(printed.count == 1)
            let key = String(try #require(printed.last))
            #expect(APIKeyText(parsing: key) != nil)
            #expect(first.log.contains("created admin key"))
            try await TestClient.withClient(host: "127.0.0.1", port: port) { connection in
                let keys = try await connection.get("/api/v1/admin/keys", headers: [.authorization: "Bearer \(key)"])
                #expect(keys.status == .ok)
                let list = try parseJSON(keys.body ?? ByteBuffer())
                #expect(list["data"]?[0]?["role"] == "admin" && list["data"]?[0]?["tenant"] == "default")
                #expect(try await connection.get("/api/v1/audit/logs").status == .unauthorized)
            }
            first.terminate()
            let second = try TrailProcess(database: fresh.text, authenticated: true)
            _ = try await second.port()
            #expect(second.standardOutputText.isEmpty)
            second.terminate()
            let open = try TrailProcess(database: fresh.text)
            _ = try await open.port()
            #expect(open.log.contains("Authentication is OFF"))
            open.terminate()
        }
    }
}
