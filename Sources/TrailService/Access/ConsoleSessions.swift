import Crypto
import Foundation
public import TrailCore
public import TrailStore

/// How long web console sessions last (SPEC §12).
public struct ConsoleSessionConfiguration: Sendable, Equatable {
    /// A session nobody used for this long ends (default 30 minutes).
    public var idleTimeout: Duration
    /// A session ends this long after sign-in however active it is (default 12 hours); a JWT's session ends
    /// with the token if sooner.
    public var lifetime: Duration

    public init(idleTimeout: Duration = .seconds(30 * 60), lifetime: Duration = .seconds(12 * 3600)) {
        self.idleTimeout = idleTimeout
        self.lifetime = lifetime
    }
}

/// Web console sessions (SPEC §12): opened for a caller who proved who they are, found again by the random
/// value of their cookie, ended by sign-out, idleness, their lifetime, or the revocation of the API key they
/// were opened with.
public struct ConsoleSessions: Sendable {
    let store: any SessionStore
    let keys: KeyCache
    public let configuration: ConsoleSessionConfiguration
    /// How stale `last_seen_at` may get before a request writes it again: a page view is not a store write.
    static let touchInterval = Duration.seconds(60)

    public init(store: any SessionStore, keys: KeyCache, configuration: ConsoleSessionConfiguration = ConsoleSessionConfiguration()) {
        self.store = store
        self.keys = keys
        self.configuration = configuration
    }

    /// A new session for `principal`; returns the cookie's value (32 random bytes, base64url), which only the
    /// browser keeps. Sessions that ended meanwhile are deleted.
    public func open(for principal: Principal, credentialExpiresAt: Timestamp? = nil,
                     now: Timestamp = SystemClock.now()) async throws(StoreError) -> (cookie: String, session: ConsoleSession) {
        _ = try await store.deleteStaleSessions(idleBefore: now.adding(.zero - configuration.idleTimeout), now: now)
        let cookie = Self.randomToken()
        var expiresAt = now.adding(configuration.lifetime)
        if let credentialExpiresAt { expiresAt = min(expiresAt, credentialExpiresAt) }
        let session = ConsoleSession(
            digest: Self.digest(cookie), tenant: principal.tenant, roles: principal.roles, subject: principal.subject,
            credential: principal.credential, formToken: Self.randomToken(), createdAt: now, lastSeenAt: now,
            expiresAt: expiresAt)
        try await store.insertSession(session)
        return (cookie, session)
    }

    /// The live session a cookie names, or nil: none, ended (idle, past its lifetime) or opened with an API key
    /// revoked since (such a session is deleted).
    public func session(cookie: String, now: Timestamp = SystemClock.now()) async throws(StoreError) -> ConsoleSession? {
        guard !cookie.isEmpty, cookie.utf8.count <= 128 else { return nil }
        guard let session = try await store.session(digest: Self.digest(cookie)) else { return nil }
        guard session.expiresAt > now, session.lastSeenAt > now.adding(.zero - configuration.idleTimeout) else {
            try await store.deleteSession(digest: session.digest)
            return nil
        }
        if session.credential == .apiKey {
            guard let key = try await keys.activeKey(id: session.subject), key.tenant == session.tenant else {
                try await store.deleteSession(digest: session.digest)
                return nil
            }
        }
        if session.lastSeenAt <= now.adding(.zero - Self.touchInterval) { try await store.touchSession(digest: session.digest, at: now) }
        return session
    }

    /// Ends the session a cookie names (nothing if there is none).
    public func close(cookie: String) async throws(StoreError) {
        guard !cookie.isEmpty, cookie.utf8.count <= 128 else { return }
        try await store.deleteSession(digest: Self.digest(cookie))
    }

    /// 32 random bytes, base64url without padding.
    public static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// Whether two tokens are equal, in time that does not depend on where they differ.
    public static func sameToken(_ a: String, _ b: String) -> Bool {
        let (x, y) = (Array(a.utf8), Array(b.utf8))
        guard x.count == y.count, !x.isEmpty else { return false }
        return zip(x, y).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }

    static func digest(_ cookie: String) -> String {
        SHA256.hash(data: Array(cookie.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}
