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

/// Runs every sink and alert rule of every tenant (SPEC §14): each on its own task, from its durable cursor, in
/// sequence order, at least once. Each is run by the process that holds its lease; a failing sink backs off on
/// its own without holding up ingest or the other sinks.
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
                        for follower in try await self.store.followers(tenant: nil, kind: nil)
                        where self.running.withLock({ $0.insert(follower.id).inserted }) {
                            group.addTask {
                                await self.follow(id: follower.id, tenant: follower.tenant, client: client)
                                _ = self.running.withLock { $0.remove(follower.id) }
                            }
                        }
                    } catch {
                        if Task.isCancelled { break }
                        self.logger.warning("sinks and alert rules cannot be listed", metadata: ["error": "\(error)"])
                    }
                    try? await Task.sleep(for: self.configuration.refreshInterval)
                }
            }
        }
        try? await client.shutdown()
    }

    /// What one follower keeps between rounds while this process runs it.
    private enum Running {
        case sink(SinkDefinition, any SinkTransport)
        case rule(AlertRuleDefinition, SlidingWindows)
    }

    /// One sink or rule, until it is deleted or the process stops.
    private func follow(id: String, tenant: String, client: HTTPClient) async {
        var running: Running?
        defer { if case .sink(_, let transport)? = running { Task { await transport.close() } } }
        while !Task.isCancelled {
            let now = clock()
            let follower: Follower
            do {
                guard let leased = try await store.leaseFollower(id: id, owner: owner, now: now, until: now.adding(configuration.leaseDuration)) else {
                    // Deleted, or run by another process: look again in a while. (Counts kept here are stale
                    // once another process has counted.)
                    if try await store.follower(tenant: tenant, id: id) == nil { return }
                    running = nil
                    try? await Task.sleep(for: configuration.leaseDuration / 3)
                    continue
                }
                follower = leased
            } catch {
                logger.warning("lease of a sink or alert rule failed", metadata: ["follower": "\(id)", "error": "\(error.message)"])
                try? await Task.sleep(for: configuration.pollInterval)
                continue
            }
            if let retryAt = follower.retryAt, retryAt > now {
                try? await Task.sleep(for: min(.microseconds(retryAt.microseconds - now.microseconds), configuration.leaseDuration / 3))
                continue
            }
            do {
                if running == nil { running = try start(follower, client: client) }
                switch running {
                case .sink(let definition, let transport)?:
                    try await sinkRound(follower, definition: definition, transport: transport)
                case .rule(let definition, var windows)?:
                    try await ruleRound(follower, definition: definition, windows: &windows)
                    running = .rule(definition, windows)
                case nil:
                    return
                }
            } catch let failure as DeliveryFailure {
                // Stopped in the middle (the process shuts down): not the receiver's failure.
                if Task.isCancelled { return }
                await fail(follower, failure)
            } catch {
                if Task.isCancelled { return }
                logger.warning("a sink or alert rule cannot read the log", metadata: ["follower": "\(id)", "error": "\(error)"])
                try? await Task.sleep(for: configuration.pollInterval)
            }
        }
    }

    /// What a follower needs to run, from its stored definition.
    private func start(_ follower: Follower, client: HTTPClient) throws(DeliveryFailure) -> Running {
        switch follower.kind {
        case .rule:
            guard let definition = AlertRuleDefinition(follower) else { throw DeliveryFailure(message: "the rule's definition cannot be read") }
            return .rule(definition, SlidingWindows(threshold: definition.threshold, windowSeconds: definition.windowSeconds))
        case .sink:
            guard let definition = SinkDefinition(follower) else { throw DeliveryFailure(message: "the sink's definition cannot be read") }
            switch definition.target {
            case .webhook(let url):
                guard definition.secret != nil else {
                    throw DeliveryFailure(message: "the sink's secret cannot be opened (was the key vault restored with the store?): delete the sink and create it again")
                }
                return .sink(definition, WebhookTransport(client: client, url: url, sinkId: follower.id, definition: definition,
                                                          timeout: configuration.timeout, clock: clock))
            case .syslog(let kind, let host, let port):
                return .sink(definition, SyslogTransport(definition: definition, kind: kind, host: host, port: port))
            }
        }
    }

    /// The next batch of the log after `follower`'s cursor that `match` selects, up to the tenant's head; nil when
    /// it is at the head (after waiting a while for a commit). With the cursor the batch brings it to.
    private func nextBatch(_ follower: Follower, match: StreamMatch) async throws -> (events: [RecordedEvent], cursor: Int64, head: Int64)? {
        let head = try await store.chainHead(tenant: follower.tenant).sequence
        guard follower.cursor < head else {
            await store.commits.wait(tenant: follower.tenant, beyond: follower.cursor, timeout: configuration.pollInterval)
            return nil
        }
        var query = match.query
        query.afterSequence = follower.cursor
        query.beforeSequence = head + 1
        query.oldestFirst = true
        query.limit = configuration.batchSize
        let events = try await store.events(tenant: follower.tenant, matching: query)
        // A full batch goes up to its last event; a shorter one covers everything up to the head read before it.
        return (events, events.count == configuration.batchSize ? events[events.count - 1].sequence : head, head)
    }

    /// One round of a sink: the alerts waiting for it, else the next batch of the log, else a wait for a commit.
    private func sinkRound(_ sink: Follower, definition: SinkDefinition, transport: any SinkTransport) async throws {
        // Checked before each delivery (a name may resolve elsewhere later), not on rounds that deliver nothing.
        func deliver(_ events: [RecordedEvent]) async throws {
            do {
                try await SinkAddresses(allowPrivate: configuration.allowPrivateSinks).check(host: definition.target.host)
            } catch {
                throw DeliveryFailure(message: error.message)
            }
            try await transport.deliver(events)
        }
        let alerts = try await store.undeliveredAlerts(tenant: sink.tenant, sink: sink.id, limit: configuration.batchSize)
        if !alerts.isEmpty {
            var events: [RecordedEvent] = []
            for sequence in alerts.compactMap(\.eventSequence) {
                events += try await store.events(tenant: sink.tenant, matching: EventQuery(
                    beforeSequence: sequence + 1, afterSequence: sequence - 1, includesAccess: true, limit: 1))
            }
            try await deliver(events)
            try await store.markAlertsDelivered(tenant: sink.tenant, ids: alerts.map(\.id), at: clock())
            ServiceMetrics.sinkDelivered(events.count, sink: sink.id)
            return
        }
        guard let (events, cursor, head) = try await nextBatch(sink, match: definition.match) else {
            ServiceMetrics.sinkLag(0, sink: sink.id)
            return
        }
        ServiceMetrics.sinkLag(head - sink.cursor, sink: sink.id)
        if !events.isEmpty { try await deliver(events) }
        guard try await store.advanceFollower(id: sink.id, owner: owner, cursor: cursor, handled: events.count, at: clock()) else {
            logger.info("sink lease lost: another process delivers it now", metadata: ["sink": "\(sink.id)"])
            return
        }
        ServiceMetrics.sinkDelivered(events.count, sink: sink.id)
        ServiceMetrics.sinkLag(head - cursor, sink: sink.id)
    }

    /// One round of an alert rule: counts the next batch of matching events (never the alerts themselves), fires
    /// for each group that reaches the threshold, then moves its cursor. A crash between a firing and the cursor
    /// fires again after the restart (at least once).
    private func ruleRound(_ rule: Follower, definition: AlertRuleDefinition, windows: inout SlidingWindows) async throws {
        guard let (events, cursor, _) = try await nextBatch(rule, match: definition.match) else { return }
        var counted = 0
        for event in events where !(event.category == AlertRules.category && event.action == AlertRules.firedAction) {
            counted += 1
            if let firing = windows.count(group: definition.group(of: event), .init(time: event.recordedAt, sequence: event.sequence)) {
                try await fire(rule, definition: definition, firing)
            }
        }
        windows.prune(now: events.last?.recordedAt ?? clock())
        guard try await store.advanceFollower(id: rule.id, owner: owner, cursor: cursor, handled: counted, at: clock()) else {
            logger.info("alert rule lease lost: another process evaluates it now", metadata: ["rule": "\(rule.id)"])
            return
        }
    }

    /// Records a fired alert: a `SECURITY` event in the tenant's log, the alert (listed, and waiting for the
    /// rule's sink if it names one).
    private func fire(_ rule: Follower, definition: AlertRuleDefinition, _ firing: SlidingWindows.Firing) async throws {
        let id = UUID().uuidString.lowercased()
        let (first, last) = (firing.hits[0], firing.hits[firing.hits.count - 1])
        var metadata = JSONObject()
        metadata.append("alert_id", .string(id))
        metadata.append("rule_id", .string(rule.id))
        metadata.append("rule_name", .string(rule.name))
        metadata.append("group_by", definition.groupBy.map { .string($0.rawValue) } ?? .null)
        metadata.append("group", firing.group.map(JSONValue.string) ?? .null)
        metadata.append("count", .number(JSONNumber(firing.hits.count)))
        metadata.append("threshold", .number(JSONNumber(definition.threshold)))
        metadata.append("window_seconds", .number(JSONNumber(Int(definition.windowSeconds))))
        metadata.append("first_sequence", .number(JSONNumber(Int(first.sequence))))
        metadata.append("last_sequence", .number(JSONNumber(Int(last.sequence))))
        var actor = JSONObject()
        actor.append("id", "alert-rules")
        actor.append("type", "system")
        let of = firing.group.map { " (\(definition.groupBy?.rawValue ?? "group") \($0))" } ?? ""
        let activity = Activity(
            action: AlertRules.firedAction, actor: actor, actorId: "alert-rules", resourceType: nil, resourceId: nil,
            metadata: metadata, category: AlertRules.category, outcome: .success, reportedChanges: [],
            summary: "Alert \(rule.name): \(firing.hits.count) matching events within \(definition.windowSeconds) s\(of).")
        let result = try await store.append(AppendRequest(tenant: rule.tenant, activities: [activity]))
        try await store.insertAlert(FiredAlert(
            id: id, tenant: rule.tenant, ruleId: rule.id, ruleName: rule.name, group: firing.group, count: firing.hits.count,
            threshold: definition.threshold, windowSeconds: definition.windowSeconds, firstAt: first.time, lastAt: last.time,
            firstSequence: first.sequence, lastSequence: last.sequence, firedAt: clock(),
            eventSequence: result.events.first?.sequence, sinkId: definition.sink))
        ServiceMetrics.alertFired()
        logger.notice("alert fired", metadata: ["rule": "\(rule.id)", "alert": "\(id)"])
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
