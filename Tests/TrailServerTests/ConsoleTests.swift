import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import TrailCore
@testable import TrailServer
@testable import TrailService
import TrailStore
import TrailTestSupport

/// The web console (SPEC §12) through the real router, on every available store: sign-in and sessions, forms
/// refused without their token, pages confined to the session's tenant and role, values escaped, page views
/// recorded. (The same in a real browser: scripts/console/browser_test.py.)
@Suite struct ConsoleTests {
    static let markup = #"<img src=x onerror="alert(1)">"#
    static let globexMarker = "globexsecret"

    struct World: Sendable {
        var keys: [String: String] = [:]
        var keyIds: [String: String] = [:]
        var acmeEvents: [String] = []
        var globexEvent = ""
    }

    /// A router with authentication on over a fresh store: keys of acme and globex, two versions of acme's
    /// invoice i-1 (one holding markup), one globex event.
    static func withWorld(_ kind: StoreKind, _ body: @escaping @Sendable (any TestClientProtocol, World, any TrailStorage) async throws -> Void) async throws {
        try await withFreshLocation(kind) { location, _ in
            try await location.withStore { store in
                var world = World()
                for (tenant, role) in [("acme", Role.writer), ("acme", .reader), ("acme", .auditor), ("acme", .admin), ("globex", .writer)] {
                    let (key, text) = try await store.createKey(tenant: tenant, role: role, name: "\(tenant) \(role)")
                    world.keys["\(tenant)-\(role.rawValue)"] = text
                    world.keyIds["\(tenant)-\(role.rawValue)"] = key.id
                }
                try await buildApplication(configuration: ServerConfiguration(), store: store).test(.router) { [world] client in
                    var world = world
                    for (key, body) in [
                        ("acme-writer", #"{"actor":{"id":"7"},"verb":"create","object":{"id":"i-1","type":"invoice","note":"first","total":10}}"#),
                        ("acme-writer", #"{"actor":{"id":"7"},"verb":"update","object":{"id":"i-1","type":"invoice","note":\#(JSONWriter.string(.string(markup))),"total":12}}"#),
                        ("globex-writer", #"{"actor":{"id":"9"},"verb":"create","object":{"id":"g-1","type":"invoice","note":"\#(globexMarker)"}}"#),
                    ] {
                        let response = try await client.execute(uri: "/api/v1/audit/activity-stream", method: .post,
                                                                headers: [.contentType: "application/json", .authorization: "ApiKey \(world.keys[key]!)"],
                                                                body: ByteBuffer(string: body))
                        #expect(response.status == .created)
                        let id = try #require(try parseJSON(response.body)["data"]?[0]?["id"]?.stringValue)
                        if key.hasPrefix("acme") { world.acmeEvents.append(id) } else { world.globexEvent = id }
                    }
                    try await body(client, world, store)
                }
            }
        }
    }

    @Test(arguments: StoreKind.available)
    func signInShowsTheTenantsEventsEscapedAndSignOutEndsTheSession(_ kind: StoreKind) async throws {
        try await Self.withWorld(kind) { client, world, store in
            var browser = ConsoleBrowser(client: client)
            // No session: every page sends to sign-in, and back after it.
            let unsigned = try await browser.get("/ui/events?q=first")
            #expect(unsigned.status == .seeOther)
            #expect(unsigned.headers[.location] == "/ui/sign-in?next=%2Fui%2Fevents%3Fq%3Dfirst")

            // A sign-in form without the token of its page is refused, and opens no session.
            let forged = try await browser.post("/ui/sign-in", ["key": world.keys["acme-reader"]!, "csrf": "forged"])
            #expect(forged.status == .forbidden)
            #expect(browser.cookies["trail_session"] == nil)

            // A wrong secret of a known key: refused, and recorded in that key's tenant.
            let wrong = world.keys["acme-reader"]!.dropLast(3) + "AAA"
            #expect(try await browser.signIn(String(wrong)).status == .unauthorized)
            // A writer's key cannot read the log, so it cannot sign in either.
            let writer = try await browser.signIn(world.keys["acme-writer"]!)
            #expect(writer.status == .forbidden)
            #expect(String(buffer: writer.body).contains("cannot read the log"))

            let signedIn = try await browser.signIn(world.keys["acme-reader"]!, next: "/ui/events?q=first")
            #expect(signedIn.status == .seeOther)
            #expect(signedIn.headers[.location] == "/ui/events?q=first")
            let cookie = try #require(signedIn.headers[values: .setCookie].first { $0.hasPrefix("trail_session=") })
            for attribute in ["HttpOnly", "SameSite=Strict", "Path=/ui"] { #expect(cookie.contains(attribute), "\(attribute)") }
            #expect(!cookie.contains("Secure"))  // plain HTTP here; behind a TLS proxy it is Secure

            let page = try await browser.get("/ui/events")
            #expect(page.status == .ok)
            #expect(page.headers[.contentSecurityPolicy]?.contains("script-src 'self'") == true)
            let html = String(buffer: page.body)
            #expect(html.contains("&lt;img src=x onerror=&quot;alert(1)&quot;&gt;"))
            #expect(!html.contains(Self.markup))
            #expect(!html.contains(Self.globexMarker))
            #expect(html.contains(#"class="badge update""#) && html.contains(#"class="badge create""#))

            // Filters and search.
            let searched = String(buffer: try await browser.get("/ui/events?q=onerror&since=2000-01-01T00:00").body)
            #expect(!searched.contains("/ui/events/\(world.acmeEvents[0])") && searched.contains("/ui/events/\(world.acmeEvents[1])"))

            // An event, its diff and its proof; a resource at version 1; another tenant's event is not there.
            let event = String(buffer: try await browser.get("/ui/events/\(world.acmeEvents[1])").body)
            #expect(event.contains("<code>total</code>") && event.contains("<code>10</code>") && event.contains("<code>12</code>"))
            #expect(try await browser.get("/ui/events/\(world.acmeEvents[1])/proof").status == .ok)
            let version1 = String(buffer: try await browser.get("/ui/resources/invoice/i-1?version=1").body)
            #expect(version1.contains("State at version 1") && version1.contains("&quot;first&quot;"))
            let diff = String(buffer: try await browser.get("/ui/resources/invoice/i-1?from=1&to=2").body)
            #expect(diff.contains("2 fields changed"))
            #expect(try await browser.get("/ui/events/\(world.globexEvent)").status == .notFound)
            #expect(try await browser.get("/ui/resources/invoice/g-1").status == .notFound)
            for path in ["/ui/actors/7", "/ui/summary?days=7", "/ui/integrity", "/ui/tail"] {
                let response = try await browser.get(path)
                #expect(response.status == .ok, "\(path)")
                #expect(!String(buffer: response.body).contains(Self.globexMarker), "\(path)")
            }
            // A bad filter is a page saying what is wrong, with the API's status.
            let bad = try await browser.get("/ui/events?since=yesterday")
            #expect(bad.status == .badRequest)
            #expect(String(buffer: bad.body).contains("since must be"))

            // Sign-in and page views are in acme's log, as Trail's access records.
            let records = try await store.events(tenant: "acme", matching: EventQuery(category: EventQuery.accessCategory, limit: 100))
            #expect(records.contains { $0.action == "console_signed_in" && $0.actorId == world.keyIds["acme-reader"] })
            #expect(records.contains { $0.action == "authentication_failed" })
            #expect(records.contains { $0.action == "read" && $0.metadata?["route"] == .string("/ui/events/{id}") })
            #expect(try await store.events(tenant: "globex", matching: EventQuery(category: EventQuery.accessCategory)).isEmpty)

            // Sign-out needs the session's token; then the session is gone, whatever the browser keeps.
            let stolen = browser.cookies["trail_session"]!
            #expect(try await browser.post("/ui/sign-out", ["csrf": "forged"]).status == .forbidden)
            let out = try await browser.post("/ui/sign-out", ["csrf": try await browser.formToken()])
            #expect(out.status == .seeOther)
            #expect(records.count < (try await store.events(tenant: "acme", matching: EventQuery(category: EventQuery.accessCategory, limit: 100))).count)
            browser.cookies["trail_session"] = stolen
            #expect(try await browser.get("/ui/events").status == .seeOther)
        }
    }

    @Test(arguments: StoreKind.available)
    func aRevokedKeyEndsItsSessions(_ kind: StoreKind) async throws {
        try await Self.withWorld(kind) { client, world, store in
            var browser = ConsoleBrowser(client: client)
            #expect(try await browser.signIn(world.keys["acme-reader"]!).status == .seeOther)
            #expect(try await browser.get("/ui/events").status == .ok)
            _ = try await store.revokeKey(tenant: "acme", id: world.keyIds["acme-reader"]!)
            try await Task.sleep(for: KeyCache.lifetime + .milliseconds(100))
            #expect(try await browser.get("/ui/events").status == .seeOther)
        }
    }

    @Test(arguments: StoreKind.available)
    func verifyingNeedsTheRoleAndTheFormToken(_ kind: StoreKind) async throws {
        try await Self.withWorld(kind) { client, world, _ in
            var reader = ConsoleBrowser(client: client)
            _ = try await reader.signIn(world.keys["acme-reader"]!)
            let page = String(buffer: try await reader.get("/ui/integrity").body)
            #expect(!page.contains(#"id="verify""#) && page.contains("takes the auditor or admin role"))
            #expect(try await reader.post("/ui/integrity/verify", ["csrf": try await reader.formToken()]).status == .forbidden)

            var auditor = ConsoleBrowser(client: client)
            _ = try await auditor.signIn(world.keys["acme-auditor"]!)
            #expect(try await auditor.post("/ui/integrity/verify", [:]).status == .forbidden)
            let token = try await auditor.formToken()
            let streamed = try await auditor.post("/ui/integrity/verify", ["csrf": token], accept: "application/x-ndjson")
            #expect(streamed.status == .ok)
            let lines = String(buffer: streamed.body).split(separator: "\n").map { try? JSONParser.parse(Array($0.utf8)) }
            #expect(lines.first??["total"]?.intValue ?? 0 >= 2)
            let last = try #require(lines.last ?? nil)
            #expect(last["valid"] == .bool(true))
            #expect(last["summary"]?.stringValue?.hasPrefix("acme: ") == true)
            let html = try await auditor.post("/ui/integrity/verify", ["csrf": token])
            #expect(String(buffer: html.body).contains("acme: "))
        }
    }

    @Test(arguments: StoreKind.available)
    func adminsManageKeysRetentionAndHolds(_ kind: StoreKind) async throws {
        try await Self.withWorld(kind) { client, world, store in
            var reader = ConsoleBrowser(client: client)
            _ = try await reader.signIn(world.keys["acme-reader"]!)
            #expect(!String(buffer: try await reader.get("/ui/events").body).contains("/ui/admin/keys"))
            #expect(try await reader.get("/ui/admin/keys").status == .forbidden)
            #expect(try await reader.get("/ui/admin/data").status == .forbidden)

            var admin = ConsoleBrowser(client: client)
            _ = try await admin.signIn(world.keys["acme-admin"]!)
            let keysPage = String(buffer: try await admin.get("/ui/admin/keys").body)
            #expect(keysPage.contains(world.keyIds["acme-reader"]!) && !keysPage.contains(world.keyIds["globex-writer"]!))
            let token = try await admin.formToken()
            #expect(try await admin.post("/ui/admin/keys", ["role": "reader", "name": "Bob"]).status == .forbidden)
            let refused = try await admin.post("/ui/admin/keys", ["csrf": token, "role": "boss", "name": "Bob"])
            #expect(refused.status == .unprocessableContent)
            #expect(String(buffer: refused.body).contains("role: required, one of"))
            let created = try await admin.post("/ui/admin/keys", ["csrf": token, "role": "reader", "name": "<b>Bob</b>"])
            #expect(created.status == .created)
            let createdPage = String(buffer: created.body)
            #expect(createdPage.contains("&lt;b&gt;Bob&lt;/b&gt;"))
            let text = try #require(createdPage.range(of: #"<code class="secret">"#).map { String(createdPage[$0.upperBound...].prefix { $0 != "<" }) })
            var bob = ConsoleBrowser(client: client)
            #expect(try await bob.signIn(text).status == .seeOther)
            let id = String(text.split(separator: "_")[1])
            #expect(try await admin.post("/ui/admin/keys/\(id)/revoke", ["csrf": token]).status == .seeOther)
            #expect(try await bob.get("/ui/events").status == .seeOther)  // the session of a revoked key ends at once

            #expect(try await admin.post("/ui/admin/retention/add", ["csrf": token, "resource_type": "invoice", "keep_days": "30"]).status == .seeOther)
            let badRule = try await admin.post("/ui/admin/retention/add", ["csrf": token, "resource_type": "invoice", "keep_days": "-1"])
            #expect(badRule.status == .unprocessableContent)
            #expect(String(buffer: badRule.body).contains("keep_days"))
            let preview = try await admin.post("/ui/admin/retention/preview", ["csrf": token])
            #expect(String(buffer: preview.body).contains("&quot;dry_run&quot;: true"))
            #expect(try await admin.post("/ui/admin/holds", ["csrf": token, "name": "Case 1", "resource_type": "invoice",
                                                              "since": "2026-01-01T00:00"]).status == .seeOther)
            #expect(try await admin.post("/ui/admin/holds", ["csrf": token, "name": ""]).status == .unprocessableContent)
            let data = String(buffer: try await admin.get("/ui/admin/data").body)
            #expect(data.contains("<td>invoice</td><td>any</td><td>30</td>") && data.contains("Case 1"))
            let hold = try #require(try await store.holds(tenant: "acme").first)
            #expect(hold.match.since == Timestamp(rfc3339: "2026-01-01T00:00:00Z"))
            #expect(try await admin.post("/ui/admin/holds/\(hold.id)/release", ["csrf": token]).status == .seeOther)
            #expect(try await store.holds(tenant: "acme").first?.releasedAt != nil)
            #expect(try await admin.post("/ui/admin/retention/remove", ["csrf": token, "index": "0"]).status == .seeOther)
            #expect(try await store.retentionPolicy(tenant: "acme").rules.isEmpty)
            let records = try await store.events(tenant: "acme", matching: EventQuery(category: "AUDIT_ADMIN", limit: 100))
            #expect(records.count >= 4)
            let access = try await store.events(tenant: "acme", matching: EventQuery(category: EventQuery.accessCategory, limit: 200))
            #expect(access.contains { $0.action == "api_key_created" } && access.contains { $0.action == "api_key_revoked" })
        }
    }

    /// Sessions end when idle, at their lifetime, and with a JWT's expiry (each deleted from the store then).
    @Test(arguments: StoreKind.available)
    func sessionsEndWhenIdleAndAtTheirLifetime(_ kind: StoreKind) async throws {
        try await withFreshLocation(kind) { location, _ in
            try await location.withStore { store in
                let sessions = ConsoleSessions(store: store, keys: KeyCache(keys: store),
                                               configuration: ConsoleSessionConfiguration(idleTimeout: .seconds(100), lifetime: .seconds(150)))
                let person = Principal(tenant: "acme", roles: [.reader, .auditor], subject: "ann", credential: .jwt)
                let t0 = Timestamp(microseconds: 1_800_000_000_000_000)
                func at(_ seconds: Int64) -> Timestamp { Timestamp(microseconds: t0.microseconds + seconds * 1_000_000) }

                let (idle, _) = try await sessions.open(for: person, now: t0)
                #expect(try await sessions.session(cookie: idle, now: at(99))?.principal == person)
                #expect(try await sessions.session(cookie: idle, now: at(200)) == nil)   // last seen at 99 s: idle for 101 s
                let (active, opened) = try await sessions.open(for: person, now: t0)
                #expect(opened.expiresAt == at(150))
                #expect(try await sessions.session(cookie: active, now: at(70)) != nil)   // seen: stays alive
                #expect(try await sessions.session(cookie: active, now: at(140)) != nil)
                #expect(try await sessions.session(cookie: active, now: at(151)) == nil)  // its lifetime is over
                #expect(try await store.session(digest: opened.digest) == nil)
                let (token, short) = try await sessions.open(for: person, credentialExpiresAt: at(30), now: t0)
                #expect(short.expiresAt == at(30))
                #expect(try await sessions.session(cookie: token, now: at(31)) == nil)
                #expect(try await sessions.session(cookie: "not a cookie", now: t0) == nil)
            }
        }
    }

    /// Over a real socket: failed sign-ins count toward the address's limit like failed API requests, and behind
    /// a trusted proxy that terminated TLS the cookies are `Secure`.
    @Test func failedSignInsAreLimitedAndCookiesAreSecureBehindTLS() async throws {
        try await withFreshLocation(.sqlite) { location, _ in
            try await location.withStore { store in
                let (_, key) = try await store.createKey(tenant: "acme", role: .reader, name: "reader")
                let configuration = ServerConfiguration(port: 0, trustedProxies: [IPNetwork("127.0.0.1")!],
                                                        authenticationFailureLimit: RateLimit(perSecond: 0.01, burst: 2))
                try await buildApplication(configuration: configuration, store: store).test(.live) { client in
                    var browser = ConsoleBrowser(client: client)
                    browser.headers[HTTPField.Name("X-Forwarded-Proto")!] = "https"
                    let signedIn = try await browser.signIn(key)
                    #expect(signedIn.status == .seeOther)
                    let cookie = try #require(signedIn.headers[values: .setCookie].first { $0.hasPrefix("trail_session=") })
                    #expect(cookie.contains("Secure"))
                    var stranger = ConsoleBrowser(client: client)
                    for _ in 0..<2 { #expect(try await stranger.signIn("trail_0123456789abcdef_" + String(repeating: "A", count: 43)).status == .unauthorized) }
                    let limited = try await stranger.signIn(key)
                    #expect(limited.status == .tooManyRequests)
                    #expect(limited.headers[.retryAfter] != nil)
                    #expect(String(buffer: limited.body).contains("Too many failed authentications"))
                }
            }
        }
    }

    @Test func aNextPageIsAlwaysAConsolePage() {
        #expect(ConsoleController.safeNext("/ui/events?q=a") == "/ui/events?q=a")
        for hostile in [nil, "https://evil.example", "//evil.example/ui", "/\\evil.example", "/api/v1/keys", "/ui\r\nX: y"] {
            #expect(ConsoleController.safeNext(hostile) == "/ui/events", "\(hostile ?? "nil")")
        }
    }

    @Test func theTemplatesParseAndDatesFromFormsAreUTC() {
        _ = ConsoleRenderer()  // traps if a template does not parse
        #expect(ConsoleFormat.rfc3339(fromLocal: "2026-12-03T17:20") == "2026-12-03T17:20:00Z")
        #expect(ConsoleFormat.rfc3339(fromLocal: "2026-12-03T17:20:05") == "2026-12-03T17:20:05Z")
        #expect(ConsoleFormat.rfc3339(fromLocal: "2026-12-03T17:20:05+01:00") == "2026-12-03T17:20:05+01:00")
        #expect(ConsoleFormat.query([("q", "a b&c"), ("actor", nil), ("x", "")]) == "?q=a%20b%26c")
        #expect(ConsoleChart.days([("2026-12-01", 3), ("<b>", 1)], title: "t\"").contains("&lt;b&gt;"))
        #expect(ConsoleHTML.escape(#"<a href='x'>&"é</a>"#) == "&lt;a href=&#39;x&#39;&gt;&amp;&quot;é&lt;/a&gt;")
        #expect(ConsoleHTML.escape("plain é") == "plain é")
        #expect(ConsoleFormat.segment("a/b é~") == "a%2Fb%20%C3%A9~")
    }
}

/// A browser's part in console requests: it keeps cookies and reads forms' tokens.
struct ConsoleBrowser {
    let client: any TestClientProtocol
    var cookies: [String: String] = [:]
    /// Sent with every request (a proxy's headers).
    var headers: HTTPFields = [:]

    mutating func get(_ uri: String) async throws -> TestResponse {
        try await send(uri, method: .get, headers: [:], body: nil)
    }

    mutating func post(_ uri: String, _ form: [String: String], accept: String? = nil) async throws -> TestResponse {
        var headers: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
        if let accept { headers[.accept] = accept }
        let body = form.map { "\($0.key)=\(ConsoleFormat.segment($0.value))" }.joined(separator: "&")
        return try await send(uri, method: .post, headers: headers, body: ByteBuffer(string: body))
    }

    /// The sign-in form's page, then the form with `key`.
    mutating func signIn(_ key: String, next: String? = nil) async throws -> TestResponse {
        let page = String(buffer: try await get("/ui/sign-in").body)
        var form = ["key": key, "csrf": Self.hidden("csrf", in: page) ?? ""]
        if let next { form["next"] = next }
        return try await post("/ui/sign-in", form)
    }

    /// The session's form token, as a page's sign-out form holds it.
    mutating func formToken() async throws -> String {
        Self.hidden("csrf", in: String(buffer: try await get("/ui/integrity").body)) ?? ""
    }

    static func hidden(_ name: String, in page: String) -> String? {
        guard let range = page.range(of: #"name="\#(name)" value=""#) else { return nil }
        return String(page[range.upperBound...].prefix { $0 != "\"" })
    }

    private mutating func send(_ uri: String, method: HTTPRequest.Method, headers: HTTPFields, body: ByteBuffer?) async throws -> TestResponse {
        var headers = headers
        headers.append(contentsOf: self.headers)
        if !cookies.isEmpty { headers[.cookie] = cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; ") }
        let response = try await client.execute(uri: uri, method: method, headers: headers, body: body)
        for line in response.headers[values: .setCookie] {
            let pair = line.split(separator: ";")[0].split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let (name, value) = (String(pair[0]), pair.count > 1 ? String(pair[1]) : "")
            if value.isEmpty || line.contains("Max-Age=0") { cookies[name] = nil } else { cookies[name] = value }
        }
        return response
    }
}
