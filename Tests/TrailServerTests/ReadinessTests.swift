import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Testing
import TrailCore
@testable import TrailServer
import TrailService
import TrailStore
import TrailTestSupport

/// `GET /ready` (SPEC §10): 200 while the store answers, its schema is complete and its writer moves; 503
/// naming the failing check otherwise, back to 200 by itself; `/health` 200 throughout. No key needed.
@Suite struct ReadinessTests {
    static func status(_ client: some TestClientProtocol, _ uri: String) async throws -> (HTTPResponse.Status, JSONValue) {
        let response = try await client.execute(uri: uri, method: .get)
        return (response.status, try parseJSON(response.body))
    }

    @Test(arguments: StoreKind.available)
    func notReadyWhileAMigrationIsPending(kind: StoreKind) async throws {
        try await withFreshLocation(kind) { location, _ in
            try await location.withStore { store in
                // Authentication on, as in production: /ready needs no key.
                try await buildApplication(configuration: ServerConfiguration(), store: store).test(.router) { client in
                    let (status, ready) = try await Self.status(client, "/ready")
                    #expect(status == .ok)
                    #expect(ready["status"] == "ready")
                    for check in ["store", "migrations", "writer"] {
                        #expect(ready["checks"]?[check]?["status"] == "pass", "\(check): \(ready)")
                    }
                    // The schema's record loses its newest migration, as a store opened by an older version.
                    let table = kind == .sqlite ? "grdb_migrations WHERE identifier" : "trail_migrations WHERE id"
                    try await IntegrityAPITests.execute("DELETE FROM \(table) = '0012_subtree_roots'", on: location)
                    let (pending, notReady) = try await Self.status(client, "/ready")
                    #expect(pending == .serviceUnavailable)
                    #expect(notReady["status"] == "not_ready")
                    #expect(notReady["checks"]?["migrations"]?["status"] == "fail")
                    #expect(notReady["checks"]?["migrations"]?["detail"]?.stringValue?.contains("0012_subtree_roots") == true)
                    #expect(notReady["checks"]?["store"]?["status"] == "pass")
                    #expect(try await client.execute(uri: "/health", method: .get).status == .ok)
                    // The record restored: ready again, without a restart.
                    try await IntegrityAPITests.execute(kind == .sqlite
                        ? "INSERT INTO grdb_migrations (identifier) VALUES ('0012_subtree_roots')"
                        : "INSERT INTO trail_migrations (id) VALUES ('0012_subtree_roots')", on: location)
                    #expect(try await Self.status(client, "/ready").0 == .ok)
                }
            }
        }
    }

    /// PostgreSQL unreachable (every connection cut, through a TCP proxy): /ready is 503 naming the store within
    /// the store's connection timeout, /health stays 200, and /ready is 200 again once PostgreSQL is back.
    @Test(.timeLimit(.minutes(10)), .enabled(if: StoreKind.postgresURL != nil))
    func readinessFollowsPostgreSQL() async throws {
        try await withProxiedPostgres { location, proxy in
            try await location.withStore(configuration: StoreConfiguration(connectionTimeout: .seconds(1))) { store in
                try await buildApplication(configuration: ServerConfiguration(authentication: .disabled), store: store).test(.router) { client in
                    #expect(try await Self.status(client, "/ready").0 == .ok)
                    proxy.cut()
                    let (down, answer) = try await Self.status(client, "/ready")
                    #expect(down == .serviceUnavailable)
                    #expect(answer["checks"]?["store"]?["status"] == "fail", "\(answer)")
                    #expect(try await client.execute(uri: "/health", method: .get).status == .ok)
                    proxy.resume()
                    // Back by itself (bounded: 20 s).
                    let deadline = ContinuousClock.now + .seconds(20)
                    var back = false
                    while !back && ContinuousClock.now < deadline {
                        back = try await Self.status(client, "/ready").0 == .ok
                        if !back { try await Task.sleep(for: .milliseconds(200)) }
                    }
                    #expect(back)
                }
            }
        }
    }

    /// While `trail serve` opens its store, /health answers and /ready says why it is not ready.
    @Test func notReadyWhileStarting() async throws {
        let router = startingRouter(configuration: ServerConfiguration(), logger: Logger(label: "test"))
        try await Application(router: router).test(.router) { client in
            #expect(try await client.execute(uri: "/health", method: .get).status == .ok)
            let (status, answer) = try await Self.status(client, "/ready")
            #expect(status == .serviceUnavailable)
            #expect(answer["checks"]?["store"]?["detail"]?.stringValue?.hasPrefix("starting") == true)
        }
    }
}
