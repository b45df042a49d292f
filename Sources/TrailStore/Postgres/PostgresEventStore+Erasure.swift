import PostgresNIO
public import TrailCore

extension PostgresEventStore: ErasureStore {
    static let erasableColumns = """
        sequence, occurred_at, resource_type, resource_id, category, actor_id, actor::text, resource_name, changes::text, \
        summary, context::text, metadata::text, error, state_after::text
        """

    public func erasableEvents(tenant: String, actorId: String?, after sequence: Int64, limit: Int) async throws(StoreError) -> [ErasableEvent] {
        try await read { connection, logger in
            try await Self.erasable(connection.query("""
                SELECT \(unescaped: Self.erasableColumns) FROM events
                WHERE tenant = \(tenant) AND (\(actorId)::text IS NULL OR actor_id = \(actorId)) AND sequence > \(sequence)
                    AND removed_at IS NULL
                ORDER BY sequence LIMIT \(limit)
                """, logger: logger))
        }
    }

    static func erasable(_ rows: PostgresRowSequence) async throws -> [ErasableEvent] {
        var events: [ErasableEvent] = []
        for try await row in rows {
            let cells = row.makeRandomAccess()
            events.append(ErasableEvent(
                sequence: try cells[0].decode(Int64.self), occurredAt: Timestamp(microseconds: try cells[1].decode(Int64.self)),
                resourceType: try cells[2].decode(String?.self), resourceId: try cells[3].decode(String?.self),
                category: try cells[4].decode(String?.self), actorId: try cells[5].decode(String?.self),
                actor: try StoredJSON.object(cells[6].decode(String?.self)), resourceName: try cells[7].decode(String?.self),
                changes: try StoredJSON.object(cells[8].decode(String?.self)) ?? JSONObject(),
                summary: try cells[9].decode(String.self), context: try StoredJSON.object(cells[10].decode(String?.self)),
                metadata: try StoredJSON.object(cells[11].decode(String?.self)),
                error: try StoredJSON.object(cells[12].decode(String?.self)),
                stateAfter: try StoredJSON.object(cells[13].decode(String?.self))))
        }
        return events
    }

    public func eraseEvents(tenant: String, _ events: [ErasableEvent], at time: Timestamp) async throws(StoreError) -> Int {
        guard !events.isEmpty else { return 0 }
        return try await read { connection, logger in
            try await connection.withTransaction(logger: logger) { connection in
                let watermark = try await PostgresSearch.lockWatermark(tenant: tenant, on: connection, logger: logger)
                var erased: [Int64] = []
                for event in events {
                    for try await sequence in try await connection.query("""
                        UPDATE events SET erased_at = \(time.microseconds), actor_id = \(event.actorId),
                            actor = \(StoredJSON.text(event.actor))::json, resource_name = \(event.resourceName),
                            changes = \(JSONWriter.string(event.changes))::json, summary = \(event.summary),
                            context = \(StoredJSON.text(event.context))::json, metadata = \(StoredJSON.text(event.metadata))::json,
                            error = \(StoredJSON.text(event.error)), state_after = \(StoredJSON.text(event.stateAfter))::json,
                            search = array_to_tsvector(string_to_array(\(event.searchText()), ' '))
                        WHERE tenant = \(tenant) AND sequence = \(event.sequence) AND removed_at IS NULL
                        RETURNING sequence
                        """, logger: logger).decode(Int64.self) {
                        erased.append(sequence)
                    }
                }
                try await PostgresSearch.reindex(tenant: tenant, sequences: erased, watermark: watermark, on: connection, logger: logger)
                try await Self.emptyMessages(tenant: tenant, carrying: erased, on: connection, logger: logger)
                return erased.count
            }
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
        return try await read { connection, logger in
            try await connection.withTransaction(logger: logger) { connection in
                let watermark = try await PostgresSearch.lockWatermark(tenant: tenant, on: connection, logger: logger)
                let events = try await Self.erasable(connection.query("""
                    SELECT \(unescaped: Self.erasableColumns) FROM events
                    WHERE tenant = \(tenant) AND sequence = ANY(\(sequences)::int8[]) AND removed_at IS NULL
                    """, logger: logger))
                for event in events {
                    try await connection.run("""
                        UPDATE events SET search = array_to_tsvector(string_to_array(\(event.searchText()), ' '))
                        WHERE tenant = \(tenant) AND sequence = \(event.sequence)
                        """, logger: logger)
                }
                try await PostgresSearch.reindex(tenant: tenant, sequences: events.map(\.sequence), watermark: watermark,
                                                 on: connection, logger: logger)
                return events.count
            }
        }
    }

    public func eraseInHeads(tenant: String, _ rewrite: @escaping @Sendable (JSONObject) -> JSONObject?) async throws(StoreError) -> Int {
        let appender = self.appender
        return try await read { connection, logger in
            try await connection.withTransaction(logger: logger) { connection in
                // The tenant's appends lock its chain head first: none runs until this commits, and those that
                // waited compute their changes on the rewritten states (the cache is emptied before the commit).
                try await connection.run("SELECT 1 FROM tenant_heads WHERE tenant = \(tenant) FOR UPDATE", logger: logger)
                var changed: [(type: String, id: String, state: String)] = []
                for try await (type, id, state) in try await connection.query("""
                    SELECT resource_type, resource_id, state::text FROM resource_heads WHERE tenant = \(tenant) AND state IS NOT NULL
                    """, logger: logger).decode((String, String, String?).self) {
                    guard let object = try StoredJSON.object(state), let erased = rewrite(object) else { continue }
                    changed.append((type, id, JSONWriter.string(erased)))
                }
                for head in changed {
                    try await connection.run("""
                        UPDATE resource_heads SET state = \(head.state)::json
                        WHERE tenant = \(tenant) AND resource_type = \(head.type) AND resource_id = \(head.id)
                        """, logger: logger)
                }
                if !changed.isEmpty {
                    // Writers that planned on the states read before (this process's or another's) must not write.
                    try await connection.run("""
                        UPDATE tenant_heads SET heads_epoch = heads_epoch + 1 WHERE tenant = \(tenant)
                        """, logger: logger)
                    appender.forgetCachedHeads()
                }
                return changed.count
            }
        }
    }

    public func eraseInMessages(tenant: String, value: String) async throws(StoreError) -> Int {
        try await read { connection, logger in
            try await connection.withTransaction(logger: logger) { connection in
                var found: [(Int64, String, ByteBuffer, String?)] = []
                for try await row in try await connection.query("""
                    SELECT queue_seq, status, body, request_context::text FROM messages
                    WHERE tenant = \(tenant) AND (position(lower(\(value)) in lower(convert_from(body, 'UTF8'))) > 0
                        OR position(lower(\(value)) in lower(coalesce(request_context::text, ''))) > 0)
                    FOR UPDATE
                    """, logger: logger).decode((Int64, String, ByteBuffer, String?).self) {
                    found.append(row)
                }
                for (queueSeq, status, body, context) in found {
                    if status == "completed" || status == "failed" {
                        try await connection.run("""
                            UPDATE messages SET body = '\\x'::bytea, request_context = NULL WHERE queue_seq = \(queueSeq)
                            """, logger: logger)
                    } else {
                        let text = String(buffer: body)
                        let erasedBody = ByteBuffer(string: Erasure.erase(value, in: text) ?? text)
                        let erasedContext = context.map { Erasure.erase(value, in: $0) ?? $0 }
                        try await connection.run("""
                            UPDATE messages SET body = \(erasedBody), request_context = \(erasedContext)::json WHERE queue_seq = \(queueSeq)
                            """, logger: logger)
                    }
                }
                return found.count
            }
        }
    }

    public func compactAfterErasure() async throws(StoreError) -> String? {
        // Updated rows leave dead versions that no query sees; VACUUM (autovacuum, or an operator's) frees them.
        "PostgreSQL keeps the rows' earlier versions, invisible to every query, until VACUUM reclaims them: run VACUUM (ANALYZE) on events, resource_heads and messages, or let autovacuum do it"
    }
}
