public import ServiceLifecycle
import Foundation
import Synchronization

/// Events sent in the background, in batches (SPEC §15): ``enqueue(_:)`` never waits for Trail; a batch goes as
/// soon as ``Configuration/batchSize`` events wait, or every ``Configuration/interval``. A batch that fails for a
/// reason that may pass (Trail unreachable, `503`, `429`) is kept and sent again later, with backoff, under the
/// same idempotency key, so that it is stored once; a batch Trail refuses as invalid is dropped (counted in
/// ``rejected``, its error in ``lastError``): sending it again would not help. Run it as a ServiceLifecycle
/// `Service` (or call ``run()`` in a task): at graceful shutdown it sends what is left before it returns.
///
/// The buffer is bounded (``Configuration/capacity``); when it is full, ``Configuration/overflow`` decides:
/// `.refuseNew` (the default) makes ``enqueue(_:)`` return false, so that the caller can record that event
/// synchronously or report it; `.dropOldest` makes room by dropping the oldest waiting event. Either way
/// ``dropped`` counts what was not kept.
public final class TrailEventBuffer: Service, Sendable {
    public struct Configuration: Sendable {
        public enum Overflow: Sendable { case refuseNew, dropOldest }
        /// Events per batch (at most 1,000, as Trail takes them). Default 100.
        public var batchSize: Int
        /// Waiting events are sent at least this often. Default 1 s.
        public var interval: Duration
        /// Events held at most. Default 10,000.
        public var capacity: Int
        public var overflow: Overflow
        /// Attempts at sending what is left at shutdown before giving up on it. Default 5.
        public var shutdownAttempts: Int

        public init(batchSize: Int = 100, interval: Duration = .seconds(1), capacity: Int = 10_000,
                    overflow: Overflow = .refuseNew, shutdownAttempts: Int = 5) {
            self.batchSize = min(max(1, batchSize), 1_000)
            self.interval = interval
            self.capacity = max(1, capacity)
            self.overflow = overflow
            self.shutdownAttempts = max(1, shutdownAttempts)
        }
    }

    private struct State {
        var events: [AuditEvent] = []
        /// The idempotency key of the batch at the head of `events`, once it was first sent.
        var headKey: String?
        var headCount = 0
        var dropped = 0
        var rejected = 0
        var sent = 0
        var lastError: TrailClientError?
        var stopping = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    let client: TrailClient
    public let configuration: Configuration
    private let state = Mutex(State())

    public init(client: TrailClient, configuration: Configuration = Configuration()) {
        self.client = client
        self.configuration = configuration
    }

    /// Adds an event to be sent; false if the buffer is full and refuses new events.
    @discardableResult
    public func enqueue(_ event: AuditEvent) -> Bool {
        let (kept, wake) = state.withLock { state -> (Bool, CheckedContinuation<Void, Never>?) in
            if state.events.count >= configuration.capacity {
                state.dropped += 1
                guard configuration.overflow == .dropOldest, state.events.count > state.headCount else { return (false, nil) }
                state.events.remove(at: state.headCount)  // never an event of the batch in flight
            }
            state.events.append(event)
            guard state.events.count >= configuration.batchSize, let waiter = state.waiter else { return (true, nil) }
            state.waiter = nil
            return (true, waiter)
        }
        wake?.resume()
        return kept
    }

    /// Events waiting to be sent.
    public var pending: Int { state.withLock { $0.events.count } }
    /// Events not kept because the buffer was full.
    public var dropped: Int { state.withLock { $0.dropped } }
    /// Events Trail refused as invalid (their batch was dropped).
    public var rejected: Int { state.withLock { $0.rejected } }
    /// Events stored.
    public var sent: Int { state.withLock { $0.sent } }
    /// The last failure of a send, if any.
    public var lastError: TrailClientError? { state.withLock { $0.lastError } }

    /// Sends batches until graceful shutdown (or cancellation), then what is left.
    public func run() async throws {
        await withGracefulShutdownHandler {
            var failures = 0
            while !state.withLock({ $0.stopping }) && !Task.isCancelled {
                await waitForBatch(failures == 0 ? configuration.interval : client.delay(attempt: failures))
                failures = await sendWaiting() ? 0 : failures + 1
            }
        } onGracefulShutdown: {
            let waiter = self.state.withLock { state in
                state.stopping = true
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume()
        }
        try await flush()
    }

    /// Sends everything waiting now; throws the last failure if some could not be sent after
    /// ``Configuration/shutdownAttempts`` rounds (they stay in the buffer).
    public func flush() async throws {
        for attempt in 1...configuration.shutdownAttempts {
            if await sendWaiting() { return }
            if attempt < configuration.shutdownAttempts { try? await Task.sleep(for: client.delay(attempt: attempt)) }
        }
        if let error = lastError, pending > 0 { throw error }
    }

    /// Sends batches while events wait; false when one failed for a reason that may pass (it is kept).
    private func sendWaiting() async -> Bool {
        while true {
            let next = state.withLock { state -> (batch: [AuditEvent], key: String)? in
                guard !state.events.isEmpty else { return nil }
                if state.headKey == nil {
                    state.headKey = UUID().uuidString
                    state.headCount = min(configuration.batchSize, state.events.count)
                }
                return (Array(state.events.prefix(state.headCount)), state.headKey!)
            }
            guard let next else { return true }
            do {
                let stored = try await client.recordBatch(next.batch, idempotencyKey: next.key)
                finishHead { $0.sent += stored.count }
            } catch where error.code == .invalid || error.code == .conflict {
                finishHead { state in
                    state.rejected += state.headCount
                    state.lastError = error
                }
            } catch {
                state.withLock { $0.lastError = error }
                return false
            }
        }
    }

    private func finishHead(_ update: (inout State) -> Void) {
        state.withLock { state in
            update(&state)
            state.events.removeFirst(state.headCount)
            state.headKey = nil
            state.headCount = 0
        }
    }

    /// Waits `duration`, or less if a batch fills up or shutdown begins.
    private func waitForBatch(_ duration: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await Task.sleep(for: duration) }
            group.addTask {
                await withTaskCancellationHandler {
                    await withCheckedContinuation { continuation in
                        let ready = self.state.withLock { state -> Bool in
                            // (Under the lock, as onCancel: a cancellation is seen here, or finds the waiter.)
                            if state.stopping || Task.isCancelled || state.events.count >= self.configuration.batchSize { return true }
                            state.waiter = continuation
                            return false
                        }
                        if ready { continuation.resume() }
                    }
                } onCancel: {
                    let waiter = self.state.withLock { state in
                        defer { state.waiter = nil }
                        return state.waiter
                    }
                    waiter?.resume()
                }
            }
            await group.next()
            group.cancelAll()
        }
    }
}
