import TrailCore
public import TrailStore

/// Everything `trail serve` can be told. Defaults are those documented in the README.
public struct ServerConfiguration: Sendable {
    /// Address to listen on. Default `127.0.0.1`: reachable only from this machine until you say otherwise.
    public var host: String
    /// Port to listen on. Default 9002; 0 picks a free port (logged on start).
    public var port: Int
    /// The SQLite file. Default `trail.sqlite` in the working directory.
    public var databasePath: String
    /// SQLite `synchronous` level. Default `full`.
    public var durability: SQLiteEventStore.Durability
    /// Largest accepted request body, in bytes. Default 10 MiB.
    public var maximumBodyBytes: Int
    /// Store behaviour: sensitive keys, idempotency retention, group-commit bounds.
    public var store: StoreConfiguration

    public init(
        host: String = "127.0.0.1",
        port: Int = 9002,
        databasePath: String = "trail.sqlite",
        durability: SQLiteEventStore.Durability = .full,
        maximumBodyBytes: Int = 10 * 1024 * 1024,
        store: StoreConfiguration = StoreConfiguration()
    ) {
        self.host = host
        self.port = port
        self.databasePath = databasePath
        self.durability = durability
        self.maximumBodyBytes = maximumBodyBytes
        self.store = store
    }

    /// Until authentication exists every event belongs to this tenant (SPEC §1).
    public static let defaultTenant = "default"
}
