import Synchronization

/// Lets at most as many reads run as the pool has readers; the others wait suspended, holding no thread.
///
/// GRDB's pool waits for a free reader on a semaphore, on a dispatch thread. On a machine with two cores the
/// dispatch threads are few: a burst of reads (32 requests authenticating on a cold cache, say) blocked them
/// all, and the reads holding the readers had no thread left to finish on — the process stopped answering
/// (seen in the ingest benchmark, and in process tests). Through this gate, a read reaches the pool only when a
/// reader is free, so the pool never waits.
final class ReaderGate: Sendable {
    private struct State {
        var available: Int
        var waiting: [CheckedContinuation<Void, Never>] = []
    }

    private let state: Mutex<State>

    init(readers: Int) {
        state = Mutex(State(available: readers))
    }

    func run<T>(_ body: () async throws -> T) async rethrows -> T {
        await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
            let admitted = state.withLock { state in
                guard state.available > 0 else {
                    state.waiting.append(waiter)
                    return false
                }
                state.available -= 1
                return true
            }
            if admitted { waiter.resume() }
        }
        defer {
            let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
                guard !state.waiting.isEmpty else {
                    state.available += 1
                    return nil
                }
                return state.waiting.removeFirst()
            }
            next?.resume()
        }
        return try await body()
    }
}
