public import Logging

/// Where Trail keeps its data: a SQLite file (the default) or a PostgreSQL database.
public enum StoreLocation: Sendable, CustomStringConvertible {
    case sqlite(path: String, durability: SQLiteEventStore.Durability)
    case postgres(PostgresURL, maximumConnections: Int)

    /// `postgres://…` (or `postgresql://…`) names a PostgreSQL database; anything else a SQLite file.
    public init(
        _ text: String, durability: SQLiteEventStore.Durability = .full, maximumConnections: Int = 10
    ) throws(StoreError) {
        if PostgresURL.isPostgres(text) {
            self = .postgres(try PostgresURL(text), maximumConnections: maximumConnections)
        } else {
            self = .sqlite(path: text, durability: durability)
        }
    }

    /// The location for logs: a file path, or the URL with its password hidden.
    public var description: String {
        switch self {
        case .sqlite(let path, _): path
        case .postgres(let url, _): url.description
        }
    }

    /// Opens the store (migrating it as needed), runs `body` with it, and closes it.
    ///
    /// - Parameter creating: whether a store that does not exist yet is created (`trail serve`, `worker`,
    ///   `migrate`); if not, a missing SQLite file or a database without Trail's schema is refused
    ///   (``StoreError/Code/missing``) and nothing is created.
    public func withStore<T: Sendable>(
        configuration: StoreConfiguration = StoreConfiguration(), creating: Bool = true,
        logger: Logger = Logger(label: "trail.store"),
        _ body: (any TrailStorage) async throws -> T
    ) async throws -> T {
        switch self {
        case .sqlite(let path, let durability):
            if !creating { try SQLiteEventStore.requireStore(at: path) }
            return try await body(SQLiteEventStore(path: path, durability: durability, configuration: configuration))
        case .postgres(let url, let maximumConnections):
            return try await PostgresEventStore.withStore(
                url: url, configuration: configuration, maximumConnections: maximumConnections, creating: creating,
                logger: logger, body)
        }
    }

    /// Applies pending migrations and returns their ids (the `trail migrate` command).
    public func migrate(logger: Logger = Logger(label: "trail.store")) async throws -> [String] {
        switch self {
        case .sqlite(let path, _): try SQLiteEventStore.migrate(path: path)
        case .postgres(let url, _): try await PostgresEventStore.migrate(url: url, logger: logger)
        }
    }
}
