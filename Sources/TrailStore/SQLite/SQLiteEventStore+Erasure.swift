import Foundation
import GRDB
public import TrailCore

extension SQLiteEventStore: ErasureStore {
    static let erasableColumns = """
        sequence, occurred_at, resource_type, resource_id, category, actor_id, actor, resource_name, changes, summary, \
        context, metadata, error, state_after, rowid, sealed_words
        """

    public func erasableEvents(tenant: String, actorId: String?, after sequence: Int64, limit: Int) async throws(StoreError) -> [ErasableEvent] {
        try await read { db in
            let index = actorId == nil ? "events_tenant_sequence" : "events_actor"
            return try Row.fetchAll(db, sql: """
                SELECT \(Self.erasableColumns) FROM events INDEXED BY \(index)
                WHERE tenant = ?1 AND (?2 IS NULL OR actor_id = ?2) AND sequence > ?3 AND removed_at IS NULL
                ORDER BY sequence LIMIT ?4
                """, arguments: [tenant, actorId, sequence, limit]).map(Self.erasable)
        }
    }

    static func erasable(_ row: Row) throws -> ErasableEvent {
        ErasableEvent(
            sequence: row[0], occurredAt: Timestamp(microseconds: row[1]), resourceType: row[2], resourceId: row[3],
            category: row[4], actorId: row[5], actor: try StoredJSON.object(row[6]), resourceName: row[7],
            changes: try StoredJSON.object(row[8]) ?? JSONObject(), summary: row[9], context: try StoredJSON.object(row[10]),
            metadata: try StoredJSON.object(row[11]), error: try StoredJSON.object(row[12]),
            stateAfter: try StoredJSON.object(row[13]))
    }

    public func eraseEvents(tenant: String, _ events: [ErasableEvent], at time: Timestamp) async throws(StoreError) -> Int {
        guard !events.isEmpty else { return 0 }
        let tenantToken = SQLiteSearch.tenantToken(tenant)
        return try await secureWrite { db in
            try SQLiteSearch.indexPending(db)  // the index must hold the words it is told to forget
            var erased: [Int64] = []
            for event in events {
                guard let row = try Row.fetchOne(db, sql: """
                    SELECT \(Self.erasableColumns) FROM events WHERE tenant = ? AND sequence = ? AND removed_at IS NULL
                    """, arguments: [tenant, event.sequence]) else { continue }
                let rowid: Int64 = row[14]
                // A contentless index forgets a row's words when given them again, as they were written.
                let before = try Self.erasable(row).searchText(sealedWords: row[15])
                if !before.isEmpty {
                    try db.execute(sql: "INSERT INTO events_fts (events_fts, rowid, words) VALUES ('delete', ?, ?)",
                                   arguments: [rowid, SQLiteSearch.row(tenantToken: tenantToken, words: before)])
                }
                try db.execute(sql: """
                    UPDATE events SET erased_at = ?, actor_id = ?, actor = ?, resource_name = ?, changes = ?, summary = ?,
                        context = ?, metadata = ?, error = ?, state_after = ?, sealed_words = NULL
                    WHERE rowid = ?
                    """, arguments: [time.microseconds, event.actorId, StoredJSON.text(event.actor), event.resourceName,
                                     JSONWriter.string(event.changes), event.summary, StoredJSON.text(event.context),
                                     StoredJSON.text(event.metadata), StoredJSON.text(event.error),
                                     StoredJSON.text(event.stateAfter), rowid])
                // Without the tokens of sealed values: those of the subject erased would still find it.
                let after = event.searchText()
                if !after.isEmpty {
                    try db.execute(sql: "INSERT INTO events_fts (rowid, words) VALUES (?, ?)",
                                   arguments: [rowid, SQLiteSearch.row(tenantToken: tenantToken, words: after)])
                }
                erased.append(event.sequence)
            }
            try SQLiteEventStore.emptyMessages(db, tenant: tenant, carrying: erased)
            return erased.count
        }
    }

    public func subjectKeyID(tenant: String, subject: DataSubject) async throws(StoreError) -> String? {
        try await personal.keyID(tenant: tenant, subject)
    }

    public func destroySubjectKey(tenant: String, subject: DataSubject) async throws(StoreError) -> String? {
        try await personal.destroy(tenant: tenant, subject)
    }

    public func forgetSealedWords(tenant: String, sequences: [Int64]) async throws(StoreError) -> Int {
        guard !sequences.isEmpty else { return 0 }
        let tenantToken = SQLiteSearch.tenantToken(tenant)
        return try await secureWrite { db in
            try SQLiteSearch.indexPending(db)  // the index must hold the words it is told to forget
            var indexed = 0
            for sequence in sequences {
                guard let row = try Row.fetchOne(db, sql: """
                    SELECT \(Self.erasableColumns) FROM events
                    WHERE tenant = ? AND sequence = ? AND removed_at IS NULL AND sealed_words IS NOT NULL
                    """, arguments: [tenant, sequence]) else { continue }
                let event = try Self.erasable(row)
                let rowid: Int64 = row[14]
                let before = event.searchText(sealedWords: row[15])
                if !before.isEmpty {
                    try db.execute(sql: "INSERT INTO events_fts (events_fts, rowid, words) VALUES ('delete', ?, ?)",
                                   arguments: [rowid, SQLiteSearch.row(tenantToken: tenantToken, words: before)])
                }
                let after = event.searchText()
                if !after.isEmpty {
                    try db.execute(sql: "INSERT INTO events_fts (rowid, words) VALUES (?, ?)",
                                   arguments: [rowid, SQLiteSearch.row(tenantToken: tenantToken, words: after)])
                }
                try db.execute(sql: "UPDATE events SET sealed_words = NULL WHERE rowid = ?", arguments: [rowid])
                indexed += 1
            }
            return indexed
        }
    }

    public func eraseInHeads(tenant: String, _ rewrite: @escaping @Sendable (JSONObject) -> JSONObject?) async throws(StoreError) -> Int {
        let appender = self.appender
        return try await secureWrite { db in
            var changed = 0
            let heads = try Row.fetchAll(db, sql: """
                SELECT resource_type, resource_id, state FROM resource_heads WHERE tenant = ? AND state IS NOT NULL
                """, arguments: [tenant])
            for head in heads {
                guard let state = try StoredJSON.object(head[2]), let erased = rewrite(state) else { continue }
                try db.execute(sql: """
                    UPDATE resource_heads SET state = ? WHERE tenant = ? AND resource_type = ? AND resource_id = ?
                    """, arguments: [JSONWriter.string(erased), tenant, head[0] as String, head[1] as String])
                changed += 1
            }
            // The writer's cached heads (and transitions computed on them) are of the states before.
            if changed > 0 { appender.forgetCachedHeads() }
            return changed
        }
    }

    public func eraseInMessages(tenant: String, value: String) async throws(StoreError) -> Int {
        try await secureWrite { db in
            let rows = try Row.fetchAll(db, sql: """
                SELECT queue_seq, status, body, request_context FROM messages
                WHERE tenant = ?1 AND (instr(lower(CAST(body AS TEXT)), lower(?2)) > 0 OR instr(lower(request_context), lower(?2)) > 0)
                """, arguments: [tenant, value])
            for row in rows {
                let status: String = row[1]
                if status == "completed" || status == "failed" {
                    try db.execute(sql: "UPDATE messages SET body = x'', request_context = NULL WHERE queue_seq = ?",
                                   arguments: [row[0] as Int64])
                } else {
                    let body = String(decoding: row[2] as Data, as: UTF8.self)
                    let context: String? = row[3]
                    try db.execute(sql: "UPDATE messages SET body = ?, request_context = ? WHERE queue_seq = ?", arguments: [
                        Data((Erasure.erase(value, in: body) ?? body).utf8), context.map { Erasure.erase(value, in: $0) ?? $0 },
                        row[0] as Int64])
                }
            }
            return rows.count
        }
    }

    public func compactAfterErasure() async throws(StoreError) -> String? {
        try await secureWrite { db in
            // Deleted words stay in the index's older segments until they are merged into one.
            try db.execute(sql: "INSERT INTO events_fts (events_fts) VALUES ('optimize')")
        }
        // Old versions of the rewritten pages stay in the write-ahead log until it is checkpointed and truncated;
        // a reader in the middle of a long read holds it: a few tries.
        for attempt in 0..<20 {
            let busy = try await writeWithoutTransaction { db in
                try Int.fetchOne(db, sql: "PRAGMA wal_checkpoint(TRUNCATE)") ?? 1
            }
            if busy == 0 { return nil }
            try? await Task.sleep(for: .milliseconds(100 * (attempt + 1)))
        }
        return "the write-ahead log could not be truncated (readers kept it busy): old copies of erased content remain in it until the next checkpoint"
    }

    func writeWithoutTransaction<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws(StoreError) -> T {
        do {
            return try await pool.writeWithoutTransaction(body)
        } catch {
            throw SQLiteFailure.storeError(error, path: path)
        }
    }
}
