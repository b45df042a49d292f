import Foundation
import Logging
import PostgresNIO
import TrailCore

/// The PostgreSQL schema, as numbered forward-only migrations. A landed migration is never edited: changes come
/// as new migrations. Several Trail processes may start at once: migrations run under an advisory lock, in one
/// transaction, so exactly one process applies each.
enum PostgresMigrations {
    struct Migration {
        let id: String
        let sql: [String]
    }

    /// The advisory lock key that serialises migrations and partition creation ("trail" in ASCII).
    static let lockKey: Int64 = 0x74_72_61_69_6C

    static let all: [Migration] = [
        Migration(id: "0001_events_heads_idempotency", sql: [
            """
            CREATE TABLE trail_settings (
                name text PRIMARY KEY,
                value bytea NOT NULL
            )
            """,
            // The serialisation point of a tenant's writers: every write transaction locks its tenant's row, and
            // the events trigger advances last_sequence.
            """
            CREATE TABLE tenant_heads (
                tenant text COLLATE "C" PRIMARY KEY CHECK (length(tenant) BETWEEN 1 AND 100),
                last_sequence bigint NOT NULL CHECK (last_sequence >= 0)
            )
            """,
            // Identifiers compare byte by byte (COLLATE "C"), whatever the database's locale: faster index
            // comparisons, and the same order as SQLite's. JSON columns are `json`: PostgreSQL checks them and keeps their text as written, key order
            // included (SPEC §2.3); queries cast to jsonb where they need operators. Times are microseconds
            // since the Unix epoch, as in the SQLite store.
            """
            CREATE TABLE events (
                tenant text COLLATE "C" NOT NULL CHECK (length(tenant) BETWEEN 1 AND 100),
                sequence bigint NOT NULL CHECK (sequence >= 1),
                id uuid NOT NULL,
                occurred_at bigint NOT NULL,
                recorded_at bigint NOT NULL,
                action text NOT NULL CHECK (length(action) >= 1),
                category text,
                outcome text NOT NULL DEFAULT 'success' CHECK (outcome IN ('success', 'failure', 'partial')),
                actor_id text COLLATE "C",
                actor json,
                resource_type text COLLATE "C",
                resource_id text COLLATE "C",
                resource_name text,
                version bigint,
                new_version boolean NOT NULL DEFAULT false,
                changes json NOT NULL DEFAULT '{}',
                summary text NOT NULL,
                state_after json,
                secret_digests json,
                context json,
                metadata json,
                duration_ms bigint,
                error text,
                CHECK (version IS NULL OR (resource_type IS NOT NULL AND resource_id IS NOT NULL AND version >= 1)),
                CHECK (NOT new_version OR version IS NOT NULL),
                PRIMARY KEY (tenant, sequence, recorded_at)
            ) PARTITION BY RANGE (recorded_at)
            """,
            "CREATE INDEX events_resource_version ON events (tenant, resource_type, resource_id, version)",
            "CREATE INDEX events_id ON events (id)",
            "CREATE INDEX events_recorded ON events (tenant, recorded_at)",
            "CREATE INDEX events_recorded_brin ON events USING brin (recorded_at)",
            "CREATE INDEX events_actor ON events (tenant, actor_id)",
            """
            CREATE TABLE resource_heads (
                tenant text COLLATE "C" NOT NULL,
                resource_type text COLLATE "C" NOT NULL,
                resource_id text COLLATE "C" NOT NULL,
                version bigint NOT NULL CHECK (version >= 1),
                -- The version before the statement that last wrote this head (0 for a new resource): what the
                -- events trigger checks that statement's new versions against.
                previous_version bigint NOT NULL DEFAULT 0 CHECK (previous_version BETWEEN 0 AND version),
                state json,
                secret_digests json,
                last_sequence bigint NOT NULL,
                updated_at bigint NOT NULL,
                PRIMARY KEY (tenant, resource_type, resource_id)
            )
            """,
            """
            CREATE TABLE idempotency_keys (
                tenant text COLLATE "C" NOT NULL,
                key text COLLATE "C" NOT NULL,
                request_digest bytea NOT NULL,
                first_sequence bigint,
                event_count integer NOT NULL CHECK (event_count >= 0),
                created_at bigint NOT NULL,
                PRIMARY KEY (tenant, key)
            )
            """,
            "CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at)",
            // Unique keys on a partitioned table must include the partition key, so (tenant, sequence) and
            // (tenant, resource, version) cannot be unique indexes across months. The invariants are kept by
            // this trigger instead, once per insert statement (Trail writes a transaction's events and heads in
            // one statement): a tenant's new events must continue its last sequence with no gap or repeat, and a
            // resource's new versions must run from its head's previous version + 1 to its head's version, with
            // no gap or repeat, so the heads must be written in the same statement. It then advances the
            // tenant's sequence.
            """
            CREATE FUNCTION trail_events_appended() RETURNS trigger LANGUAGE plpgsql AS $$
            DECLARE
                culprit text;
            BEGIN
                SELECT s.tenant INTO culprit
                FROM (SELECT tenant, min(sequence) AS low, max(sequence) AS high, count(*) AS n,
                             count(DISTINCT sequence) AS distinct_n
                      FROM appended GROUP BY tenant) s
                LEFT JOIN tenant_heads h ON h.tenant = s.tenant
                WHERE h.tenant IS NULL OR s.low <> h.last_sequence + 1 OR s.high - s.low + 1 <> s.n
                      OR s.distinct_n <> s.n
                LIMIT 1;
                IF FOUND THEN
                    RAISE EXCEPTION 'the events of tenant % do not continue its sequence without gap or repeat', culprit
                        USING ERRCODE = 'integrity_constraint_violation';
                END IF;
                SELECT v.resource_type || '/' || v.resource_id INTO culprit
                FROM (SELECT tenant, resource_type, resource_id, min(version) AS low, max(version) AS high,
                             count(*) AS n, count(DISTINCT version) AS distinct_n
                      FROM appended WHERE new_version GROUP BY tenant, resource_type, resource_id) v
                LEFT JOIN resource_heads r
                    ON r.tenant = v.tenant AND r.resource_type = v.resource_type AND r.resource_id = v.resource_id
                WHERE r.tenant IS NULL OR v.low <> r.previous_version + 1 OR v.high <> r.version
                      OR v.high - v.low + 1 <> v.n OR v.distinct_n <> v.n
                LIMIT 1;
                IF FOUND THEN
                    RAISE EXCEPTION 'the versions of resource % do not continue its previous head without gap or repeat', culprit
                        USING ERRCODE = 'integrity_constraint_violation';
                END IF;
                UPDATE tenant_heads h SET last_sequence = s.high
                FROM (SELECT tenant, max(sequence) AS high FROM appended GROUP BY tenant) s
                WHERE h.tenant = s.tenant;
                RETURN NULL;
            END
            $$
            """,
            """
            CREATE TRIGGER events_appended AFTER INSERT ON events REFERENCING NEW TABLE AS appended
                FOR EACH STATEMENT EXECUTE FUNCTION trail_events_appended()
            """,
        ]),
        Migration(id: "0002_messages", sql: [
            // The durable queue of asynchronous submissions; queue_seq is the acceptance order.
            """
            CREATE TABLE messages (
                queue_seq bigserial PRIMARY KEY,
                id uuid NOT NULL UNIQUE,
                tenant text COLLATE "C" NOT NULL CHECK (length(tenant) BETWEEN 1 AND 100),
                kind text NOT NULL,
                body bytea NOT NULL,
                idempotency_key text COLLATE "C",
                request_digest bytea,
                status text NOT NULL CHECK (status IN ('pending', 'processing', 'completed', 'failed')),
                attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
                error text,
                available_at bigint NOT NULL,
                claim_token text,
                claimed_until bigint,
                first_sequence bigint,
                event_count integer NOT NULL DEFAULT 0,
                created_at bigint NOT NULL,
                updated_at bigint NOT NULL
            )
            """,
            "CREATE UNIQUE INDEX messages_idempotency ON messages (tenant, idempotency_key) WHERE idempotency_key IS NOT NULL",
            "CREATE INDEX messages_open ON messages (queue_seq) WHERE status IN ('pending', 'processing')",
            "CREATE INDEX messages_tenant_status ON messages (tenant, status, queue_seq)",
            // The resources each message names, to process the messages of one resource in order.
            """
            CREATE TABLE message_resources (
                queue_seq bigint NOT NULL REFERENCES messages (queue_seq),
                tenant text COLLATE "C" NOT NULL,
                resource_type text COLLATE "C" NOT NULL,
                resource_id text COLLATE "C" NOT NULL,
                PRIMARY KEY (queue_seq, resource_type, resource_id)
            )
            """,
            "CREATE INDEX message_resources_resource ON message_resources (tenant, resource_type, resource_id, queue_seq)",
        ]),
        Migration(id: "0003_message_context", sql: [
            // What Trail knew of the request a queued body came in (ip, user agent, request id), for its events.
            "ALTER TABLE messages ADD COLUMN request_context json",
        ]),
        Migration(id: "0004_search", sql: [
            // Each event's searchable words (SearchText in TrailCore), as lexemes taken as they are: Trail splits
            // the words itself, so both stores match the same way whatever the database's locale.
            "ALTER TABLE events ADD COLUMN search tsvector",
            // Events stored before this migration: the same words, split by PostgreSQL (close to Trail's split;
            // it may differ for unusual characters, depending on the database's locale).
            """
            UPDATE events SET search = COALESCE((
                SELECT array_to_tsvector(array_agg(DISTINCT left(w, 100)))
                FROM regexp_split_to_table(lower(concat_ws(' ', summary, resource_name, actor::jsonb ->> 'name',
                    (SELECT string_agg(v #>> '{}', ' ') FROM jsonb_path_query(metadata::jsonb, 'strict $.**') AS v
                     WHERE jsonb_typeof(v) IN ('string', 'number')))), '[^[:alnum:]]+') AS w
                WHERE w <> ''), ''::tsvector)
            """,
            "CREATE INDEX events_search ON events USING gin (search)",
        ]),
        Migration(id: "0005_api_keys", sql: [
            // API keys (SPEC §7): the secret is never stored, only its SHA-256 (hex).
            """
            CREATE TABLE api_keys (
                id text COLLATE "C" PRIMARY KEY CHECK (length(id) = 16),
                tenant text COLLATE "C" NOT NULL CHECK (length(tenant) BETWEEN 1 AND 100),
                name text NOT NULL,
                role text NOT NULL CHECK (role IN ('writer', 'reader', 'auditor', 'admin')),
                secret_digest text NOT NULL CHECK (length(secret_digest) = 64),
                created_at bigint NOT NULL,
                revoked_at bigint
            )
            """,
            "CREATE INDEX api_keys_tenant ON api_keys (tenant, created_at)",
        ]),
        Migration(id: "0006_immutable_events_signing_key", sql: [
            // Stored events are never changed or removed (SPEC §8): the database itself refuses it. Statement
            // triggers, which partitioned tables take; `search` (derived words) stays updatable.
            """
            CREATE FUNCTION trail_refuse_event_change() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'stored events are immutable: Trail never % an event', lower(TG_OP)
                    USING ERRCODE = 'insufficient_privilege';
            END $$
            """,
            """
            CREATE TRIGGER events_no_update BEFORE UPDATE OF tenant, sequence, id, occurred_at, recorded_at, action,
                category, outcome, actor_id, actor, resource_type, resource_id, resource_name, version, new_version,
                changes, summary, state_after, secret_digests, context, metadata, duration_ms, error ON events
            FOR EACH STATEMENT EXECUTE FUNCTION trail_refuse_event_change()
            """,
            """
            CREATE TRIGGER events_no_delete BEFORE DELETE OR TRUNCATE ON events
            FOR EACH STATEMENT EXECUTE FUNCTION trail_refuse_event_change()
            """,
        ]),
        Migration(id: "0007_data_events_index", sql: [
            // The tenant's events in sequence order without the records of who read the log (meta-audit), which
            // lists leave out by default and a read-heavy installation piles up at the newest end.
            """
            CREATE INDEX events_data_sequence ON events (tenant, sequence)
            WHERE category IS DISTINCT FROM 'AUDIT_ACCESS'
            """,
        ]),
        // The hash chain (SPEC §8). The events stored before it are hashed by `chainExistingEvents` after these
        // statements; 0009 then makes the hashes immutable and checks every append continues the chain.
        Migration(id: "0008_hash_chain", sql: [
            "ALTER TABLE events ADD COLUMN prev_hash bytea, ADD COLUMN hash bytea",
            "ALTER TABLE tenant_heads ADD COLUMN last_hash bytea NOT NULL DEFAULT '\\x\(String(repeating: "0", count: 64))'",
        ]),
        Migration(id: "0009_hash_chain_checks", sql: [
            "DROP TRIGGER events_no_update ON events",
            """
            CREATE TRIGGER events_no_update BEFORE UPDATE OF \(eventContentColumns) ON events
            FOR EACH STATEMENT EXECUTE FUNCTION trail_refuse_event_change()
            """,
            // As in 0001, and: a tenant's first new event must follow its newest stored one's hash, and the
            // tenant's head moves to the newest new event's hash.
            """
            CREATE OR REPLACE FUNCTION trail_events_appended() RETURNS trigger LANGUAGE plpgsql AS $$
            DECLARE
                culprit text;
            BEGIN
                SELECT s.tenant INTO culprit
                FROM (SELECT tenant, min(sequence) AS low, max(sequence) AS high, count(*) AS n,
                             count(DISTINCT sequence) AS distinct_n, count(hash) AS hashed
                      FROM appended GROUP BY tenant) s
                LEFT JOIN tenant_heads h ON h.tenant = s.tenant
                LEFT JOIN appended f ON f.tenant = s.tenant AND f.sequence = s.low
                WHERE h.tenant IS NULL OR s.low <> h.last_sequence + 1 OR s.high - s.low + 1 <> s.n
                      OR s.distinct_n <> s.n OR s.hashed <> s.n OR f.prev_hash IS DISTINCT FROM h.last_hash
                LIMIT 1;
                IF FOUND THEN
                    RAISE EXCEPTION 'the events of tenant % do not continue its sequence and hash chain without gap or repeat', culprit
                        USING ERRCODE = 'integrity_constraint_violation';
                END IF;
                SELECT v.resource_type || '/' || v.resource_id INTO culprit
                FROM (SELECT tenant, resource_type, resource_id, min(version) AS low, max(version) AS high,
                             count(*) AS n, count(DISTINCT version) AS distinct_n
                      FROM appended WHERE new_version GROUP BY tenant, resource_type, resource_id) v
                LEFT JOIN resource_heads r
                    ON r.tenant = v.tenant AND r.resource_type = v.resource_type AND r.resource_id = v.resource_id
                WHERE r.tenant IS NULL OR v.low <> r.previous_version + 1 OR v.high <> r.version
                      OR v.high - v.low + 1 <> v.n OR v.distinct_n <> v.n
                LIMIT 1;
                IF FOUND THEN
                    RAISE EXCEPTION 'the versions of resource % do not continue its previous head without gap or repeat', culprit
                        USING ERRCODE = 'integrity_constraint_violation';
                END IF;
                UPDATE tenant_heads h SET last_sequence = a.sequence, last_hash = a.hash
                FROM (SELECT tenant, max(sequence) AS high FROM appended GROUP BY tenant) s
                JOIN appended a ON a.tenant = s.tenant AND a.sequence = s.high
                WHERE h.tenant = s.tenant;
                RETURN NULL;
            END
            $$
            """,
        ]),
        Migration(id: "0010_checkpoints", sql: [
            // Signed checkpoints (SPEC §8): kept like events, never changed or removed.
            """
            CREATE TABLE checkpoints (
                tenant text COLLATE "C" NOT NULL,
                size bigint NOT NULL CHECK (size >= 1),
                root bytea NOT NULL CHECK (length(root) = 32),
                signed_at bigint NOT NULL,
                key_id text NOT NULL,
                signature bytea NOT NULL CHECK (length(signature) = 64),
                -- The signer's basis to go on from (CheckpointBasis): not part of what is signed.
                last_hash bytea NOT NULL CHECK (length(last_hash) = 32),
                frontier bytea NOT NULL,
                PRIMARY KEY (tenant, size)
            )
            """,
            """
            CREATE FUNCTION trail_refuse_checkpoint_change() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'checkpoints are immutable: Trail never % a checkpoint', lower(TG_OP)
                    USING ERRCODE = 'insufficient_privilege';
            END $$
            """,
            """
            CREATE TRIGGER checkpoints_no_change BEFORE UPDATE OR DELETE OR TRUNCATE ON checkpoints
            FOR EACH STATEMENT EXECUTE FUNCTION trail_refuse_checkpoint_change()
            """,
        ]),
        Migration(id: "0011_type_action_index", sql: [
            // Lists by resource type and action (the Django trail's `model` + `action`).
            "CREATE INDEX events_type_action ON events (tenant, resource_type, action, sequence)",
        ]),
        Migration(id: "0012_subtree_roots", sql: [
            // Roots of perfect subtrees of each tenant's Merkle tree (SubtreeRoots), so that proofs need not hash
            // the whole log; derived from the events' hashes by the checkpoint signer, which records how far.
            """
            CREATE TABLE subtree_roots (
                tenant text NOT NULL,
                level int4 NOT NULL CHECK (level BETWEEN 1 AND 62),
                position int8 NOT NULL CHECK (position >= 0),
                root bytea NOT NULL CHECK (length(root) = 32),
                PRIMARY KEY (tenant, level, position)
            )
            """,
            """
            CREATE TABLE subtree_roots_progress (
                tenant text PRIMARY KEY,
                size int8 NOT NULL CHECK (size >= 0)
            )
            """,
        ]),
    ]

    /// What an event is: every column but derived ones (`search`).
    static let eventContentColumns = "tenant, sequence, id, occurred_at, recorded_at, action, category, outcome, actor_id, actor, resource_type, resource_id, resource_name, version, new_version, changes, summary, state_after, secret_digests, context, metadata, duration_ms, error, prev_hash, hash"

    /// Hashes the events stored before the chain existed, each tenant's in sequence order, a page at a time, and
    /// records each tenant's newest hash in `tenant_heads`.
    static func chainExistingEvents(on connection: PostgresConnection, logger: Logger) async throws {
        var tenants: [(String, Int64)] = []
        for try await tenant in try await connection.query("SELECT tenant, last_sequence FROM tenant_heads", logger: logger)
            .decode((String, Int64).self) {
            tenants.append(tenant)
        }
        let page: Int64 = 10_000
        for (tenant, last) in tenants {
            var chain = ChainHead.empty
            while chain.sequence < last {
                let events = try await PostgresRows.events(connection.query("""
                    SELECT \(unescaped: PostgresRows.eventColumns) FROM events
                    WHERE tenant = \(tenant) AND sequence > \(chain.sequence) AND sequence <= \(chain.sequence + page)
                    ORDER BY sequence
                    """, logger: logger))
                guard !events.isEmpty else { break }
                var linked: [RecordedEvent] = []
                for var event in events {
                    try chain.linkStored(&event)
                    linked.append(event)
                }
                try await connection.query("""
                    UPDATE events e SET prev_hash = u.prev_hash, hash = u.hash
                    FROM unnest(\(linked.map(\.sequence))::int8[], \(linked.map { ByteBuffer(bytes: $0.prevHash) })::bytea[],
                        \(linked.map { ByteBuffer(bytes: $0.hash) })::bytea[]) AS u(sequence, prev_hash, hash)
                    WHERE e.tenant = \(tenant) AND e.sequence = u.sequence
                    """, logger: logger)
            }
            try await connection.query("""
                UPDATE tenant_heads SET last_hash = \(ByteBuffer(bytes: chain.hash)) WHERE tenant = \(tenant)
                """, logger: logger)
        }
    }

    /// The advisory lock key that serialises queue claims ("claim" in ASCII).
    static let claimLockKey: Int64 = 0x63_6C_61_69_6D
    /// The channel `NOTIFY` wakes queue workers on.
    static let messagesChannel = "trail_messages"

    /// Applies the migrations the database lacks; returns their ids.
    static func migrate(_ client: PostgresClient, logger: Logger) async throws -> [String] {
        try await client.withTransaction(logger: logger) { connection in
            // Another process may be migrating: wait for it longer than the usual lock timeout.
            try await connection.run("SET LOCAL lock_timeout = '120s'", logger: logger)
            try await connection.run("SELECT pg_advisory_xact_lock(\(lockKey))", logger: logger)
            try await connection.query("""
                CREATE TABLE IF NOT EXISTS trail_migrations (
                    id text PRIMARY KEY,
                    applied_at timestamptz NOT NULL DEFAULT now()
                )
                """, logger: logger)
            var applied = Set<String>()
            for try await id in try await connection.query("SELECT id FROM trail_migrations", logger: logger)
                .decode(String.self) {
                applied.insert(id)
            }
            var appliedNow: [String] = []
            for migration in all where !applied.contains(migration.id) {
                for statement in migration.sql {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query("INSERT INTO trail_migrations (id) VALUES (\(migration.id))", logger: logger)
                if migration.id == "0008_hash_chain" {
                    try await chainExistingEvents(on: connection, logger: logger)
                }
                if migration.id == "0006_immutable_events_signing_key" {
                    // The installation's Ed25519 key that signs checkpoints (SPEC §8), outside the events table.
                    try await connection.query("""
                        INSERT INTO trail_settings (name, value) VALUES ('checkpoint_signing_key', \(ByteBuffer(bytes: SigningKeySeed.make())))
                        """, logger: logger)
                }
                if migration.id == "0001_events_heads_idempotency" {
                    // The installation's secret for keyed digests of redacted values (SPEC §2.5).
                    var generator = SystemRandomNumberGenerator()
                    let secret = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
                    try await connection.query("""
                        INSERT INTO trail_settings (name, value) VALUES ('redaction_secret', \(ByteBuffer(bytes: secret)))
                        """, logger: logger)
                }
                appliedNow.append(migration.id)
            }
            return appliedNow
        }
    }
}
