import Foundation
import GRDB
public import TrailCore

extension SQLiteEventStore: StreamStore {
    static let followerColumns = """
        id, tenant, kind, name, definition, secret, cursor, created_at, created_by, handled, last_success_at,
        last_error, last_error_at, failures, retry_at
        """

    public func insertFollower(_ follower: Follower) async throws(StoreError) {
        let row = FollowerRow(follower, personal: personal)
        try await write { db in
            try db.execute(sql: "INSERT INTO followers (\(Self.followerColumns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                           arguments: [follower.id, follower.tenant, follower.kind.rawValue, follower.name, row.definition,
                                       row.secret.map { Data($0) }, follower.cursor, follower.createdAt.microseconds,
                                       follower.createdBy, follower.handled, follower.lastSuccessAt?.microseconds,
                                       follower.lastError, follower.lastErrorAt?.microseconds, follower.failures,
                                       follower.retryAt?.microseconds])
        }
    }

    public func followers(tenant: String?, kind: Follower.Kind?) async throws(StoreError) -> [Follower] {
        let rows = try await read { db in
            try Row.fetchAll(db, sql: """
                SELECT \(Self.followerColumns) FROM followers
                WHERE (?1 IS NULL OR tenant = ?1) AND (?2 IS NULL OR kind = ?2) ORDER BY created_at, id
                """, arguments: [tenant, kind?.rawValue]).map(Self.followerRow)
        }
        return rows.map { $0.follower(personal: personal) }
    }

    public func follower(tenant: String, id: String) async throws(StoreError) -> Follower? {
        try await read { db in
            try Row.fetchOne(db, sql: "SELECT \(Self.followerColumns) FROM followers WHERE tenant = ? AND id = ?",
                             arguments: [tenant, id]).map(Self.followerRow)
        }?.follower(personal: personal)
    }

    public func deleteFollower(tenant: String, id: String) async throws(StoreError) -> Bool {
        try await write { db in
            try db.execute(sql: "DELETE FROM followers WHERE tenant = ? AND id = ?", arguments: [tenant, id])
            return db.changesCount > 0
        }
    }

    public func leaseFollower(id: String, owner: String, now: Timestamp, until: Timestamp) async throws(StoreError) -> Follower? {
        try await write { db -> FollowerRow? in
            try db.execute(sql: """
                UPDATE followers SET lease_owner = ?, lease_until = ?
                WHERE id = ? AND (lease_owner IS NULL OR lease_owner = ? OR lease_until < ?)
                """, arguments: [owner, until.microseconds, id, owner, now.microseconds])
            guard db.changesCount > 0 else { return nil }
            return try Row.fetchOne(db, sql: "SELECT \(Self.followerColumns) FROM followers WHERE id = ?", arguments: [id])
                .map(Self.followerRow)
        }?.follower(personal: personal)
    }

    public func advanceFollower(id: String, owner: String, cursor: Int64, handled: Int, at time: Timestamp) async throws(StoreError) -> Bool {
        try await write { db in
            try db.execute(sql: """
                UPDATE followers SET cursor = max(cursor, ?), handled = handled + ?, last_success_at = ?, failures = 0,
                    retry_at = NULL
                WHERE id = ? AND lease_owner = ?
                """, arguments: [cursor, handled, time.microseconds, id, owner])
            return db.changesCount > 0
        }
    }

    public func failFollower(id: String, owner: String, error: String, at time: Timestamp, retryAt: Timestamp) async throws(StoreError) {
        try await write { db in
            try db.execute(sql: """
                UPDATE followers SET last_error = ?, last_error_at = ?, failures = failures + 1, retry_at = ?
                WHERE id = ? AND lease_owner = ?
                """, arguments: [error, time.microseconds, retryAt.microseconds, id, owner])
        }
    }

    static func followerRow(_ row: Row) -> FollowerRow {
        func time(_ index: Int) -> Timestamp? { (row[index] as Int64?).map(Timestamp.init(microseconds:)) }
        let secret: Data? = row[5]
        return FollowerRow(
            id: row[0], tenant: row[1], kind: Follower.Kind(rawValue: row[2]) ?? .sink, name: row[3], definition: row[4],
            secret: secret.map { Array($0) }, cursor: row[6], createdAt: Timestamp(microseconds: row[7]), createdBy: row[8],
            handled: row[9], lastSuccessAt: time(10), lastError: row[11], lastErrorAt: time(12), failures: row[13],
            retryAt: time(14))
    }

    // MARK: Alerts

    static let alertColumns = """
        id, tenant, rule_id, rule_name, group_key, count, threshold, window_seconds, first_at, last_at, first_sequence,
        last_sequence, fired_at, event_sequence, sink_id, delivered_at
        """

    public func insertAlert(_ alert: FiredAlert) async throws(StoreError) {
        try await write { db in
            try db.execute(sql: "INSERT INTO alerts (\(Self.alertColumns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                           arguments: [alert.id, alert.tenant, alert.ruleId, alert.ruleName, alert.group, alert.count,
                                       alert.threshold, alert.windowSeconds, alert.firstAt.microseconds,
                                       alert.lastAt.microseconds, alert.firstSequence, alert.lastSequence,
                                       alert.firedAt.microseconds, alert.eventSequence, alert.sinkId,
                                       alert.deliveredAt?.microseconds])
        }
    }

    public func alerts(tenant: String, limit: Int) async throws(StoreError) -> [FiredAlert] {
        try await read { db in
            try Row.fetchAll(db, sql: """
                SELECT \(Self.alertColumns) FROM alerts WHERE tenant = ? ORDER BY fired_at DESC, id DESC LIMIT ?
                """, arguments: [tenant, limit]).map(Self.alert)
        }
    }

    public func undeliveredAlerts(tenant: String, sink: String, limit: Int) async throws(StoreError) -> [FiredAlert] {
        try await read { db in
            try Row.fetchAll(db, sql: """
                SELECT \(Self.alertColumns) FROM alerts
                WHERE sink_id = ? AND delivered_at IS NULL AND tenant = ? ORDER BY fired_at, id LIMIT ?
                """, arguments: [sink, tenant, limit]).map(Self.alert)
        }
    }

    public func markAlertsDelivered(tenant: String, ids: [String], at time: Timestamp) async throws(StoreError) {
        guard !ids.isEmpty else { return }
        try await write { db in
            for id in ids {
                try db.execute(sql: "UPDATE alerts SET delivered_at = ? WHERE tenant = ? AND id = ? AND delivered_at IS NULL",
                               arguments: [time.microseconds, tenant, id])
            }
        }
    }

    static func alert(_ row: Row) -> FiredAlert {
        FiredAlert(
            id: row[0], tenant: row[1], ruleId: row[2], ruleName: row[3], group: row[4], count: row[5], threshold: row[6],
            windowSeconds: row[7], firstAt: Timestamp(microseconds: row[8]), lastAt: Timestamp(microseconds: row[9]),
            firstSequence: row[10], lastSequence: row[11], firedAt: Timestamp(microseconds: row[12]),
            eventSequence: row[13], sinkId: row[14], deliveredAt: (row[15] as Int64?).map(Timestamp.init(microseconds:)))
    }
}
