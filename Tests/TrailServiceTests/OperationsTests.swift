import Logging
import Synchronization
import Testing
import TrailCore
@testable import TrailService
import TrailStore
import TrailTestSupport

/// What operators read off the service (SPEC §10): how long events wait for a checkpoint, and the queue's
/// depth by state, on both stores.
@Suite struct OperationsTests {
    /// A clock the test moves.
    final class TestClock: Sendable {
        private let now = Mutex(Timestamp(microseconds: 1_800_000_000_000_000))
        var read: @Sendable () -> Timestamp { { self.now.withLock { $0 } } }
        func advance(seconds: Int64) { now.withLock { $0 = Timestamp(microseconds: $0.microseconds + seconds * 1_000_000) } }
    }

    @Test(arguments: StoreKind.available)
    func checkpointAgeIsHowLongEventsWaitForACheckpoint(kind: StoreKind) async throws {
        try await withFreshLocation(kind) { location, _ in
            try await location.withStore { store in
                let clock = TestClock()
                let signer = Checkpointer(store: store, configuration: CheckpointConfiguration(everyEvents: 1_000, interval: .seconds(60)),
                                          logger: Logger(label: "test"), clock: clock.read)
                #expect(signer.checkpointAge(at: clock.read()) == .zero, "nothing to sign")
                _ = try await ActivityIngest(store: store, tenant: "acme").ingest(body: UseCaseTests.create, idempotencyKey: nil)
                #expect(try await signer.signDue().count == 1, "a tenant's first events are signed at once")
                #expect(signer.checkpointAge(at: clock.read()) == .zero, "every event covered")

                // New events, not due for 60 s: they have waited since the last checkpoint.
                clock.advance(seconds: 10)
                _ = try await ActivityIngest(store: store, tenant: "acme").ingest(
                    body: Array(#"{"verb":"updated","actor":{"id":"12"},"object":{"type":"user","id":"u-1","data":{"email":"b@example.com"}}}"#.utf8),
                    idempotencyKey: nil)
                #expect(try await signer.signDue().isEmpty)
                clock.advance(seconds: 20)
                #expect(signer.checkpointAge(at: clock.read()) == .seconds(30))
                // A signer that stops signing (here: not asked) lets the age grow past the interval…
                clock.advance(seconds: 100)
                #expect(signer.checkpointAge(at: clock.read()) == .seconds(130))
                // …and a round that signs brings it back to zero.
                #expect(try await signer.signDue().count == 1)
                #expect(signer.checkpointAge(at: clock.read()) == .zero)
            }
        }
    }

    @Test(arguments: StoreKind.available)
    func messageCountsByState(kind: StoreKind) async throws {
        try await withFreshLocation(kind) { location, _ in
            try await location.withStore { store in
                #expect(try await store.messageCounts() == [.pending: 0, .processing: 0, .failed: 0])
                let ingest = ActivityIngest(store: store, tenant: "acme")
                for id in ["u-1", "u-2", "u-3"] {
                    _ = try await ingest.enqueue(
                        body: Array(#"{"verb":"created","actor":{"id":"12"},"object":{"type":"user","id":"\#(id)"}}"#.utf8),
                        idempotencyKey: nil)
                }
                let claimed = try await store.claim(limit: 2, leaseSeconds: 60)
                #expect(claimed.count == 2)
                try await store.release(claimed[0].claim, error: "broken", retryAfter: nil)
                #expect(try await store.messageCounts() == [.pending: 1, .processing: 1, .failed: 1])
            }
        }
    }
}
