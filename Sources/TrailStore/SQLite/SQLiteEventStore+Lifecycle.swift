import Foundation
import GRDB
public import TrailCore

extension SQLiteEventStore: LifecycleStore {
    public func retentionPolicy(tenant: String) async throws(StoreError) -> RetentionPolicy {
        try await read { db in
            RetentionPolicy(rules: try Row.fetchAll(db, sql: """
                SELECT resource_type, category, keep_days FROM retention_rules WHERE tenant = ? ORDER BY position
                """, arguments: [tenant]).map { RetentionRule(resourceType: $0[0], category: $0[1], keepDays: $0[2]) })
        }
    }

    public func setRetentionPolicy(_ policy: RetentionPolicy, tenant: String) async throws(StoreError) {
        try await write { db in
            try db.execute(sql: "DELETE FROM retention_rules WHERE tenant = ?", arguments: [tenant])
            for (position, rule) in policy.rules.enumerated() {
                try db.execute(sql: """
                    INSERT INTO retention_rules (tenant, position, resource_type, category, keep_days) VALUES (?, ?, ?, ?, ?)
                    """, arguments: [tenant, position, rule.resourceType, rule.category, rule.keepDays])
            }
        }
    }

    public func tenantsWithRetention() async throws(StoreError) -> [String] {
        try await read { db in try String.fetchAll(db, sql: "SELECT DISTINCT tenant FROM retention_rules ORDER BY tenant") }
    }

    static let holdColumns = """
        id, tenant, name, reason, match_resource_type, match_resource_id, match_actor, match_since, match_until, \
        created_at, created_by, released_at, released_by
        """

    public func personalKeys(tenant: String) async throws(StoreError) -> [String] {
        try await read { db in
            try String.fetchAll(db, sql: "SELECT key FROM personal_keys WHERE tenant = ? ORDER BY key", arguments: [tenant])
        }
    }

    public var installationPersonalKeys: [String] { personal.policy.keys }

    public func setPersonalKeys(_ keys: [String], tenant: String) async throws(StoreError) {
        try await write { db in
            try db.execute(sql: "DELETE FROM personal_keys WHERE tenant = ?", arguments: [tenant])
            for key in Set(keys) {
                try db.execute(sql: "INSERT INTO personal_keys (tenant, key) VALUES (?, ?)", arguments: [tenant, key])
            }
        }
        personal.forgetPolicy(tenant: tenant)
    }

    public func insertHold(_ hold: LegalHold) async throws(StoreError) {
        try await write { db in
            try db.execute(sql: "INSERT INTO legal_holds (\(Self.holdColumns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                           arguments: [hold.id, hold.tenant, hold.name, hold.reason, hold.match.resourceType,
                                       hold.match.resourceId, hold.match.actor, hold.match.since?.microseconds,
                                       hold.match.until?.microseconds, hold.createdAt.microseconds, hold.createdBy,
                                       hold.releasedAt?.microseconds, hold.releasedBy])
        }
    }

    public func holds(tenant: String) async throws(StoreError) -> [LegalHold] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT \(Self.holdColumns) FROM legal_holds WHERE tenant = ? ORDER BY created_at, id",
                             arguments: [tenant]).map(Self.hold)
        }
    }

    public func releaseHold(tenant: String, id: String, at time: Timestamp, by subject: String) async throws(StoreError) -> LegalHold? {
        try await write { db in
            try db.execute(sql: """
                UPDATE legal_holds SET released_at = ?, released_by = ? WHERE tenant = ? AND id = ? AND released_at IS NULL
                """, arguments: [time.microseconds, subject, tenant, id])
            return try Row.fetchOne(db, sql: "SELECT \(Self.holdColumns) FROM legal_holds WHERE tenant = ? AND id = ?",
                                    arguments: [tenant, id]).map(Self.hold)
        }
    }

    static func hold(_ row: Row) -> LegalHold {
        func time(_ index: Int) -> Timestamp? { (row[index] as Int64?).map(Timestamp.init(microseconds:)) }
        return LegalHold(
            id: row[0], tenant: row[1], name: row[2], reason: row[3],
            match: HoldMatch(resourceType: row[4], resourceId: row[5], actor: row[6], since: time(7), until: time(8)),
            createdAt: Timestamp(microseconds: row[9]), createdBy: row[10], releasedAt: time(11), releasedBy: row[12])
    }

    public func removalCandidates(
        tenant: String, recordedBefore: Timestamp, after cursor: RemovalCursor, limit: Int
    ) async throws(StoreError) -> [RemovalCandidate] {
        try await read { db in
            // The (tenant, recorded_at) index gives the order; ties on recorded_at are sorted by sequence.
            try Row.fetchAll(db, sql: """
                SELECT sequence, recorded_at, occurred_at, resource_type, resource_id, category, actor_id
                FROM events INDEXED BY events_recorded
                WHERE tenant = ?1 AND recorded_at >= ?2 AND recorded_at < ?3 AND (recorded_at > ?2 OR sequence > ?4)
                    AND removed_at IS NULL
                ORDER BY recorded_at, sequence LIMIT ?5
                """, arguments: [tenant, cursor.recordedAt.microseconds, recordedBefore.microseconds, cursor.sequence, limit]
            ).map { row in
                RemovalCandidate(sequence: row[0], recordedAt: Timestamp(microseconds: row[1]),
                                 occurredAt: Timestamp(microseconds: row[2]), resourceType: row[3], resourceId: row[4],
                                 category: row[5], actorId: row[6])
            }
        }
    }

    public func removeEvents(tenant: String, sequences: [Int64], at time: Timestamp) async throws(StoreError) -> Int {
        guard !sequences.isEmpty else { return 0 }
        let tenantToken = SQLiteSearch.tenantToken(tenant)
        return try await secureWrite { db in
            try SQLiteSearch.indexPending(db)  // the index must hold the words it is told to forget
            let select = try RawStatement(db.cachedStatement(sql: """
                SELECT \(SQLiteRows.eventColumns), rowid, sealed_words FROM events
                WHERE tenant = ? AND sequence = ? AND removed_at IS NULL
                """))
            let unindex = try RawStatement(db.cachedStatement(sql: """
                INSERT INTO events_fts (events_fts, rowid, words) VALUES ('delete', ?, ?)
                """))
            let empty = try RawStatement(db.cachedStatement(sql: """
                UPDATE events SET removed_at = ?, actor_id = NULL, actor = NULL, resource_name = NULL, changes = '{}',
                    summary = '', state_after = NULL, secret_digests = NULL, context = NULL, metadata = NULL,
                    duration_ms = NULL, error = NULL, sealed_words = NULL
                WHERE rowid = ?
                """))
            var removed: [Int64] = []
            for sequence in sequences {
                let found = try select.first(db, [.text(tenant), .integer(sequence)]) { row in
                    (try RecordedEvent(SQLiteRows.columns(row)), row.int64(SQLiteRows.eventColumnCount),
                     row.text(SQLiteRows.eventColumnCount + 1))
                }
                guard let (event, rowid, sealedWords) = found else { continue }
                // The index's words of a contentless table are deleted by giving them again, as the writer made them.
                let words = SQLiteSearch.words(of: event, sealedWords: sealedWords)
                if !words.isEmpty {
                    try unindex.execute(db, [.integer(rowid), .text(SQLiteSearch.row(tenantToken: tenantToken, words: words))])
                }
                try empty.execute(db, [.integer(time.microseconds), .integer(rowid)])
                removed.append(sequence)
            }
            try SQLiteEventStore.emptyMessages(db, tenant: tenant, carrying: removed)
            return removed.count
        }
    }

    /// The completed messages of `tenant` whose events include one of `sequences` lose their body and request
    /// context (what the removed events were made of). A message's events have consecutive sequences: the one
    /// that may hold an event is the message with the greatest first sequence up to it.
    static func emptyMessages(_ db: Database, tenant: String, carrying sequences: [Int64]) throws {
        let find = try RawStatement(db.cachedStatement(sql: """
            SELECT queue_seq, first_sequence, event_count, length(body) FROM messages INDEXED BY messages_events
            WHERE tenant = ? AND status = 'completed' AND first_sequence <= ? ORDER BY first_sequence DESC LIMIT 1
            """))
        let empty = try RawStatement(db.cachedStatement(sql: "UPDATE messages SET body = x'', request_context = NULL WHERE queue_seq = ?"))
        var covered: Range<Int64> = 0..<0
        for sequence in sequences.sorted() where !covered.contains(sequence) {
            guard let (queueSeq, first, count, length) = try find.first(db, [.text(tenant), .integer(sequence)], { row in
                (row.int64(0), row.int64(1), row.int64(2), row.int64(3))
            }) else { continue }
            covered = first..<(first + count)
            if covered.contains(sequence) && length > 0 { try empty.execute(db, [.integer(queueSeq)]) }
        }
    }
}
