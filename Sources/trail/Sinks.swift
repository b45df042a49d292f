import ArgumentParser
import Foundation
import TrailCore
import TrailService
import TrailStore

/// `trail sinks add|list|show|remove`: a tenant's sinks, straight in the store (admins can also use
/// `/api/v1/sinks`); `trail serve` delivers them.
struct SinksCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sinks",
        abstract: "Add, list, show and remove the sinks that forward a tenant's events to a SIEM (webhook, syslog).",
        subcommands: [Add.self, List.self, Show.self, Remove.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a sink from its JSON definition (as POST /api/v1/sinks takes it); prints it, without its secret.",
            discussion: """
                Examples:
                  trail sinks add --tenant acme --definition '{"type": "webhook", "url": "https://siem.example/hook", "secret": "…"}'
                  trail sinks add --tenant acme --definition '{"type": "syslog", "address": "tcp://siem.example:6514", "format": "cef"}'
                """)

        @Option(name: .long, help: "The tenant (\(TenantName.rule)).")
        var tenant: String

        @Option(name: .long, help: "The sink as JSON, or - to read it from standard input, or @file.")
        var definition: String

        @Flag(name: .customLong("allow-private-sinks"), help: "Allow a loopback or private address (trail serve needs the same flag to deliver to it).")
        var allowPrivate = false

        @OptionGroup var store: DatabaseOption

        func validate() throws {
            guard TenantName.isValid(tenant) else { throw ValidationError("--tenant must be \(TenantName.rule)") }
        }

        func run() async throws {
            let body = definition == "-" || definition.hasPrefix("@")
                ? try readInput(definition == "-" ? "-" : String(definition.dropFirst())) : Array(definition.utf8)
            let (tenant, allowPrivate) = (self.tenant, self.allowPrivate)
            do {
                let sink = try await store.withStore { store in
                    try await Sinks(store: store, allowPrivate: allowPrivate).create(body: body, tenant: tenant, by: .commandLine)
                }
                print(JSONWriter.string(sink.json(head: nil)))
            } catch let refusal as ServiceError {
                throw fail(refusal)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a tenant's sinks as JSON, with their cursor, lag and last error.")

        @Option(name: .long, help: "The tenant.")
        var tenant: String

        @OptionGroup var store: DatabaseOption

        func run() async throws {
            let tenant = self.tenant
            let list = try await store.withStore { store in
                let sinks = Sinks(store: store, allowPrivate: false)
                let head = try await sinks.head(tenant: tenant)
                return try await sinks.list(tenant: tenant).map { $0.json(head: head) }
            }
            print(JSONWriter.string(.object(JSONObject([.init(key: "data", value: .array(list))]))))
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print one sink as JSON.")

        @Option(name: .long, help: "The tenant.")
        var tenant: String

        @Argument(help: "The sink's id.")
        var id: String

        @OptionGroup var store: DatabaseOption

        func run() async throws {
            let (tenant, id) = (self.tenant, self.id)
            do {
                print(JSONWriter.string(try await store.withStore { store in
                    let sinks = Sinks(store: store, allowPrivate: false)
                    return try await sinks.get(id: id, tenant: tenant).json(head: try await sinks.head(tenant: tenant))
                }))
            } catch let refusal as ServiceError {
                throw fail(refusal)
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a sink: it delivers nothing more.")

        @Option(name: .long, help: "The tenant.")
        var tenant: String

        @Argument(help: "The sink's id.")
        var id: String

        @OptionGroup var store: DatabaseOption

        func run() async throws {
            let (tenant, id) = (self.tenant, self.id)
            do {
                try await store.withStore { store in
                    try await Sinks(store: store, allowPrivate: false).delete(id: id, tenant: tenant, by: .commandLine)
                }
                print("removed sink \(id)")
            } catch let refusal as ServiceError {
                throw fail(refusal)
            }
        }
    }
}
