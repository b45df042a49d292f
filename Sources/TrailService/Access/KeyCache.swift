import Synchronization
public import TrailCore
public import TrailStore

/// Stored API keys by id, kept for a second: checking a key is then a hash and a comparison in memory instead of
/// a store read per request (which halved the rate of single-event requests). The secret is still checked on
/// every request against the stored digest. A key revoked through this process is forgotten at once; revoked
/// elsewhere (`trail keys revoke`, another process), it is refused within ``lifetime``. Unknown ids are not
/// kept, so the cache holds only keys that exist.
public final class KeyCache: Sendable {
    public static let lifetime = Duration.seconds(1)
    static let maximumEntries = 10_000

    let keys: any KeyStore

    private struct Entry {
        var key: APIKey
        var secretDigest: String
        var until: ContinuousClock.Instant
    }
    private let entries = Mutex<[String: Entry]>([:])

    public init(keys: any KeyStore) { self.keys = keys }

    public func check(_ presented: APIKeyText) async throws(StoreError) -> KeyCheck {
        KeyCheck(presented, stored: try await stored(id: presented.id))
    }

    /// The key `id` if it exists and is not revoked (what a console session signed in with it checks on every
    /// request).
    public func activeKey(id: String) async throws(StoreError) -> APIKey? {
        guard let key = try await stored(id: id)?.key, key.revokedAt == nil else { return nil }
        return key
    }

    private func stored(id: String) async throws(StoreError) -> (key: APIKey, secretDigest: String)? {
        let now = ContinuousClock.now
        if let entry = entries.withLock({ $0[id] }), entry.until > now {
            return (entry.key, entry.secretDigest)
        }
        let stored = try await keys.key(id: id)
        entries.withLock { entries in
            if entries.count >= Self.maximumEntries { entries = entries.filter { $0.value.until > now } }
            entries[id] = stored.map { Entry(key: $0.key, secretDigest: $0.secretDigest, until: now + Self.lifetime) }
        }
        return stored
    }

    /// Drops a key (revoked by this process) so that its next use reads the store.
    public func forget(_ id: String) {
        entries.withLock { _ = $0.removeValue(forKey: id) }
    }
}
