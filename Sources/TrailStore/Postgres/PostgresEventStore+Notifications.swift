import Logging
import PostgresNIO
import TrailCore

extension PostgresEventStore {
    /// Listens for the store's lifetime on the messages channel, waking this process's workers whenever any
    /// process queues or retries a message, and on the events channel, telling its ``commits`` of every process's
    /// commits. Reconnects after a failure; workers and followers also poll, so a missed notification only
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

    /// One note per tenant of `events`, with its last sequence.
    static func notes(_ events: [RecordedEvent]) -> [String] {
        var last: [String: Int64] = [:]
        for event in events { last[event.tenant] = max(last[event.tenant] ?? 0, event.sequence) }
        return last.map { CommitNote(tenant: $0.key, sequence: $0.value).payload }
    }
}
