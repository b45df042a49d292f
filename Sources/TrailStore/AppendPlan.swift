import Synchronization
import TrailCore

/// Names one resource's head across tenants.
///
/// Its hash is computed once, when it is made (before the writer runs): the writer looks a key up several times
/// (the transaction's heads, the cache, the cache again when the transaction is remembered), and would otherwise
/// hash its three strings each time.
struct HeadKey: Hashable, Sendable {
    let tenant: String
    let type: String
    let id: String
    private let hash: Int

    init(tenant: String, type: String, id: String) {
        self.tenant = tenant
        self.type = type
        self.id = id
        var hasher = Hasher()
        hasher.combine(tenant)
        hasher.combine(type)
        hasher.combine(id)
        hash = hasher.finalize()
    }

    static func == (a: HeadKey, b: HeadKey) -> Bool {
        a.hash == b.hash && a.id == b.id && a.type == b.type && a.tenant == b.tenant
    }

    func hash(into hasher: inout Hasher) { hasher.combine(hash) }
}

/// A head as a write transaction left it, with its stored forms.
struct WrittenHead: Sendable {
    var head: ResourceHead
    var lastSequence: Int64
    var stateJSON: String?
    var digestsJSON: String?
}

/// What the current write transaction has written so far, seen by its later submissions.
struct Written: Sendable {
    var heads: [HeadKey: WrittenHead] = [:]
    var chains: [String: ChainHead] = [:]

    /// Room for the heads of `requests`, so the table does not grow step by step as the transaction goes.
    init(for requests: some Sequence<PreparedRequest>) {
        heads.reserveCapacity(requests.reduce(0) { $0 + $1.items.count })
    }
}

/// One event to insert, with its columns encoded: the event, and the stored forms its activity and transition
/// were prepared with.
final class EventRow: Sendable {
    let event: RecordedEvent
    let item: PreparedActivity
    let applied: AppliedTransition

    init(event: RecordedEvent, item: PreparedActivity, applied: AppliedTransition) {
        self.event = event
        self.item = item
        self.applied = applied
    }

    var actorId: String? { item.activity.actorId }
    var actorJSON: String? { item.actorJSON }
    var advancesVersion: Bool { applied.transition.advancesVersion }
    var changesJSON: String { applied.changesJSON }
    var stateJSON: String? { applied.stateJSON }
    var digestsJSON: String? { applied.digestsJSON }
    var contextJSON: String? { item.contextJSON }
    var metadataJSON: String? { item.metadataJSON }
    var errorJSON: String? { item.errorJSON }
    /// The event's searchable words (``EventQuery/searchWords(category:summary:resourceName:actor:metadata:sealedWords:)``),
    /// made when asked for: the PostgreSQL writer stores them with the event, SQLite's indexer makes them from the
    /// stored event later.
    var searchText: String {
        EventQuery.searchWords(category: event.category, summary: event.summary, resourceName: event.resourceName,
                               actor: event.actor, metadata: event.metadata, sealedWords: item.activity.sealedWords)
    }
    /// The search tokens of its sealed values, space-separated (nil for none): kept beside the event so the
    /// words it was indexed with can be given again (``SearchText/document(for:sealedWords:)``).
    var sealedWords: String? { SearchText.stored(tokens: item.activity.sealedWords) }
}

extension PreparedRequest {
    /// The rows of this submission's events, numbered and hash-chained after `chain`, in order; later items see
    /// the heads earlier ones leave. Heads this transaction has not written yet come from `currentHead(key,
    /// item, sequence)`. Records the new heads and the tenant's chain head in `written`. Transitions computed in
    /// advance are used only if the head cache's generation is still the one they were computed in.
    ///
    /// - Returns: the rows, and the resources whose heads changed, each once, in first-touched order.
    func plan(
        after chain: ChainHead, now: Timestamp, redactor: Redactor, written: inout Written, cacheGeneration: Int,
        currentHead: (HeadKey, PreparedActivity, Int64) throws -> ResourceHead?
    ) throws -> (rows: [EventRow], touched: [HeadKey]) {
        let lastSequence = chain.sequence
        var chain = chain
        var sequence = lastSequence
        var rows: [EventRow] = []
        rows.reserveCapacity(items.count)
        var touched: [HeadKey] = []
        var speculationHeld: [Bool] = []
        speculationHeld.reserveCapacity(items.count)
        for item in items {
            let activity = item.activity
            sequence += 1
            let key = item.key
            let earlier = key.flatMap { written.heads[$0] }
            let current = try key.flatMap { key in try earlier.map(\.head) ?? currentHead(key, item, sequence) }
            let holds = cacheGeneration == self.cacheGeneration && item.speculationHolds(on: current, speculationHeld: speculationHeld)
            speculationHeld.append(holds)
            let applied = item.applied(to: current, holds: holds, redactor: redactor)
            let transition = applied.transition
            var event = RecordedEvent(
                id: item.id, sequence: sequence, tenant: tenant,
                occurredAt: activity.occurredAt ?? now, recordedAt: now, action: activity.action,
                actor: activity.actor, resourceType: activity.resourceType, resourceId: activity.resourceId,
                version: transition.head?.version, changes: applied.changes,
                summary: transition.summary, context: activity.context, metadata: activity.metadata,
                category: activity.category, outcome: activity.outcome, resourceName: activity.resourceName,
                durationMs: activity.durationMs, error: activity.error, prevHash: [], hash: [])
            do {
                try chain.link(&event, prefix: applied.hashPrefix)
            } catch {
                throw StoreError(.rejected, "Item \(rows.count) cannot be hashed: \(error).")
            }
            rows.append(EventRow(event: event, item: item, applied: applied))
            guard let key, let head = transition.head else { continue }
            if earlier == nil || earlier!.lastSequence <= lastSequence { touched.append(key) }
            written.heads[key] = WrittenHead(
                head: head, lastSequence: sequence,
                stateJSON: applied.stateJSON, digestsJSON: applied.digestsJSON)
        }
        written.chains[tenant] = chain
        return (rows, touched)
    }
}

/// Recently committed resource heads and per-tenant chain heads, so a writer need not read and parse them again,
/// and so transitions can be computed before the writer runs. Bounded; a store empties it when it cannot tell
/// whether another writer changed what it holds.
final class HeadCache: Sendable {
    static let capacity = 50_000

    private struct Entries {
        var heads: [HeadKey: ResourceHead] = [:]
        var chains: [String: ChainHead] = [:]
        var epochs: [String: Int64] = [:]
    }

    private let entries = Mutex(Entries())
    private let emptied = Atomic<Int>(0)

    /// How many times the cache was emptied: a transition computed on a cached head holds only if it has not
    /// been emptied since (a head can change without a new version: an erasure rewrites its state).
    var generation: Int { emptied.load(ordering: .acquiring) }

    func head(_ key: HeadKey) -> ResourceHead? {
        entries.withLock { $0.heads[key] }
    }

    func chain(_ tenant: String) -> ChainHead? {
        entries.withLock { $0.chains[tenant] }
    }

    /// The epoch of the tenant's heads (PostgreSQL: bumped by a change of heads outside appends) this cache's
    /// heads and chain of `tenant` were read at.
    func epoch(_ tenant: String) -> Int64? {
        entries.withLock { $0.epochs[tenant] }
    }

    /// Remembers the epoch of a tenant's heads read with its chain (a commit leaves it as it was).
    func remember(epoch: Int64, of tenant: String) {
        entries.withLock { $0.epochs[tenant] = epoch }
    }

    /// Remembers what a committed transaction wrote.
    func store(_ written: Written) {
        entries.withLock { entries in
            if entries.heads.count + written.heads.count > HeadCache.capacity {
                entries.heads.removeAll(keepingCapacity: true)
            }
            for (key, head) in written.heads { entries.heads[key] = head.head }
            entries.chains.merge(written.chains) { _, new in new }
        }
    }

    func removeAll() {
        entries.withLock { $0 = Entries() }
        emptied.add(1, ordering: .releasing)
    }
}
