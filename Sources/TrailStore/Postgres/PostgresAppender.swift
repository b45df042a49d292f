import Logging
import PostgresNIO
import Synchronization
import TrailCore

/// The write side of the PostgreSQL store: one group-commit transaction over many submissions, in a fixed number
/// of round trips whatever the number of events: lock the tenants, read the heads the cache lacks, write
/// everything in one statement (each kind of row from `unnest(...)` arrays), commit.
///
/// A transaction locks the `tenant_heads` rows of its tenants first, in tenant order: writers of one tenant, in
/// this process or another, take turns, and every statement after the lock sees what the previous writer
/// committed (READ COMMITTED). The events trigger then refuses any sequence or version that does not continue
/// without gap, as a second line of defence.
final class PostgresAppender: Sendable {
    let client: PostgresClient
    let redactor: Redactor
    let configuration: StoreConfiguration
    let logger: Logger
    private let cache = HeadCache()
    private let lastPurgeMinute = Atomic<Int64>(0)
    /// The start of the first month for which no events partition is known to exist.
    private let partitionedUntil = Atomic<Int64>(Int64.min)

    /// How often a transaction that hit a serialisation failure or deadlock is run again.
    static let retries = 5

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
            do {
                try await ensurePartitions(for: now)
                let (results, written) = try await client.withConnection(within: leaseTimeout(for: requests)) { connection in
                    try await connection.transaction(logger: self.logger, phase: phase) { connection in
                        try await self.write(requests, now: now, on: connection)
                    }
                }
                cache.store(written)
                return results
            } catch {
                cache.removeAll()
                if phase.committing.load(ordering: .acquiring), PostgresFailure.storeError(error).code == .unavailable {
                    // The COMMIT was sent, and then the connection was lost: it may have been applied or not.
                    logger.warning("PostgreSQL connection lost during a commit", metadata: ["error": "\(PostgresFailure.storeError(error).message)"])
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

    private func write(
        _ requests: [PreparedRequest], now: Timestamp, on connection: PostgresConnection
    ) async throws -> ([Result<AppendResult, StoreError>], Written) {
        try await purgeExpiredKeys(now: now, on: connection)
        let chains = try await lockTenants(Set(requests.map(\.tenant)).sorted(), on: connection)
        let claims = try await storedClaims(requests, now: now, on: connection)
        let fetched = try await uncachedHeads(requests, on: connection)
        let held = try await heldMessageClaims(requests, on: connection)
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
                fetched[key] ?? cache.head(key)
            }
            rows += planned.rows
            for key in planned.touched where touchedSet.insert(key).inserted { touched.append(key) }
            let result = AppendResult(events: planned.rows.map(\.event), recordedAt: now, replayed: false)
            if let claim = request.idempotency { newClaims.append((tenant, claim, result)) }
            if let completes = request.completes { completions.append((completes, result)) }
            results.append(.success(result))
        }

        try await insert(rows, heads: touched, written: written, claims: newClaims, completions: completions, now: now,
                         on: connection)
        return (results, written)
    }

    /// Locks the tenants' rows (creating them if new), in the given order, and returns their chain heads.
    /// Empties the head cache if another process wrote one of these tenants since this one last did.
    ///
    /// One statement: an upsert locks the row whether it inserts or updates it (the update changes nothing),
    /// and returns the latest committed `last_sequence` and `last_hash` even after waiting for another writer.
    private func lockTenants(_ tenants: [String], on connection: PostgresConnection) async throws -> [String: ChainHead] {
        var last: [String: ChainHead] = [:]
        let rows = try await connection.query("""
            INSERT INTO tenant_heads (tenant, last_sequence) SELECT unnest(\(tenants)::text[]), 0
            ON CONFLICT (tenant) DO UPDATE SET last_sequence = tenant_heads.last_sequence
            RETURNING tenant, last_sequence, last_hash
            """, logger: logger)
        for try await (tenant, sequence, hash) in rows.decode((String, Int64, ByteBuffer).self) {
            last[tenant] = ChainHead(sequence: sequence, hash: Array(buffer: hash))
        }
        if tenants.contains(where: { tenant in cache.chain(tenant).map { $0 != last[tenant] } ?? false }) {
            cache.removeAll()
        }
        return last
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

    /// The heads of the resources the submissions name that the cache does not hold, in one query per tenant.
    private func uncachedHeads(
        _ requests: [PreparedRequest], on connection: PostgresConnection
    ) async throws -> [HeadKey: ResourceHead] {
        var wanted: [String: (types: [String], ids: [String])] = [:]
        var seen = Set<HeadKey>()
        for request in requests {
            for item in request.items {
                guard let key = item.key else { continue }
                guard cache.head(key) == nil, seen.insert(key).inserted else { continue }
                wanted[key.tenant, default: ([], [])].types.append(key.type)
                wanted[key.tenant, default: ([], [])].ids.append(key.id)
            }
        }
        var heads: [HeadKey: ResourceHead] = [:]
        for (tenant, keys) in wanted {
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

    /// Locks the queued messages the submissions complete, and returns the claim token each holds now.
    private func heldMessageClaims(_ requests: [PreparedRequest], on connection: PostgresConnection) async throws -> [String: String] {
        let ids = requests.compactMap { $0.completes?.id }
        guard !ids.isEmpty else { return [:] }
        var held: [String: String] = [:]
        let rows = try await connection.query("""
            SELECT id::text, claim_token FROM messages WHERE id = ANY(\(ids)::uuid[]) AND status = 'processing' FOR UPDATE
            """, logger: logger)
        for try await (id, token) in rows.decode((String, String?).self) { held[id] = token }
        return held
    }


    /// Writes the transaction's events, the heads they leave, the idempotency keys they claim and the messages
    /// they complete, in one statement: the events trigger checks the new versions against the heads written
    /// with them.
    private func insert(
        _ rows: [EventRow], heads keys: [HeadKey], written: Written,
        claims: [(tenant: String, claim: IdempotencyClaim, result: AppendResult)],
        completions: [(claim: MessageClaim, result: AppendResult)], now: Timestamp,
        on connection: PostgresConnection
    ) async throws {
        guard !rows.isEmpty || !claims.isEmpty || !completions.isEmpty else { return }
        let events = rows.map(\.event)
        let heads = keys.compactMap { key in written.heads[key].map { (key, $0) } }
        try await connection.query("""
            WITH heads AS (
                INSERT INTO resource_heads (tenant, resource_type, resource_id, version, state, secret_digests,
                    last_sequence, updated_at)
                SELECT tenant, resource_type, resource_id, version, state::json, secret_digests::json, last_sequence,
                    \(now.microseconds)
                FROM unnest(\(heads.map(\.0.tenant))::text[], \(heads.map(\.0.type))::text[], \(heads.map(\.0.id))::text[],
                    \(heads.map(\.1.head.version))::int8[], \(NullableArray(heads.map(\.1.stateJSON)))::text[],
                    \(NullableArray(heads.map(\.1.digestsJSON)))::text[], \(heads.map(\.1.lastSequence))::int8[])
                    AS u(tenant, resource_type, resource_id, version, state, secret_digests, last_sequence)
                ON CONFLICT (tenant, resource_type, resource_id) DO UPDATE SET
                    previous_version = resource_heads.version, version = excluded.version, state = excluded.state,
                    secret_digests = excluded.secret_digests, last_sequence = excluded.last_sequence,
                    updated_at = excluded.updated_at
            ), claims AS (
                -- An expired key of the same name is replaced.
                INSERT INTO idempotency_keys (tenant, key, request_digest, first_sequence, event_count, created_at)
                SELECT tenant, key, request_digest, first_sequence, event_count, \(now.microseconds)
                FROM unnest(\(claims.map(\.tenant))::text[], \(claims.map(\.claim.key))::text[],
                    \(claims.map { ByteBuffer(bytes: $0.claim.requestDigest) })::bytea[],
                    \(NullableArray(claims.map { $0.result.events.first?.sequence }))::int8[],
                    \(claims.map { Int32($0.result.events.count) })::int4[])
                    AS u(tenant, key, request_digest, first_sequence, event_count)
                ON CONFLICT (tenant, key) DO UPDATE SET request_digest = excluded.request_digest,
                    first_sequence = excluded.first_sequence, event_count = excluded.event_count,
                    created_at = excluded.created_at
            ), completed AS (
                UPDATE messages m SET status = 'completed', error = NULL, claim_token = NULL, claimed_until = NULL,
                    first_sequence = c.first_sequence, event_count = c.event_count, updated_at = \(now.microseconds)
                FROM unnest(\(completions.map(\.claim.id))::uuid[],
                    \(NullableArray(completions.map { $0.result.events.first?.sequence }))::int8[],
                    \(completions.map { Int32($0.result.events.count) })::int4[]) AS c(id, first_sequence, event_count)
                WHERE m.id = c.id
            )
            INSERT INTO events (tenant, sequence, id, occurred_at, recorded_at, action, actor_id, actor, resource_type,
                resource_id, version, new_version, changes, summary, state_after, secret_digests, context, metadata,
                category, outcome, resource_name, duration_ms, error, prev_hash, hash, search)
            SELECT tenant, sequence, id::uuid, occurred_at, \(now.microseconds), action, actor_id, actor::json,
                resource_type, resource_id, version, new_version, changes::json, summary, state_after::json,
                secret_digests::json, context::json, metadata::json, category, outcome, resource_name, duration_ms,
                error, prev_hash, hash, array_to_tsvector(string_to_array(search_text, ' '))
            FROM unnest(\(events.map(\.tenant))::text[], \(events.map(\.sequence))::int8[], \(events.map(\.id))::text[],
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
                AS u(tenant, sequence, id, occurred_at, action, actor_id, actor, resource_type, resource_id, version,
                     new_version, changes, summary, state_after, secret_digests, context, metadata, category, outcome,
                     resource_name, duration_ms, error, prev_hash, hash, search_text)
            """, logger: logger)
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
