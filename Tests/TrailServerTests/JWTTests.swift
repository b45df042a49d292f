import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import JWTKit
import Testing
import TrailCore
import TrailServer
@testable import TrailService
import TrailStore
import TrailTestSupport

/// JWT bearer tokens signed for real with HS256, ES256 and EdDSA keys, accepted and refused (SPEC §7).
@Suite struct JWTTests {
    /// Claims as a test wants them, any of them left out.
    struct Claims: JWTPayload {
        var sub: SubjectClaim?
        var exp: ExpirationClaim?
        var nbf: NotBeforeClaim?
        var aud: AudienceClaim?
        var tenant: String?
        var roles: [String]?
        func verify(using algorithm: some JWTAlgorithm) async throws {}

        static func valid(roles: [String] = ["reader"], aud: String? = "trail") -> Claims {
            Claims(sub: "alice", exp: .init(value: Date().addingTimeInterval(600)), nbf: nil,
                   aud: aud.map { AudienceClaim(value: [$0]) }, tenant: "acme", roles: roles)
        }
    }

    enum Algorithm: String, CaseIterable, Sendable { case hs256, es256, eddsa }

    /// A signing collection for `algorithm`, the configuration that trusts it, and a second signer of the same
    /// algorithm that Trail does not trust.
    static func keys(_ algorithm: Algorithm) async throws -> (signer: JWTKeyCollection, stranger: JWTKeyCollection, key: JWTConfiguration.Key) {
        let signer = JWTKeyCollection(), stranger = JWTKeyCollection()
        switch algorithm {
        case .hs256:
            let secret = Array("a shared secret of at least thirty-two bytes".utf8)
            await signer.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
            await stranger.add(hmac: HMACKey(from: Array("another secret, also thirty-two bytes long".utf8)), digestAlgorithm: .sha256)
            return (signer, stranger, .hs256(secret: secret))
        case .es256:
            let key = ES256PrivateKey()
            await signer.add(ecdsa: key)
            await stranger.add(ecdsa: ES256PrivateKey())
            return (signer, stranger, .es256(publicKeyPEM: key.publicKey.pemRepresentation))
        case .eddsa:
            let key = try EdDSA.PrivateKey(curve: .ed25519)
            await signer.add(eddsa: key)
            await stranger.add(eddsa: try EdDSA.PrivateKey(curve: .ed25519))
            return (signer, stranger, .eddsa(publicKeyPEM: key.publicKey.pemRepresentation))
        }
    }

    static func base64URL(_ text: String) -> String {
        Data(text.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// A token signs in to the web console too: the session has the token's tenant and roles, and ends when
    /// the token expires; an expired token is refused like on the API.
    @Test func aTokenSignsInToTheConsoleUntilItExpires() async throws {
        let (signer, _, key) = try await Self.keys(.hs256)
        let configuration = ServerConfiguration(jwt: try JWTConfiguration(keys: [key], audience: "trail"))
        try await withFreshLocation(.sqlite) { location, _ in
            try await location.withStore { store in
                try await buildApplication(configuration: configuration, store: store).test(.router) { client in
                    var browser = ConsoleBrowser(client: client)
                    var claims = Claims.valid(roles: ["auditor"])
                    let expiry = Date().addingTimeInterval(300)
                    claims.exp = ExpirationClaim(value: expiry)
                    #expect(try await browser.signIn(try await signer.sign(claims)).status == .seeOther)
                    let page = String(buffer: try await browser.get("/ui/integrity").body)
                    #expect(page.contains("acme · auditor") && page.contains(#"id="verify""#))
                    let cookie = try #require(browser.cookies["trail_session"])
                    let session = try #require(try await store.session(digest: ConsoleSessions.digest(cookie)))
                    #expect(session.credential == .jwt && session.subject == "alice")
                    #expect(abs(Double(session.expiresAt.microseconds) / 1e6 - expiry.timeIntervalSince1970) < 1)
                    claims.exp = ExpirationClaim(value: Date().addingTimeInterval(-5))
                    var late = ConsoleBrowser(client: client)
                    let refused = try await late.signIn(try await signer.sign(claims))
                    #expect(refused.status == .unauthorized)
                    #expect(String(buffer: refused.body).contains("expired"))
                }
            }
        }
    }

    @Test(arguments: Algorithm.allCases)
    func tokensAreAcceptedOnlyWhenSignedValidAndComplete(algorithm: Algorithm) async throws {
        let (signer, stranger, key) = try await Self.keys(algorithm)
        let configuration = ServerConfiguration(jwt: try JWTConfiguration(keys: [key], audience: "trail"))
        try await withFreshLocation(.sqlite) { location, _ in
            try await location.withStore { store in
                try await buildApplication(configuration: configuration, store: store).test(.router) { client in
                    func status(_ token: String, _ uri: String = "/api/v1/audit/logs", method: HTTPRequest.Method = .get) async throws -> TestResponse {
                        try await client.execute(uri: uri, method: method, headers: [.authorization: "Bearer \(token)", .contentType: "application/json"],
                                                 body: method == .post ? ByteBuffer(string: #"{"action":"login","user_id":"alice"}"#) : nil)
                    }
                    let valid = try await signer.sign(Claims.valid())
                    #expect(try await status(valid).status == .ok)
                    // Roles come from the token: a reader may not write.
                    #expect(try await status(valid, "/api/v1/audit/logs", method: .post).status == .forbidden)
                    let writer = try await signer.sign(Claims.valid(roles: ["writer", "someone-elses-role"]))
                    let written = try await status(writer, "/api/v1/audit/logs", method: .post)
                    #expect(written.status == .created)
                    #expect(try parseJSON(written.body)["tenant"] == "acme")
                    // my_activity defaults to the token's subject.
                    let mine = try parseJSON(try await status(valid, "/api/audit/logs/my_activity/").body)
                    #expect(mine.arrayValue?.count == 1)

                    var refused: [(String, String, String)] = []  // (case, token, expected words in the detail)
                    var claims = Claims.valid()
                    claims.exp = .init(value: Date().addingTimeInterval(-60))
                    refused.append(("expired", try await signer.sign(claims), "expired"))
                    claims = Claims.valid(); claims.nbf = .init(value: Date().addingTimeInterval(600))
                    refused.append(("not yet valid", try await signer.sign(claims), "not valid yet"))
                    refused.append(("wrong audience", try await signer.sign(Claims.valid(aud: "another-service")), "aud"))
                    refused.append(("no audience", try await signer.sign(Claims.valid(aud: nil)), "aud"))
                    refused.append(("badly signed", try await stranger.sign(Claims.valid()), "signature"))
                    for (name, change) in [("no tenant", { (c: inout Claims) in c.tenant = nil }),
                                           ("no roles", { (c: inout Claims) in c.roles = nil }),
                                           ("no exp", { (c: inout Claims) in c.exp = nil }),
                                           ("no sub", { (c: inout Claims) in c.sub = nil }),
                                           ("bad tenant", { (c: inout Claims) in c.tenant = "a b" })] {
                        var claims = Claims.valid()
                        change(&claims)
                        refused.append((name, try await signer.sign(claims), name == "bad tenant" ? "tenant" : "required"))
                    }
                    let parts = valid.split(separator: ".").map(String.init)
                    let payload = #"{"sub":"alice","exp":\#(Int(Date().timeIntervalSince1970) + 600),"aud":["trail"],"tenant":"acme","roles":["admin"]}"#
                    refused.append(("alg none", Self.base64URL(#"{"alg":"none","typ":"JWT"}"#) + "." + Self.base64URL(payload) + ".", "none"))
                    refused.append(("payload changed", parts[0] + "." + Self.base64URL(payload) + "." + parts[2], "signature"))
                    let other = algorithm == .hs256 ? "ES256" : "HS256"
                    refused.append(("unconfigured alg", Self.base64URL(#"{"alg":"\#(other)","typ":"JWT"}"#) + "." + parts[1] + "." + parts[2], other))
                    for (name, token, words) in refused {
                        let response = try await status(token)
                        #expect(response.status == .unauthorized, "\(algorithm) \(name)")
                        #expect(response.headers[.contentType] == "application/problem+json")
                        let detail = try parseJSON(response.body)["detail"]?.stringValue ?? ""
                        #expect(detail.contains(words), "\(algorithm) \(name): \(detail)")
                    }
                    // API keys still work next to tokens.
                    let (_, text) = try await store.createKey(tenant: "acme", role: .reader, name: "k")
                    #expect(try await status(text).status == .ok)
                }
            }
        }
    }

    @Test func configurationRefusesUnusableKeys() {
        #expect(throws: JWTConfiguration.InvalidKey.self) { try JWTConfiguration(keys: [.hs256(secret: Array("short".utf8))]) }
        #expect(throws: JWTConfiguration.InvalidKey.self) { try JWTConfiguration(keys: [.es256(publicKeyPEM: "not a key")]) }
        #expect(throws: JWTConfiguration.InvalidKey.self) { try JWTConfiguration(keys: [.eddsa(publicKeyPEM: ES256PrivateKey().publicKey.pemRepresentation)]) }
    }
}
