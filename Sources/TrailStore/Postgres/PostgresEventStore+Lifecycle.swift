import PostgresNIO
public import TrailCore

extension PostgresEventStore: LifecycleStore {
    public func retentionPolicy(tenant: String) async throws(StoreError) -> RetentionPolicy {
        try await read { connection, logger in
            var rules: [RetentionRule] = []
            for try await (type, category, days) in try await connection.query("""
                SELECT resource_type, category, keep_days FROM retention_rules WHERE tenant = \(tenant) ORDER BY position
                """, logger: logger).decode((String, String?, Double).self) {
                rules.append(RetentionRule(resourceType: type, category: category, keepDays: days))
            }
            return RetentionPolicy(rules: rules)
        }
    }

    public func setRetentionPolicy(_ policy: RetentionPolicy, tenant: String) async throws(StoreError) {
        try await read { connection, logger in
            try await connection.withTransaction(logger: logger) { connection in
                try await connection.run("DELETE FROM retention_rules WHERE tenant = \(tenant)", logger: logger)
                for (position, rule) in policy.rules.enumerated() {
                    try await connection.run("""
                        INSERT INTO retention_rules (tenant, position, resource_type, category, keep_days)
                        VALUES (\(tenant), \(position), \(rule.resourceType), \(rule.category), \(rule.keepDays))
                        """, logger: logger)
                }
            }
        }
    }

    public func tenantsWithRetention() async throws(StoreError) -> [String] {
        try await read { connection, logger in
            var tenants: [String] = []
            for try await tenant in try await connection.query(
                "SELECT DISTINCT tenant FROM retention_rules ORDER BY tenant", logger: logger).decode(String.self) {
                tenants.append(tenant)
            }
            return tenants
        }
    }

    static let holdColumns = """
        id, tenant, name, reason, match_resource_type, match_resource_id, match_actor, match_since, match_until, \
        created_at, created_by, released_at, released_by
        """

    static func personalKeys(tenant: String, on connection: PostgresConnection, logger: Logger) async throws -> [String] {
        var keys: [String] = []
        for try await key in try await connection.query(
            "SELECT key FROM personal_keys WHERE tenant = \(tenant) ORDER BY key", logger: logger).decode(String.self) {
            keys.append(key)
        }
        return keys
    }

    public func personalKeys(tenant: String) async throws(StoreError) -> [String] {
        try await read { connection, logger in try await Self.personalKeys(tenant: tenant, on: connection, logger: logger) }
    }

    public var installationPersonalKeys: [String] { personal.policy.keys }

    public func setPersonalKeys(_ keys: [String], tenant: String) async throws(StoreError) {
        try await read { connection, logger in
            try await connection.withTransaction(logger: logger) { connection in
                try await connection.run("DELETE FROM personal_keys WHERE tenant = \(tenant)", logger: logger)
                try await connection.run("""
                    INSERT INTO personal_keys (tenant, key) SELECT \(tenant), k FROM unnest(\(Array(Set(keys)))::text[]) AS t(k)
                    """, logger: logger)
            }
        }
        personal.forgetPolicy(tenant: tenant)
    }

    public func insertHold(_ hold: LegalHold) async throws(StoreError) {
        try await read { connection, logger in
            try await connection.run("""
                INSERT INTO legal_holds (\(unescaped: Self.holdColumns))
                VALUES (\(hold.id), \(hold.tenant), \(hold.name), \(hold.reason), \(hold.match.resourceType),
                        \(hold.match.resourceId), \(hold.match.actor), \(hold.match.since?.microseconds),
                        \(hold.match.until?.microseconds), \(hold.createdAt.microseconds), \(hold.createdBy),
                        \(hold.releasedAt?.microseconds), \(hold.releasedBy))
                """, logger: logger)
        }
    }

    public func holds(tenant: String) async throws(StoreError) -> [LegalHold] {
        try await read { connection, logger in
            try await Self.holds(connection.query("""
                SELECT \(unescaped: Self.holdColumns) FROM legal_holds WHERE tenant = \(tenant) ORDER BY created_at, id
                """, logger: logger))
        }
    }

    public func releaseHold(tenant: String, id: String, at time: Timestamp, by subject: String) async throws(StoreError) -> LegalHold? {
        try await read { connection, logger in
            try await connection.run("""
                UPDATE legal_holds SET released_at = \(time.microseconds), released_by = \(subject)
                WHERE tenant = \(tenant) AND id = \(id) AND released_at IS NULL
                """, logger: logger)
            return try await Self.holds(connection.query("""
                SELECT \(unescaped: Self.holdColumns) FROM legal_holds WHERE tenant = \(tenant) AND id = \(id)
                """, logger: logger)).first
        }
    }

    static func holds(_ rows: PostgresRowSequence) async throws -> [LegalHold] {
        var holds: [LegalHold] = []
        for try await row in rows {
            let cells = row.makeRandomAccess()
            func time(_ index: Int) throws -> Timestamp? { try cells[index].decode(Int64?.self).map(Timestamp.init(microseconds:)) }
            holds.append(LegalHold(
                id: try cells[0].decode(String.self), tenant: try cells[1].decode(String.self),
                name: try cells[2].decode(String.self), reason: try cells[3].decode(String.self),
                match: HoldMatch(resourceType: try cells[4].decode(String?.self), resourceId: try cells[5].decode(String?.self),
                                 actor: try cells[6].decode(String?.self), since: try time(7), until: try time(8)),
                createdAt: Timestamp(microseconds: try cells[9].decode(Int64.self)), createdBy: try cells[10].decode(String.self),
                releasedAt: try time(11), releasedBy: try cells[12].decode(String?.self)))
        }
        return holds
    }

    public func removalCandidates(
        tenant: String, recordedBefore: Timestamp, after cursor: RemovalCursor, limit: Int
    ) async throws(StoreError) -> [RemovalCandidate] {
        try await read { connection, logger in
            var candidates: [RemovalCandidate] = []
            for try await (sequence, recorded, occurred, type, id, category, actor) in try await connection.query("""
                SELECT sequence, recorded_at, occurred_at, resource_type, resource_id, category, actor_id FROM events
                WHERE tenant = \(tenant) AND recorded_at < \(recordedBefore.microseconds)
                    AND recorded_at >= \(cursor.recordedAt.microseconds)
                    AND (recorded_at > \(cursor.recordedAt.microseconds) OR sequence > \(cursor.sequence))
                    AND removed_at IS NULL
                ORDER BY recorded_at, sequence LIMIT \(limit)
                """, logger: logger).decode((Int64, Int64, Int64, String?, String?, String?, String?).self) {
                candidates.append(RemovalCandidate(
                    sequence: sequence, recordedAt: Timestamp(microseconds: recorded), occurredAt: Timestamp(microseconds: occurred),
                    resourceType: type, resourceId: id, category: category, actorId: actor))
            }
            return candidates
        }
    }

    public func removeEvents(tenant: String, sequences: [Int64], at time: Timestamp) async throws(StoreError) -> Int {
        guard !sequences.isEmpty else { return 0 }
        return try await read { connection, logger in
            try await connection.withTransaction(logger: logger) { connection in
                let watermark = try await PostgresSearch.lockWatermark(tenant: tenant, on: connection, logger: logger)
                var removed: [Int64] = []
                for try await sequence in try await connection.query("""
                    UPDATE events SET removed_at = \(time.microseconds), actor_id = NULL, actor = NULL, resource_name = NULL,
                        changes = '{}', summary = '', state_after = NULL, secret_digests = NULL, context = NULL,
                        metadata = NULL, duration_ms = NULL, error = NULL, search = NULL
                    WHERE tenant = \(tenant) AND sequence = ANY(\(sequences)::int8[]) AND removed_at IS NULL
                    RETURNING sequence
                    """, logger: logger).decode(Int64.self) {
                    removed.append(sequence)
                }
                try await PostgresSearch.reindex(tenant: tenant, sequences: removed, watermark: watermark, on: connection, logger: logger)
                try await Self.emptyMessages(tenant: tenant, carrying: removed, on: connection, logger: logger)
                return removed.count
            }
        }
    }

    /// The completed messages of `tenant` that carried one of these events lose their body and request context:
    /// a message's events have consecutive sequences, so the one that may hold an event is the one with the
    /// greatest first sequence up to it.
    static func emptyMessages(tenant: String, carrying sequences: [Int64], on connection: PostgresConnection,
                              logger: Logger) async throws {
        guard !sequences.isEmpty else { return }
        try await connection.run("""
            UPDATE messages SET body = '\\x'::bytea, request_context = NULL
            WHERE queue_seq IN (
                SELECT m.queue_seq FROM unnest(\(sequences)::int8[]) AS r(sequence)
                CROSS JOIN LATERAL (
                    SELECT queue_seq, first_sequence, event_count FROM messages
                    WHERE tenant = \(tenant) AND status = 'completed' AND first_sequence <= r.sequence
                    ORDER BY first_sequence DESC LIMIT 1) m
                WHERE r.sequence < m.first_sequence + m.event_count)
                AND length(body) > 0
            """, logger: logger)
    }
}
