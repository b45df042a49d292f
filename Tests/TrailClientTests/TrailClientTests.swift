import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
import TrailClient
import TrailCore
import TrailServer
import TrailStore
import TrailTestSupport
import ServiceLifecycle
import Logging

/// The Swift client against a live Trail on loopback (the real server, a real store of each kind).
@Suite struct TrailClientTests {
    /// A live server with authentication on, and a writer-and-reader key (admin) of tenant acme.
    static func withTrail(_ kind: StoreKind, _ body: @escaping @Sendable (_ port: Int, _ key: String) async throws -> Void) async throws {
        try await withFreshLocation(kind) { location, _ in
            try await location.withStore { store in
                let (_, key) = try await store.createKey(tenant: "acme", role: .admin, name: "client tests")
                try await buildApplication(configuration: ServerConfiguration(port: 0, rateLimit: nil), store: store).test(.live) { client in
                    try await body(try #require(client.port), key)
                }
            }
        }
    }

    /// (AsyncHTTPClient keeps trying to connect until an attempt's timeout: a short one keeps failures short.)
    static func client(port: Int, key: String, attempts: Int = 4, timeout: Duration = .seconds(5)) -> TrailClient {
        TrailClient(configuration: .init(baseURL: "http://127.0.0.1:\(port)/", apiKey: key, attempts: attempts,
                                         backoff: .milliseconds(50), timeout: timeout))
    }

    @Test(arguments: StoreKind.available)
    func recordsReadsPagesAndStates(_ kind: StoreKind) async throws {
        try await Self.withTrail(kind) { port, key in
            let trail = Self.client(port: port, key: key)
            let invoice = ResourceReference(type: "invoice", id: "i 1/a")
            let first = try await trail.record(AuditEvent(
                action: "create", actor: Actor(id: "7", name: "Ann"), resource: invoice,
                changes: ["total": FieldChange(old: nil, new: 10), "note": FieldChange(old: nil, new: "first")],
                metadata: ["source": "tests"]))
            #expect(first.action == "created" && first.tenant == "acme" && first.version == 1 && first.actorId == "7")
            let second = try await trail.record(AuditEvent(action: "update", actor: Actor(id: "7"), resource: invoice,
                                                           changes: ["total": FieldChange(old: 10, new: 12)]))
            #expect(second.version == 2 && second.changes["total"] == [10, 12])
            #expect(try await trail.event(id: first.id) == first)
            #expect(try await trail.state(type: "invoice", id: "i 1/a")?.state?["total"] == 12)
            #expect(try await trail.state(type: "invoice", id: "i 1/a", version: 1)?.state?["note"] == "first")
            #expect(try await trail.state(type: "invoice", id: "nothing") == nil)
            #expect(try await trail.event(id: "00000000-0000-0000-0000-000000000000") == nil)

            let batch = try await trail.recordBatch((1...5).map { n in
                AuditEvent(action: "user_login", actor: Actor(id: "u\(n)"), metadata: ["n": .number(Double(n))])
            })
            #expect(batch.map(\.sequence) == (0..<5).map { batch[0].sequence + Int64($0) })  // consecutive: one transaction
            // Every page, newest first, two at a time.
            let logins = try await trail.events(filter: EventFilter(action: "user_login", pageSize: 2)).collect()
            #expect(logins.map(\.actorId) == ["u5", "u4", "u3", "u2", "u1"])
            #expect(try await trail.history(type: "invoice", id: "i 1/a").collect().map(\.id) == [first.id, second.id])
        }
    }

    @Test(arguments: StoreKind.available)
    func refusalsAreTypedWithTheServersPaths(_ kind: StoreKind) async throws {
        try await Self.withTrail(kind) { port, key in
            let trail = Self.client(port: port, key: key)
            do {
                _ = try await trail.recordBatch([AuditEvent(action: "login", actor: Actor(id: "1")), AuditEvent(action: "")])
                Issue.record("an event without action was accepted")
            } catch let error as TrailClientError {
                #expect(error.code == .invalid && error.status == 422)
                #expect(error.errors.contains { $0.index == 1 && $0.path == "action" })
            }
            #expect(try await trail.events().collect().isEmpty)  // all or none
            do {
                _ = try await Self.client(port: port, key: "trail_0123456789abcdef_" + String(repeating: "A", count: 43)).record(
                    AuditEvent(action: "login", actor: Actor(id: "1")))
                Issue.record("a wrong key was accepted")
            } catch let error as TrailClientError {
                #expect(error.code == .authentication && error.status == 401)
                #expect(!error.description.contains("AAAAAAAA"))  // the key is not in the error
            }
        }
    }

    /// Trail answering `503` (its PostgreSQL cut off, through a TCP proxy): a call without retries fails as
    /// unavailable; a write with retries waits it out and is stored once when PostgreSQL is back.
    @Test(.timeLimit(.minutes(10)), .enabled(if: StoreKind.postgresURL != nil))
    func aWriteIsRetriedThroughA503() async throws {
        try await withProxiedPostgres { location, proxy in
            try await location.withStore(configuration: StoreConfiguration(connectionTimeout: .seconds(1))) { store in
                let (_, key) = try await store.createKey(tenant: "acme", role: .admin, name: "client tests")
                try await buildApplication(configuration: ServerConfiguration(port: 0, rateLimit: nil), store: store).test(.live) { client in
                    let port = try #require(client.port)
                    proxy.cut()
                    do {
                        _ = try await Self.client(port: port, key: key, attempts: 1).record(AuditEvent(action: "login", actor: Actor(id: "once")))
                        Issue.record("a write succeeded without its store")
                    } catch let error as TrailClientError {
                        #expect(error.code == .unavailable && error.status == 503, "\(error)")
                    }
                    let patient = TrailClient(configuration: .init(baseURL: "http://127.0.0.1:\(port)", apiKey: key, attempts: 30,
                                                                   backoff: .milliseconds(100), maximumBackoff: .milliseconds(500)))
                    let pending = Task { try await patient.record(AuditEvent(action: "login", actor: Actor(id: "once"))) }
                    try await Task.sleep(for: .milliseconds(1500))
                    proxy.resume()
                    let stored = try await pending.value
                    let logins = try await patient.events(filter: EventFilter(actor: "once")).collect()
                    #expect(logins.map(\.id) == [stored.id])
                }
            }
        }
    }

    /// A write whose connection fails is retried under the same idempotency key, and stored once; a repeat of
    /// a key returns the first result; a server that stays unreachable fails after the configured attempts.
    @Test func retriesStoreOnceAndGiveUpAfterTheirAttempts() async throws {
        try await Self.withTrail(.sqlite) { port, key in
            let proxy = try TCPProxy(upstreamPort: port)
            defer { proxy.close() }
            let trail = Self.client(port: proxy.port, key: key, attempts: 8)
            proxy.cut()
            let pending = Task { try await trail.record(AuditEvent(action: "login", actor: Actor(id: "late"))) }
            try await Task.sleep(for: .milliseconds(300))
            proxy.resume()
            let stored = try await pending.value
            let again = try await trail.record(AuditEvent(action: "login", actor: Actor(id: "late")), idempotencyKey: "k-1")
            #expect(try await trail.record(AuditEvent(action: "login", actor: Actor(id: "late")), idempotencyKey: "k-1") == again)
            let logins = try await trail.events(filter: EventFilter(actor: "late")).collect()
            #expect(logins.map(\.id).sorted() == [stored.id, again.id].sorted())

            proxy.cut()
            do {
                _ = try await Self.client(port: proxy.port, key: key, attempts: 2, timeout: .seconds(1)).record(AuditEvent(action: "login", actor: Actor(id: "x")))
                Issue.record("an unreachable server did not fail")
            } catch let error as TrailClientError {
                #expect(error.code == .transport)
            }
        }
    }
}

/// The buffering mode against a live server: batches, Trail unreachable for a while (nothing lost, nothing
/// twice), the bound, and the flush at graceful shutdown.
@Suite struct TrailEventBufferTests {
    @Test func batchesSurviveAnOutageAndAreFlushedAtShutdown() async throws {
        try await TrailClientTests.withTrail(.sqlite) { port, key in
            let proxy = try TCPProxy(upstreamPort: port)
            defer { proxy.close() }
            let trail = TrailClientTests.client(port: proxy.port, key: key, attempts: 1, timeout: .seconds(1))
            let buffer = TrailEventBuffer(client: trail, configuration: .init(batchSize: 10, interval: .milliseconds(100), capacity: 1_000))
            let group = ServiceGroup(services: [buffer], gracefulShutdownSignals: [], cancellationSignals: [], logger: Logger(label: "test"))
            let running = Task { try await group.run() }
            for n in 0..<25 { #expect(buffer.enqueue(AuditEvent(action: "login", actor: Actor(id: "b\(n)")))) }
            try await Self.waitUntil { buffer.sent == 25 }
            proxy.cut()  // Trail unreachable: events wait
            for n in 25..<60 { buffer.enqueue(AuditEvent(action: "login", actor: Actor(id: "b\(n)"))) }
            try await Self.waitUntil { buffer.lastError != nil }
            #expect(buffer.pending == 35 && buffer.sent == 25, "\(String(describing: buffer.lastError))")
            proxy.resume()
            try await Self.waitUntil { buffer.sent == 60 }
            for n in 60..<63 { buffer.enqueue(AuditEvent(action: "login", actor: Actor(id: "b\(n)"))) }
            await group.triggerGracefulShutdown()  // the last three go before run() returns
            try await running.value
            #expect(buffer.sent == 63 && buffer.pending == 0 && buffer.dropped == 0)
            let stored = try await TrailClientTests.client(port: port, key: key).events(filter: EventFilter(action: "login", pageSize: 1000)).collect()
            #expect(Set(stored.compactMap(\.actorId)) == Set((0..<63).map { "b\($0)" }) && stored.count == 63)
        }
    }

    @Test func aFullBufferRefusesOrDropsTheOldest() async throws {
        let nowhere = TrailClient(configuration: .init(baseURL: "http://127.0.0.1:1", apiKey: "k", attempts: 1, timeout: .seconds(1)))
        let refusing = TrailEventBuffer(client: nowhere, configuration: .init(batchSize: 10, capacity: 3))
        #expect((0..<5).map { refusing.enqueue(AuditEvent(action: "a\($0)")) } == [true, true, true, false, false])
        #expect(refusing.pending == 3 && refusing.dropped == 2)
        let dropping = TrailEventBuffer(client: nowhere, configuration: .init(batchSize: 10, capacity: 3, overflow: .dropOldest, shutdownAttempts: 1))
        for n in 0..<5 { dropping.enqueue(AuditEvent(action: "a\(n)")) }
        #expect(dropping.pending == 3 && dropping.dropped == 2)
        await #expect(throws: TrailClientError.self) { try await dropping.flush() }  // nothing listens there
        #expect(dropping.pending == 3)
    }

    static func waitUntil(_ condition: @Sendable () -> Bool) async throws {
        for _ in 0..<200 where !condition() { try await Task.sleep(for: .milliseconds(25)) }
        #expect(condition())
    }
}
