import Foundation
import Testing
import TrailCore
import TrailStore
import TrailTestSupport

/// Sinks' and alert rules' storage (SPEC §14) on every available store: secrets kept encrypted and given back,
/// leases held by one owner at a time, cursors moved only by the lease holder and never back, alerts outboxed.
@Suite struct StreamStoreContractTests {
    static func follower(id: String, tenant: String = "acme", cursor: Int64 = 0) -> Follower {
        Follower(id: id, tenant: tenant, kind: .sink, name: "hook", definition: Self.object(["type": "webhook", "url": "https://siem.example/in"]),
                 secret: Self.object(["secret": "0123456789abcdef-secret"]), cursor: cursor, createdAt: Timestamp(microseconds: 1_000_000),
                 createdBy: "admin")
    }

    static func object(_ value: JSONValue) -> JSONObject { value.objectValue! }

    @Test(arguments: StoreKind.available)
    func secretsAreStoredEncryptedAndGivenBack(kind: StoreKind) async throws {
        try await withFreshLocation(kind) { location, _ in
            try await location.withStore { store in
                try await store.insertFollower(Self.follower(id: "s-1"))
                let read = try #require(try await store.follower(tenant: "acme", id: "s-1"))
                #expect(read.secret?["secret"] == "0123456789abcdef-secret" && read.definition["url"] == "https://siem.example/in")
                #expect(try await store.follower(tenant: "globex", id: "s-1") == nil, "tenant-confined")
                #expect(try await store.followers(tenant: nil, kind: .sink).map(\.id) == ["s-1"])
                #expect(try await store.followers(tenant: "acme", kind: .rule).isEmpty)
            }
            // The secret's bytes are nowhere in the store as plaintext.
            if case .sqlite(let path, _) = location {
                for file in [path, path + "-wal"] where FileManager.default.fileExists(atPath: file) {
                    let bytes = try Data(contentsOf: URL(fileURLWithPath: file))
                    #expect(bytes.range(of: Data("0123456789abcdef-secret".utf8)) == nil, "\(file)")
                }
            }
        }
    }

    @Test(arguments: StoreKind.available)
    func oneOwnerAtATimeAndCursorsOnlyMoveForward(kind: StoreKind) async throws {
        try await withFreshLocation(kind) { location, _ in
            try await location.withStore { store in
                try await store.insertFollower(Self.follower(id: "s-1", cursor: 5))
                let t0 = Timestamp(microseconds: 10_000_000)
                let until = Timestamp(microseconds: 40_000_000)
                #expect(try await store.leaseFollower(id: "s-1", owner: "a", now: t0, until: until)?.cursor == 5)
                #expect(try await store.leaseFollower(id: "s-1", owner: "b", now: t0, until: until) == nil, "a holds it")
                #expect(try await store.leaseFollower(id: "s-1", owner: "a", now: t0, until: until) != nil, "a renews")
                #expect(try await store.advanceFollower(id: "s-1", owner: "a", cursor: 9, handled: 4, at: t0))
                #expect(!(try await store.advanceFollower(id: "s-1", owner: "b", cursor: 12, handled: 3, at: t0)), "b holds no lease")
                #expect(try await store.advanceFollower(id: "s-1", owner: "a", cursor: 7, handled: 0, at: t0))
                // Once a's lease ran out, b takes over, and a can no longer move anything.
                let later = Timestamp(microseconds: 41_000_000)
                let taken = try #require(try await store.leaseFollower(id: "s-1", owner: "b", now: later, until: Timestamp(microseconds: 70_000_000)))
                #expect(taken.cursor == 9 && taken.handled == 4, "never back")
                #expect(!(try await store.advanceFollower(id: "s-1", owner: "a", cursor: 20, handled: 1, at: later)))
                try await store.failFollower(id: "s-1", owner: "b", error: "HTTP 503", at: later, retryAt: Timestamp(microseconds: 45_000_000))
                let failed = try #require(try await store.follower(tenant: "acme", id: "s-1"))
                #expect(failed.failures == 1 && failed.lastError == "HTTP 503" && failed.retryAt == Timestamp(microseconds: 45_000_000))
                #expect(try await store.advanceFollower(id: "s-1", owner: "b", cursor: 10, handled: 1, at: later))
                let recovered = try #require(try await store.follower(tenant: "acme", id: "s-1"))
                #expect(recovered.failures == 0 && recovered.retryAt == nil && recovered.lastSuccessAt == later && recovered.lastError == "HTTP 503")
                #expect(try await store.deleteFollower(tenant: "acme", id: "s-1"))
                #expect(try await store.leaseFollower(id: "s-1", owner: "b", now: later, until: later) == nil, "deleted")
                #expect(!(try await store.deleteFollower(tenant: "acme", id: "s-1")))
            }
        }
    }

    @Test(arguments: StoreKind.available)
    func alertsWaitForTheirSinkUntilDelivered(kind: StoreKind) async throws {
        try await withFreshLocation(kind) { location, _ in
            try await location.withStore { store in
                for (index, sink) in [("a-1", "s-1"), ("a-2", nil), ("a-3", "s-1")].enumerated() {
                    try await store.insertAlert(FiredAlert(
                        id: sink.0, tenant: "acme", ruleId: "r-1", ruleName: "mass deletions", group: "12", count: 3, threshold: 3,
                        windowSeconds: 60, firstAt: Timestamp(microseconds: 1), lastAt: Timestamp(microseconds: 2),
                        firstSequence: 1, lastSequence: 3, firedAt: Timestamp(microseconds: Int64(10 + index)),
                        eventSequence: Int64(4 + index), sinkId: sink.1))
                }
                #expect(try await store.alerts(tenant: "acme", limit: 10).map(\.id) == ["a-3", "a-2", "a-1"])
                #expect(try await store.alerts(tenant: "globex", limit: 10).isEmpty)
                #expect(try await store.undeliveredAlerts(tenant: "acme", sink: "s-1", limit: 10).map(\.id) == ["a-1", "a-3"])
                try await store.markAlertsDelivered(tenant: "acme", ids: ["a-1"], at: Timestamp(microseconds: 99))
                #expect(try await store.undeliveredAlerts(tenant: "acme", sink: "s-1", limit: 10).map(\.id) == ["a-3"])
                #expect(try await store.alerts(tenant: "acme", limit: 10).last?.deliveredAt == Timestamp(microseconds: 99))
            }
        }
    }
}
