import ArgumentParser
import Foundation
import TrailCore
import TrailService
import TrailStore

/// `trail retention set|show`: a tenant's retention rules, straight in the store (admins can also use
/// `/api/v1/retention`).
struct RetentionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retention",
        abstract: "Set and show a tenant's retention rules.",
        subcommands: [Set.self, Show.self])

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replace a tenant's retention rules with those of a JSON file: {\"rules\": [{\"resource_type\": \"user\" or \"*\", \"category\": null, \"keep_days\": 365}]}.")

        @Option(name: .long, help: "The tenant (\(TenantName.rule)).")
        var tenant: String

        @Option(name: .long, help: ArgumentHelp("The rules, as PUT /api/v1/retention takes them; - for standard input.", valueName: "file"))
        var rules: String

        @Option(name: .long, help: "The fewest days a rule may keep events (env TRAIL_MIN_RETENTION_DAYS; as trail serve's flag).")
        var minRetentionDays: Double = Env.string("TRAIL_MIN_RETENTION_DAYS").flatMap(Double.init) ?? 0

        @OptionGroup var store: DatabaseOption

        func validate() throws {
            guard TenantName.isValid(tenant) else { throw ValidationError("--tenant must be \(TenantName.rule)") }
        }

        func run() async throws {
            let body = try readInput(rules)
            let (tenant, minimum) = (self.tenant, minRetentionDays)
            do {
                let policy = try await store.withStore { store in
                    try await Retention(store: store, minimumDays: minimum).setPolicy(body: body, tenant: tenant, by: .commandLine)
                }
                print(JSONWriter.string(policy.json))
            } catch let refusal as ServiceError {
                throw fail(refusal)
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a tenant's retention rules as JSON.")

        @Option(name: .long, help: "The tenant.")
        var tenant: String

        @OptionGroup var store: DatabaseOption

        func run() async throws {
            let tenant = self.tenant
            let policy = try await store.withStore { store in try await Retention(store: store).policy(tenant: tenant) }
            print(JSONWriter.string(policy.json))
        }
    }
}

/// `trail cleanup [--dry-run] [--tenant T]`: runs the retention rules of every tenant that has some, or one.
struct Cleanup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Remove the content of events whose retention time is up (legal holds keep theirs); print a JSON report per tenant.",
        discussion: """
            Each removed event keeps its place in the log (sequence, hashes), so every checkpoint and proof stays \
            valid; trail verify counts it as removed. Runs in batches, next to a running trail serve.
            """)

    @Flag(name: .long, help: "Count what would go and what holds keep; change nothing.")
    var dryRun = false

    @Option(name: .long, help: "Only this tenant (default: every tenant with rules).")
    var tenant: String?

    @OptionGroup var store: DatabaseOption

    func run() async throws {
        let (tenant, dryRun) = (self.tenant, self.dryRun)
        do {
            let reports = try await store.withStore { store in
                try await Retention(store: store).runAll(tenant: tenant, dryRun: dryRun, by: .commandLine)
            }
            for report in reports { print(JSONWriter.string(report.json)) }
        } catch let refusal as ServiceError {
            throw fail(refusal)
        }
    }
}

/// `trail erase --tenant T --actor ID | --value TEXT`: erases a data subject from a tenant's store.
struct Erase: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Erase a data subject from a tenant: an actor's identity from the events they made, or every occurrence of a value (an e-mail); print a JSON report.",
        discussion: """
            Replaced by [erased] in events, current states, the search index and the queue (legal holds keep \
            theirs); the events keep their hashes, so every proof stays valid and trail verify counts them as \
            erased. See docs/lifecycle.md for what erasure reaches and what it does not.
            """)

    @Option(name: .long, help: "The tenant.")
    var tenant: String

    @Option(name: .long, help: "An actor's id: the events they made lose who made them.")
    var actor: String?

    @Option(name: .long, help: "An identifying value (an e-mail, a phone number): every occurrence goes.")
    var value: String?

    @Option(name: .long, help: "Why (kept in the erasure's record).")
    var reason: String = ""

    @OptionGroup var store: DatabaseOption

    func validate() throws {
        guard (actor == nil) != (value == nil) else { throw ValidationError("give --actor or --value (one)") }
    }

    func run() async throws {
        var body = JSONObject()
        if let actor { body.append("actor", .string(actor)) }
        if let value { body.append("value", .string(value)) }
        if !reason.isEmpty { body.append("reason", .string(reason)) }
        let (tenant, bytes) = (self.tenant, JSONWriter.encode(.object(body)))
        do {
            let report = try await store.withStore { store in
                try await Erasures(store: store).erase(body: bytes, tenant: tenant, by: .commandLine)
            }
            print(JSONWriter.string(report.json))
        } catch let refusal as ServiceError {
            throw fail(refusal)
        }
    }
}

/// The bytes of a file, or of standard input for `-`.
func readInput(_ path: String) throws -> [UInt8] {
    if path == "-" { return Array(FileHandle.standardInput.readDataToEndOfFile()) }
    guard let data = FileManager.default.contents(atPath: path) else { throw fail("cannot read \(path)") }
    return Array(data)
}

/// `trail personal-keys set|show`: the keys a tenant marks personal, straight in the store (admins can also use
/// `/api/v1/personal-data`).
struct PersonalKeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "personal-keys",
        abstract: "Set and show the keys a tenant marks personal (their string values are stored sealed per data subject).",
        subcommands: [Set.self, Show.self])

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replace the keys a tenant marks personal, besides the installation's (--personal-keys of trail serve).")

        @Option(name: .long, help: "The tenant (\(TenantName.rule)).")
        var tenant: String

        @Option(name: .long, help: "Comma-separated key names; empty for none.")
        var keys: String

        @OptionGroup var store: DatabaseOption

        func validate() throws {
            guard TenantName.isValid(tenant) else { throw ValidationError("--tenant must be \(TenantName.rule)") }
        }

        func run() async throws {
            let names = keys.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            let body = Array(JSONWriter.string(.object(JSONObject([.init(key: "keys", value: .array(names.map(JSONValue.string)))]))).utf8)
            let tenant = self.tenant
            do {
                let answer = try await store.withStore { store in
                    try await PersonalDataSettings(store: store).set(body: body, tenant: tenant, by: .commandLine)
                }
                print(JSONWriter.string(answer))
            } catch let refusal as ServiceError {
                throw fail(refusal)
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the keys a tenant marks personal, and the installation's default list, as JSON.")

        @Option(name: .long, help: "The tenant.")
        var tenant: String

        @OptionGroup var store: DatabaseOption

        func run() async throws {
            let tenant = self.tenant
            print(JSONWriter.string(try await store.withStore { store in try await PersonalDataSettings(store: store).json(tenant: tenant) }))
        }
    }
}
