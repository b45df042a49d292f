import Dispatch
import Synchronization

/// Group commit: concurrent submissions are gathered and written by one writer in a single transaction, so they
/// share one commit and one fsync. Each caller is answered only after the transaction that holds its
/// submission has committed (or failed).
///
/// A submission that finds nobody writing commits at once on its own thread (no timer, no window); while one
/// transaction runs, new submissions queue up, and the next transaction takes all of them (up to a bound on
/// their total weight), so the batch size adapts to the load by itself.
final class GroupCommit<Input: Sendable, Output: Sendable>: Sendable {
    typealias Commit = @Sendable ([Input]) async -> [Result<Output, StoreError>]
    typealias BlockingCommit = @Sendable ([Input]) -> [Result<Output, StoreError>]

    /// How transactions are run: awaited in a task (a client that does not block), or one after the other on
    /// a thread of their own (SQLite, which blocks while it writes).
    private enum Committer: Sendable {
        case async(Commit)
        case blocking(DispatchQueue, BlockingCommit)
    }

    private struct Pending: Sendable {
        var input: Input
        var weight: Int
        var ticket: Ticket
    }

    /// Where one input's result is delivered, whether its submitter is already waiting or not.
    private typealias Ticket = OneShot<Result<Output, StoreError>>

    private struct State: Sendable {
        var queue: [Pending] = []
        var draining = false
        /// When the transaction now running began; nil while none runs.
        var transactionStarted: ContinuousClock.Instant?
    }

    private let state = Mutex(State())
    private let maximumWeight: Int
    private let committer: Committer

    /// - Parameters:
    ///   - maximumWeight: the bound on the summed weight of one transaction's inputs; a single heavier input
    ///     still gets a transaction of its own.
    ///   - commit: writes all inputs in one transaction and returns one result per input, in order.
    init(maximumWeight: Int, commit: @escaping Commit) {
        self.maximumWeight = maximumWeight
        committer = .async(commit)
    }

    /// For a `commit` that blocks: under load, transactions run on `queue`, the next one taken as soon as one
    /// ends, and their submitters are answered from there — no hop to Swift's cooperative pool between
    /// transactions, where the writer would wait behind the requests being parsed. The first transaction after
    /// an idle moment runs on its submitter's thread (one transaction, then the queue takes over).
    init(maximumWeight: Int, on queue: DispatchQueue, blockingCommit commit: @escaping BlockingCommit) {
        self.maximumWeight = maximumWeight
        committer = .blocking(queue, commit)
    }

    func submit(_ input: Input, weight: Int) async throws(StoreError) -> Output {
        try await submit([(input, weight)])[0].get()
    }

    /// Submits several inputs at once: they are written in this order, consecutively (in one transaction, or in
    /// consecutive ones if they are too heavy for one). One result per input, in order.
    func submit(_ inputs: [(Input, weight: Int)]) async -> [Result<Output, StoreError>] {
        guard !inputs.isEmpty else { return [] }
        let tickets = inputs.map { _ in Ticket() }
        let startDrain = state.withLock { state in
            for ((input, weight), ticket) in zip(inputs, tickets) {
                state.queue.append(Pending(input: input, weight: weight, ticket: ticket))
            }
            if state.draining { return false }
            state.draining = true
            return true
        }
        if startDrain {
            // Nobody was writing: this submission's transaction runs here and now, on the submitter's own thread
            // or task — no hand-over to the writer and back for a lone caller (a thread woken each way, tens of
            // microseconds). Submissions that arrive meanwhile wait for the writer, which takes over after it.
            // (Detached: the writer serves every submitter, and must not carry the first one's task-locals, a
            // request's id in its log lines.)
            switch committer {
            case .async(let commit):
                let batch = nextBatch()
                deliver(await commit(batch.map(\.input)), to: batch)
                if stillQueued() { Task.detached { await self.drain(commit) } }
            case .blocking(let queue, let commit):
                let batch = nextBatch()
                deliver(commit(batch.map(\.input)), to: batch)
                if stillQueued() { queue.async { self.drain(commit) } }
            }
        }
        var results: [Result<Output, StoreError>] = []
        for ticket in tickets { results.append(await ticket.value) }
        return results
    }

    private func drain(_ commit: Commit) async {
        while true {
            let batch = nextBatch()
            if batch.isEmpty { return }
            deliver(await commit(batch.map(\.input)), to: batch)
        }
    }

    private func drain(_ commit: BlockingCommit) {
        while true {
            let batch = nextBatch()
            if batch.isEmpty { return }
            deliver(commit(batch.map(\.input)), to: batch)
        }
    }

    /// The next transaction's inputs: every queued one, up to the weight bound; none (and draining stops) when
    /// the queue is empty.
    private func nextBatch() -> [Pending] {
        state.withLock { state in
            guard !state.queue.isEmpty else {
                state.draining = false
                state.transactionStarted = nil
                return []
            }
            state.transactionStarted = .now
            var weight = 0
            var count = 0
            for pending in state.queue {
                if count > 0 && weight + pending.weight > maximumWeight { break }
                weight += pending.weight
                count += 1
            }
            let taken = Array(state.queue.prefix(count))
            state.queue.removeFirst(count)
            return taken
        }
    }

    /// After a submitter's own transaction: whether submissions queued meanwhile (the writer drains them);
    /// otherwise draining ends here.
    private func stillQueued() -> Bool {
        state.withLock { state in
            guard state.queue.isEmpty else { return true }
            state.draining = false
            state.transactionStarted = nil
            return false
        }
    }

    /// How long the transaction now running has run; nil while none runs. A writer that is stuck (a lock never
    /// granted, a disk that does not answer) shows here, however many submissions wait behind it.
    var runningFor: Duration? {
        state.withLock { $0.transactionStarted.map { .now - $0 } }
    }

    private func deliver(_ results: [Result<Output, StoreError>], to batch: [Pending]) {
        for (pending, result) in zip(batch, results) {
            pending.ticket.deliver(result)
        }
    }
}
