import ArgumentParser
import Foundation
import TrailCore
import TrailService
import TrailStore

/// `trail keys create|list|revoke`: API keys, straight in the store (the operator's way in; admins can also use
/// `/api/v1/admin/keys`).
struct Keys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create, list and revoke API keys.",
        subcommands: [Create.self, List.self, Revoke.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an API key; its text is printed once, alone on the last line of standard output.")

        @Option(name: .long, help: "The tenant the key works in (\(TenantName.rule)).")
        var tenant: String

        @Option(name: .long, help: "writer (ingest), reader (read, export), auditor (read, verify) or admin (everything in its tenant).")
        var role: String

        @Option(name: .long, help: "A name to recognise the key by, e.g. the application using it.")
        var name: String = ""

        @OptionGroup var store: DatabaseOption

        func validate() throws {
            guard TenantName.isValid(tenant) else { throw ValidationError("--tenant must be \(TenantName.rule)") }
            guard Role(rawValue: role) != nil else {
                throw ValidationError("--role must be one of \(Role.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            guard name.codePoints <= APIKey.maximumNameLength else {
                throw ValidationError("--name must be at most \(APIKey.maximumNameLength) characters")
            }
        }

        func run() async throws {
            let (tenant, role, name) = (self.tenant, Role(rawValue: self.role)!, self.name)
            let (key, text) = try await store.withStore { store in
                try await KeyManagement(keys: store).create(tenant: tenant, role: role, name: name)
            }
            print("Created \(key.role.rawValue) key \(key.id) for tenant \(key.tenant)\(key.name.isEmpty ? "" : " (\(key.name))"). It is shown this once:")
            print(text)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List API keys (never their secrets).")

        @Option(name: .long, help: "Only this tenant's keys (default: every tenant's).")
        var tenant: String?

        @Flag(name: .long, help: "Print a JSON array instead of a table.")
        var json = false

        @OptionGroup var store: DatabaseOption

        func run() async throws {
            let tenant = self.tenant
            let keys = try await store.withStore { store in try await KeyManagement(keys: store).list(tenant: tenant) }
            if json {
                var writer = JSONWriter(capacity: 256 * (keys.count + 1))
                writer.raw("[")
                for (i, key) in keys.enumerated() {
                    if i > 0 { writer.raw(",") }
                    APIKeyJSON.write(key, text: nil, into: &writer)
                }
                writer.raw("]")
                print(String(decoding: writer.bytes, as: UTF8.self))
                return
            }
            guard !keys.isEmpty else {
                print("No API keys\(tenant.map { " for tenant \($0)" } ?? "").")
                return
            }
            Table.print(header: ["ID", "TENANT", "ROLE", "CREATED", "STATE", "NAME"], rows: keys.map { key in
                [key.id, key.tenant, key.role.rawValue, key.createdAt.formatted(),
                 key.revokedAt.map { "revoked \($0.formatted())" } ?? "active", key.name]
            })
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke an API key: it is refused from then on.")

        @Argument(help: "The key's id (16 hex digits, as `trail keys list` shows).")
        var id: String

        @Option(name: .long, help: "Only if the key belongs to this tenant.")
        var tenant: String?

        @OptionGroup var store: DatabaseOption

        func run() async throws {
            let (id, tenant) = (self.id, self.tenant)
            let key: APIKey
            do {
                key = try await store.withStore { store in try await KeyManagement(keys: store).revoke(tenant: tenant, id: id) }
            } catch let refusal as ServiceError where refusal.kind == .notFound {
                throw fail(refusal)
            }
            print("Revoked key \(key.id) (\(key.role.rawValue), tenant \(key.tenant)) at \(key.revokedAt!.formatted()).")
        }
    }
}
