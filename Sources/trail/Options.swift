import ArgumentParser
import Foundation
import Logging
import TrailServer
import TrailStore

/// Reads `TRAIL_*` environment variables; a flag given on the command line wins over them.
enum Env {
    static func string(_ name: String) -> String? {
        ProcessInfo.processInfo.environment[name].flatMap { $0.isEmpty ? nil : $0 }
    }
}

/// The store options every command that touches the database shares.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: "The SQLite database file (env TRAIL_DATABASE).")
    var database: String = Env.string("TRAIL_DATABASE") ?? "trail.sqlite"

    @Option(name: .long, help: "SQLite synchronous level: full, normal or off (env TRAIL_DURABILITY).")
    var durability: String = Env.string("TRAIL_DURABILITY") ?? "full"

    @Option(name: .long, help: "Comma-separated keys whose values are redacted; replaces the default list (env TRAIL_REDACT_KEYS).")
    var redactKeys: String?

    func validate() throws {
        guard SQLiteEventStore.Durability(rawValue: durability) != nil else {
            throw ValidationError("--durability must be full, normal or off")
        }
    }

    var storeConfiguration: StoreConfiguration {
        var configuration = StoreConfiguration()
        if let redactKeys = redactKeys ?? Env.string("TRAIL_REDACT_KEYS") {
            configuration.sensitiveKeys = redactKeys.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { !$0.isEmpty }
        }
        return configuration
    }

    func open() throws -> SQLiteEventStore {
        try SQLiteEventStore(path: database, durability: SQLiteEventStore.Durability(rawValue: durability)!,
                             configuration: storeConfiguration)
    }
}

/// Prints a problem the way a person reads it, on standard error, and fails the command.
func fail(_ problem: Problem) -> ExitCode {
    var text = "error: \(problem.detail)\n"
    for error in problem.errors {
        text += "  - \(error)\n"
    }
    FileHandle.standardError.write(Data(text.utf8))
    return ExitCode(1)
}

func fail(_ error: StoreError) -> ExitCode {
    FileHandle.standardError.write(Data("error: \(error.message)\n".utf8))
    return ExitCode(1)
}
