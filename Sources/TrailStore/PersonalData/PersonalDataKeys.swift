public import Crypto
import Synchronization
public import TrailCore

/// Where the data subjects' keys live: **outside** the event store and its backups (a file of its own next to a
/// SQLite store, the `trail_vault` schema of a PostgreSQL store, which dumps leave out), so that a backup taken
/// before an erasure holds sealed values whose key no longer exists anywhere (docs/lifecycle.md).
///
/// Each vault also has a secret of its own (made on first use), which its store reads when it opens and gives to
/// ``PersonalData``: it keys subject lookups and search tokens.
public protocol SubjectKeyVault: Sendable {
    /// The keys of these subjects (named by lookup), made and durably stored for those that have none yet.
    func keys(tenant: String, lookups: [String]) async throws(StoreError) -> [String: SubjectKey]
    /// The keys with these ids that still exist.
    func keys(ids: [String]) async throws(StoreError) -> [String: SymmetricKey]
    /// The id of a subject's key, nil if it has none.
    func keyID(lookup: String) async throws(StoreError) -> String?
    /// Destroys a subject's key, so that nothing sealed under it can be read again; its id, or nil if it had none.
    func destroy(lookup: String) async throws(StoreError) -> String?
}

/// Seals the personal values of what is appended and opens them in what is read (SPEC §11, crypto-shredding),
/// with a cache of keys in front of the vault.
///
/// Cached keys are trusted for ``cacheLifetime``: an erasure made by another process (`trail erase` beside a
/// server, another server on the same PostgreSQL) reaches this one's cache within that time. This process's own
/// erasures empty it at once.
public final class PersonalData: Sendable {
    public static let cacheLifetime = Duration.seconds(30)
    static let cacheCapacity = 100_000

    /// The installation's policy; each tenant's adds the keys it marks personal.
    let policy: PersonalDataPolicy
    let vault: any SubjectKeyVault
    /// Reads the keys a tenant marks personal.
    private let tenantKeys: @Sendable (String) async throws(StoreError) -> [String]
    /// Each tenant's policy, or the one read of it under way: concurrent appends of a tenant whose policy is not
    /// cached wait for a single read (a burst of them would otherwise take every reader of the store at once).
    private let policies = Mutex<[String: (policy: Task<PersonalDataPolicy, any Error>, until: ContinuousClock.Instant)]>([:])
    private let lookupKey: SymmetricKey
    private let cache = Mutex(Cache())
    /// Values sealed and opened lately (``SealedMemo``), emptied when a key is destroyed.
    private let memo = SealedMemo()

    private struct Cache {
        var subjects: [TenantSubject: (key: SubjectKey, until: ContinuousClock.Instant)] = [:]
        /// Keys by id; nil for one known to be destroyed.
        var ids: [String: (key: SymmetricKey?, until: ContinuousClock.Instant)] = [:]
        /// Keys made for the subjects of a value, by their key ids (sorted).
        var sealing: [[String]: SealingKey] = [:]
        /// Each tenant's search token key.
        var blind: [String: SymmetricKey] = [:]
    }

    private struct TenantSubject: Hashable {
        let tenant: String
        let subject: DataSubject
    }

    /// Whether appends are sealed (``StoreConfiguration/sealsPersonalData``); reads are opened either way.
    let sealing: Bool

    /// - Parameter secret: the vault's own secret.
    init(
        policy: PersonalDataPolicy, sealing: Bool, vault: any SubjectKeyVault, secret: [UInt8],
        tenantKeys: @escaping @Sendable (String) async throws(StoreError) -> [String]
    ) {
        self.policy = policy
        self.tenantKeys = tenantKeys
        self.sealing = sealing
        self.vault = vault
        lookupKey = SymmetricKey(data: secret)
    }

    /// How the vault names a tenant's subject: a keyed hash, so the vault holds no personal value either.
    func lookup(tenant: String, _ subject: DataSubject) -> String {
        let text = "\(tenant)\u{0}\(subject.kind.rawValue)\u{0}\(subject.name)"
        return EventHash.hex(Array(HMAC<SHA256>.authenticationCode(for: Array(text.utf8), using: lookupKey)))
    }

    /// The key of a tenant's search tokens (``SealedValue/blindWord(_:key:)``).
    func blindKey(tenant: String) -> SymmetricKey {
        if let known = cache.withLock({ $0.blind[tenant] }) { return known }
        let key = HKDF<SHA256>.deriveKey(inputKeyMaterial: lookupKey, info: Array("trail search \(tenant)".utf8), outputByteCount: 32)
        cache.withLock { cache in
            if cache.blind.count >= Self.cacheCapacity { cache.blind.removeAll(keepingCapacity: true) }
            cache.blind[tenant] = key
        }
        return key
    }

    /// Credentials Trail keeps in order to use them (a sink's signing secret), sealed under a key derived from the
    /// vault's secret, so that the store and its backups hold them encrypted; `context` (the follower's id) is
    /// authenticated with them, so a sealed credential cannot be moved to another follower.
    func sealCredential(_ plaintext: [UInt8], context: String) -> [UInt8] {
        // (Sealing with a fresh random nonce and a 256-bit key does not fail.)
        try! AES.GCM.seal(plaintext, using: credentialKey, authenticating: Array(context.utf8)).combined!.map { $0 }
    }

    /// The credential ``sealCredential(_:context:)`` sealed; nil if it cannot be opened (another vault).
    func openCredential(_ sealed: [UInt8], context: String) -> [UInt8]? {
        guard let box = try? AES.GCM.SealedBox(combined: sealed),
              let plaintext = try? AES.GCM.open(box, using: credentialKey, authenticating: Array(context.utf8)) else { return nil }
        return Array(plaintext)
    }

    private var credentialKey: SymmetricKey {
        HKDF<SHA256>.deriveKey(inputKeyMaterial: lookupKey, info: Array("trail credentials".utf8), outputByteCount: 32)
    }

    // MARK: Writes

    /// `request` with its activities' personal values sealed: in one pass when its subjects' keys are cached;
    /// otherwise their keys are fetched (made for new subjects) and it is sealed again.
    /// `plaintexts`: each text sealed now, with the text it stands for (the answer shows them without opening).
    func seal(_ request: AppendRequest, plaintexts: inout [String: String]) async throws(StoreError) -> AppendRequest {
        guard sealing else { return request }
        let (tenant, policy) = (request.tenant, try await policy(tenant: request.tenant))
        let blind = blindKey(tenant: tenant)
        func attempt(_ fetched: [DataSubject: SubjectKey], _ plaintexts: inout [String: String]) -> [Activity]? {
            var sealed: [Activity] = []
            sealed.reserveCapacity(request.activities.count)
            for activity in request.activities {
                guard let one = policy.seal(activity, blindKey: blind, plaintexts: &plaintexts,
                                            key: { sealingKey(tenant: tenant, $0, fetched: fetched) })
                else { return nil }
                sealed.append(one)
            }
            return sealed
        }
        var sealed = request
        if let activities = attempt([:], &plaintexts) {
            sealed.activities = activities
            return sealed
        }
        var subjects = Set<DataSubject>()
        for activity in request.activities { subjects.formUnion(policy.subjects(of: activity)) }
        let fetched = try await keys(tenant: tenant, for: subjects)
        guard let activities = attempt(fetched, &plaintexts) else {
            throw StoreError(.unavailable, "the key vault gave no key for a data subject")
        }
        sealed.activities = activities
        return sealed
    }

    /// The key for a value of these subjects, from `fetched` or the cache; nil if a subject's key is not at hand.
    private func sealingKey(tenant: String, _ subjects: [DataSubject], fetched: [DataSubject: SubjectKey]) -> SealingKey? {
        let now = ContinuousClock.now
        return cache.withLock { cache -> SealingKey? in
            var keys: [SubjectKey] = []
            for subject in subjects {
                if let key = fetched[subject] {
                    keys.append(key)
                } else if let hit = cache.subjects[TenantSubject(tenant: tenant, subject: subject)], hit.until > now {
                    keys.append(hit.key)
                } else {
                    return nil
                }
            }
            let ids = keys.map(\.id).sorted()
            if let known = cache.sealing[ids] { return known }
            let made = SealingKey(keys, memo: memo)
            if cache.sealing.count >= Self.cacheCapacity { cache.sealing.removeAll(keepingCapacity: true) }
            cache.sealing[ids] = made
            return made
        }
    }

    /// Appends `requests` through `write` sealed, and answers with their events opened (as stored if opening
    /// fails: they are stored either way). A request whose keys cannot be had fails alone, nothing of it stored.
    /// What a request sealed is shown in its answer as it came, without opening it again; only what the events
    /// took from earlier ones (a change's old values) is opened.
    func append(
        _ requests: [AppendRequest], through write: ([AppendRequest]) async -> [Result<AppendResult, StoreError>]
    ) async -> [Result<AppendResult, StoreError>] {
        var results = [Result<AppendResult, StoreError>?](repeating: nil, count: requests.count)
        var sealed: [AppendRequest] = []
        var positions: [(index: Int, plaintexts: [String: String])] = []
        for (index, request) in requests.enumerated() {
            do throws(StoreError) {
                var plaintexts: [String: String] = [:]
                sealed.append(try await seal(request, plaintexts: &plaintexts))
                positions.append((index, plaintexts))
            } catch {
                results[index] = .failure(error)
            }
        }
        for (position, result) in zip(positions, await write(sealed)) {
            if case .success(let appended) = result {
                results[position.index] = .success((try? await open(appended, known: position.plaintexts)) ?? appended)
            } else {
                results[position.index] = result
            }
        }
        return results.map { $0! }
    }

    /// The tenant's policy: the installation's, and the keys the tenant marks personal (cached like keys; this
    /// process's own changes forget it at once).
    func policy(tenant: String) async throws(StoreError) -> PersonalDataPolicy {
        let now = ContinuousClock.now
        let load = policies.withLock { cached in
            if let hit = cached[tenant], hit.until > now { return hit.policy }
            if cached.count >= Self.cacheCapacity { cached.removeAll(keepingCapacity: true) }
            let (installation, read) = (policy, tenantKeys)
            let load = Task { () async throws -> PersonalDataPolicy in installation.adding(try await read(tenant)) }
            cached[tenant] = (load, now + Self.cacheLifetime)
            return load
        }
        do {
            return try await load.value
        } catch {
            // A failed read is not kept: the next append reads again.
            policies.withLock { cached in if cached[tenant]?.policy == load { cached[tenant] = nil } }
            throw error as? StoreError ?? StoreError(.unavailable, "the tenant's personal keys could not be read: \(error)")
        }
    }

    func forgetPolicy(tenant: String) {
        _ = policies.withLock { $0.removeValue(forKey: tenant) }
    }

    private func keys(tenant: String, for subjects: Set<DataSubject>) async throws(StoreError) -> [DataSubject: SubjectKey] {
        let now = ContinuousClock.now
        var found: [DataSubject: SubjectKey] = [:]
        var missing: [String: DataSubject] = [:]
        cache.withLock { cache in
            for subject in subjects {
                if let hit = cache.subjects[TenantSubject(tenant: tenant, subject: subject)], hit.until > now {
                    found[subject] = hit.key
                } else {
                    missing[lookup(tenant: tenant, subject)] = subject
                }
            }
        }
        guard !missing.isEmpty else { return found }
        let made = try await vault.keys(tenant: tenant, lookups: Array(missing.keys))
        let until = now + Self.cacheLifetime
        cache.withLock { cache in
            if cache.subjects.count + made.count > Self.cacheCapacity { cache.subjects.removeAll(keepingCapacity: true) }
            for (name, key) in made {
                guard let subject = missing[name] else { continue }
                cache.subjects[TenantSubject(tenant: tenant, subject: subject)] = (key, until)
                cache.ids[key.id] = (key.key, until)  // reads of what is sealed with it need it next
                found[subject] = key
            }
        }
        return found
    }

    // MARK: Reads

    /// The keys that exist among `ids` (destroyed ones are left out).
    func keys(ids: Set<String>) async throws(StoreError) -> [String: SymmetricKey] {
        guard !ids.isEmpty else { return [:] }
        let now = ContinuousClock.now
        var found: [String: SymmetricKey] = [:]
        var missing: [String] = []
        cache.withLock { cache in
            for id in ids {
                if let hit = cache.ids[id], hit.until > now {
                    if let key = hit.key { found[id] = key }
                } else {
                    missing.append(id)
                }
            }
        }
        guard !missing.isEmpty else { return found }
        let fetched = try await vault.keys(ids: missing)
        let until = now + Self.cacheLifetime
        cache.withLock { cache in
            if cache.ids.count + missing.count > Self.cacheCapacity { cache.ids.removeAll(keepingCapacity: true) }
            for id in missing { cache.ids[id] = (fetched[id], until) }
        }
        return found.merging(fetched) { a, _ in a }
    }

    /// - Parameter known: sealed texts whose plaintext is at hand (``seal(_:plaintexts:)``): shown as they are.
    func open(_ events: [RecordedEvent], known: [String: String] = [:]) async throws(StoreError) -> [RecordedEvent] {
        let sealed = events.map { $0.sealedKeyIDs(besides: known) }
        let ids = sealed.reduce(into: Set<String>()) { $0.formUnion($1) }
        guard !ids.isEmpty || !known.isEmpty else { return events }
        let ring = KeyRing(try await keys(ids: ids), known: known, memo: memo)
        return zip(events, sealed).map { event, ids in ids.isEmpty && known.isEmpty ? event : event.opened(keys: ring) }
    }

    func open(_ columns: [StoredEventColumns]) async throws(StoreError) -> [StoredEventColumns] {
        let ids = columns.reduce(into: Set<String>()) { $0.formUnion($1.sealedKeyIDs) }
        guard !ids.isEmpty else { return columns }
        let ring = KeyRing(try await keys(ids: ids), memo: memo)
        return columns.map { $0.opened(keys: ring) }
    }

    func open(_ result: AppendResult, known: [String: String] = [:]) async throws(StoreError) -> AppendResult {
        var opened = result
        opened.events = try await open(result.events, known: known)
        return opened
    }

    func open(_ state: JSONObject?) async throws(StoreError) -> JSONObject? {
        guard let state else { return nil }
        let ids = state.sealedKeyIDs
        guard !ids.isEmpty else { return state }
        return state.opened(keys: KeyRing(try await keys(ids: ids), memo: memo))
    }

    /// `query` with the search tokens of its terms, so that a search finds sealed words too.
    func blinded(_ query: EventQuery, tenant: String) -> EventQuery {
        guard var search = query.search else { return query }
        let key = blindKey(tenant: tenant)
        for index in search.terms.indices { search.terms[index].blind = SealedValue.blindWord(search.terms[index].word, key: key) }
        var blinded = query
        blinded.search = search
        return blinded
    }

    // MARK: Erasure

    func keyID(tenant: String, _ subject: DataSubject) async throws(StoreError) -> String? {
        try await vault.keyID(lookup: lookup(tenant: tenant, subject))
    }

    /// Destroys the key of a tenant's subject; its id, or nil if the subject had none.
    func destroy(tenant: String, _ subject: DataSubject) async throws(StoreError) -> String? {
        let id = try await vault.destroy(lookup: lookup(tenant: tenant, subject))
        memo.forgetAll()
        cache.withLock { cache in
            cache.subjects[TenantSubject(tenant: tenant, subject: subject)] = nil
            cache.sealing = cache.sealing.filter { !$0.key.contains { $0 == id } }
            if let id { cache.ids[id] = (nil, ContinuousClock.now + Self.cacheLifetime) }
        }
        return id
    }
}
