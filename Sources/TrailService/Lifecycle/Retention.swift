import Foundation
public import TrailCore
public import TrailStore

/// Retention (SPEC §11): a tenant's rules, and the cleanup that removes the content of the events they let go,
/// in batches, holding back what a legal hold keeps and Trail's own lifecycle records.
public struct Retention: Sendable {
    let store: any TrailStorage
    /// The fewest days a rule may keep events (`--min-retention-days`).
    public let minimumDays: Double
    /// Events looked at per batch; each batch that removes something is one transaction.
    public let batchSize: Int
    /// After each batch, the cleanup waits this many times as long as the batch's transaction took, so that
    /// ingest keeps most of the writer (1: at most half of it goes to the cleanup).
    public let pause: Double
    /// The least the cleanup waits after a batch that removed something, whatever the batch took.
    public let minimumPause: Duration
    let clock: @Sendable () -> Timestamp

    public init(store: any TrailStorage, minimumDays: Double = 0, batchSize: Int = 1_000, pause: Double = 1,
                minimumPause: Duration = .zero, clock: @escaping @Sendable () -> Timestamp = SystemClock.now) {
        self.store = store
        self.minimumDays = minimumDays
        self.batchSize = batchSize
        self.pause = pause
        self.minimumPause = minimumPause
        self.clock = clock
    }

    public func policy(tenant: String) async throws(StoreError) -> RetentionPolicy {
        try await store.retentionPolicy(tenant: tenant)
    }

    /// Replaces the tenant's rules with those of `body` (`{"rules": […]}`), and records it.
    public func setPolicy(body: some Collection<UInt8>, tenant: String, by who: Operator) async throws -> RetentionPolicy {
        let value = try ServiceError.json(body)
        let policy: RetentionPolicy
        do { policy = try RetentionPolicy.parse(value, minimumDays: minimumDays) } catch { throw ServiceError.invalid(error) }
        try await store.setRetentionPolicy(policy, tenant: tenant)
        var metadata = JSONObject()
        if case .object(let object) = policy.json { for member in object { metadata.append(member.key, member.value) } }
        try await AdminRecord(store: store).record(
            "retention_rules_set", tenant: tenant, by: who,
            summary: "\(who.id) set \(policy.rules.count) retention rule\(policy.rules.count == 1 ? "" : "s").", metadata: metadata)
        return policy
    }

    /// What a cleanup did, or would do, in one tenant.
    public struct Report: Sendable, Equatable {
        public struct Tally: Sendable, Equatable {
            public var rule: RetentionRule
            /// Events removed (or, in a dry run, that would be).
            public var removed: Int64 = 0
            /// Events the rule lets go that a legal hold keeps.
            public var held: Int64 = 0
        }

        public var tenant: String
        public var dryRun: Bool
        public var ranAt: Timestamp
        public var rules: [Tally]

        public var removed: Int64 { rules.reduce(0) { $0 + $1.removed } }
        public var held: Int64 { rules.reduce(0) { $0 + $1.held } }
    }

    /// Runs the tenant's rules: events whose rule's time is up go, unless a hold keeps them (holds are read again
    /// before each batch: one placed while a cleanup runs is obeyed from its next batch). Trail's lifecycle
    /// records (category `AUDIT_ADMIN`) never go: they account for what was removed. Before each batch is
    /// removed, a `retention_cleanup` event naming its sequences is recorded; verification holds every removed
    /// event to one. A dry run changes and records nothing.
    public func run(tenant: String, dryRun: Bool, by who: Operator) async throws -> Report {
        let policy = try await store.retentionPolicy(tenant: tenant)
        let now = clock()
        var report = Report(tenant: tenant, dryRun: dryRun, ranAt: now, rules: policy.rules.map { Report.Tally(rule: $0) })
        guard let shortest = policy.shortestKeep else { return report }
        let cutoffs = policy.rules.map { now.adding(.zero - $0.keep) }
        var cursor = RemovalCursor.start
        while true {
            let candidates = try await store.removalCandidates(
                tenant: tenant, recordedBefore: now.adding(.zero - shortest), after: cursor, limit: batchSize)
            guard let last = candidates.last else { break }
            cursor = last.cursor
            let holds = try await store.holds(tenant: tenant).filter(\.isActive)
            var batch: [Int64] = []
            for candidate in candidates where candidate.category != AdminRecord.category {
                guard let index = policy.rule(resourceType: candidate.resourceType, category: candidate.category),
                      candidate.recordedAt < cutoffs[index] else { continue }
                if holds.contains(where: { $0.match.holds(candidate) }) {
                    report.rules[index].held += 1
                } else {
                    report.rules[index].removed += 1
                    batch.append(candidate.sequence)
                }
            }
            guard !dryRun, !batch.isEmpty else { continue }
            var metadata = JSONObject()
            metadata.append(RemovalClaims.Kind.removal.member, RemovalClaims(batch.sorted()).json)
            metadata.append("count", .number(JSONNumber(batch.count)))
            try await Self.retrying {
                try await AdminRecord(store: store).record(
                    RemovalClaims.Kind.removal.action, tenant: tenant, by: who,
                    summary: "\(who.id) removed the content of \(batch.count) event\(batch.count == 1 ? "" : "s") under the retention rules.",
                    metadata: metadata)
            }
            let started = ContinuousClock.now
            try await Self.retrying { _ = try await store.removeEvents(tenant: tenant, sequences: batch, at: now) }
            // The store's writer is shared with ingest: leave it free as long as the batch held it.
            try await Task.sleep(for: max((ContinuousClock.now - started) * pause, minimumPause))
        }
        return report
    }

    /// Runs `body` again while the store is unavailable for a moment — a SQLite file whose lock another process's
    /// writer holds past the busy timeout (`trail cleanup` next to a busy `trail serve`), a PostgreSQL connection
    /// lost — up to ten times, a second apart; the eleventh failure is thrown. (A batch's record written twice
    /// names its events twice: harmless.)
    static func retrying(_ body: () async throws -> Void) async throws {
        for attempt in 1... {
            do {
                return try await body()
            } catch let error as StoreError where error.code == .unavailable && attempt <= 10 {
                try await Task.sleep(for: .seconds(1))
            }
        }
    }

    /// Runs every tenant that has rules (`trail cleanup`, the schedule), or one.
    public func runAll(tenant: String? = nil, dryRun: Bool, by who: Operator) async throws -> [Report] {
        var reports: [Report] = []
        let tenants = if let tenant { [tenant] } else { try await store.tenantsWithRetention() }
        for tenant in tenants {
            reports.append(try await run(tenant: tenant, dryRun: dryRun, by: who))
        }
        return reports
    }
}

extension HoldMatch {
    func holds(_ candidate: RemovalCandidate) -> Bool {
        holds(resourceType: candidate.resourceType, resourceId: candidate.resourceId, actorId: candidate.actorId,
              occurredAt: candidate.occurredAt)
    }
}

extension Retention.Report {
    /// `{"tenant", "dry_run", "ran_at", "removed", "held", "rules": [{"resource_type", "category", "keep_days",
    /// "removed", "held"}]}`.
    public var json: JSONValue {
        var object = JSONObject()
        object.append("tenant", .string(tenant))
        object.append("dry_run", .bool(dryRun))
        object.append("ran_at", .string(ranAt.formatted()))
        object.append("removed", .number(JSONNumber(Int(removed))))
        object.append("held", .number(JSONNumber(Int(held))))
        let policy = RetentionPolicy(rules: rules.map(\.rule))
        let ruleObjects = policy.json.objectValue?["rules"]?.arrayValue ?? []
        object.append("rules", .array(zip(ruleObjects, rules).map { ruleJSON, tally in
            var rule = ruleJSON.objectValue ?? JSONObject()
            rule.append("removed", .number(JSONNumber(Int(tally.removed))))
            rule.append("held", .number(JSONNumber(Int(tally.held))))
            return .object(rule)
        }))
        return .object(object)
    }
}
