import Synchronization

/// The latest committed sequence of each tenant as far as this process knows, and waits for it to pass a point:
/// what live tails, sinks and alert rules follow the log with (SPEC §14), instead of each asking the database
/// over and over.
///
/// The store's writer publishes every commit of this process; on PostgreSQL, `NOTIFY` brings in the commits of
/// the other processes. A commit the feed never hears of (another process on one SQLite file) is found by the
/// followers' own occasional read, so a wait always has a timeout.
public final class CommitFeed: Sendable {
    private struct Waiter {
        var tenant: String
        var beyond: Int64
        var continuation: CheckedContinuation<Void, Never>
    }

    private struct State {
        var latest: [String: Int64] = [:]
        var waiters: [Int: Waiter] = [:]
        /// Waits that ended (timeout, cancellation) before their continuation was registered.
        var ended: Set<Int> = []
        var nextId = 0
        var closed = false
    }

    private let state = Mutex(State())

    public init() {}

    /// Records that `tenant`'s events up to `sequence` are committed, and wakes whoever waits for them.
    public func published(tenant: String, sequence: Int64) {
        let woken = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            guard sequence > state.latest[tenant] ?? 0 else { return [] }
            state.latest[tenant] = sequence
            let due = state.waiters.filter { $0.value.tenant == tenant && $0.value.beyond < sequence }
            for id in due.keys { state.waiters[id] = nil }
            return due.values.map(\.continuation)
        }
        for continuation in woken { continuation.resume() }
    }

    /// Publishes the last sequence of each tenant a transaction's results stored.
    func published(_ results: some Sequence<AppendResult>) {
        var last: [String: Int64] = [:]
        for result in results where !result.replayed {
            for event in result.events { last[event.tenant] = max(last[event.tenant] ?? 0, event.sequence) }
        }
        for (tenant, sequence) in last { published(tenant: tenant, sequence: sequence) }
    }

    /// Wakes every waiter, now and from now on: for a process that shuts down.
    public func close() {
        let woken = state.withLock { state in
            state.closed = true
            defer { state.waiters.removeAll() }
            return state.waiters.values.map(\.continuation)
        }
        for continuation in woken { continuation.resume() }
    }

    /// Whether ``close()`` was called.
    public var isClosed: Bool {
        state.withLock { $0.closed }
    }

    /// The latest sequence of `tenant` this process heard of, nil if none yet.
    public func latest(tenant: String) -> Int64? {
        state.withLock { $0.latest[tenant] }
    }

    /// Returns once a commit of `tenant` beyond `sequence` is known, or after `timeout`, or when the task is
    /// cancelled; returns at once if one is known already.
    public func wait(tenant: String, beyond sequence: Int64, timeout: Duration) async {
        let id = state.withLock { state in
            defer { state.nextId += 1 }
            return state.nextId
        }
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                try? await Task.sleep(for: timeout)
                self.end(id)
            }
            group.addTask {
                await withTaskCancellationHandler {
                    await withCheckedContinuation { continuation in
                        let resumeNow = self.state.withLock { state in
                            if state.ended.remove(id) != nil || state.closed { return true }
                            if state.latest[tenant] ?? 0 > sequence { return true }
                            state.waiters[id] = Waiter(tenant: tenant, beyond: sequence, continuation: continuation)
                            return false
                        }
                        if resumeNow { continuation.resume() }
                    }
                } onCancel: {
                    self.end(id)
                }
            }
            await group.next()
            group.cancelAll()
            self.end(id)
            await group.waitForAll()
            self.state.withLock { _ = $0.ended.remove(id) }
        }
    }

    private func end(_ id: Int) {
        let waiter = state.withLock { state -> Waiter? in
            if let waiter = state.waiters.removeValue(forKey: id) { return waiter }
            state.ended.insert(id)
            return nil
        }
        waiter?.continuation.resume()
    }
}
