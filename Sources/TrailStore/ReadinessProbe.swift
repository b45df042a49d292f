/// What `GET /ready` asks of a store (SPEC §10): whether it answers, whether its schema is complete, and whether
/// its writer is moving.
public protocol ReadinessProbe: Sendable {
    func readiness() async -> StoreReadiness
}

public struct StoreReadiness: Sendable {
    /// Why the store did not answer a read within its connection timeout; nil when it did.
    public var failure: StoreError?
    /// The migrations this version of Trail has that the store lacks (another process may have opened it with an
    /// older version, or the schema's record was changed); empty when it did not answer.
    public var pendingMigrations: [String]
    /// How long the writer has been on its current transaction; nil while it runs none.
    public var writerBusy: Duration?
    /// How many events the search index has not reached yet, where it is built behind the writer (SQLite); nil
    /// where each write indexes itself (PostgreSQL).
    public var searchIndexLag: Int?

    public init(failure: StoreError? = nil, pendingMigrations: [String] = [], writerBusy: Duration? = nil, searchIndexLag: Int? = nil) {
        self.failure = failure
        self.pendingMigrations = pendingMigrations
        self.writerBusy = writerBusy
        self.searchIndexLag = searchIndexLag
    }
}
