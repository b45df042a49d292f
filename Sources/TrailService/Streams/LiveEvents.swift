public import Logging
public import TrailCore
public import TrailStore
import Synchronization

/// How live tails are served (SPEC §14). Defaults are those documented in docs/streams.md.
public struct LiveConfiguration: Sendable {
    /// The events of each followed tenant kept in memory for its subscribers; one that falls further behind
    /// while following is cut off (it resumes from the store by reconnecting with `Last-Event-ID`).
    public var bufferedEvents: Int
    /// A subscriber that got nothing for this long gets a heartbeat (SPEC §14: at least every 15 s).
    public var heartbeat: Duration
    /// How often a followed tenant's log is read even without news of a commit (commits of another process on
    /// one SQLite file, a missed `NOTIFY`).
    public var pollInterval: Duration
    /// Events read from the store at once.
    public var readBatch: Int
    /// The shortest time between two sends to one subscriber: what arrives meanwhile goes in the next send. A
    /// write per commit per subscriber would cost a busy server more than the events themselves.
    public var minimumInterval: Duration

    public init(bufferedEvents: Int = 8192, heartbeat: Duration = .seconds(15), pollInterval: Duration = .seconds(5),
                readBatch: Int = 500, minimumInterval: Duration = .milliseconds(100)) {
        self.bufferedEvents = bufferedEvents
        self.heartbeat = heartbeat
        self.pollInterval = pollInterval
        self.readBatch = readBatch
        self.minimumInterval = minimumInterval
    }
}

/// One event of a live tail as a Server-Sent Events frame (`id: <sequence>`, `event: audit`, `data: <§4 JSON>`),
/// encoded once for every subscriber.
public struct LiveEvent: Sendable {
    public let sequence: Int64
    public let frame: [UInt8]

    init(_ event: RecordedEvent) {
        sequence = event.sequence
        var writer = JSONWriter(capacity: 1024)
        StoredEventJSON.write(event, into: &writer)
        frame = ServerSentEvent.frame(id: event.sequence, type: "audit", data: writer.bytes)
    }
}

/// Live tails of tenants' logs (SPEC §14).
///
/// Subscribers do not read the database each on its own: each tenant that has subscribers gets one reader,
/// woken by the store's ``CommitFeed`` (its writer, and `NOTIFY` from other PostgreSQL processes), which reads
/// the new events once into a bounded buffer of encoded events; subscribers filter the buffer in memory. A
/// subscriber resuming from an older point replays from the store up to the buffer, then follows it: no gap and
/// no duplicate. Subscribers never hold up the reader, and the reader never holds up the writer; a subscriber
/// that falls behind the buffer is cut off (``End/tooSlow``).
public final class LiveEvents: Sendable {
    /// Why a live tail ended (other than its client going away).
    public enum End: Sendable {
        /// The server shuts down (``close()``).
        case shutdown
        /// The subscriber fell further behind than the buffer holds.
        case tooSlow
    }

    let store: any TrailStorage
    let configuration: LiveConfiguration
    let logger: Logger
    /// The followed tenants: each one's buffer, subscribers and reader.
    private let tails = Mutex<[String: Followed]>([:])

    private struct Followed {
        let tail: TenantTail
        var subscribers: Int
        var reader: Task<Void, Never>?
    }
    /// The buffered point of each followed tenant: subscribers wait on it.
    private let buffered = CommitFeed()

    public init(store: any TrailStorage, configuration: LiveConfiguration = LiveConfiguration(), logger: Logger) {
        self.store = store
        self.configuration = configuration
        self.logger = logger
    }

    /// How many subscribers follow a log now, across tenants (for `/metrics`).
    public var subscriberCount: Int {
        tails.withLock { $0.values.reduce(0) { $0 + $1.subscribers } }
    }

    /// How many tenants' logs are followed now.
    public var followedTenants: Int {
        tails.withLock { $0.count }
    }

    /// Ends every live tail (``End/shutdown``), now and from now on: the server shuts down gracefully, and
    /// would wait for them for ever.
    public func close() {
        buffered.close()
    }

    /// Follows `tenant`'s events that match `query` (its filters; order, pages and limit are ignored), from
    /// after `sequence` (from now when nil), handing them to `send` in order, a batch at a time, and calling
    /// `idle` whenever nothing was sent for the heartbeat interval. Returns when the tail ends; throws what
    /// `send` or `idle` throw (the client went away) and what the store throws.
    public func follow(
        tenant: String, query: EventQuery, after sequence: Int64?,
        send: ([LiveEvent]) async throws -> Void, idle: () async throws -> Void
    ) async throws -> End {
        let tail = subscribe(tenant)
        defer { unsubscribe(tail) }
        // Without a point: from the last event the tail has read (not the head it began at, for an older tail).
        let head = try await tail.ready.value.get()
        var cursor = sequence ?? max(tail.readThrough ?? head, head)
        var following = false
        var lastSent = ContinuousClock.now
        while true {
            if buffered.isClosed { return .shutdown }
            switch tail.entries(after: cursor) {
            case .gap(let end):
                // Behind the buffer: from the store, up to where the buffer goes on.
                if following { return .tooSlow }
                let events = try await read(tenant: tenant, query, after: cursor, through: end)
                if !events.isEmpty {
                    try await send(events.map(LiveEvent.init))
                    lastSent = .now
                }
                cursor = events.count == configuration.readBatch ? events[events.count - 1].sequence : end
                continue
            case .events(let entries, let end):
                following = true
                var matching: [LiveEvent] = []
                var next = end
                if query.search == nil {
                    matching = entries.filter { query.matches($0.event) == true }.map(\.live)
                } else if !entries.isEmpty {
                    // Only the store can tell which match a search; a full page goes on from its last event.
                    let events = try await read(tenant: tenant, query, after: cursor, through: end)
                    matching = events.map(LiveEvent.init)
                    if events.count == configuration.readBatch { next = events[events.count - 1].sequence }
                }
                if !matching.isEmpty {
                    try await send(matching)
                    lastSent = .now
                    // What arrives meanwhile goes in the next send.
                    try? await Task.sleep(for: configuration.minimumInterval)
                }
                cursor = next
                if next < end { continue }
            }
            let heartbeatDue = lastSent + configuration.heartbeat
            if ContinuousClock.now < heartbeatDue {
                await buffered.wait(tenant: tenant, beyond: cursor, timeout: heartbeatDue - .now)
            }
            if ContinuousClock.now >= heartbeatDue && !buffered.isClosed {
                try await idle()
                lastSent = .now
            }
        }
    }

    /// Events of `tenant` matching `query` after `cursor` up to `end`, oldest first, one batch.
    private func read(tenant: String, _ query: EventQuery, after cursor: Int64, through end: Int64) async throws(StoreError) -> [RecordedEvent] {
        guard cursor < end else { return [] }
        var page = query
        page.afterSequence = cursor
        page.beforeSequence = end + 1
        page.oldestFirst = true
        page.limit = configuration.readBatch
        return try await store.events(tenant: tenant, matching: page)
    }

    private func subscribe(_ tenant: String) -> TenantTail {
        tails.withLock { tails in
            if let followed = tails[tenant] {
                tails[tenant]!.subscribers += 1
                return followed.tail
            }
            let tail = TenantTail(tenant: tenant, capacity: configuration.bufferedEvents)
            // Cancelled by the last subscriber to leave, or at shutdown.
            tails[tenant] = Followed(tail: tail, subscribers: 1, reader: Task { await self.read(tail) })
            return tail
        }
    }

    private func unsubscribe(_ tail: TenantTail) {
        let reader = tails.withLock { tails -> Task<Void, Never>? in
            guard var followed = tails[tail.tenant], followed.tail === tail else { return nil }
            followed.subscribers -= 1
            guard followed.subscribers == 0 else {
                tails[tail.tenant] = followed
                return nil
            }
            tails[tail.tenant] = nil
            return followed.reader
        }
        reader?.cancel()
    }

    /// Forgets a tail whose reader gave up, so that the next subscriber starts another.
    private func forget(_ tail: TenantTail) {
        tails.withLock { tails in
            if tails[tail.tenant]?.tail === tail { tails[tail.tenant] = nil }
        }
    }

    /// The reader of one tenant: its head first, then every commit's events into the buffer.
    private func read(_ tail: TenantTail) async {
        var through: Int64
        do {
            through = try await store.chainHead(tenant: tail.tenant).sequence
            tail.start(at: through)
        } catch {
            // Its subscribers fail (503); the next one tries again.
            forget(tail)
            tail.ready.deliver(.failure(error))
            return
        }
        while !Task.isCancelled {
            await store.commits.wait(tenant: tail.tenant, beyond: through, timeout: configuration.pollInterval)
            do {
                while !Task.isCancelled {
                    let events = try await store.events(tenant: tail.tenant, matching: EventQuery(
                        afterSequence: through, oldestFirst: true, includesAccess: true, limit: configuration.readBatch))
                    guard let last = events.last else { break }
                    tail.append(events)
                    through = last.sequence
                    buffered.published(tenant: tail.tenant, sequence: through)
                    if events.count < configuration.readBatch { break }
                }
            } catch {
                if Task.isCancelled { return }
                logger.warning("live tail cannot read the log", metadata: ["error": "\(error.message)"])
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }
}

/// The buffer of one followed tenant.
final class TenantTail: Sendable {
    /// (A class: subscribers copy runs of entries, one reference each.)
    final class Entry: Sendable {
        let event: RecordedEvent
        let live: LiveEvent

        init(event: RecordedEvent, live: LiveEvent) {
            self.event = event
            self.live = live
        }
    }

    enum Slice {
        /// Nothing buffered right after the point: read the store up to `through` first.
        case gap(through: Int64)
        /// Everything after the point, through `through` (perhaps nothing).
        case events([Entry], through: Int64)
    }

    let tenant: String
    let capacity: Int
    /// The tenant's head when the reader started (or why it could not be read).
    let ready = OneShot<Result<Int64, StoreError>>()
    private let state = Mutex<(entries: [Entry], through: Int64?)>(([], nil))

    init(tenant: String, capacity: Int) {
        self.tenant = tenant
        self.capacity = capacity
    }

    /// The buffer begins after `head`, the tenant's last event when its reader started.
    func start(at head: Int64) {
        state.withLock { $0.through = head }
        ready.deliver(.success(head))
    }

    /// The last sequence read into the buffer (nil before the reader started).
    var readThrough: Int64? {
        state.withLock { $0.through }
    }

    func append(_ events: [RecordedEvent]) {
        let entries = events.map { Entry(event: $0, live: LiveEvent($0)) }
        state.withLock { state in
            state.entries += entries
            // Trimmed a quarter at a time, not an event at a time.
            if state.entries.count > capacity + capacity / 4 {
                state.entries.removeFirst(state.entries.count - capacity)
            }
            state.through = entries.last?.event.sequence ?? state.through
        }
    }

    func entries(after cursor: Int64) -> Slice {
        state.withLock { state in
            // (Asked only once the reader started.)
            let through = state.through ?? cursor
            let first = state.entries.first?.event.sequence ?? through + 1
            guard cursor + 1 >= first else { return .gap(through: through) }
            let start = Int(min(cursor + 1 - first, Int64(state.entries.count)))
            return .events(Array(state.entries[start...]), through: max(through, cursor))
        }
    }
}
