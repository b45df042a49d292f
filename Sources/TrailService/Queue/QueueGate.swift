import Synchronization
public import TrailStore

/// Backpressure for async submissions: refuses new messages while the queue holds too many open ones.
///
/// Counting costs time in proportion to the queue, so no request waits for it: the count is refreshed in the
/// background at most once a second, and this process's own acceptances are added in between (other processes'
/// are seen at the next refresh). Only requests before the first count completes wait for one.
public final class QueueGate: Sendable {
    static let refresh = Duration.seconds(1)
    public let maximumOpen: Int

    private struct State {
        var count: Int?
        var countedAt: ContinuousClock.Instant?
        var refreshing = false
    }

    private let state = Mutex(State())

    public init(maximumOpen: Int) { self.maximumOpen = maximumOpen }

    /// Throws ``ServiceError`` `queue-full` (unavailable) while the queue holds ``maximumOpen`` or more messages.
    public func check(_ store: any TrailStorage) async throws {
        let now = ContinuousClock.now
        let (known, refresh) = state.withLock { state -> (Int?, Bool) in
            let stale = state.countedAt.map { now - $0 >= QueueGate.refresh } ?? true
            let refresh = stale && !state.refreshing
            if refresh { state.refreshing = true }
            return (state.count, refresh)
        }
        var count = known
        if refresh && known == nil {
            count = try await self.refresh(store, at: now)
        } else if refresh {
            Task { _ = try? await self.refresh(store, at: now) }
        } else if known == nil {
            count = try await store.openMessageCount()  // the first count is still running elsewhere
        }
        if let known = count, known >= maximumOpen {
            // The running count can run ahead (an acceptance counted twice around a refresh): refuse only on a
            // fresh count.
            count = try await store.openMessageCount()
        }
        guard let count, count < maximumOpen else {
            throw ServiceError(.unavailable, "queue-full", title: "Queue full",
                               detail: "Trail's queue holds \(maximumOpen) or more messages waiting to be processed; nothing was queued. Retry shortly.",
                               retryAfter: 1)
        }
    }

    private func refresh(_ store: any TrailStorage, at now: ContinuousClock.Instant) async throws -> Int {
        do {
            let fresh = try await store.openMessageCount()
            state.withLock { $0 = State(count: fresh, countedAt: now, refreshing: false) }
            return fresh
        } catch {
            state.withLock { $0.refreshing = false }
            throw error
        }
    }

    /// One more message was queued by this process.
    public func queued() {
        state.withLock { $0.count = $0.count.map { $0 + 1 } }
    }
}
