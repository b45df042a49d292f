import Logging
import NIOCore
import PostgresNIO
import Synchronization

extension PostgresClient {
    /// Runs `body` on a connection of the pool, waiting at most `timeout` for one, and failing at once if the
    /// connection is lost under it.
    ///
    /// While PostgreSQL is unreachable the pool has no connection to give, and a request would wait for its
    /// reconnection attempts (a minute and more) before failing. Past `timeout` the operation fails as
    /// unavailable instead (``NoConnection``), with nothing done: the deadline covers only the wait for a
    /// connection, never `body`, so an operation is either never started or run to its end. Whichever of the
    /// lease and the deadline comes first wins (``Race``); the other finds out and backs off.
    func withConnection<T: Sendable>(
        within timeout: Duration, _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        let race = Race()
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                do {
                    return try await self.withConnection { connection in
                        guard race.win(.first) else { throw NoConnection() }
                        return try await connection.whileOpen(body)
                    }
                } catch where race.winner != .first {
                    // Failed before a connection was given (the pool gave up connecting): nothing was done.
                    throw NoConnection()
                }
            }
            group.addTask {
                try? await Task.sleep(for: timeout)  // cut short once the operation is over
                guard race.win(.second) else { return nil }
                throw NoConnection()
            }
            while let result = try await group.next() {
                if let value = result {
                    group.cancelAll()
                    return value
                }
            }
            throw NoConnection()  // (not reached: the operation's task returns a value or throws)
        }
    }
}

extension PostgresConnection {
    /// How long an operation may go on after its connection closed before it is given up (its own error is
    /// expected at once).
    static let lostConnectionGrace = TimeAmount.milliseconds(500)

    /// Runs `body`, and gives it up with ``ConnectionLost`` if the connection closes under it and `body` does
    /// not fail by itself within ``lostConnectionGrace``: PostgresNIO can leave a query waiting forever when the
    /// server ends the connection in the middle of it (`pg_ctl stop -m immediate`), which would hold whoever
    /// awaits it — the store's single writer — for good.
    func whileOpen<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        let outcome = OneShot<Result<T, any Error>>()
        let work = Task {
            do { outcome.deliver(.success(try await body(self))) } catch { outcome.deliver(.failure(error)) }
        }
        let eventLoop = self.eventLoop
        closeFuture.whenComplete { _ in
            eventLoop.scheduleTask(in: Self.lostConnectionGrace) {
                if outcome.deliver(.failure(ConnectionLost())) { work.cancel() }
            }
        }
        return try await withTaskCancellationHandler {
            try await outcome.value.get()
        } onCancel: {
            work.cancel()
        }
    }

    /// BEGIN, `body`, COMMIT, as `withTransaction` does, and `phase` says when the COMMIT is sent: if the
    /// connection is lost before that, nothing was committed; after it, the outcome is unknown.
    func transaction<T: Sendable>(
        logger: Logger, phase: TransactionPhase, _ body: (PostgresConnection) async throws -> T
    ) async throws -> T {
        try await run("BEGIN", logger: logger)
        let value: T
        do {
            value = try await body(self)
        } catch {
            try? await run("ROLLBACK", logger: logger)
            throw error
        }
        phase.committing.store(true, ordering: .releasing)
        try await run("COMMIT", logger: logger)
        return value
    }
}

/// Whether a transaction's COMMIT was sent, and whether it was applied without being confirmed on disk yet.
final class TransactionPhase: Sendable {
    let committing = Atomic<Bool>(false)
    /// Committed with its WAL flush left to a later call (`trail_flush`): whatever fails after this, the
    /// outcome is unknown to the caller — stored, and on disk unless PostgreSQL stopped before the flush.
    let awaitingFlush = Atomic<Bool>(false)
}

/// Which of two things happened first (a connection, or a deadline): the first to claim its turn wins, the other
/// finds out and backs off.
final class Race: Sendable {
    enum Side: Int {
        case first = 1, second = 2
    }

    private let state = Atomic<Int>(0)

    /// True when `side` is the first to claim.
    func win(_ side: Side) -> Bool {
        state.compareExchange(expected: 0, desired: side.rawValue, ordering: .acquiringAndReleasing).exchanged
    }

    var winner: Side? { Side(rawValue: state.load(ordering: .acquiring)) }
}

/// The pool gave no connection to PostgreSQL (within the store's timeout, or at all): the operation was not
/// started.
struct NoConnection: Error {}

/// The connection closed in the middle of an operation, which did not end by itself.
struct ConnectionLost: Error {}
