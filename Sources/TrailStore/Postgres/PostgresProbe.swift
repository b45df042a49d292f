import Logging
import NIOCore
import PostgresNIO

/// One connection made outside the pool before a store opens, to say in one line what is wrong when it cannot
/// be reached: the pool would retry a refused connection or a wrong password for a minute, with the cause only
/// in its logs.
enum PostgresProbe {
    /// Connects to `url` and tells whether Trail's schema is there.
    static func connect(_ url: PostgresURL, timeout: Duration, logger: Logger) async throws(StoreError) -> Bool {
        do {
            var configuration = PostgresConnection.Configuration(
                host: url.host, port: url.port, username: url.username, password: url.password, database: url.database,
                tls: try url.connectionTLS())
            configuration.options.connectTimeout = TimeAmount(timeout)
            let settings = configuration
            // The deadline also bounds the startup exchange, which the connect timeout does not. A connection
            // made after it is closed at once (a connection dropped unclosed is an assertion in PostgresNIO).
            let race = Race()
            let connection = try await withThrowingTaskGroup(of: PostgresConnection?.self, returning: PostgresConnection?.self) { group in
                group.addTask {
                    let connection = try await PostgresConnection.connect(
                        on: MultiThreadedEventLoopGroup.singleton.next(), configuration: settings, id: 0, logger: logger).get()
                    guard race.win(.first) else {
                        try? await connection.close()
                        return nil
                    }
                    return connection
                }
                group.addTask {
                    try? await Task.sleep(for: timeout)  // cut short once connected
                    _ = race.win(.second)
                    return nil
                }
                defer { group.cancelAll() }
                while let result = try await group.next() {
                    if let connection = result { return connection }
                    if race.winner == .second { return nil }  // (else the connection is on its way)
                }
                return nil
            }
            guard let connection else {
                throw StoreError(.unavailable, "PostgreSQL at \(url.host):\(url.port) did not answer within \(timeout) (is the address right, and does a firewall drop the connection?)")
            }
            defer { Task { try? await connection.close() } }
            var exists = false
            for try await found in try await connection.query("SELECT to_regclass('trail_migrations') IS NOT NULL", logger: logger)
                .decode(Bool.self) {
                exists = found
            }
            return exists
        } catch let error as StoreError {
            throw error
        } catch {
            throw describe(error, url: url)
        }
    }

    /// What a failed connection means, in one line.
    static func describe(_ error: any Error, url: PostgresURL) -> StoreError {
        let place = "PostgreSQL at \(url.host):\(url.port)"
        guard let error = error as? PSQLError else {
            return StoreError(.unavailable, "\(place) cannot be reached: \(error)")
        }
        if let state = error.serverInfo?[.sqlState] {
            let message = error.serverInfo?[.message] ?? state
            switch state {
            case "3D000":
                return StoreError(.unavailable, "\(place) has no database \(url.database): create it (createdb \(url.database)) or fix the URL")
            case "28P01", "28000":
                return StoreError(.unavailable, "\(place) refused user \(url.username): \(message) (check the password in the URL and pg_hba.conf)")
            case "53300":
                return StoreError(.unavailable, "\(place) has too many connections: \(message)")
            case "57P03":
                return StoreError(.unavailable, "\(place) is starting up or shutting down: \(message)")
            default:
                return PostgresFailure.storeError(error)
            }
        }
        switch error.code {
        case .sslUnsupported:
            return StoreError(.unavailable, "\(place) does not offer TLS, which sslmode=require asks for: enable ssl on the server, or use sslmode=prefer or disable")
        case .failedToAddSSLHandler:
            return StoreError(.unavailable, "TLS with \(place) failed: \(error.underlying.map { "\($0)" } ?? "no detail")")
        case .connectionError:
            let cause = error.underlying.map { "\($0)" } ?? ""
            if cause.contains("connection refused") || cause.contains("Connection refused") || cause.contains("connectFailed") {
                return StoreError(.unavailable, "\(place) refused the connection: is it running, and listening on that address and port?")
            }
            return StoreError(.unavailable, "\(place) cannot be reached: \(cause.isEmpty ? "\(error.code)" : cause)")
        case .unsupportedAuthMechanism, .authMechanismRequiresPassword, .saslError:
            return StoreError(.unavailable, "\(place) asks user \(url.username) for a password or an authentication Trail cannot give: put the password in the URL")
        default:
            return StoreError(.unavailable, "\(place) cannot be reached: \(error.code)")
        }
    }
}

extension PostgresURL {
    /// The TLS of a single connection, as `sslmode` asks.
    func connectionTLS() throws -> PostgresConnection.Configuration.TLS {
        switch tls {
        case .disable: .disable
        case .prefer: .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
        case .require: .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
        }
    }
}
