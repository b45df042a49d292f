import Logging
import PostgresNIO
import Synchronization
import TrailCore

extension PostgresEventStore {
    /// Listens for the store's lifetime on the messages channel, waking this process's workers whenever any
    /// process queues or retries a message, and on the events channel, telling its ``commits`` and its search
    /// indexer of every process's commits. Reconnects after a failure; workers and followers also poll, so a missed notification only
    /// delays them.
    func listenForNotifications() async {
        while !Task.isCancelled {
            do {
                try await client.withConnection { connection in
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask {
                            try await connection.listen(on: PostgresMigrations.messagesChannel) { notifications in
                                for try await _ in notifications { self.queued.notify() }
                            }
                        }
                        group.addTask {
                            try await connection.listen(on: PostgresMigrations.eventsChannel) { notifications in
                                for try await notification in notifications {
                                    guard let note = CommitNote(notification.payload) else { continue }
                                    self.commits.published(tenant: note.tenant, sequence: note.sequence)
                                    self.searchWork.notify()
                                }
                            }
                        }
                        try await group.next()
                        group.cancelAll()
                    }
                }
            } catch {
                if Task.isCancelled { return }
                logger.debug("LISTEN ended", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }
}

/// What `NOTIFY` says of a commit: `<last sequence> <tenant>`.
struct CommitNote: Equatable {
    var tenant: String
    var sequence: Int64

    init(tenant: String, sequence: Int64) {
        self.tenant = tenant
        self.sequence = sequence
    }

    init?(_ payload: String) {
        guard let space = payload.firstIndex(of: " "), let sequence = Int64(payload[..<space]) else { return nil }
        self.init(tenant: String(payload[payload.index(after: space)...]), sequence: sequence)
    }

    var payload: String { "\(sequence) \(tenant)" }

}

/// Sends `NOTIFY trail_events` for this process's commits, once they committed, in a transaction of its own:
/// a `NOTIFY` inside the events' transaction would hold PostgreSQL's cluster-wide notification lock through their
/// commit (and its fsync), serialising the commits of every process. Bursts are coalesced: one note per tenant,
/// its latest sequence; a note lost (a connection failing) only delays followers until their next poll.
final class CommitAnnouncer: Sendable {
    private let pending = Mutex<[String: Int64]>([:])
    private let due = WorkSignal()

    func announce(_ results: [AppendResult]) {
        var added = false
        pending.withLock { pending in
            for result in results where !result.replayed {
                for event in result.events where event.sequence > pending[event.tenant] ?? 0 {
                    pending[event.tenant] = event.sequence
                    added = true
                }
            }
        }
        if added { due.notify() }
    }

    func run(client: PostgresClient, logger: Logger) async {
        while !Task.isCancelled {
            let notes = pending.withLock { pending in
                defer { pending.removeAll() }
                return pending.map { CommitNote(tenant: $0.key, sequence: $0.value).payload }
            }
            guard !notes.isEmpty else {
                // (A note added between the look and the wait waits for the timeout at worst.)
                await due.wait(timeout: .milliseconds(250))
                continue
            }
            do {
                try await client.withConnection(within: .seconds(5)) { connection in
                    try await connection.run("""
                        SELECT pg_notify(\(PostgresMigrations.eventsChannel), note) FROM unnest(\(notes)::text[]) AS n(note)
                        """, logger: logger)
                }
            } catch {
                logger.debug("NOTIFY of commits failed", metadata: ["error": "\(error)"])
            }
        }
    }
}
