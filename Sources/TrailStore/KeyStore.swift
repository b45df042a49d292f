public import TrailCore

/// An API key as the store keeps it: everything but the secret, of which only a digest is kept.
public struct APIKey: Sendable, Equatable {
    /// The longest name a key may have.
    public static let maximumNameLength = 200

    public var id: String
    public var tenant: String
    public var name: String
    public var role: Role
    public var createdAt: Timestamp
    public var revokedAt: Timestamp?

    public init(id: String, tenant: String, name: String, role: Role, createdAt: Timestamp, revokedAt: Timestamp? = nil) {
        self.id = id
        self.tenant = tenant
        self.name = name
        self.role = role
        self.createdAt = createdAt
        self.revokedAt = revokedAt
    }
}

/// The result of checking a presented key against the store.
public enum KeyCheck: Sendable, Equatable {
    case valid(APIKey)
    /// A key with this id exists, but the secret is not its secret.
    case wrongSecret(APIKey)
    case revoked(APIKey)
    case unknown

    /// Checks `presented` against the stored key with its id (nil: none).
    public init(_ presented: APIKeyText, stored: (key: APIKey, secretDigest: String)?) {
        guard let stored else { self = .unknown; return }
        // Compared even for a revoked key, so that revoked and wrong keys take the same time.
        if !presented.matches(digest: stored.secretDigest) {
            self = .wrongSecret(stored.key)
        } else {
            self = stored.key.revokedAt == nil ? .valid(stored.key) : .revoked(stored.key)
        }
    }
}

/// Where API keys live (SPEC §7). Keys are looked up by id across tenants (a key names its tenant); listing
/// and revoking take the tenant of the caller, or nil for the operator's command line.
public protocol KeyStore: Sendable {
    /// Stores a new key with the digest of its secret.
    func insertKey(_ key: APIKey, secretDigest: String) async throws(StoreError)
    /// The key with this id and its secret's digest, revoked or not; nil when there is none.
    func key(id: String) async throws(StoreError) -> (key: APIKey, secretDigest: String)?
    /// Keys, oldest first: one tenant's, or every tenant's when `tenant` is nil.
    func keys(tenant: String?) async throws(StoreError) -> [APIKey]
    /// Revokes a key (from now on it is refused); returns it, or nil when the tenant has no such key. Revoking
    /// a revoked key changes nothing.
    func revokeKey(tenant: String?, id: String) async throws(StoreError) -> APIKey?
    /// Stores a new key only if no key exists at all, revoked ones included (the first start's admin key);
    /// atomic, so that several processes starting at once store one. True when this one was stored.
    func insertFirstKey(_ key: APIKey, secretDigest: String) async throws(StoreError) -> Bool
}

extension KeyStore {
    /// Creates a key with a fresh random secret; returns it with its text, which exists only in this answer.
    public func createKey(tenant: String, role: Role, name: String, now: Timestamp = SystemClock.now()) async throws(StoreError) -> (key: APIKey, text: String) {
        let (key, text) = try Self.newKey(tenant: tenant, role: role, name: name, now: now)
        try await insertKey(key, secretDigest: text.secretDigest)
        return (key, text.text)
    }

    /// Creates a key as ``createKey(tenant:role:name:now:)`` does, but only into a store without any key: nil
    /// when one exists already (another process may have just made it).
    public func createFirstKey(tenant: String, role: Role, name: String, now: Timestamp = SystemClock.now()) async throws(StoreError) -> (key: APIKey, text: String)? {
        let (key, text) = try Self.newKey(tenant: tenant, role: role, name: name, now: now)
        return try await insertFirstKey(key, secretDigest: text.secretDigest) ? (key, text.text) : nil
    }

    private static func newKey(tenant: String, role: Role, name: String, now: Timestamp) throws(StoreError) -> (APIKey, APIKeyText) {
        guard TenantName.isValid(tenant) else {
            throw StoreError(.rejected, "tenant must be \(TenantName.rule)")
        }
        var generator = SystemRandomNumberGenerator()
        let text = APIKeyText(idBytes: (0..<8).map { _ in generator.next() },
                              secretBytes: (0..<32).map { _ in generator.next() })
        return (APIKey(id: text.id, tenant: tenant, name: name, role: role, createdAt: now), text)
    }

    /// The key a caller presented, when it exists, is not revoked, and its secret is right. (The server checks
    /// keys through its `KeyCache`, which keeps them for a second.)
    public func authenticate(_ presented: APIKeyText) async throws(StoreError) -> APIKey? {
        if case .valid(let key) = KeyCheck(presented, stored: try await key(id: presented.id)) { return key }
        return nil
    }
}
