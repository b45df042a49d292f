public import TrailCore

/// How a store behaves, whatever its backend. Defaults are documented in the README.
public struct StoreConfiguration: Sendable {
    /// Keys whose values are redacted, matched case-insensitively at any depth.
    public var sensitiveKeys: [String]
    /// How long an idempotency key is remembered (at least; they are purged lazily). Default 24 hours.
    public var idempotencyRetentionSeconds: Int64
    /// The upper bound of events gathered into one group-commit transaction.
    public var maximumEventsPerTransaction: Int
    /// The source of recorded times; tests pass a fixed clock.
    public var clock: @Sendable () -> Timestamp
    /// How long an operation waits for a connection to PostgreSQL before it fails as unavailable (503, nothing
    /// done): while the server is down, requests fail within this time instead of hanging. Default 2 s.
    public var connectionTimeout: Duration
    /// Whether personal values are stored sealed under their data subjects' keys (SPEC §11, crypto-shredding).
    /// Default on; off stores them as given (an erasure then rewrites them, but backups keep them).
    public var sealsPersonalData: Bool
    /// The keys whose values are personal besides actors, request addresses and e-mails
    /// (``PersonalDataPolicy/defaultPersonalKeys``), matched case-insensitively at any depth.
    public var personalKeys: [String]
    /// How long a store's search indexer waits after a commit before indexing, so that the commits of
    /// a busy writer are indexed together (searches are exact whatever it is: they read what is not indexed).
    public var searchIndexDelay: Duration = .milliseconds(20)

    public init(
        sensitiveKeys: [String] = Redactor.defaultSensitiveKeys,
        idempotencyRetentionSeconds: Int64 = 24 * 3600,
        maximumEventsPerTransaction: Int = 20_000,
        clock: @escaping @Sendable () -> Timestamp = SystemClock.now,
        connectionTimeout: Duration = .seconds(2),
        sealsPersonalData: Bool = true,
        personalKeys: [String] = PersonalDataPolicy.defaultPersonalKeys
    ) {
        self.sensitiveKeys = sensitiveKeys
        self.idempotencyRetentionSeconds = idempotencyRetentionSeconds
        self.maximumEventsPerTransaction = maximumEventsPerTransaction
        self.clock = clock
        self.connectionTimeout = connectionTimeout
        self.sealsPersonalData = sealsPersonalData
        self.personalKeys = personalKeys
    }
}
