import Foundation
public import Logging
import PostgresNIO
public import TrailCore

/// The store for several Trail processes on one PostgreSQL database.
///
/// Each process gathers its concurrent submissions into one transaction (group commit) like the SQLite store;
/// across processes, each transaction is written by one call that locks the row of its tenant in `tenant_heads`
/// and checks nobody wrote the tenant since the transaction was planned (``PostgresAppender``), so a tenant's
/// sequence and its resources' versions stay gapless whichever process writes. See docs/postgresql.md.
public final class PostgresEventStore: EventStore {
    public let url: PostgresURL
    let client: PostgresClient
    let logger: Logger
    let writer: GroupCommit<PreparedRequest, AppendResult>
    let appender: PostgresAppender
    /// Wakes this process's workers: on its own enqueues, and on `NOTIFY` from other processes.
    let queued = WorkSignal()
    /// Hears of this process's commits from its writer, and of other processes' from `NOTIFY`.
    public let commits = CommitFeed()
    /// Tells the other processes of this one's commits (`NOTIFY`), after they committed.
    let announcer = CommitAnnouncer()
    /// Accepts async submissions in batches, beside the events writer.
    let enqueuer: GroupCommit<NewMessage, EnqueueResult>
    var clock: @Sendable () -> Timestamp { appender.configuration.clock }
    /// Seals personal values on the way in, opens them on the way out (SPEC §11).
    let personal: PersonalData
    /// Wakes the search indexer (``PostgresSearch``): on this process's commits and on `NOTIFY` of any process's.
    let searchWork = WorkSignal()

    private init(
        url: PostgresURL, client: PostgresClient, redactor: Redactor, configuration: StoreConfiguration, logger: Logger,
        vault: PostgresSubjectKeys, vaultSecret: [UInt8]
    ) {
        self.url = url
        self.client = client
        self.logger = logger
        personal = PersonalData(
            policy: PersonalDataPolicy(personalKeys: configuration.personalKeys), sealing: configuration.sealsPersonalData,
            vault: vault, secret: vaultSecret
        ) { tenant throws(StoreError) in
            do {
                return try await client.withConnection(within: configuration.connectionTimeout) { connection in
                    try await PostgresEventStore.personalKeys(tenant: tenant, on: connection, logger: logger)
                }
            } catch {
                throw PostgresFailure.storeError(error)
            }
        }
        let appender = PostgresAppender(client: client, redactor: redactor, configuration: configuration, logger: logger)
        self.appender = appender
        let commits = commits
        let announcer = announcer
        let searchWork = searchWork
        writer = GroupCommit(maximumWeight: configuration.maximumEventsPerTransaction) { requests in
            let start = ContinuousClock.now
            let results = await appender.commit(requests)
            let stored = results.compactMap { try? $0.get() }
            StoreMetrics.committed(events: StoreMetrics.newEvents(stored), since: start)
            commits.published(stored)
            announcer.announce(stored)
            if !stored.isEmpty { searchWork.notify() }
            return results
        }
        let clock = configuration.clock
        enqueuer = GroupCommit(maximumWeight: configuration.maximumEventsPerTransaction) { messages in
            await PostgresEventStore.enqueue(messages, client: client, timeout: configuration.connectionTimeout, now: clock(), logger: logger)
        }
    }

    /// Connects to `url`, brings the schema up to date and runs `body` with the store; the connection pool lives
    /// as long as `body` runs.
    ///
    /// - Parameter maximumConnections: the size of this process's connection pool (the writer uses one; reads
    ///   share the rest).
    ///   - creating: whether a database without Trail's schema gets it; if not, such a database is refused
    ///     (``StoreError/Code/missing``).
    public static func withStore<T: Sendable>(
        url: PostgresURL, configuration: StoreConfiguration = StoreConfiguration(), maximumConnections: Int = 10,
        creating: Bool = true, logger: Logger = Logger(label: "trail.postgres"),
        _ body: (PostgresEventStore) async throws -> T
    ) async throws -> T {
        let exists = try await PostgresProbe.connect(url, timeout: probeTimeout, logger: logger)
        guard creating || exists else {
            throw StoreError(.missing, "database \(url.database) at \(url.host):\(url.port) holds no Trail store: trail serve or trail migrate creates one")
        }
        return try await withClient(url: url, maximumConnections: maximumConnections, logger: logger) { client in
            do {
                _ = try await PostgresMigrations.migrate(client, logger: logger)
                let rows = try await client.query(
                    "SELECT value FROM trail_settings WHERE name = 'redaction_secret'", logger: logger)
                var secret: ByteBuffer?
                for try await value in rows.decode(ByteBuffer.self) { secret = value }
                guard let secret else { throw StoreError(.corrupt, "the store has no redaction secret") }
                let redactor = Redactor(sensitiveKeys: configuration.sensitiveKeys, secret: Array(buffer: secret))
                let vault = PostgresSubjectKeys(client: client, timeout: configuration.connectionTimeout, logger: logger)
                let store = PostgresEventStore(
                    url: url, client: client, redactor: redactor, configuration: configuration, logger: logger,
                    vault: vault, vaultSecret: try await vault.secret())
                let listener = Task { await store.listenForNotifications() }
                let announcing = Task { await store.announcer.run(client: client, logger: logger) }
                defer { announcing.cancel() }
                let indexing = Task { await store.indexSearchBehindWriter(gather: configuration.searchIndexDelay) }
                defer { indexing.cancel() }
                defer { listener.cancel() }
                return try await body(store)
            } catch let error as PSQLError {
                throw PostgresFailure.storeError(error)
            }
        }
    }

    /// Applies pending migrations (the `trail migrate` command). Returns the ids of those applied now.
    public static func migrate(url: PostgresURL, logger: Logger = Logger(label: "trail.postgres")) async throws -> [String] {
        _ = try await PostgresProbe.connect(url, timeout: probeTimeout, logger: logger)
        return try await withClient(url: url, maximumConnections: 1, logger: logger) { client in
            do {
                return try await PostgresMigrations.migrate(client, logger: logger)
            } catch let error as PSQLError {
                throw PostgresFailure.storeError(error)
            }
        }
    }

    private static func withClient<T: Sendable>(
        url: PostgresURL, maximumConnections: Int, logger: Logger, _ body: (PostgresClient) async throws -> T
    ) async throws -> T {
        // PostgresNIO logs each failed reconnection at info, as a dump of its error; Trail says what a failure
        // means itself (one line per failed request). Its logs stay in at debug.
        var background = logger
        if background.logLevel > .debug { background.logLevel = max(background.logLevel, .warning) }
        let client = PostgresClient(
            configuration: url.clientConfiguration(maximumConnections: maximumConnections), backgroundLogger: background)
        // Detached: `PostgresClient.run()` ends at a graceful shutdown it sees in its task's locals, which a
        // child task inherits when the store is opened inside a service (`trail serve`). The pool must outlive
        // `body` instead, whose users (workers, the signer) stop first and may still be writing.
        let (started, signal) = AsyncStream<Void>.makeStream()
        let pool = Task.detached {
            signal.finish()
            await client.run()
        }
        // Leasing a connection before `run()` begins logs a warning (and waits for it anyway). Waiting for the
        // task to start narrows that window without closing it: `run()` marks itself running on its first line,
        // which the task reaches just after the signal, and PostgresNIO offers no way to wait for that.
        for await _ in started {}
        let result: Result<T, any Error>
        do {
            result = .success(try await body(client))
        } catch {
            result = .failure(error)
        }
        pool.cancel()
        await pool.value
        return try result.get()
    }

    /// How long the first connection may take before a start fails.
    static let probeTimeout = Duration.seconds(10)

    public func append(_ request: AppendRequest) async throws(StoreError) -> AppendResult {
        try await append([request])[0].get()
    }

    public func append(_ requests: [AppendRequest]) async -> [Result<AppendResult, StoreError>] {
        await personal.append(requests) { sealed in await appendSealed(sealed) }
    }

    private func appendSealed(_ requests: [AppendRequest]) async -> [Result<AppendResult, StoreError>] {
        await writer.submit(requests.map { request in
            let prepared = PreparedRequest(request, redactor: appender.redactor, cacheGeneration: appender.cacheGeneration,
                                           expectedHead: appender.expectedHead)
            return (prepared, weight: max(request.activities.count, 1))
        })
    }

    public func head(tenant: String, resourceType: String, resourceId: String) async throws(StoreError) -> ResourceHead? {
        var head = try await read { connection, logger in
            try await PostgresRows.heads(connection.query("""
                SELECT resource_type, resource_id, version, state::text, secret_digests::text FROM resource_heads
                WHERE tenant = \(tenant) AND resource_type = \(resourceType) AND resource_id = \(resourceId)
                """, logger: logger)).first?.value
        }
        let state = try await personal.open(head?.state)
        head?.state = state
        return head
    }

    public func event(tenant: String, id: String, sealed: Bool) async throws(StoreError) -> RecordedEvent? {
        guard UUIDText.isValid(id) else { return nil }
        let events = try await read { connection, logger in
            try await PostgresRows.events(connection.query("""
                SELECT \(unescaped: PostgresRows.eventColumns) FROM events WHERE id = \(id)::uuid AND tenant = \(tenant)
                """, logger: logger))
        }
        return try await (sealed ? events : personal.open(events)).first
    }

    /// `FROM events WHERE …` for the events matching `query` (all but its order, pages and limit), to be put
    /// inside a statement with ``statement(_:_:_:)``. Each filter is `(value IS NULL OR column = value)`:
    /// PostgresNIO's statements are planned with their values, so absent filters fold away and the indexes
    /// serve the present ones. A search reads the index (`event_search`), which
    /// ``PostgresSearch/catchUp(for:tenant:on:logger:)`` has brought up to every event committed before it.
    static func matching(tenant: String, _ query: EventQuery) -> PostgresQuery {
        var filter: PostgresQuery = """
        FROM events
        WHERE tenant = \(tenant)
            AND (\(query.actorId)::text IS NULL OR actor_id = \(query.actorId))
            AND (\(query.action)::text IS NULL OR action = \(query.action))
            AND (\(query.resourceType)::text IS NULL OR resource_type = \(query.resourceType))
            AND (\(query.resourceId)::text IS NULL OR resource_id = \(query.resourceId))
            AND (\(query.category)::text IS NULL OR category = \(query.category))
            AND (\(query.category)::text IS NOT NULL OR \(query.includesAccess) OR category IS DISTINCT FROM \(EventQuery.accessCategory))
            AND (\(query.outcome)::text IS NULL OR outcome = \(query.outcome))
            AND (\(query.since?.microseconds)::int8 IS NULL OR recorded_at >= \(query.since?.microseconds))
            AND (\(query.until?.microseconds)::int8 IS NULL OR recorded_at <= \(query.until?.microseconds))
            AND (\(query.beforeSequence)::int8 IS NULL OR sequence < \(query.beforeSequence))
            AND (\(query.afterSequence)::int8 IS NULL OR sequence > \(query.afterSequence))
        """
        if let search = query.search.map(tsquery) {
            // Added only to a search, not as `(value IS NULL OR …)`: PostgreSQL makes a semi-join of an `IN` only
            // where it stands alone, before folding constants; under `OR` it hashed every match of a common word
            // first (55 ms for 122,000 matches, against 0.1 ms for the join's newest page).
            filter.binds.append(tenant)
            filter.binds.append(search)
            filter.sql += """

                AND sequence IN (SELECT s.sequence FROM event_search s
                                 WHERE s.tenant = $\(filter.binds.count - 1) AND s.search @@ $\(filter.binds.count)::tsquery)
            """
        }
        return filter
    }

    /// The `tsquery` of a search: each term a quoted lexeme (letters and digits only, so quoting is safe), all
    /// required; a prefix term with `:*`. Cast, not parsed by `to_tsquery`, so the lexemes are exactly the
    /// words Trail indexed (``SearchText``).
    static func tsquery(_ search: SearchQuery) -> String {
        search.terms.map { term in
            let plain = "'\(term.word)'" + (term.prefix ? ":*" : "")
            return term.blind.map { "(\(plain) | '\($0)')" } ?? plain
        }.joined(separator: " & ")
    }

    /// `prefix`, the filter, `suffix`: the filter's values stay bound; prefix and suffix bind none.
    static func statement(_ prefix: String, _ filter: PostgresQuery, _ suffix: String) -> PostgresQuery {
        PostgresQuery(unsafeSQL: prefix + "\n" + filter.sql + "\n" + suffix, binds: filter.binds)
    }

    public func events(tenant: String, matching query: EventQuery) async throws(StoreError) -> [RecordedEvent] {
        let query = personal.blinded(query, tenant: tenant)
        let events = try await read { connection, logger in
            try await PostgresSearch.catchUp(for: query, tenant: tenant, on: connection, logger: logger)
            return try await PostgresRows.events(connection.query(PostgresEventStore.statement(
                "SELECT \(PostgresRows.eventColumns)", PostgresEventStore.matching(tenant: tenant, query),
                "ORDER BY sequence \(query.oldestFirst ? "ASC" : "DESC") LIMIT \(query.limit)"), logger: logger))
        }
        return query.sealed ? events : try await personal.open(events)
    }

    public func eventColumns(tenant: String, matching query: EventQuery) async throws(StoreError) -> [StoredEventColumns] {
        let query = personal.blinded(query, tenant: tenant)
        let columns = try await read { connection, logger in
            try await PostgresSearch.catchUp(for: query, tenant: tenant, on: connection, logger: logger)
            return try await PostgresRows.columns(connection.query(PostgresEventStore.statement(
                "SELECT \(PostgresRows.eventColumns)", PostgresEventStore.matching(tenant: tenant, query),
                "ORDER BY sequence \(query.oldestFirst ? "ASC" : "DESC") LIMIT \(query.limit)"), logger: logger))
        }
        return query.sealed ? columns : try await personal.open(columns)
    }

    public func summary(tenant: String, matching query: EventQuery) async throws(StoreError) -> EventSummary {
        let query = personal.blinded(query, tenant: tenant)
        return try await read { connection, logger in
            try await PostgresSearch.catchUp(for: query, tenant: tenant, on: connection, logger: logger)
            let filter = PostgresEventStore.matching(tenant: tenant, query)
            var counts: [(facet: String, key: String, count: Int)] = []
            for (name, expression) in EventSummary.facets {
                let rows = try await connection.query(PostgresEventStore.statement(
                    "SELECT (\(expression))::text, count(*)", filter, "AND \(expression) IS NOT NULL GROUP BY 1"),
                    logger: logger)
                for try await (key, count) in rows.decode((String, Int64).self) { counts.append((name, key, Int(count))) }
            }
            var durations: [(String, EventSummary.Durations)] = []
            for try await (action, minimum, average, maximum) in try await connection.query(PostgresEventStore.statement(
                "SELECT action, min(duration_ms), avg(duration_ms)::float8, max(duration_ms)", filter,
                "AND duration_ms IS NOT NULL GROUP BY action"), logger: logger).decode((String, Int64, Double, Int64).self) {
                durations.append((action, EventSummary.Durations(minimum: minimum, average: average, maximum: maximum)))
            }
            return EventSummary.assemble(counts: counts, durations: durations)
        }
    }

    public func snapshot(
        tenant: String, resourceType: String, resourceId: String, at point: SnapshotPoint
    ) async throws(StoreError) -> ResourceSnapshot? {
        let (version, time): (Int64?, Int64?) = switch point {
        case .latest: (nil, nil)
        case .version(let version): (version, nil)
        case .time(let time): (nil, time.microseconds)
        }
        var snapshot = try await read { connection, logger -> ResourceSnapshot? in
            let rows = try await connection.query("""
                SELECT version, state_after::text, id::text, recorded_at, removed_at IS NOT NULL FROM events
                WHERE tenant = \(tenant) AND resource_type = \(resourceType) AND resource_id = \(resourceId)
                    AND version IS NOT NULL
                    AND (\(version)::int8 IS NULL OR (version = \(version) AND new_version))
                    AND (\(time)::int8 IS NULL OR recorded_at <= \(time))
                ORDER BY version DESC, sequence DESC LIMIT 1
                """, logger: logger)
            var found: ResourceSnapshot?
            for try await (version, state, id, recorded, removed) in rows.decode((Int64, String?, String, Int64, Bool).self) {
                found = ResourceSnapshot(version: version, state: try StoredJSON.object(state), eventId: id,
                                         asOf: Timestamp(microseconds: recorded), removed: removed)
            }
            if var snapshot = found, snapshot.removed, point == .latest {
                // The current state outlives the events that made it: the head keeps it.
                for try await state in try await connection.query("""
                    SELECT state::text FROM resource_heads
                    WHERE tenant = \(tenant) AND resource_type = \(resourceType) AND resource_id = \(resourceId)
                    """, logger: logger).decode(String?.self) {
                    (snapshot.state, snapshot.removed) = (try StoredJSON.object(state), false)
                }
                return snapshot
            }
            return found
        }
        let state = try await personal.open(snapshot?.state)
        snapshot?.state = state
        return snapshot
    }

    /// Runs one operation (a read, or a write of its own) on a connection of the pool, waiting for one at most
    /// the store's ``StoreConfiguration/connectionTimeout``.
    func read<T: Sendable>(
        _ body: @escaping @Sendable (PostgresConnection, Logger) async throws -> T
    ) async throws(StoreError) -> T {
        let logger = logger
        do {
            return try await client.withConnection(within: appender.configuration.connectionTimeout) { connection in
                try await body(connection, logger)
            }
        } catch {
            throw PostgresFailure.storeError(error)
        }
    }
}
