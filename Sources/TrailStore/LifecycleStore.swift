public import TrailCore

/// What retention needs to know of an event to decide whether it goes (SPEC §11).
public struct RemovalCandidate: Sendable, Equatable {
    public var sequence: Int64
    public var recordedAt: Timestamp
    public var occurredAt: Timestamp
    public var resourceType: String?
    public var resourceId: String?
    public var category: String?
    public var actorId: String?

    public init(sequence: Int64, recordedAt: Timestamp, occurredAt: Timestamp, resourceType: String?, resourceId: String?,
                category: String?, actorId: String?) {
        self.sequence = sequence
        self.recordedAt = recordedAt
        self.occurredAt = occurredAt
        self.resourceType = resourceType
        self.resourceId = resourceId
        self.category = category
        self.actorId = actorId
    }

    /// Where a scan in `recorded_at` order stopped.
    public var cursor: RemovalCursor { RemovalCursor(recordedAt: recordedAt, sequence: sequence) }
}

/// A position in a tenant's events ordered by `recorded_at`, then `sequence`.
public struct RemovalCursor: Sendable, Equatable {
    public var recordedAt: Timestamp
    public var sequence: Int64

    public init(recordedAt: Timestamp, sequence: Int64) {
        self.recordedAt = recordedAt
        self.sequence = sequence
    }

    public static let start = RemovalCursor(recordedAt: Timestamp(microseconds: Int64.min), sequence: 0)
}

/// Retention rules, legal holds and the removal of events' content (SPEC §11). Every operation names its tenant.
public protocol LifecycleStore: Sendable {
    /// The keys `tenant` marks personal (SPEC §11), sorted; none by default.
    func personalKeys(tenant: String) async throws(StoreError) -> [String]

    /// Replaces them; values appended from now on are sealed accordingly.
    func setPersonalKeys(_ keys: [String], tenant: String) async throws(StoreError)

    /// The keys personal in every tenant (``StoreConfiguration/personalKeys``), sorted.
    var installationPersonalKeys: [String] { get }

    /// The tenant's rules (empty: keep everything).
    func retentionPolicy(tenant: String) async throws(StoreError) -> RetentionPolicy
    /// Replaces the tenant's rules.
    func setRetentionPolicy(_ policy: RetentionPolicy, tenant: String) async throws(StoreError)
    /// The tenants that have at least one rule.
    func tenantsWithRetention() async throws(StoreError) -> [String]

    func insertHold(_ hold: LegalHold) async throws(StoreError)
    /// The tenant's holds, released ones too, oldest first.
    func holds(tenant: String) async throws(StoreError) -> [LegalHold]
    /// Releases a hold; returns it (released now, or earlier), nil when the tenant has none with this id.
    func releaseHold(tenant: String, id: String, at time: Timestamp, by subject: String) async throws(StoreError) -> LegalHold?

    /// Events not removed yet, recorded before `recordedBefore`, after `cursor` in (`recorded_at`, `sequence`)
    /// order: at most `limit`, in that order.
    func removalCandidates(tenant: String, recordedBefore: Timestamp, after cursor: RemovalCursor, limit: Int) async throws(StoreError) -> [RemovalCandidate]

    /// Removes the content of these events in one transaction: the event rows keep their place in the log
    /// (``RecordedEvent/removedAt``) and lose the rest, and their words leave the search index, the state they
    /// left is no longer kept with them, and completed queue messages that carried them lose their bodies.
    /// Events already removed are left as they are. Returns how many were removed now.
    func removeEvents(tenant: String, sequences: [Int64], at time: Timestamp) async throws(StoreError) -> Int
}

/// An event's content as an erasure reads and rewrites it (SPEC §11): what may hold a data subject's values,
/// and what a legal hold is matched on.
public struct ErasableEvent: Sendable, Equatable {
    public var sequence: Int64
    public var occurredAt: Timestamp
    public var resourceType: String?
    public var resourceId: String?
    public var category: String?
    public var actorId: String?
    public var actor: JSONObject?
    public var resourceName: String?
    public var changes: JSONObject
    public var summary: String
    public var context: JSONObject?
    public var metadata: JSONObject?
    public var error: JSONObject?
    /// The resource's state this event left.
    public var stateAfter: JSONObject?

    public init(sequence: Int64, occurredAt: Timestamp, resourceType: String?, resourceId: String?, category: String?,
                actorId: String?, actor: JSONObject?, resourceName: String?, changes: JSONObject, summary: String,
                context: JSONObject?, metadata: JSONObject?, error: JSONObject?, stateAfter: JSONObject?) {
        self.sequence = sequence
        self.occurredAt = occurredAt
        self.resourceType = resourceType
        self.resourceId = resourceId
        self.category = category
        self.actorId = actorId
        self.actor = actor
        self.resourceName = resourceName
        self.changes = changes
        self.summary = summary
        self.context = context
        self.metadata = metadata
        self.error = error
        self.stateAfter = stateAfter
    }

    /// The words the search index holds for it (none for meta-audit records), with the tokens of its sealed
    /// values if it has them (space-separated).
    func searchText(sealedWords: String? = nil) -> String {
        EventQuery.searchWords(category: category, summary: summary, resourceName: resourceName, actor: actor,
                               metadata: metadata, sealedWords: SearchText.tokens(stored: sealedWords))
    }
}

/// Erasure (SPEC §11): rewriting what holds a data subject's values, then compacting what kept old copies.
public protocol ErasureStore: Sendable {
    /// The tenant's events not removed, after `sequence`, in sequence order, at most `limit`: all of them, or
    /// those made by the actor `actorId`.
    func erasableEvents(tenant: String, actorId: String?, after sequence: Int64, limit: Int) async throws(StoreError) -> [ErasableEvent]

    /// Writes these events' new content in one transaction, marks them erased at `time`, brings their words in
    /// the search index up to date, and empties the completed queue messages that carried them. Returns how many
    /// were rewritten.
    func eraseEvents(tenant: String, _ events: [ErasableEvent], at time: Timestamp) async throws(StoreError) -> Int

    /// Rewrites the current state of the tenant's resources with `rewrite` (nil: unchanged), in one transaction
    /// that excludes the tenant's appends, which compute no further change on a state read before. Returns how
    /// many changed.
    func eraseInHeads(tenant: String, _ rewrite: @escaping @Sendable (JSONObject) -> JSONObject?) async throws(StoreError) -> Int

    /// The tenant's queue messages whose body or request context holds `value` (any case): finished ones
    /// (completed, failed) lose both; waiting ones have it replaced. Returns how many changed.
    func eraseInMessages(tenant: String, value: String) async throws(StoreError) -> Int

    /// The id of the key a tenant's data subject's values are sealed under; nil if it has none (SPEC §11).
    func subjectKeyID(tenant: String, subject: DataSubject) async throws(StoreError) -> String?

    /// Destroys that key (crypto-shredding): every value sealed under it, in the store and in its backups, can no
    /// longer be read. Returns its id, or nil if the subject had none.
    func destroySubjectKey(tenant: String, subject: DataSubject) async throws(StoreError) -> String?

    /// These events of the tenant (which held values sealed under a destroyed key) are indexed again without
    /// the search tokens of their sealed values (else a search for the erased value would still find them), in
    /// one transaction. Returns how many were.
    func forgetSealedWords(tenant: String, sequences: [Int64]) async throws(StoreError) -> Int

    /// Rewrites what may still hold old copies of erased content (SQLite: the search index merged into one
    /// segment, the write-ahead log checkpointed and truncated, freed pages zeroed). Returns what it could not
    /// do, for the report (nil when all was done).
    func compactAfterErasure() async throws(StoreError) -> String?
}
