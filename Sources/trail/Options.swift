import ArgumentParser
import Foundation
import Logging
import TrailService
import TrailStore

/// Reads `TRAIL_*` environment variables; a flag given on the command line wins over them.
enum Env {
    static func string(_ name: String) -> String? {
        ProcessInfo.processInfo.environment[name].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// A comma-separated list; empty when unset.
    static func list(_ name: String) -> [String] {
        string(name).map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } } ?? []
    }

    /// `1`, `true` or `yes` (any case).
    static func flag(_ name: String) -> Bool {
        string(name).map { ["1", "true", "yes"].contains($0.lowercased()) } ?? false
    }
}

/// Where the store is: every command that touches one. Only `serve`, `worker` and `migrate` create a store; the
/// others refuse a path or database that holds none, and create nothing.
struct DatabaseOption: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "A SQLite file, or a postgres://user:password@host:port/database URL (env TRAIL_DATABASE_URL, then TRAIL_DATABASE).",
        valueName: "file-or-url"))
    var database: String = Env.string("TRAIL_DATABASE_URL") ?? Env.string("TRAIL_DATABASE") ?? "trail.sqlite"

    func validate() throws {
        do {
            _ = try location()
        } catch {
            throw ValidationError(error.message)
        }
    }

    func location(durability: SQLiteEventStore.Durability = .full, poolSize: Int = 2) throws(StoreError) -> StoreLocation {
        try StoreLocation(database, durability: durability, maximumConnections: poolSize)
    }

    /// Opens the store, which must exist, runs `body` with it and closes it; a store that cannot be opened fails
    /// the command with its message.
    func withStore<T: Sendable>(_ body: (any TrailStorage) async throws -> T) async throws -> T {
        do {
            return try await location().withStore(creating: false, body)
        } catch let error as StoreError {
            throw fail(error)
        }
    }
}

/// The options of the commands that write events (`serve`, `worker`, `ingest`): the database, and how it is
/// written.
struct StoreOptions: ParsableArguments {
    @OptionGroup var database: DatabaseOption

    @Option(name: .long, help: "SQLite synchronous level: full, normal or off (env TRAIL_DURABILITY).")
    var durability: String = Env.string("TRAIL_DURABILITY") ?? "full"

    @Option(name: .long, help: "PostgreSQL connections per process (env TRAIL_POOL_SIZE).")
    var poolSize: Int = Env.string("TRAIL_POOL_SIZE").flatMap(Int.init) ?? 10

    @Option(name: .long, help: "Comma-separated keys whose values are redacted; replaces the default list (env TRAIL_REDACT_KEYS).")
    var redactKeys: String?

    @Option(name: .long, help: "Store personal values sealed per data subject: true (default) or false, which stores them as given: backups then keep what erasures remove (env TRAIL_SEAL_PERSONAL_DATA).")
    var sealPersonalData: Bool = Env.string("TRAIL_SEAL_PERSONAL_DATA").map { $0 != "false" } ?? true

    @Option(name: .long, help: "Comma-separated keys whose string values are personal, sealed per data subject; replaces the default list (env TRAIL_PERSONAL_KEYS).")
    var personalKeys: String?

    @Option(name: .long, help: "Seconds an operation waits for a PostgreSQL connection before it fails with 503 (env TRAIL_STORE_TIMEOUT).")
    var storeTimeout: Double = Env.string("TRAIL_STORE_TIMEOUT").flatMap(Double.init) ?? 2

    func validate() throws {
        guard SQLiteEventStore.Durability(rawValue: durability) != nil else {
            throw ValidationError("--durability must be full, normal or off")
        }
        guard poolSize >= 1 else { throw ValidationError("--pool-size must be at least 1") }
        guard storeTimeout > 0, storeTimeout <= 3600 else { throw ValidationError("--store-timeout must be more than 0 and at most 3600 seconds") }
    }

    func location() throws(StoreError) -> StoreLocation {
        try database.location(durability: SQLiteEventStore.Durability(rawValue: durability) ?? .full, poolSize: poolSize)
    }

    var storeConfiguration: StoreConfiguration {
        var configuration = StoreConfiguration(connectionTimeout: .milliseconds(Int64(storeTimeout * 1000)))
        if let redactKeys = redactKeys ?? Env.string("TRAIL_REDACT_KEYS") {
            configuration.sensitiveKeys = redactKeys.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { !$0.isEmpty }
        }
        configuration.sealsPersonalData = sealPersonalData
        if let personalKeys = personalKeys ?? Env.string("TRAIL_PERSONAL_KEYS") {
            configuration.personalKeys = personalKeys.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { !$0.isEmpty }
        }
        return configuration
    }

    /// Opens the store, runs `body` with it and closes it; a store that cannot be opened fails the command with
    /// its message. Only `serve` and `worker` create a store that does not exist.
    func withStore<T: Sendable>(
        creating: Bool, logger: Logger = Logger(label: "trail"), _ body: (any TrailStorage) async throws -> T
    ) async throws -> T {
        do {
            return try await location().withStore(configuration: storeConfiguration, creating: creating, logger: logger, body)
        } catch let error as StoreError {
            throw fail(error)
        }
    }
}

/// Prints a use case's refusal the way a person reads it, on standard error, and fails the command.
func fail(_ refusal: ServiceError) -> ExitCode {
    var text = "error: \(refusal.detail)\n"
    for error in refusal.errors {
        text += "  - \(error)\n"
    }
    FileHandle.standardError.write(Data(text.utf8))
    return ExitCode(1)
}

func fail(_ error: StoreError) -> ExitCode {
    fail(error.message)
}

/// Prints `error: message` on standard error and fails the command.
func fail(_ message: String) -> ExitCode {
    FileHandle.standardError.write(Data("error: \(message)\n".utf8))
    return ExitCode(1)
}

/// The options of the queue workers (`trail serve`, `trail worker`).
struct WorkerOptions: ParsableArguments {
    @Option(name: .long, help: "Queue worker loops in this process; 0 leaves the queue to `trail worker` (env TRAIL_WORKERS).")
    var workers: Int = Env.string("TRAIL_WORKERS").flatMap(Int.init) ?? WorkerConfiguration().count

    @Option(name: .long, help: "Seconds a claimed message is held before another worker may take it (env TRAIL_MESSAGE_LEASE).")
    var messageLease: Int64 = Env.string("TRAIL_MESSAGE_LEASE").flatMap(Int64.init) ?? WorkerConfiguration().leaseSeconds

    func validate() throws {
        guard workers >= 0 else { throw ValidationError("--workers must be 0 or more") }
        guard messageLease >= 1 else { throw ValidationError("--message-lease must be at least 1 second") }
    }

    var configuration: WorkerConfiguration {
        var configuration = WorkerConfiguration()
        configuration.count = workers
        configuration.leaseSeconds = messageLease
        return configuration
    }
}
