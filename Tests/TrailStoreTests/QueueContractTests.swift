import Foundation
import Synchronization
import Testing
import TrailCore
import TrailStore
import TrailTestSupport

/// The message queue's contract, on every available store.
@Suite struct QueueContractTests {
    typealias C = StoreContractTests

    static func message(_ resources: [String], key: String? = nil, digest: [UInt8] = [1], body: String = "{}") -> NewMessage {
        NewMessage(tenant: "default", kind: "activity-stream", body: Array(body.utf8),
                   idempotency: key.map { IdempotencyClaim(key: $0, requestDigest: digest) },
                   resources: resources.map { ResourceKey(type: "doc", id: $0) })
    }

    /// A clock the test moves.
    final class TestClock: Sendable {
        private let now = Mutex<Int64>(1_800_000_000_000_000)
        var time: Timestamp { Timestamp(microseconds: now.withLock { $0 }) }
        func advance(seconds: Int64) { now.withLock { $0 += seconds * 1_000_000 } }
    }

    func withStore<T: Sendable>(
        _ kind: StoreKind, _ body: (any TrailStorage, TestClock) async throws -> T
    ) async throws -> T {
        let now = TestClock()
        let configuration = StoreConfiguration(clock: { now.time })
        return try await withFreshLocation(kind) { location, _ in
            try await location.withStore(configuration: configuration) { store in try await body(store, now) }
        }
    }

    @Test(arguments: StoreKind.available)
    func aClaimedMessageIsCompletedWithItsEventsInOneTransaction(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            let queued = try await store.enqueue(Self.message(["a"]))
            #expect(queued.message.status == .pending && !queued.replayed)
            #expect(try await store.openMessageCount() == 1)
            let claimed = try await store.claim(limit: 10, leaseSeconds: 30)
            #expect(claimed.map(\.claim.id) == [queued.message.id])
            #expect(claimed.first?.attempts == 1)
            #expect(try await store.claim(limit: 10, leaseSeconds: 30).isEmpty, "a claimed message is not claimed twice")
            let result = try await store.append(AppendRequest(
                tenant: "default", activities: [C.activity("create", "a", C.data(("n", 1)))], completes: claimed[0].claim))
            let message = try #require(try await store.message(tenant: "default", id: queued.message.id))
            #expect(message.status == .completed)
            #expect(message.firstSequence == result.events[0].sequence && message.eventCount == 1)
            #expect(try await store.events(of: message) == result.events)
            #expect(try await store.openMessageCount() == 0)
            #expect(try await store.message(tenant: "other", id: queued.message.id) == nil, "messages belong to their tenant")
            // Completing again with the same claim stores nothing.
            await #expect {
                _ = try await store.append(AppendRequest(
                    tenant: "default", activities: [C.activity("update", "a", C.data(("n", 2)))], completes: claimed[0].claim))
            } throws: { ($0 as? StoreError)?.code == .claimLost }
            #expect(try await store.history(tenant: "default", resourceType: "doc", resourceId: "a").count == 1)
        }
    }

    @Test(arguments: StoreKind.available)
    func idempotentEnqueueReturnsTheFirstMessage(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            let first = try await store.enqueue(Self.message(["a"], key: "k", digest: [1]))
            let again = try await store.enqueue(Self.message(["a"], key: "k", digest: [1]))
            #expect(again.replayed && again.message.id == first.message.id)
            await #expect {
                _ = try await store.enqueue(Self.message(["a"], key: "k", digest: [2]))
            } throws: { ($0 as? StoreError)?.code == .idempotencyConflict }
            #expect(try await store.openMessageCount() == 1)
        }
    }

    @Test(arguments: StoreKind.available)
    func messagesOfOneResourceAreClaimedInAcceptanceOrder(kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            let m1 = try await store.enqueue(Self.message(["a"])).message
            let m2 = try await store.enqueue(Self.message(["a", "b"])).message
            let m3 = try await store.enqueue(Self.message(["c"])).message
            let m4 = try await store.enqueue(Self.message(["b"])).message
            // One claim takes them all, in order: a worker appends a claimed batch in queue order.
            let all = try await store.claim(limit: 10, leaseSeconds: 30)
            #expect(all.map(\.claim.id) == [m1.id, m2.id, m3.id, m4.id])
            for message in all { try await store.release(message.claim, error: "again", retryAfter: .zero) }

            // While m1 is held by one worker, another may take neither m2 (a, after m1) nor m4 (b, after m2).
            let held = try await store.claim(limit: 1, leaseSeconds: 30)
            #expect(held.map(\.claim.id) == [m1.id])
            #expect(try await store.claim(limit: 10, leaseSeconds: 30).map(\.claim.id) == [m3.id])
            _ = try await store.append(AppendRequest(tenant: "default", activities: [], completes: held[0].claim))
            let next = try await store.claim(limit: 10, leaseSeconds: 30)
            #expect(next.map(\.claim.id) == [m2.id, m4.id])
        }
    }

    @Test(arguments: StoreKind.available)
    func anExpiredClaimIsTakenOverAndTheOldOneCanNoLongerComplete(kind: StoreKind) async throws {
        try await withStore(kind) { store, now in
            let queued = try await store.enqueue(Self.message(["a"])).message
            let first = try #require(try await store.claim(limit: 1, leaseSeconds: 5).first)
            now.advance(seconds: 6)
            let second = try #require(try await store.claim(limit: 1, leaseSeconds: 5).first)
            #expect(second.claim.id == queued.id && second.claim.token != first.claim.token && second.attempts == 2)
            await #expect {
                _ = try await store.append(AppendRequest(
                    tenant: "default", activities: [C.activity("create", "a")], completes: first.claim))
            } throws: { ($0 as? StoreError)?.code == .claimLost }
            _ = try await store.append(AppendRequest(tenant: "default", activities: [C.activity("create", "a")], completes: second.claim))
            #expect(try await store.history(tenant: "default", resourceType: "doc", resourceId: "a").count == 1)
            #expect(try await store.message(tenant: "default", id: queued.id)?.status == .completed)
        }
    }

    @Test(arguments: StoreKind.available)
    func releasedMessagesWaitTheirTurnFailedOnesCanBeRetried(kind: StoreKind) async throws {
        try await withStore(kind) { store, now in
            let queued = try await store.enqueue(Self.message(["a"])).message
            let claim = try #require(try await store.claim(limit: 1, leaseSeconds: 30).first).claim
            try await store.release(claim, error: "storage busy", retryAfter: .seconds(10))
            let waiting = try #require(try await store.message(tenant: "default", id: queued.id))
            #expect(waiting.status == .pending && waiting.error == "storage busy" && waiting.attempts == 1)
            #expect(try await store.claim(limit: 1, leaseSeconds: 30).isEmpty, "not before its retry time")
            now.advance(seconds: 11)
            let again = try #require(try await store.claim(limit: 1, leaseSeconds: 30).first)
            try await store.release(again.claim, error: "refused for good", retryAfter: nil)
            #expect(try await store.messages(tenant: "default", status: .failed, limit: 10).map(\.id) == [queued.id])
            #expect(try await store.message(tenant: "default", id: queued.id)?.error == "refused for good")
            #expect(try await store.retry(tenant: "default", id: queued.id))
            #expect(!(try await store.retry(tenant: "default", id: queued.id)), "only a failed message is retried")
            #expect(try await store.claim(limit: 1, leaseSeconds: 30).first?.attempts == 3)
        }
    }
}
