import Logging
import NIOCore
import PostgresNIO
public import TrailCore

extension PostgresEventStore: StreamStore {
    static let followerColumns = """
        id, tenant, kind, name, definition, secret, cursor, created_at, created_by, handled, last_success_at,
        last_error, last_error_at, failures, retry_at
        """

    public func insertFollower(_ follower: Follower) async throws(StoreError) {
        let row = FollowerRow(follower, personal: personal)
        try await read { connection, logger in
            try await connection.run("""
                INSERT INTO followers (\(unescaped: Self.followerColumns))
                VALUES (\(row.id), \(row.tenant), \(row.kind.rawValue), \(row.name), \(row.definition),
                        \(row.secret.map { ByteBuffer(bytes: $0) }), \(row.cursor), \(row.createdAt.microseconds),
                        \(row.createdBy), \(row.handled), \(row.lastSuccessAt?.microseconds), \(row.lastError),
                        \(row.lastErrorAt?.microseconds), \(Int32(row.failures)), \(row.retryAt?.microseconds))
                """, logger: logger)
        }
    }

    public func followers(tenant: String?, kind: Follower.Kind?) async throws(StoreError) -> [Follower] {
        try await read { connection, logger in
            try await Self.followers(connection.query("""
                SELECT \(unescaped: Self.followerColumns) FROM followers
                WHERE (\(tenant)::text IS NULL OR tenant = \(tenant)) AND (\(kind?.rawValue)::text IS NULL OR kind = \(kind?.rawValue))
                ORDER BY created_at, id
                """, logger: logger))
        }.map { $0.follower(personal: personal) }
    }

    public func follower(tenant: String, id: String) async throws(StoreError) -> Follower? {
        try await read { connection, logger in
            try await Self.followers(connection.query("""
                SELECT \(unescaped: Self.followerColumns) FROM followers WHERE tenant = \(tenant) AND id = \(id)
                """, logger: logger)).first
        }?.follower(personal: personal)
    }

    public func deleteFollower(tenant: String, id: String) async throws(StoreError) -> Bool {
        try await read { connection, logger in
            var deleted = false
            for try await _ in try await connection.query(
                "DELETE FROM followers WHERE tenant = \(tenant) AND id = \(id) RETURNING 1", logger: logger) { deleted = true }
            return deleted
        }
    }

    public func leaseFollower(id: String, owner: String, now: Timestamp, until: Timestamp) async throws(StoreError) -> Follower? {
        try await read { connection, logger in
            try await Self.followers(connection.query("""
                UPDATE followers SET lease_owner = \(owner), lease_until = \(until.microseconds)
                WHERE id = \(id) AND (lease_owner IS NULL OR lease_owner = \(owner) OR lease_until < \(now.microseconds))
                RETURNING \(unescaped: Self.followerColumns)
                """, logger: logger)).first
        }?.follower(personal: personal)
    }

    public func advanceFollower(id: String, owner: String, cursor: Int64, handled: Int, at time: Timestamp) async throws(StoreError) -> Bool {
        try await read { connection, logger in
            var advanced = false
            for try await _ in try await connection.query("""
                UPDATE followers SET cursor = greatest(cursor, \(cursor)), handled = handled + \(Int64(handled)),
                    last_success_at = \(time.microseconds), failures = 0, retry_at = NULL
                WHERE id = \(id) AND lease_owner = \(owner) RETURNING 1
                """, logger: logger) { advanced = true }
            return advanced
        }
    }

    public func failFollower(id: String, owner: String, error: String, at time: Timestamp, retryAt: Timestamp) async throws(StoreError) {
        try await read { connection, logger in
            try await connection.run("""
                UPDATE followers SET last_error = \(error), last_error_at = \(time.microseconds), failures = failures + 1,
                    retry_at = \(retryAt.microseconds)
                WHERE id = \(id) AND lease_owner = \(owner)
                """, logger: logger)
        }
    }

    static func followers(_ rows: PostgresRowSequence) async throws -> [FollowerRow] {
        var followers: [FollowerRow] = []
        for try await row in rows {
            let cells = row.makeRandomAccess()
            func time(_ index: Int) throws -> Timestamp? { try cells[index].decode(Int64?.self).map(Timestamp.init(microseconds:)) }
            followers.append(FollowerRow(
                id: try cells[0].decode(String.self), tenant: try cells[1].decode(String.self),
                kind: Follower.Kind(rawValue: try cells[2].decode(String.self)) ?? .sink, name: try cells[3].decode(String.self),
                definition: try cells[4].decode(String.self), secret: try cells[5].decode(ByteBuffer?.self).map { Array(buffer: $0) },
                cursor: try cells[6].decode(Int64.self), createdAt: Timestamp(microseconds: try cells[7].decode(Int64.self)),
                createdBy: try cells[8].decode(String.self), handled: try cells[9].decode(Int64.self),
                lastSuccessAt: try time(10), lastError: try cells[11].decode(String?.self), lastErrorAt: try time(12),
                failures: Int(try cells[13].decode(Int32.self)), retryAt: try time(14)))
        }
        return followers
    }

    // MARK: Alerts

    static let alertColumns = """
        id, tenant, rule_id, rule_name, group_key, count, threshold, window_seconds, first_at, last_at, first_sequence,
        last_sequence, fired_at, event_sequence, sink_id, delivered_at
        """

    public func insertAlert(_ alert: FiredAlert) async throws(StoreError) {
        try await read { connection, logger in
            try await connection.run("""
                INSERT INTO alerts (\(unescaped: Self.alertColumns))
                VALUES (\(alert.id), \(alert.tenant), \(alert.ruleId), \(alert.ruleName), \(alert.group), \(Int32(alert.count)),
                        \(Int32(alert.threshold)), \(alert.windowSeconds), \(alert.firstAt.microseconds),
                        \(alert.lastAt.microseconds), \(alert.firstSequence), \(alert.lastSequence),
                        \(alert.firedAt.microseconds), \(alert.eventSequence), \(alert.sinkId), \(alert.deliveredAt?.microseconds))
                """, logger: logger)
        }
    }

    public func alerts(tenant: String, limit: Int) async throws(StoreError) -> [FiredAlert] {
        try await read { connection, logger in
            try await Self.alerts(connection.query("""
                SELECT \(unescaped: Self.alertColumns) FROM alerts WHERE tenant = \(tenant)
                ORDER BY fired_at DESC, id DESC LIMIT \(Int64(limit))
                """, logger: logger))
        }
    }

    public func undeliveredAlerts(tenant: String, sink: String, limit: Int) async throws(StoreError) -> [FiredAlert] {
        try await read { connection, logger in
            try await Self.alerts(connection.query("""
                SELECT \(unescaped: Self.alertColumns) FROM alerts
                WHERE sink_id = \(sink) AND delivered_at IS NULL AND tenant = \(tenant) ORDER BY fired_at, id LIMIT \(Int64(limit))
                """, logger: logger))
        }
    }

    public func markAlertsDelivered(tenant: String, ids: [String], at time: Timestamp) async throws(StoreError) {
        guard !ids.isEmpty else { return }
        try await read { connection, logger in
            try await connection.run("""
                UPDATE alerts SET delivered_at = \(time.microseconds)
                WHERE tenant = \(tenant) AND id = ANY(\(ids)::text[]) AND delivered_at IS NULL
                """, logger: logger)
        }
    }

    static func alerts(_ rows: PostgresRowSequence) async throws -> [FiredAlert] {
        var alerts: [FiredAlert] = []
        for try await row in rows {
            let cells = row.makeRandomAccess()
            func time(_ index: Int) throws -> Timestamp { Timestamp(microseconds: try cells[index].decode(Int64.self)) }
            alerts.append(FiredAlert(
                id: try cells[0].decode(String.self), tenant: try cells[1].decode(String.self),
                ruleId: try cells[2].decode(String.self), ruleName: try cells[3].decode(String.self),
                group: try cells[4].decode(String?.self), count: Int(try cells[5].decode(Int32.self)),
                threshold: Int(try cells[6].decode(Int32.self)), windowSeconds: try cells[7].decode(Int64.self),
                firstAt: try time(8), lastAt: try time(9), firstSequence: try cells[10].decode(Int64.self),
                lastSequence: try cells[11].decode(Int64.self), firedAt: try time(12),
                eventSequence: try cells[13].decode(Int64?.self), sinkId: try cells[14].decode(String?.self),
                deliveredAt: try cells[15].decode(Int64?.self).map(Timestamp.init(microseconds:))))
        }
        return alerts
    }
}
