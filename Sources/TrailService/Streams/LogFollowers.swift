import AsyncHTTPClient
import Foundation
public import Logging
public import ServiceLifecycle
public import TrailCore
public import TrailStore
import Synchronization

/// How sinks and alert rules are run (SPEC §14). Defaults are those documented in docs/streams.md.
public struct FollowerConfiguration: Sendable {
    /// Sinks may deliver to loopback and private addresses (`--allow-private-sinks`).
    public var allowPrivateSinks: Bool
    /// Events handed to a sink at once (one webhook request, one write to a syslog connection).
    public var batchSize: Int
    /// How long a process holds a follower once it took it; renewed as it works (PostgreSQL: one process at a time).
    public var leaseDuration: Duration
    /// How often the list of followers is read again (new ones start within this).
    public var refreshInterval: Duration
    /// How often a follower reads its tenant's log without news of a commit.
    public var pollInterval: Duration
    /// The first wait after a failed delivery; it doubles with each failure in a row (with jitter), up to
    /// `maximumBackoff`.
    public var initialBackoff: Duration
    public var maximumBackoff: Duration
    /// How long a receiver may take to answer.
    public var timeout: Duration

    public init(allowPrivateSinks: Bool = false, batchSize: Int = 100, leaseDuration: Duration = .seconds(30),
                refreshInterval: Duration = .seconds(2), pollInterval: Duration = .seconds(5),
                initialBackoff: Duration = .seconds(1), maximumBackoff: Duration = .seconds(300), timeout: Duration = .seconds(10)) {
        self.allowPrivateSinks = allowPrivateSinks
        self.batchSize = batchSize
        self.leaseDuration = leaseDuration
        self.refreshInterval = refreshInterval
        self.pollInterval = pollInterval
        self.initialBackoff = initialBackoff
        self.maximumBackoff = maximumBackoff
        self.timeout = timeout
    }
}

/// Runs every sink of every tenant (SPEC §14): each on its own task, from its durable cursor, in sequence order,
/// at least once. A sink is run by the process that holds its lease; a failing sink backs off on its own
/// without holding up ingest or the other sinks.
public final class LogFollowers: Service, Sendable {
    let store: any TrailStorage
    let configuration: FollowerConfiguration
    let logger: Logger
    let clock: @Sendable () -> Timestamp
    /// This process, as lease holder.
    let owner = "\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString.lowercased())"
    private let running = Mutex<Set<String>>([])

    public init(store: any TrailStorage, configuration: FollowerConfiguration = FollowerConfiguration(), logger: Logger,
                clock: @escaping @Sendable () -> Timestamp = SystemClock.now) {
        self.store = store
        self.configuration = configuration
        self.logger = logger
        self.clock = clock
    }

    public func run() async throws {
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: HTTPClient.Configuration(
            redirectConfiguration: .disallow, timeout: .init(connect: .seconds(10))))
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                while !Task.isCancelled {
                    do {
                        for follower in try await self.store.followers(tenant: nil, kind: .sink)
                        where self.running.withLock({ $0.insert(follower.id).inserted }) {
                            group.addTask {
                                await self.follow(id: follower.id, tenant: follower.tenant, client: client)
                                _ = self.running.withLock { $0.remove(follower.id) }
                            }
                        }
                    } catch {
                        self.logger.warning("sinks cannot be listed", metadata: ["error": "\(error)"])
                    }
                    try? await Task.sleep(for: self.configuration.refreshInterval)
                }
            }
        }
        try? await client.shutdown()
    }

    /// One sink, until it is deleted or the process stops.
    private func follow(id: String, tenant: String, client: HTTPClient) async {
        var transport: (any SinkTransport)?
        defer { if let transport { Task { await transport.close() } } }
        let addresses = SinkAddresses(allowPrivate: configuration.allowPrivateSinks)
        while !Task.isCancelled {
            let now = clock()
            let sink: Follower
            do {
                guard let leased = try await store.leaseFollower(id: id, owner: owner, now: now, until: now.adding(configuration.leaseDuration)) else {
                    // Deleted, or run by another process: look again in a while.
                    if try await store.follower(tenant: tenant, id: id) == nil { return }
                    try? await Task.sleep(for: configuration.leaseDuration / 3)
                    continue
                }
                sink = leased
            } catch {
                logger.warning("sink lease failed", metadata: ["sink": "\(id)", "error": "\(error.message)"])
                try? await Task.sleep(for: configuration.pollInterval)
                continue
            }
            if let retryAt = sink.retryAt, retryAt > now {
                try? await Task.sleep(for: min(.microseconds(retryAt.microseconds - now.microseconds), configuration.leaseDuration / 3))
                continue
            }
            guard let definition = SinkDefinition(sink) else {
                await fail(sink, DeliveryFailure(message: "the sink's definition cannot be read"))
                continue
            }
            if case .webhook = definition.target, definition.secret == nil {
                await fail(sink, DeliveryFailure(message: "the sink's secret cannot be opened (was the key vault restored with the store?): delete the sink and create it again"))
                continue
            }
            if transport == nil {
                transport = switch definition.target {
                case .webhook(let url):
                    WebhookTransport(client: client, url: url, sinkId: id, definition: definition, timeout: configuration.timeout, clock: clock)
                case .syslog(let kind, let host, let port):
                    SyslogTransport(definition: definition, kind: kind, host: host, port: port)
                }
            }
            do {
                try await addresses.check(host: definition.target.host)
            } catch {
                await fail(sink, DeliveryFailure(message: error.message))
                continue
            }
            do {
                try await step(sink, definition: definition, transport: transport!)
            } catch let failure as DeliveryFailure {
                await fail(sink, failure)
            } catch {
                logger.warning("sink cannot read the log", metadata: ["sink": "\(id)", "error": "\(error)"])
                try? await Task.sleep(for: configuration.pollInterval)
            }
        }
    }

    /// One round: the alerts waiting for this sink, else the next batch of the log, else a wait for a commit.
    private func step(_ sink: Follower, definition: SinkDefinition, transport: any SinkTransport) async throws {
        let alerts = try await store.undeliveredAlerts(tenant: sink.tenant, sink: sink.id, limit: configuration.batchSize)
        if !alerts.isEmpty {
            var events: [RecordedEvent] = []
            for sequence in alerts.compactMap(\.eventSequence) {
                events += try await store.events(tenant: sink.tenant, matching: EventQuery(
                    beforeSequence: sequence + 1, afterSequence: sequence - 1, includesAccess: true, limit: 1))
            }
            try await transport.deliver(events)
            try await store.markAlertsDelivered(tenant: sink.tenant, ids: alerts.map(\.id), at: clock())
            ServiceMetrics.sinkDelivered(events.count, sink: sink.id)
            return
        }
        let head = try await store.chainHead(tenant: sink.tenant).sequence
        ServiceMetrics.sinkLag(max(head - sink.cursor, 0), sink: sink.id)
        guard sink.cursor < head else {
            await store.commits.wait(tenant: sink.tenant, beyond: sink.cursor, timeout: configuration.pollInterval)
            return
        }
        var query = definition.match.query
        query.afterSequence = sink.cursor
        query.beforeSequence = head + 1
        query.oldestFirst = true
        query.limit = configuration.batchSize
        let events = try await store.events(tenant: sink.tenant, matching: query)
        // A full batch goes up to its last event; a shorter one covers everything up to the head read before it.
        let cursor = events.count == configuration.batchSize ? events[events.count - 1].sequence : head
        if !events.isEmpty { try await transport.deliver(events) }
        guard try await store.advanceFollower(id: sink.id, owner: owner, cursor: cursor, handled: events.count, at: clock()) else {
            logger.info("sink lease lost: another process delivers it now", metadata: ["sink": "\(sink.id)"])
            return
        }
        ServiceMetrics.sinkDelivered(events.count, sink: sink.id)
        ServiceMetrics.sinkLag(max(head - cursor, 0), sink: sink.id)
    }

    /// Records a failure and when to try again: exponential backoff with jitter, or the receiver's `Retry-After`
    /// if that is longer (within the maximum).
    private func fail(_ sink: Follower, _ failure: DeliveryFailure) async {
        ServiceMetrics.sinkFailed(sink: sink.id)
        let delay = Self.backoff(failures: sink.failures + 1, initial: configuration.initialBackoff,
                                 maximum: configuration.maximumBackoff, retryAfter: failure.retryAfter)
        let now = clock()
        logger.notice("sink delivery failed", metadata: ["sink": "\(sink.id)", "error": "\(failure.message)",
                                                          "retry_in_seconds": "\(delay.components.seconds)"])
        do {
            try await store.failFollower(id: sink.id, owner: owner, error: String(failure.message.prefix(1000)), at: now,
                                         retryAt: now.adding(delay))
        } catch {
            logger.warning("sink failure not recorded", metadata: ["sink": "\(sink.id)", "error": "\(error.message)"])
            try? await Task.sleep(for: delay)
        }
    }

    /// The wait after `failures` failures in a row: `initial · 2^(failures−1)`, at most `maximum`, times a random
    /// factor in [0.5, 1] (so that sinks failing together do not retry together); at least `retryAfter`.
    static func backoff(failures: Int, initial: Duration, maximum: Duration, retryAfter: Duration?) -> Duration {
        let exponential = min(initial * (1 << min(max(failures - 1, 0), 20)), maximum)
        let jittered = exponential * Double.random(in: 0.5...1.0)
        return min(max(jittered, retryAfter ?? .zero), max(maximum, .seconds(3600)))
    }
}
