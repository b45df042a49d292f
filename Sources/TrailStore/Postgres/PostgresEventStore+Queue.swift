import Logging
import NIOCore
import PostgresNIO
public import TrailCore

extension PostgresEventStore: MessageQueue {
    static let messageColumns = """
        id::text, tenant, kind, status, attempts, error, created_at, updated_at, first_sequence, event_count
        """

    static func messages(_ rows: PostgresRowSequence) async throws -> [QueuedMessage] {
        var messages: [QueuedMessage] = []
        for try await (id, tenant, kind, status, attempts, error, created, updated, first, count) in rows.decode(
            (String, String, String, String, Int32, String?, Int64, Int64, Int64?, Int32).self) {
            guard let status = QueuedMessage.Status(rawValue: status) else {
                throw StoreError(.corrupt, "a message has an unknown status")
            }
            messages.append(QueuedMessage(
                id: id, tenant: tenant, kind: kind, status: status, attempts: Int(attempts), error: error,
                createdAt: Timestamp(microseconds: created), updatedAt: Timestamp(microseconds: updated),
                firstSequence: first, eventCount: Int(count)))
        }
        return messages
    }

    /// Through a group-commit writer of its own (beside the events writer): concurrent acceptances share one
    /// statement and one commit. `pg_notify` wakes the workers of every process once it commits.
    public func enqueue(_ message: NewMessage) async throws(StoreError) -> EnqueueResult {
        let result = try await enqueuer.submit(message, weight: max(message.resources.count, 1))
        if !result.replayed { queued.notify() }
        return result
    }

    /// Writes a batch of messages in one transaction: one insert of the messages, one of their resources.
    /// Messages whose idempotency key exists already (or repeats within the batch) answer with the first message.
    static func enqueue(
        _ messages: [NewMessage], client: PostgresClient, timeout: Duration, now: Timestamp, logger: Logger
    ) async -> [Result<EnqueueResult, StoreError>] {
        let ids = messages.map { _ in EventID.make(at: now) }
        do {
            return try await client.withConnection(within: timeout) { connection in try await connection.withTransaction(logger: logger) { connection in
                var stored: [String: Int64] = [:]
                for try await (id, sequence) in try await connection.query("""
                    INSERT INTO messages (id, tenant, kind, body, idempotency_key, request_digest, status, available_at,
                        created_at, updated_at, request_context)
                    SELECT id::uuid, tenant, kind, body, idempotency_key, request_digest, 'pending', \(now.microseconds),
                        \(now.microseconds), \(now.microseconds), request_context::json
                    FROM unnest(\(ids)::text[], \(messages.map(\.tenant))::text[], \(messages.map(\.kind))::text[],
                        \(messages.map { ByteBuffer(bytes: $0.body) })::bytea[],
                        \(NullableArray(messages.map { $0.idempotency?.key }))::text[],
                        \(NullableArray(messages.map { $0.idempotency.map { ByteBuffer(bytes: $0.requestDigest) } }))::bytea[],
                        \(NullableArray(messages.map { StoredJSON.text($0.requestContext) }))::text[])
                        WITH ORDINALITY AS u(id, tenant, kind, body, idempotency_key, request_digest, request_context,
                            position)
                    ORDER BY position
                    ON CONFLICT (tenant, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
                    RETURNING id::text, queue_seq
                    """, logger: logger).decode((String, Int64).self) {
                    stored[id] = sequence
                }
                var sequences: [Int64] = [], tenants: [String] = [], types: [String] = [], resourceIds: [String] = []
                for (message, id) in zip(messages, ids) {
                    guard let sequence = stored[id] else { continue }
                    for resource in Set(message.resources) {
                        sequences.append(sequence)
                        tenants.append(message.tenant)
                        types.append(resource.type)
                        resourceIds.append(resource.id)
                    }
                }
                if !sequences.isEmpty {
                    try await connection.query("""
                        INSERT INTO message_resources (queue_seq, tenant, resource_type, resource_id)
                        SELECT * FROM unnest(\(sequences)::int8[], \(tenants)::text[], \(types)::text[], \(resourceIds)::text[])
                        """, logger: logger)
                }
                if !stored.isEmpty {
                    try await connection.run("SELECT pg_notify(\(PostgresMigrations.messagesChannel), '')", logger: logger)
                }
                var results: [Result<EnqueueResult, StoreError>] = []
                for (message, id) in zip(messages, ids) {
                    if stored[id] != nil {
                        results.append(.success(EnqueueResult(message: QueuedMessage(
                            id: id, tenant: message.tenant, kind: message.kind, status: .pending, attempts: 0, error: nil,
                            createdAt: now, updatedAt: now, firstSequence: nil, eventCount: 0), replayed: false)))
                        continue
                    }
                    // The idempotency key was used before: the first message answers, if the body is the same.
                    guard let claim = message.idempotency else {
                        results.append(.failure(StoreError(.rejected, "a message was not stored")))
                        continue
                    }
                    var first: (QueuedMessage, [UInt8])?
                    for try await (digest, id) in try await connection.query("""
                        SELECT request_digest, id::text FROM messages
                        WHERE tenant = \(message.tenant) AND idempotency_key = \(claim.key)
                        """, logger: logger).decode((ByteBuffer, String).self) {
                        let rows = try await connection.query("""
                            SELECT \(unescaped: messageColumns) FROM messages WHERE id = \(id)::uuid
                            """, logger: logger)
                        if let message = try await PostgresEventStore.messages(rows).first {
                            first = (message, Array(buffer: digest))
                        }
                    }
                    guard let first, first.1 == claim.requestDigest else {
                        results.append(.failure(.reused(claim)))
                        continue
                    }
                    results.append(.success(EnqueueResult(message: first.0, replayed: true)))
                }
                return results
            } }
        } catch {
            let failure = PostgresFailure.storeError(error)
            return messages.map { _ in .failure(failure) }
        }
    }

    public func message(tenant: String, id: String) async throws(StoreError) -> QueuedMessage? {
        guard UUIDText.isValid(id) else { return nil }
        return try await read { connection, logger in
            try await PostgresEventStore.messages(connection.query("""
                SELECT \(unescaped: PostgresEventStore.messageColumns) FROM messages WHERE tenant = \(tenant) AND id = \(id)::uuid
                """, logger: logger)).first
        }
    }

    public func messages(tenant: String?, status: QueuedMessage.Status?, limit: Int) async throws(StoreError) -> [QueuedMessage] {
        try await read { connection, logger in
            try await PostgresEventStore.messages(connection.query("""
                SELECT \(unescaped: PostgresEventStore.messageColumns) FROM messages
                WHERE (\(tenant)::text IS NULL OR tenant = \(tenant)) AND (\(status?.rawValue)::text IS NULL OR status = \(status?.rawValue))
                ORDER BY queue_seq LIMIT \(Int64(limit))
                """, logger: logger))
        }
    }

    public func events(of message: QueuedMessage) async throws(StoreError) -> [RecordedEvent] {
        guard let first = message.firstSequence, message.eventCount > 0 else { return [] }
        return try await personal.open(read { connection, logger in
            try await PostgresRows.events(connection.query("""
                SELECT \(unescaped: PostgresRows.eventColumns) FROM events
                WHERE tenant = \(message.tenant) AND sequence BETWEEN \(first) AND \(first + Int64(message.eventCount) - 1)
                ORDER BY sequence
                """, logger: logger))
        })
    }

    /// Claims run one at a time across processes (an advisory lock held for the claim's short transaction), so
    /// two workers never take messages of one resource out of order. Rows another transaction holds (a message
    /// being completed or retried) are skipped, not waited for: `FOR UPDATE SKIP LOCKED`.
    public func claim(limit: Int, leaseSeconds: Int64) async throws(StoreError) -> [ClaimedMessage] {
        let now = clock()
        return try await read { connection, logger in
            try await connection.withTransaction(logger: logger) { connection in
                try await connection.run("SELECT pg_advisory_xact_lock(\(PostgresMigrations.claimLockKey))", logger: logger)
                var open: [(sequence: Int64, claimable: Bool)] = []
                for try await (sequence, status, available, until) in try await connection.query("""
                    SELECT queue_seq, status, available_at, claimed_until FROM messages
                    WHERE status IN ('pending', 'processing') ORDER BY queue_seq LIMIT \(Int64(ClaimPlanner.scan))
                    """, logger: logger).decode((Int64, String, Int64, Int64?).self) {
                    open.append((sequence, ClaimPlanner.claimable(
                        status: status, availableAt: available, claimedUntil: until, now: now.microseconds)))
                }
                guard !open.isEmpty else { return [] }
                var resources: [Int64: [HeadKey]] = [:]
                for try await (sequence, tenant, type, id) in try await connection.query("""
                    SELECT queue_seq, tenant, resource_type, resource_id FROM message_resources
                    WHERE queue_seq = ANY(\(open.map(\.sequence))::int8[])
                    """, logger: logger).decode((Int64, String, String, String).self) {
                    resources[sequence, default: []].append(HeadKey(tenant: tenant, type: type, id: id))
                }
                var candidates = open.map {
                    ClaimPlanner.Candidate(sequence: $0.sequence, claimable: $0.claimable, resources: resources[$0.sequence] ?? [])
                }
                let wanted = ClaimPlanner.choose(candidates, limit: limit)
                guard !wanted.isEmpty else { return [] }
                var lockable = Set<Int64>()
                for try await sequence in try await connection.query("""
                    SELECT queue_seq FROM messages WHERE queue_seq = ANY(\(wanted)::int8[]) FOR UPDATE SKIP LOCKED
                    """, logger: logger).decode(Int64.self) {
                    lockable.insert(sequence)
                }
                // A skipped message stays behind and blocks its resources like any other.
                for index in candidates.indices where !lockable.contains(candidates[index].sequence) {
                    candidates[index].claimable = false
                }
                let chosen = ClaimPlanner.choose(candidates, limit: limit)
                let tokens = chosen.map { _ in EventID.make(at: now) }
                let until = now.microseconds + leaseSeconds * 1_000_000
                var claimed: [(sequence: Int64, message: ClaimedMessage)] = []
                for try await (sequence, id, tenant, kind, body, key, digest, attempts, token, context) in try await connection.query("""
                    UPDATE messages m SET status = 'processing', attempts = m.attempts + 1, claim_token = c.token,
                        claimed_until = \(until), updated_at = \(now.microseconds)
                    FROM unnest(\(chosen)::int8[], \(tokens)::text[]) AS c(queue_seq, token)
                    WHERE m.queue_seq = c.queue_seq
                    RETURNING m.queue_seq, m.id::text, m.tenant, m.kind, m.body, m.idempotency_key, m.request_digest,
                        m.attempts, m.claim_token, m.request_context::text
                    """, logger: logger).decode((Int64, String, String, String, ByteBuffer, String?, ByteBuffer?, Int32, String, String?).self) {
                    claimed.append((sequence, ClaimedMessage(
                        claim: MessageClaim(id: id, token: token), tenant: tenant, kind: kind, body: Array(buffer: body),
                        idempotency: key.map { IdempotencyClaim(key: $0, requestDigest: digest.map { Array(buffer: $0) } ?? []) },
                        attempts: Int(attempts), requestContext: try StoredJSON.object(context))))
                }
                // RETURNING has no order: the batch is processed in queue order.
                return claimed.sorted { $0.sequence < $1.sequence }.map(\.message)
            }
        }
    }

    public func release(_ claim: MessageClaim, error: String, retryAfter: Duration?) async throws(StoreError) {
        let now = clock()
        let retryAt = retryAfter.map { now.adding($0) }
        _ = try await read { connection, logger in
            try await connection.query("""
                UPDATE messages SET status = \(retryAt == nil ? "failed" : "pending"), error = \(error),
                    available_at = \(retryAt?.microseconds ?? now.microseconds), claim_token = NULL, claimed_until = NULL,
                    updated_at = \(now.microseconds)
                WHERE id = \(claim.id)::uuid AND status = 'processing' AND claim_token = \(claim.token)
                """, logger: logger)
        }
    }

    public func retry(tenant: String, id: String) async throws(StoreError) -> Bool {
        guard UUIDText.isValid(id) else { return false }
        let now = clock()
        let retried = try await read { connection, logger in
            var found = false
            for try await _ in try await connection.query("""
                WITH r AS (
                    UPDATE messages SET status = 'pending', available_at = \(now.microseconds), updated_at = \(now.microseconds)
                    WHERE tenant = \(tenant) AND id = \(id)::uuid AND status = 'failed'
                    RETURNING 1
                ), n AS (SELECT pg_notify(\(PostgresMigrations.messagesChannel), '') FROM r)
                SELECT (SELECT count(*) FROM n) FROM r
                """, logger: logger) { found = true }
            return found
        }
        if retried { queued.notify() }
        return retried
    }

    public func openMessageCount() async throws(StoreError) -> Int {
        try await read { connection, logger in
            var count: Int64 = 0
            for try await value in try await connection.query(
                "SELECT count(*) FROM messages WHERE status IN ('pending', 'processing')", logger: logger).decode(Int64.self) {
                count = value
            }
            return Int(count)
        }
    }

    public func messageCounts() async throws(StoreError) -> [QueuedMessage.Status: Int] {
        try await read { connection, logger in
            // Each count on its partial index (messages_open, messages_failed).
            var counts: [QueuedMessage.Status: Int] = [.pending: 0, .processing: 0, .failed: 0]
            for try await (status, count) in try await connection.query("""
                SELECT status, count(*) FROM messages WHERE status IN ('pending', 'processing') GROUP BY status
                UNION ALL SELECT 'failed', count(*) FROM messages WHERE status = 'failed'
                """, logger: logger).decode((String, Int64).self) {
                if let status = QueuedMessage.Status(rawValue: status) { counts[status] = Int(count) }
            }
            return counts
        }
    }

    public func waitForMessages(timeout: Duration) async {
        await queued.wait(timeout: timeout)
    }
}

/// The text form of UUIDs, checked before PostgreSQL would refuse a malformed one with an error.
enum UUIDText {
    static func isValid(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count == 36 else { return false }
        for (i, byte) in bytes.enumerated() {
            if [8, 13, 18, 23].contains(i) {
                guard byte == UInt8(ascii: "-") else { return false }
            } else {
                guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
                    || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(byte) else { return false }
            }
        }
        return true
    }
}
