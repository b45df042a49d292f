public import Foundation
import Logging
import PostgresNIO
public import TrailStore

/// The stores the contract tests run against: SQLite always, PostgreSQL when `TRAIL_TEST_POSTGRES_URL` names a
/// server (a database on it that the tests may connect to; each test creates and drops a database of its own).
public enum StoreKind: String, Sendable, CaseIterable, CustomStringConvertible {
    case sqlite, postgres

    public var description: String { rawValue }

    /// The kinds available on this machine.
    public static var available: [StoreKind] {
        postgresURL == nil ? [.sqlite] : [.sqlite, .postgres]
    }

    public static var postgresURL: String? {
        ProcessInfo.processInfo.environment["TRAIL_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
    }
}

/// Bounds how many PostgreSQL test databases exist at once: the tests run in parallel, and each database brings
/// its store's connections (and sometimes `trail` child processes with theirs), which would otherwise exceed the
/// server's `max_connections` and make its `CREATE DATABASE` checkpoints queue up.
///
/// A test's `.timeLimit` counts its wait for a slot: in a full run a PostgreSQL test can wait most of the suite
/// (90–160 s measured in CI for tests that take 3 s alone). Limits on tests that take a slot are therefore 10
/// minutes, a guard against hangs that covers the whole suite's run, not a bound on the test's own work.
actor Slots {
    static let postgres = Slots(count: 8)

    private var free: Int
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(count: Int) { free = count }

    func acquire() async {
        if free > 0 {
            free -= 1
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    func release() {
        if waiting.isEmpty { free += 1 } else { waiting.removeFirst().resume() }
    }
}

/// A new, empty store location of `kind` — a SQLite file in a fresh directory, or a freshly created PostgreSQL
/// database — removed once `body` is done. `body` opens stores on it as it likes (several at once, again after
/// closing), as separate processes would.
public func withFreshLocation<T: Sendable>(
    _ kind: StoreKind, _ body: (StoreLocation, FreshLocation) async throws -> T
) async throws -> T {
    switch kind {
    case .sqlite:
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("trail-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("trail.sqlite").path
        return try await body(.sqlite(path: path, durability: .full), FreshLocation(text: path, directory: directory))
    case .postgres:
        guard let text = StoreKind.postgresURL else { throw StoreError(.unavailable, "TRAIL_TEST_POSTGRES_URL is not set") }
        await Slots.postgres.acquire()
        defer { Task { await Slots.postgres.release() } }
        let admin = try PostgresURL(text)
        let name = "trail_t_\(UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(16))"
        try await PostgresAdmin.execute("CREATE DATABASE \(name)", on: admin)
        var url = admin
        url.database = name
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("trail-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        do {
            let result = try await body(.postgres(url, maximumConnections: 4), FreshLocation(text: url.connectionString, directory: directory))
            try await PostgresAdmin.execute("DROP DATABASE \(name) WITH (FORCE)", on: admin)
            return result
        } catch {
            try? await PostgresAdmin.execute("DROP DATABASE \(name) WITH (FORCE)", on: admin)
            throw error
        }
    }
}

/// What a test may need besides the location: the text `--database` takes, and a scratch directory.
public struct FreshLocation: Sendable {
    /// The SQLite path or the PostgreSQL URL, as `trail --database` takes it.
    public let text: String
    /// A directory for the test's own files, removed with the location.
    public let directory: URL
}

/// Statements on a PostgreSQL database outside Trail's store, for setting up and for tampering in tests.
public enum PostgresAdmin {
    public static func execute(_ sql: String, on url: PostgresURL) async throws {
        try await withClient(url) { client in
            try await client.query(PostgresQuery(unsafeSQL: sql))
        }
    }

    /// The rows of `sql`, each as the text of its columns.
    public static func rows(_ sql: String, on url: PostgresURL) async throws -> [[String?]] {
        try await withClient(url) { client in
            var rows: [[String?]] = []
            for try await row in try await client.query(PostgresQuery(unsafeSQL: sql)) {
                rows.append(try row.map { cell in try cell.decode(String?.self) })
            }
            return rows
        }
    }

    static func withClient<T: Sendable>(_ url: PostgresURL, _ body: (PostgresClient) async throws -> T) async throws -> T {
        var configuration = PostgresClient.Configuration(
            host: url.host, port: url.port, username: url.username, password: url.password, database: url.database,
            tls: .disable)
        configuration.options.maximumConnections = 1
        let client = PostgresClient(configuration: configuration)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            return try await body(client)
        }
    }
}

extension PostgresURL {
    /// The URL again, as `--database` takes it (with its password, for tests on loopback).
    public var connectionString: String {
        let credentials = username + (password.map { ":" + $0 } ?? "")
        return "postgres://\(credentials)@\(host):\(port)/\(database)?sslmode=\(tls.rawValue)"
    }
}

/// A fresh PostgreSQL database reached through a ``TCPProxy``, so that a test can cut it off and bring it back:
/// `body` gets the store's location through the proxy (a pool of 4) and the proxy.
public func withProxiedPostgres<T: Sendable>(_ body: (StoreLocation, TCPProxy) async throws -> T) async throws -> T {
    try await withFreshLocation(.postgres) { location, _ in
        guard case .postgres(var url, _) = location else { throw StoreError(.unavailable, "not a PostgreSQL location") }
        let proxy = try TCPProxy(upstreamPort: url.port)
        defer { proxy.close() }
        url.port = proxy.port
        return try await body(.postgres(url, maximumConnections: 4), proxy)
    }
}
