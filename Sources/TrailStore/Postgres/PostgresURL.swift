import Foundation
import PostgresNIO

/// A `postgres://user:password@host:port/database?sslmode=…` address (the libpq URL form), parsed.
///
/// `sslmode` is `disable`, `prefer` (the default: TLS when the server offers it) or `require`.
public struct PostgresURL: Sendable, CustomStringConvertible {
    public enum TLSMode: String, Sendable {
        case disable, prefer, require
    }

    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String
    public var tls: TLSMode

    /// True for text that names a PostgreSQL database rather than a SQLite file.
    public static func isPostgres(_ text: String) -> Bool {
        text.hasPrefix("postgres://") || text.hasPrefix("postgresql://")
    }

    public init(_ text: String) throws(StoreError) {
        guard PostgresURL.isPostgres(text), let components = URLComponents(string: text),
              let host = components.host, !host.isEmpty
        else {
            throw StoreError(.rejected, "not a PostgreSQL URL (postgres://user:password@host:port/database): \(Self.hidingPassword(text))")
        }
        self.host = host
        port = components.port ?? 5432
        username = components.user.flatMap { $0.removingPercentEncoding } ?? "postgres"
        password = components.password.flatMap { $0.removingPercentEncoding }
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        database = path.removingPercentEncoding.flatMap { $0.isEmpty ? nil : $0 } ?? username
        var tls = TLSMode.prefer
        for item in components.queryItems ?? [] where item.name == "sslmode" {
            guard let mode = item.value.flatMap(TLSMode.init(rawValue:)) else {
                throw StoreError(.rejected, "sslmode must be disable, prefer or require, not \(item.value ?? "empty")")
            }
            tls = mode
        }
        self.tls = tls
    }

    /// The URL with its password hidden, fit for logs.
    public var description: String {
        "postgres://\(username)\(password == nil ? "" : ":***")@\(host):\(port)/\(database)"
    }

    static func hidingPassword(_ text: String) -> String {
        guard var components = URLComponents(string: text), components.password != nil else { return text }
        components.password = "***"
        return components.string ?? text
    }

    static let lockTimeoutMilliseconds = 5_000

    func clientConfiguration(maximumConnections: Int) -> PostgresClient.Configuration {
        let tlsConfiguration: PostgresClient.Configuration.TLS = switch tls {
        case .disable: .disable
        case .prefer: .prefer(.makeClientConfiguration())
        case .require: .require(.makeClientConfiguration())
        }
        var configuration = PostgresClient.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: tlsConfiguration)
        configuration.options.maximumConnections = maximumConnections
        configuration.options.minimumConnections = 1
        // A writer waiting longer than this for a row lock (another session holding a tenant's row) gives up,
        // and the client gets a 503 with Retry-After instead of a request that hangs.
        configuration.options.additionalStartupParameters = [("options", "-c lock_timeout=\(PostgresURL.lockTimeoutMilliseconds)")]
        return configuration
    }
}
