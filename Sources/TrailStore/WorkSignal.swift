import Synchronization

/// Wakes waiting workers: `notify()` resumes every current waiter; a waiter also wakes after its timeout or when
/// its task is cancelled.
final class WorkSignal: Sendable {
    private struct State {
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
        /// Waits that ended (timeout, cancellation) before their continuation was registered.
        var ended: Set<Int> = []
        var nextId = 0
    }

    private let state = Mutex(State())

    func notify() {
        let woken = state.withLock { state in
            defer { state.waiters.removeAll() }
            return Array(state.waiters.values)
        }
        for waiter in woken { waiter.resume() }
    }

    /// Returns at the next `notify()`, or after `timeout`, or when the task is cancelled.
    func wait(timeout: Duration) async {
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
                        let endedAlready = self.state.withLock { state in
                            if state.ended.remove(id) != nil { return true }
                            state.waiters[id] = continuation
                            return false
                        }
                        if endedAlready { continuation.resume() }
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
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if let waiter = state.waiters.removeValue(forKey: id) { return waiter }
            state.ended.insert(id)
            return nil
        }
        waiter?.resume()
    }
}
