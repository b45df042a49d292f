import ArgumentParser
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
