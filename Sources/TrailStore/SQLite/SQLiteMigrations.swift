import Foundation
import GRDB
import TrailCore

/// The SQLite schema, as numbered forward-only migrations. A landed migration is never edited: changes come as
/// new migrations.
enum SQLiteMigrations {
    /// What an event is: every column but derived ones (the search index lives in its own table).
    static let eventContentColumns = "tenant, sequence, id, occurred_at, recorded_at, action, category, outcome, actor_id, actor, resource_type, resource_id, resource_name, version, new_version, changes, summary, state_after, secret_digests, context, metadata, duration_ms, error, prev_hash, hash"

    /// Applies the migrations `pool` lacks. Several processes may start on a new file at once: GRDB reads which
    /// migrations are applied before it runs each one in a transaction of its own, so a process that read before
    /// another one's migration committed fails on it (a table that exists now). That failure is retried when
    /// the applied migrations changed meanwhile (or the file was busy), and is an error otherwise.
    static func migrate(_ pool: DatabasePool) throws {
        for attempt in 1... {
            let before = applied(pool)
            do {
                return try migrator.migrate(pool)
            } catch {
                let busy = (error as? DatabaseError).map { $0.resultCode == .SQLITE_BUSY || $0.resultCode == .SQLITE_LOCKED } ?? false
                guard attempt < 100, busy || applied(pool) != before else { throw error }
                Thread.sleep(forTimeInterval: 0.02)
            }
        }
    }

    /// The migrations applied (none before the first).
    private static func applied(_ pool: DatabasePool) -> Set<String> {
        (try? pool.read { db in try migrator.appliedIdentifiers(db) }) ?? []
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("0001_events_heads_idempotency") { db in
            try db.execute(sql: """
                CREATE TABLE settings (
                    name TEXT PRIMARY KEY NOT NULL,
                    value BLOB NOT NULL
                ) WITHOUT ROWID;

                CREATE TABLE events (
                    tenant TEXT NOT NULL CHECK (length(tenant) BETWEEN 1 AND 100),
                    sequence INTEGER NOT NULL CHECK (sequence >= 1),
                    id TEXT NOT NULL,
                    occurred_at INTEGER NOT NULL,
                    recorded_at INTEGER NOT NULL,
                    action TEXT NOT NULL CHECK (length(action) >= 1),
                    category TEXT,
                    outcome TEXT NOT NULL DEFAULT 'success' CHECK (outcome IN ('success', 'failure', 'partial')),
                    actor_id TEXT,
                    actor TEXT,
                    resource_type TEXT,
                    resource_id TEXT,
                    resource_name TEXT,
                    version INTEGER,
                    new_version INTEGER NOT NULL DEFAULT 0 CHECK (new_version IN (0, 1)),
                    changes TEXT NOT NULL DEFAULT '{}',
                    summary TEXT NOT NULL,
                    state_after TEXT,
                    secret_digests TEXT,
                    context TEXT,
                    metadata TEXT,
                    duration_ms INTEGER,
                    error TEXT,
                    -- Invariants as keys, not triggers (a trigger on events makes SQLite's inserts slow down as
                    -- the table grows). Each event's predecessor must exist: with the unique keys below, a
                    -- tenant's sequence is 1, 2, 3 … with no gap, and a resource's versions are 1, 2, 3 … with no
                    -- gap; an event that makes no version must name an existing one.
                    version_marker INTEGER GENERATED ALWAYS AS (CASE WHEN new_version = 1 THEN 1 END) VIRTUAL,
                    previous_sequence INTEGER GENERATED ALWAYS AS (CASE WHEN sequence > 1 THEN sequence - 1 END) VIRTUAL,
                    version_parent INTEGER GENERATED ALWAYS AS (
                        CASE WHEN new_version = 0 THEN version WHEN version > 1 THEN version - 1 END) VIRTUAL,
                    version_parent_marker INTEGER GENERATED ALWAYS AS (
                        CASE WHEN version IS NOT NULL AND (new_version = 0 OR version > 1) THEN 1 END) VIRTUAL,
                    CHECK (version IS NULL OR (resource_type IS NOT NULL AND resource_id IS NOT NULL AND version >= 1)),
                    CHECK (new_version = 0 OR version IS NOT NULL),
                    FOREIGN KEY (tenant, previous_sequence) REFERENCES events (tenant, sequence),
                    FOREIGN KEY (tenant, resource_type, resource_id, version_parent, version_parent_marker)
                        REFERENCES events (tenant, resource_type, resource_id, version, version_marker)
                );
                CREATE UNIQUE INDEX events_tenant_sequence ON events (tenant, sequence);
                CREATE UNIQUE INDEX events_id ON events (id);
                -- One event per version that changed the state (version_marker is NULL for the others, and NULLs
                -- never collide); also the index of a resource's history.
                CREATE UNIQUE INDEX events_resource_version
                    ON events (tenant, resource_type, resource_id, version, version_marker);
                CREATE INDEX events_recorded ON events (tenant, recorded_at);
                CREATE INDEX events_actor ON events (tenant, actor_id);

                CREATE TABLE resource_heads (
                    tenant TEXT NOT NULL,
                    resource_type TEXT NOT NULL,
                    resource_id TEXT NOT NULL,
                    version INTEGER NOT NULL CHECK (version >= 1),
                    state TEXT,
                    secret_digests TEXT,
                    last_sequence INTEGER NOT NULL,
                    updated_at INTEGER NOT NULL,
                    PRIMARY KEY (tenant, resource_type, resource_id)
                ) WITHOUT ROWID;

                CREATE TABLE idempotency_keys (
                    tenant TEXT NOT NULL,
                    key TEXT NOT NULL,
                    request_digest BLOB NOT NULL,
                    first_sequence INTEGER,
                    event_count INTEGER NOT NULL CHECK (event_count >= 0),
                    created_at INTEGER NOT NULL,
                    PRIMARY KEY (tenant, key)
                ) WITHOUT ROWID;
                CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
                """)
            // The installation's secret for keyed digests of redacted values (SPEC §2.5).
            var generator = SystemRandomNumberGenerator()
            let secret = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
            try db.execute(sql: "INSERT INTO settings (name, value) VALUES ('redaction_secret', ?)",
                           arguments: [Data(secret)])
        }
        migrator.registerMigration("0002_messages") { db in
            try db.execute(sql: """
                -- The durable queue of asynchronous submissions. queue_seq is the acceptance order.
                CREATE TABLE messages (
                    queue_seq INTEGER PRIMARY KEY,
                    id TEXT NOT NULL UNIQUE,
                    tenant TEXT NOT NULL CHECK (length(tenant) BETWEEN 1 AND 100),
                    kind TEXT NOT NULL,
                    body BLOB NOT NULL,
                    idempotency_key TEXT,
                    request_digest BLOB,
                    status TEXT NOT NULL CHECK (status IN ('pending', 'processing', 'completed', 'failed')),
                    attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
                    error TEXT,
                    available_at INTEGER NOT NULL,
                    claim_token TEXT,
                    claimed_until INTEGER,
                    first_sequence INTEGER,
                    event_count INTEGER NOT NULL DEFAULT 0,
                    created_at INTEGER NOT NULL,
                    updated_at INTEGER NOT NULL
                );
                CREATE UNIQUE INDEX messages_idempotency ON messages (tenant, idempotency_key)
                    WHERE idempotency_key IS NOT NULL;
                CREATE INDEX messages_open ON messages (queue_seq) WHERE status IN ('pending', 'processing');
                CREATE INDEX messages_tenant_status ON messages (tenant, status, queue_seq);
                -- The resources each message names, to process the messages of one resource in order.
                CREATE TABLE message_resources (
                    queue_seq INTEGER NOT NULL REFERENCES messages (queue_seq),
                    tenant TEXT NOT NULL,
                    resource_type TEXT NOT NULL,
                    resource_id TEXT NOT NULL,
                    PRIMARY KEY (queue_seq, resource_type, resource_id)
                ) WITHOUT ROWID;
                CREATE INDEX message_resources_resource ON message_resources (tenant, resource_type, resource_id, queue_seq);
                """)
        }
        migrator.registerMigration("0003_message_context") { db in
            // What Trail knew of the request a queued body came in (ip, user agent, request id), for its events.
            try db.execute(sql: "ALTER TABLE messages ADD COLUMN request_context TEXT")
        }
        migrator.registerMigration("0004_search") { db in
            try db.execute(sql: SQLiteSearch.createTable)
            try SQLiteSearch.indexExistingEvents(db)
        }
        migrator.registerMigration("0005_api_keys") { db in
            try db.execute(sql: """
                -- API keys (SPEC §7): the secret is never stored, only its SHA-256 (hex).
                CREATE TABLE api_keys (
                    id TEXT PRIMARY KEY NOT NULL CHECK (length(id) = 16),
                    tenant TEXT NOT NULL CHECK (length(tenant) BETWEEN 1 AND 100),
                    name TEXT NOT NULL,
                    role TEXT NOT NULL CHECK (role IN ('writer', 'reader', 'auditor', 'admin')),
                    secret_digest TEXT NOT NULL CHECK (length(secret_digest) = 64),
                    created_at INTEGER NOT NULL,
                    revoked_at INTEGER
                ) WITHOUT ROWID;
                CREATE INDEX api_keys_tenant ON api_keys (tenant, created_at);
                """)
        }
        migrator.registerMigration("0006_immutable_events_signing_key") { db in
            try db.execute(sql: """
                -- Stored events are never changed or removed (SPEC §8): the database itself refuses it. (Triggers
                -- on UPDATE and DELETE cost inserts nothing; only INSERT triggers would.)
                CREATE TRIGGER events_no_update BEFORE UPDATE OF tenant, sequence, id, occurred_at, recorded_at, action,
                    category, outcome, actor_id, actor, resource_type, resource_id, resource_name, version, new_version,
                    changes, summary, state_after, secret_digests, context, metadata, duration_ms, error ON events
                BEGIN SELECT RAISE(ABORT, 'stored events are immutable: Trail never updates an event'); END;
                CREATE TRIGGER events_no_delete BEFORE DELETE ON events
                BEGIN SELECT RAISE(ABORT, 'stored events are immutable: Trail never deletes an event'); END;
                """)
            // The installation's Ed25519 key that signs checkpoints (SPEC §8), outside the events table.
            try db.execute(sql: "INSERT INTO settings (name, value) VALUES ('checkpoint_signing_key', ?)",
                           arguments: [Data(SigningKeySeed.make())])
        }
        migrator.registerMigration("0007_data_events_index") { db in
            // The tenant's events in sequence order without the records of who read the log (meta-audit): lists,
            // which leave those out by default, would otherwise step over every one of them, and a read-heavy
            // installation piles them up at the newest end, where lists start.
            try db.execute(sql: """
                CREATE INDEX events_data_sequence ON events (tenant, sequence)
                WHERE category IS NOT '\(EventQuery.accessCategory)'
                """)
        }
        migrator.registerMigration("0008_hash_chain") { db in
            // The hash chain (SPEC §8): every event's hash and its predecessor's, for the events stored before
            // it too.
            try db.execute(sql: """
                ALTER TABLE events ADD COLUMN prev_hash BLOB;
                ALTER TABLE events ADD COLUMN hash BLOB;
                """)
            try SQLiteMigrations.chainExistingEvents(db)
        }
        migrator.registerMigration("0009_hash_chain_checks") { db in
            // The update trigger again, now refusing changes of the hashes as well.
            try db.execute(sql: """
                DROP TRIGGER events_no_update;
                CREATE TRIGGER events_no_update BEFORE UPDATE OF \(SQLiteMigrations.eventContentColumns) ON events
                BEGIN SELECT RAISE(ABORT, 'stored events are immutable: Trail never updates an event'); END;
                """)
        }
        migrator.registerMigration("0010_checkpoints") { db in
            // Signed checkpoints (SPEC §8): kept like events, never changed or removed.
            try db.execute(sql: """
                CREATE TABLE checkpoints (
                    tenant TEXT NOT NULL,
                    size INTEGER NOT NULL CHECK (size >= 1),
                    root BLOB NOT NULL CHECK (length(root) = 32),
                    signed_at INTEGER NOT NULL,
                    key_id TEXT NOT NULL,
                    signature BLOB NOT NULL CHECK (length(signature) = 64),
                    -- The signer's basis to go on from (CheckpointBasis): not part of what is signed.
                    last_hash BLOB NOT NULL CHECK (length(last_hash) = 32),
                    frontier BLOB NOT NULL,
                    PRIMARY KEY (tenant, size)
                ) WITHOUT ROWID;
                CREATE TRIGGER checkpoints_no_update BEFORE UPDATE ON checkpoints
                BEGIN SELECT RAISE(ABORT, 'checkpoints are immutable: Trail never updates a checkpoint'); END;
                CREATE TRIGGER checkpoints_no_delete BEFORE DELETE ON checkpoints
                BEGIN SELECT RAISE(ABORT, 'checkpoints are immutable: Trail never deletes a checkpoint'); END;
                """)
        }
        migrator.registerMigration("0011_type_action_index") { db in
            // Lists by resource type and action (the Django trail's `model` + `action`): without it a rare pair
            // walks tens of thousands of newer events to fill a page.
            try db.execute(sql: "CREATE INDEX events_type_action ON events (tenant, resource_type, action, sequence)")
        }
        migrator.registerMigration("0012_subtree_roots") { db in
            // Roots of perfect subtrees of each tenant's Merkle tree (SubtreeRoots), so that proofs need not hash
            // the whole log; derived from the events' hashes by the checkpoint signer, which records how far.
            try db.execute(sql: """
                CREATE TABLE subtree_roots (
                    tenant TEXT NOT NULL,
                    level INTEGER NOT NULL CHECK (level BETWEEN 1 AND 62),
                    position INTEGER NOT NULL CHECK (position >= 0),
                    root BLOB NOT NULL CHECK (length(root) = 32),
                    PRIMARY KEY (tenant, level, position)
                ) WITHOUT ROWID;
                CREATE TABLE subtree_roots_progress (
                    tenant TEXT PRIMARY KEY,
                    size INTEGER NOT NULL CHECK (size >= 0)
                ) WITHOUT ROWID;
                """)
        }
        return migrator
    }

    /// Hashes the events stored before the chain existed, each tenant's in sequence order.
    static func chainExistingEvents(_ db: Database) throws {
        let rows = try RawStatement(db.makeStatement(sql: """
            SELECT \(SQLiteRows.eventColumns), rowid FROM events ORDER BY tenant, sequence
            """))
        let update = try RawStatement(db.makeStatement(sql: "UPDATE events SET prev_hash = ?, hash = ? WHERE rowid = ?"))
        var chain = ChainHead.empty
        var tenant: String?
        try rows.each(db) { row in
            var event = try RecordedEvent(SQLiteRows.columns(row))
            if event.tenant != tenant { (tenant, chain) = (event.tenant, .empty) }
            try chain.linkStored(&event)
            try update.execute(db, [.blob(event.prevHash), .blob(event.hash), .integer(row.int64(21))])
        }
    }
}
