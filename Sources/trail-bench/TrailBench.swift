import ArgumentParser
import Foundation
import TrailStore

/// `trail-bench`: the benchmark tooling, apart from the product's CLI. The scripts in `scripts/bench/` drive it
/// and the release `trail` binary (docs/benchmarks.md).
@main
struct TrailBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trail-bench",
        abstract: "Benchmarks of Trail's store: write throughput, and a populated store for read benchmarks.",
        subcommands: [BenchWrite.self, BenchPopulate.self],
        defaultSubcommand: BenchWrite.self)

    /// The store at `database` (a SQLite file or a postgres:// URL); a bad one fails the command with its reason.
    static func location(_ database: String) throws -> StoreLocation {
        do {
            return try StoreLocation(database, maximumConnections: 4)
        } catch {
            throw ValidationError(error.message)
        }
    }
}

/// Where a benchmark writes: a store of its own, made from nothing.
struct FreshDatabase: ParsableArguments {
    @Option(help: "A SQLite file that does not exist yet, or a postgres:// URL of a fresh database (write: its tenant \"bench\"; populate: \"default\").")
    var database: String = "bench.sqlite"

    func validate() throws {
        // (A PostgreSQL database is taken as given: create a fresh one.)
        guard PostgresURL.isPostgres(database) || !FileManager.default.fileExists(atPath: database) else {
            throw ValidationError("\(database) exists; trail-bench needs a fresh file")
        }
    }
}
