public import TrailCore

/// A signed-in web console session (SPEC §12): who signed in, in which tenant and with which roles, until when.
/// The store keeps the SHA-256 of the session's cookie value, never the value: a copy of the table signs
/// nobody in.
public struct ConsoleSession: Sendable, Equatable {
    /// SHA-256 of the cookie's value, lower-case hex.
    public var digest: String
    public var tenant: String
    public var roles: Set<Role>
    /// The API key's id, or the token's subject.
    public var subject: String
    public var credential: Principal.Credential
    /// What every form of the session carries back (CSRF).
    public var formToken: String
    public var createdAt: Timestamp
    /// The last request of the session (updated at most once a minute).
    public var lastSeenAt: Timestamp
    /// When it ends however active it is (the absolute lifetime, or a token's own expiry if sooner).
    public var expiresAt: Timestamp

    public init(digest: String, tenant: String, roles: Set<Role>, subject: String, credential: Principal.Credential,
                formToken: String, createdAt: Timestamp, lastSeenAt: Timestamp, expiresAt: Timestamp) {
        self.digest = digest
        self.tenant = tenant
        self.roles = roles
        self.subject = subject
        self.credential = credential
        self.formToken = formToken
        self.createdAt = createdAt
        self.lastSeenAt = lastSeenAt
        self.expiresAt = expiresAt
    }

    public var principal: Principal {
        Principal(tenant: tenant, roles: roles, subject: subject, credential: credential)
    }

    /// Roles as stored: their names, comma-separated, sorted.
    var rolesText: String { roles.map(\.rawValue).sorted().joined(separator: ",") }

    static func roles(_ text: String) -> Set<Role> {
        Set(text.split(separator: ",").compactMap { Role(rawValue: String($0)) })
    }
}

/// Where console sessions are kept: in the store, so that they outlive a restart and every process of a
/// PostgreSQL installation knows them.
public protocol SessionStore: Sendable {
    func insertSession(_ session: ConsoleSession) async throws(StoreError)
    /// The session whose cookie hashes to `digest`, or nil.
    func session(digest: String) async throws(StoreError) -> ConsoleSession?
    func touchSession(digest: String, at time: Timestamp) async throws(StoreError)
    func deleteSession(digest: String) async throws(StoreError)
    /// Deletes the sessions idle since before `idleBefore` or expired by `now`; returns how many.
    func deleteStaleSessions(idleBefore: Timestamp, now: Timestamp) async throws(StoreError) -> Int
}
