import Dispatch
import Logging
import PostgresNIO
import Synchronization
import TrailCore

/// The write side of the PostgreSQL store: one group-commit transaction over many submissions, in a fixed number
/// of round trips whatever the number of events.
///
/// A transaction is first planned on what this process knows and checked when written: the tenants' chain heads
/// and the resources' heads come from the cache (what this process last committed) or from one read per tenant
/// that the cache does not cover, and everything is written by one autocommitted call of `trail_append` that
/// locks the tenants' rows, checks each is still at the sequence and heads epoch the plan started from, and
/// writes — one round trip, with the tenant's lock held only while PostgreSQL writes, never while a Trail
/// process (which shares the cores with the others) plans or encodes, nor while the disk flushes: the call
/// commits without waiting for its WAL flush, and a second call (`trail_flush`) waits for the flush before
/// anything is acknowledged, so the flushes of several processes' writes are shared. A plan another process overtook is
/// refused whole (SQLSTATE 40001) and run again locking its tenants first (in tenant order): it reads under the
/// locks and cannot be overtaken. After a refusal, the process locks first for a while (``contendedNanoseconds``):
/// where several processes write one tenant, a plan on cached positions would mostly be refused. A resource
/// that a create names and the cache does not hold is planned as new without reading its head; the call checks
/// every head it writes is still at the version planned on (none, for those), and a wrong guess is refused and
/// planned again under the lock — without the while of locking first, as no other process need be writing.
///
/// The events trigger refuses any sequence or version that does not continue without gap, as a second line of
/// defence.
final class PostgresAppender: Sendable {
    let client: PostgresClient
    let redactor: Redactor
    let configuration: StoreConfiguration
    let logger: Logger
    private let cache = HeadCache()
    private let lastPurgeMinute = Atomic<Int64>(0)
    /// The start of the first month for which no events partition is known to exist.
    private let partitionedUntil = Atomic<Int64>(Int64.min)
    /// Until when (`DispatchTime` uptime) transactions lock first (see ``contendedNanoseconds``).
    private let contendedUntil = Atomic<UInt64>(0)

    /// How often a transaction that hit a serialisation failure or deadlock is run again.
    static let retries = 5
    /// How long, after a plan of this process was refused because another process wrote first, its
    /// transactions lock their tenants first rather than plan on what may be stale again.
    static let contendedNanoseconds: UInt64 = 1_000_000_000

    init(client: PostgresClient, redactor: Redactor, configuration: StoreConfiguration, logger: Logger) {
        self.client = client
        self.redactor = redactor
        self.configuration = configuration
        self.logger = logger
    }

    /// The head a resource is expected to have when the writer reaches it (see `PreparedRequest`).
    func expectedHead(_ key: HeadKey) -> ResourceHead? {
        cache.head(key)
    }

    /// See ``HeadCache/generation``.
    var cacheGeneration: Int { cache.generation }

    /// Forgets every cached head, for a change of heads made outside appends (an erasure); call it while the
    /// change's transaction holds its tenant's lock, before it commits.
    func forgetCachedHeads() {
        cache.removeAll()
    }

    /// Writes the submissions in one transaction. As in the SQLite store, a refused idempotency key fails alone,
    /// and any other refusal of a transaction holding several submissions retries each in its own transaction.
    func commit(_ requests: [PreparedRequest]) async -> [Result<AppendResult, StoreError>] {
        var attempt = 0
        while true {
            let now = configuration.clock()
            let phase = TransactionPhase()
            let locking = attempt > 0 || DispatchTime.now().uptimeNanoseconds < contendedUntil.load(ordering: .relaxed)
            do {
                try await ensurePartitions(for: now)
                let (results, written) = try await client.withConnection(within: leaseTimeout(for: requests)) { connection in
                    let outcome = if locking {
                        try await connection.transaction(logger: self.logger, phase: phase) { connection in
                            try await self.write(requests, now: now, locking: true, phase: phase, on: connection)
                        }
                    } else {
                        try await self.write(requests, now: now, locking: false, phase: phase, on: connection)
                    }
                    // Committed and visible, the locks released; acknowledged (a replay too: another process's
                    // first answer may still be on its way to disk) only once the WAL is on disk.
                    phase.awaitingFlush.store(true, ordering: .releasing)
                    for try await _ in try await connection.execute(FlushCall(), logger: self.logger) {}
                    return outcome
                }
                cache.store(written)
                return results
            } catch {
                cache.removeAll()
                if !locking && PostgresFailure.isRetryable(error) && !PostgresFailure.isHeadRefusal(error) {
                    contendedUntil.store(DispatchTime.now().uptimeNanoseconds + PostgresAppender.contendedNanoseconds,
                                         ordering: .relaxed)
                }
                if phase.awaitingFlush.load(ordering: .acquiring) || (phase.committing.load(ordering: .acquiring)
                    && !PostgresFailure.isServerAnswer(error) && PostgresFailure.storeError(error).code == .unavailable) {
                    // The COMMIT was sent and the connection lost: it may have been applied or not. Or it was
                    // applied and its flush not confirmed: it may be lost if PostgreSQL stopped before the flush.
                    logger.warning("PostgreSQL write not confirmed", metadata: ["error": "\(PostgresFailure.storeError(error).message)"])
                    return requests.map { _ in .failure(.indeterminate) }
                }
                if PostgresFailure.isRetryable(error) && attempt < PostgresAppender.retries {
                    attempt += 1
                    continue
                }
                let failure = PostgresFailure.storeError(error)
                if requests.count > 1 && failure.code == .rejected {
                    var results: [Result<AppendResult, StoreError>] = []
                    for request in requests { results += await commit([request]) }
                    return results
                }
                if failure.code != .rejected {
                    logger.warning("PostgreSQL write failed", metadata: ["error": "\(failure.message)"])
                }
                return requests.map { _ in .failure(failure) }
            }
        }
    }

    /// How long the transaction of `requests` may wait for a connection: until the store's timeout after the
    /// oldest of them was submitted (a brief wait at least, for a transaction whose requests queued behind a slow
    /// one while PostgreSQL was fine).
    private func leaseTimeout(for requests: [PreparedRequest]) -> Duration {
        let oldest = requests.map(\.submitted).min() ?? .now
        return max(configuration.connectionTimeout - (ContinuousClock.now - oldest), .milliseconds(100))
    }

    /// Plans and writes the submissions: under their tenants' locks (`locking`, inside a transaction), or on
    /// positions read without locks and checked by the write itself (on an autocommitting connection).
    private func write(
        _ requests: [PreparedRequest], now: Timestamp, locking: Bool, phase: TransactionPhase,
        on connection: PostgresConnection
    ) async throws -> ([Result<AppendResult, StoreError>], Written) {
        try await purgeExpiredKeys(now: now, on: connection)
        let tenants = Set(requests.map(\.tenant)).sorted()
        let positions: [String: TenantPosition]
        let fetched: [HeadKey: ResourceHead]
        if locking {
            positions = try await lockTenants(tenants, on: connection)
            fetched = try await uncachedHeads(requests, on: connection)
        } else {
            (positions, fetched) = try await plannedPositions(tenants, requests, on: connection)
        }
        // The heads the plan starts from (read, cached, or none), taken once: the write checks each is still
        // at its version (migration 0020), which covers a create planned as new without reading its head.
        var startHeads: [HeadKey: ResourceHead] = [:]
        for request in requests {
            for item in request.items {
                guard let key = item.key, startHeads[key] == nil, let head = fetched[key] ?? cache.head(key) else { continue }
                startHeads[key] = head
            }
        }
        let chains = positions.mapValues(\.chain)
        let claims = try await storedClaims(requests, now: now, on: connection)
        let held = try await heldMessageClaims(requests, locking: locking, on: connection)
        var completions: [(claim: MessageClaim, result: AppendResult)] = []

        var written = Written(for: requests)
        var results: [Result<AppendResult, StoreError>] = []
        var rows: [EventRow] = []
        var touched: [HeadKey] = []
        var touchedSet = Set<HeadKey>()
        var newClaims: [(tenant: String, claim: IdempotencyClaim, result: AppendResult)] = []
        for request in requests {
            let tenant = request.tenant
            if let completes = request.completes {
                guard held[completes.id] == completes.token else {
                    results.append(.failure(.lost(completes)))
                    continue
                }
            }
            if let claim = request.idempotency {
                // A key used earlier in this very transaction, then one committed before.
                if let earlier = newClaims.first(where: { $0.tenant == tenant && $0.claim.key == claim.key }) {
                    guard earlier.claim.requestDigest == claim.requestDigest else {
                        results.append(.failure(.reused(claim)))
                        continue
                    }
                    var replay = earlier.result
                    replay.replayed = true
                    results.append(.success(replay))
                    if let completes = request.completes { completions.append((completes, replay)) }
                    continue
                }
                if let stored = claims[ClaimKey(tenant: tenant, key: claim.key)] {
                    guard stored.digest == claim.requestDigest else {
                        results.append(.failure(.reused(claim)))
                        continue
                    }
                    let replay = try await replay(stored, tenant: tenant, on: connection)
                    results.append(.success(replay))
                    if let completes = request.completes { completions.append((completes, replay)) }
                    continue
                }
            }
            let chain = written.chains[tenant] ?? chains[tenant] ?? .empty
            let planned = try request.plan(after: chain, now: now, redactor: redactor, written: &written,
                                       cacheGeneration: cache.generation) { key, _, _ in
                startHeads[key]
            }
            rows += planned.rows
            for key in planned.touched where touchedSet.insert(key).inserted { touched.append(key) }
            let result = AppendResult(events: planned.rows.map(\.event), recordedAt: now, replayed: false)
            if let claim = request.idempotency { newClaims.append((tenant, claim, result)) }
            if let completes = request.completes { completions.append((completes, result)) }
            results.append(.success(result))
        }

        let previous = Dictionary(uniqueKeysWithValues: touched.map { ($0, startHeads[$0]?.version ?? 0) })
        try await insert(rows, heads: touched, previous: previous, written: written, claims: newClaims,
                         completions: completions, now: now, checking: locking ? nil : (positions, phase), on: connection)
        return (results, written)
    }

    /// Locks the tenants' rows (creating them if new), in the given order, and returns their positions.
    /// Empties the head cache if another process wrote one of these tenants since this one last did.
    ///
    /// One statement: an upsert locks the row whether it inserts or updates it (the update changes nothing),
    /// and returns the latest committed position even after waiting for another writer.
    private func lockTenants(_ tenants: [String], on connection: PostgresConnection) async throws -> [String: TenantPosition] {
        var positions: [String: TenantPosition] = [:]
        let rows = try await connection.query("""
            INSERT INTO tenant_heads (tenant, last_sequence) SELECT unnest(\(tenants)::text[]), 0
            ON CONFLICT (tenant) DO UPDATE SET last_sequence = tenant_heads.last_sequence
            RETURNING tenant, last_sequence, last_hash, heads_epoch
            """, logger: logger)
        for try await (tenant, sequence, hash, epoch) in rows.decode((String, Int64, ByteBuffer, Int64).self) {
            positions[tenant] = TenantPosition(chain: ChainHead(sequence: sequence, hash: Array(buffer: hash)), epoch: epoch)
        }
        if tenants.contains(where: { !cacheAgrees(with: positions[$0] ?? .start, of: $0) }) { cache.removeAll() }
        for (tenant, position) in positions { cache.remember(epoch: position.epoch, of: tenant) }
        return positions
    }

    /// Whether the cache's heads of `tenant`, if it holds any, were read or written at `position`.
    private func cacheAgrees(with position: TenantPosition, of tenant: String) -> Bool {
        guard let chain = cache.chain(tenant) else { return true }
        return chain == position.chain && cache.epoch(tenant) == position.epoch
    }

    /// The positions to plan after without locking, and the heads the cache lacks: a tenant whose every head
    /// is cached is planned after the position this process last committed (the write checks it is still
    /// current); any other is read, with its uncached heads, in one statement. If a read shows another process
    /// wrote since, the cache is emptied and everything read again.
    private func plannedPositions(
        _ tenants: [String], _ requests: [PreparedRequest], on connection: PostgresConnection
    ) async throws -> ([String: TenantPosition], [HeadKey: ResourceHead]) {
        while true {
            let wanted = uncachedKeys(requests, readingCreates: false)
            var positions: [String: TenantPosition] = [:]
            var heads: [HeadKey: ResourceHead] = [:]
            var stale = false
            for tenant in tenants {
                if wanted[tenant] == nil, let chain = cache.chain(tenant), let epoch = cache.epoch(tenant) {
                    positions[tenant] = TenantPosition(chain: chain, epoch: epoch)
                    continue
                }
                let keys = wanted[tenant] ?? ([], [])
                // One row per head found, each with the tenant's position; one with no head if none is; none
                // for a tenant without events.
                let rows = try await connection.query("""
                    SELECT t.last_sequence, t.last_hash, t.heads_epoch, h.resource_type, h.resource_id, h.version,
                        h.state::text, h.secret_digests::text
                    FROM tenant_heads t
                    LEFT JOIN (unnest(\(keys.types)::text[], \(keys.ids)::text[]) AS k(resource_type, resource_id)
                        JOIN resource_heads h ON h.tenant = \(tenant) AND h.resource_type = k.resource_type
                            AND h.resource_id = k.resource_id) ON true
                    WHERE t.tenant = \(tenant)
                    """, logger: logger)
                var position = TenantPosition.start
                for try await (sequence, hash, epoch, type, id, version, state, digests) in rows.decode(
                    (Int64, ByteBuffer, Int64, String?, String?, Int64?, String?, String?).self) {
                    position = TenantPosition(chain: ChainHead(sequence: sequence, hash: Array(buffer: hash)), epoch: epoch)
                    guard let type, let id, let version else { continue }
                    heads[HeadKey(tenant: tenant, type: type, id: id)] = ResourceHead(
                        version: version, state: try StoredJSON.object(state), digests: try StoredJSON.digests(digests))
                }
                positions[tenant] = position
                if !cacheAgrees(with: position, of: tenant) { stale = true }
            }
            guard stale else {
                for (tenant, position) in positions where cache.chain(tenant) == nil {
                    cache.remember(epoch: position.epoch, of: tenant)
                }
                return (positions, heads)
            }
            cache.removeAll()
        }
    }

    struct ClaimKey: Hashable {
        var tenant: String
        var key: String
    }

    struct StoredClaim {
        var digest: [UInt8]
        var firstSequence: Int64?
        var eventCount: Int32
        var createdAt: Int64
    }

    /// The unexpired idempotency keys the submissions name.
    private func storedClaims(
        _ requests: [PreparedRequest], now: Timestamp, on connection: PostgresConnection
    ) async throws -> [ClaimKey: StoredClaim] {
        var keysByTenant: [String: [String]] = [:]
        for request in requests {
            if let claim = request.idempotency { keysByTenant[request.tenant, default: []].append(claim.key) }
        }
        let cutoff = now.microseconds - configuration.idempotencyRetentionSeconds * 1_000_000
        var claims: [ClaimKey: StoredClaim] = [:]
        for (tenant, keys) in keysByTenant {
            let rows = try await connection.query("""
                SELECT key, request_digest, first_sequence, event_count, created_at FROM idempotency_keys
                WHERE tenant = \(tenant) AND key = ANY(\(keys)::text[]) AND created_at >= \(cutoff)
                """, logger: logger)
            for try await (key, digest, first, count, created) in rows.decode(
                (String, ByteBuffer, Int64?, Int32, Int64).self) {
                claims[ClaimKey(tenant: tenant, key: key)] = StoredClaim(
                    digest: Array(buffer: digest), firstSequence: first, eventCount: count, createdAt: created)
            }
        }
        return claims
    }

    /// The resources the submissions name whose heads the cache does not hold, by tenant.
    private func uncachedKeys(
        _ requests: [PreparedRequest], readingCreates: Bool
    ) -> [String: (types: [String], ids: [String])] {
        var wanted: [String: (types: [String], ids: [String])] = [:]
        var seen = Set<HeadKey>()
        for request in requests {
            for item in request.items {
                guard let key = item.key else { continue }
                guard cache.head(key) == nil, seen.insert(key).inserted else { continue }
                // A create is most often of a resource nobody wrote yet: planned as new, unread, and checked by
                // the write (a wrong guess is refused and planned again under the lock, reading every head).
                if !readingCreates && item.activity.action == Verb.created { continue }
                wanted[key.tenant, default: ([], [])].types.append(key.type)
                wanted[key.tenant, default: ([], [])].ids.append(key.id)
            }
        }
        return wanted
    }

    /// The heads of the resources the submissions name that the cache does not hold, in one query per tenant.
    private func uncachedHeads(
        _ requests: [PreparedRequest], on connection: PostgresConnection
    ) async throws -> [HeadKey: ResourceHead] {
        var heads: [HeadKey: ResourceHead] = [:]
        for (tenant, keys) in uncachedKeys(requests, readingCreates: true) {
            let rows = try await connection.query("""
                SELECT h.resource_type, h.resource_id, h.version, h.state::text, h.secret_digests::text
                FROM unnest(\(keys.types)::text[], \(keys.ids)::text[]) AS k(resource_type, resource_id)
                JOIN resource_heads h
                    ON h.tenant = \(tenant) AND h.resource_type = k.resource_type AND h.resource_id = k.resource_id
                """, logger: logger)
            for head in try await PostgresRows.heads(rows) {
                heads[HeadKey(tenant: tenant, type: head.type, id: head.id)] = head.value
            }
        }
        return heads
    }

    /// The claim token each queued message the submissions complete holds now; locked if `locking` (otherwise
    /// the write checks the tokens are still held).
    private func heldMessageClaims(
        _ requests: [PreparedRequest], locking: Bool, on connection: PostgresConnection
    ) async throws -> [String: String] {
        let ids = requests.compactMap { $0.completes?.id }
        guard !ids.isEmpty else { return [:] }
        var held: [String: String] = [:]
        let rows = try await connection.query("""
            SELECT id::text, claim_token FROM messages WHERE id = ANY(\(ids)::uuid[]) AND status = 'processing'
            \(unescaped: locking ? "FOR UPDATE" : "")
            """, logger: logger)
        for try await (id, token) in rows.decode((String, String?).self) { held[id] = token }
        return held
    }


    /// Writes the transaction's events, the heads they leave, the idempotency keys they claim and the messages
    /// they complete, in one call of `trail_append` (migrations 0018, 0020). With `checking`, the call is the whole
    /// transaction: it locks the tenants and refuses to write unless each is still at its planned position.
    /// `previous` holds the version each head was planned on (0: none), which the call checks either way.
    private func insert(
        _ rows: [EventRow], heads keys: [HeadKey], previous: [HeadKey: Int64], written: Written,
        claims: [(tenant: String, claim: IdempotencyClaim, result: AppendResult)],
        completions: [(claim: MessageClaim, result: AppendResult)], now: Timestamp,
        checking: (positions: [String: TenantPosition], phase: TransactionPhase)?, on connection: PostgresConnection
    ) async throws {
        guard !rows.isEmpty || !claims.isEmpty || !completions.isEmpty else { return }
        let heads = keys.compactMap { key in written.heads[key].map { (key, $0, previous[key] ?? 0) } }
        let checked = (checking?.positions ?? [:]).sorted { $0.key < $1.key }
        let cutoff = now.microseconds - configuration.idempotencyRetentionSeconds * 1_000_000
        // From here on, a lost connection leaves an autocommitted call's outcome unknown.
        checking?.phase.committing.store(true, ordering: .releasing)
        let call = Self.appendCall(checked: checked, now: now, cutoff: cutoff, heads: heads, claims: claims,
                                   completions: completions, rows: rows)
        for try await _ in try await connection.execute(AppendCall(binds: call.binds), logger: logger) {}
    }

    /// `SELECT trail_append(…)` with the values of one transaction; its text is the same whatever the values (each
    /// is a parameter), which ``AppendCall`` prepares once per connection.
    static func appendCall(
        checked: [(key: String, value: TenantPosition)], now: Timestamp, cutoff: Int64,
        heads: [(HeadKey, WrittenHead, previous: Int64)],
        claims: [(tenant: String, claim: IdempotencyClaim, result: AppendResult)],
        completions: [(claim: MessageClaim, result: AppendResult)], rows: [EventRow]
    ) -> PostgresQuery {
        let events = rows.map(\.event)
        return """
            SELECT trail_append(
                \(checked.map(\.key))::text[], \(checked.map(\.value.chain.sequence))::int8[],
                \(checked.map(\.value.epoch))::int8[], \(now.microseconds), \(cutoff),
                \(heads.map(\.0.tenant))::text[], \(heads.map(\.0.type))::text[], \(heads.map(\.0.id))::text[],
                \(heads.map(\.1.head.version))::int8[], \(NullableArray(heads.map(\.1.stateJSON)))::text[],
                \(NullableArray(heads.map(\.1.digestsJSON)))::text[], \(heads.map(\.1.lastSequence))::int8[],
                \(heads.map(\.previous))::int8[],
                \(claims.map(\.tenant))::text[], \(claims.map(\.claim.key))::text[],
                \(claims.map { ByteBuffer(bytes: $0.claim.requestDigest) })::bytea[],
                \(NullableArray(claims.map { $0.result.events.first?.sequence }))::int8[],
                \(claims.map { Int32($0.result.events.count) })::int4[],
                \(completions.map(\.claim.id))::uuid[], \(completions.map(\.claim.token))::text[],
                \(NullableArray(completions.map { $0.result.events.first?.sequence }))::int8[],
                \(completions.map { Int32($0.result.events.count) })::int4[],
                \(events.map(\.tenant))::text[], \(events.map(\.sequence))::int8[], \(events.map(\.id))::text[],
                \(events.map(\.occurredAt.microseconds))::int8[], \(events.map(\.action))::text[],
                \(NullableArray(rows.map(\.actorId)))::text[], \(NullableArray(rows.map(\.actorJSON)))::text[],
                \(NullableArray(events.map(\.resourceType)))::text[], \(NullableArray(events.map(\.resourceId)))::text[],
                \(NullableArray(events.map(\.version)))::int8[], \(rows.map(\.advancesVersion))::bool[],
                \(rows.map(\.changesJSON))::text[], \(events.map(\.summary))::text[],
                \(NullableArray(rows.map(\.stateJSON)))::text[], \(NullableArray(rows.map(\.digestsJSON)))::text[],
                \(NullableArray(rows.map(\.contextJSON)))::text[], \(NullableArray(rows.map(\.metadataJSON)))::text[],
                \(NullableArray(events.map(\.category)))::text[], \(events.map(\.outcome.rawValue))::text[],
                \(NullableArray(events.map(\.resourceName)))::text[], \(NullableArray(events.map(\.durationMs)))::int8[],
                \(NullableArray(rows.map(\.errorJSON)))::text[], \(events.map { ByteBuffer(bytes: $0.prevHash) })::bytea[],
                \(events.map { ByteBuffer(bytes: $0.hash) })::bytea[], \(rows.map(\.searchText))::text[])
            """
    }

    /// The write call as a prepared statement: PostgreSQL parses and plans its text once per connection, and each
    /// transaction sends only its values.
    struct AppendCall: PostgresPreparedStatement {
        static let sql = PostgresAppender.appendCall(
            checked: [], now: Timestamp(microseconds: 0), cutoff: 0, heads: [], claims: [], completions: [], rows: []).sql
        let binds: PostgresBindings

        func makeBindings() -> PostgresBindings { binds }
        func decodeRow(_ row: PostgresRow) {}
    }

    /// `SELECT trail_flush()`, prepared once per connection like ``AppendCall``.
    struct FlushCall: PostgresPreparedStatement {
        static let sql = "SELECT trail_flush()"

        func makeBindings() -> PostgresBindings { PostgresBindings() }
        func decodeRow(_ row: PostgresRow) {}
    }

    /// The first answer to a repeated idempotency key.
    private func replay(_ claim: StoredClaim, tenant: String, on connection: PostgresConnection) async throws -> AppendResult {
        var events: [RecordedEvent] = []
        if claim.eventCount > 0, let first = claim.firstSequence {
            events = try await PostgresRows.events(connection.query("""
                SELECT \(unescaped: PostgresRows.eventColumns) FROM events
                WHERE tenant = \(tenant) AND sequence BETWEEN \(first) AND \(first + Int64(claim.eventCount) - 1)
                ORDER BY sequence
                """, logger: logger))
        }
        return AppendResult(events: events, recordedAt: Timestamp(microseconds: claim.createdAt), replayed: true)
    }

    /// Forgets idempotency keys past their retention, at most once a minute per process.
    private func purgeExpiredKeys(now: Timestamp, on connection: PostgresConnection) async throws {
        let minute: Int64 = 60_000_000
        guard now.microseconds / minute != lastPurgeMinute.load(ordering: .relaxed) else { return }
        lastPurgeMinute.store(now.microseconds / minute, ordering: .relaxed)
        let cutoff = now.microseconds - configuration.idempotencyRetentionSeconds * 1_000_000
        try await connection.query("DELETE FROM idempotency_keys WHERE created_at < \(cutoff)", logger: logger)
    }

    /// Makes sure the events partitions of this month and the next two exist (monthly, on recorded time), so an
    /// insert never finds its month missing. Checked again a week before the last one starts.
    private func ensurePartitions(for now: Timestamp) async throws {
        let week: Int64 = 7 * 86_400_000_000
        guard now.microseconds + week >= partitionedUntil.load(ordering: .relaxed) else { return }
        let logger = logger
        try await client.withConnection(within: configuration.connectionTimeout) { connection in
            try await connection.withTransaction(logger: logger) { connection in
                try await connection.run("SELECT pg_advisory_xact_lock(\(PostgresMigrations.lockKey))", logger: logger)
                for offset: Int64 in 0...2 {
                    let month = now.month(offset: offset)
                    let end = now.month(offset: offset + 1).start
                    let name = "events_y\(month.year)m\(month.month < 10 ? "0" : "")\(month.month)"
                    try await connection.query(PostgresQuery(unsafeSQL: """
                        CREATE TABLE IF NOT EXISTS \(name) PARTITION OF events
                        FOR VALUES FROM (\(month.start.microseconds)) TO (\(end.microseconds))
                        """), logger: logger)
                }
            }
        }
        partitionedUntil.store(now.month(offset: 2).start.microseconds, ordering: .relaxed)
    }
}

/// Where a tenant stood when a transaction was planned: its chain head, and the epoch of its heads.
struct TenantPosition: Equatable {
    var chain: ChainHead
    var epoch: Int64

    /// A tenant without events.
    static let start = TenantPosition(chain: .empty, epoch: 0)
}
