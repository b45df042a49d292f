import Foundation
import GRDB

/// The SQLite schema, as numbered forward-only migrations. A landed migration is never edited: changes come as
/// new migrations.
enum SQLiteMigrations {
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
                    CHECK (version IS NULL OR (resource_type IS NOT NULL AND resource_id IS NOT NULL AND version >= 1)),
                    CHECK (new_version = 0 OR version IS NOT NULL)
                );
                CREATE UNIQUE INDEX events_tenant_sequence ON events (tenant, sequence);
                CREATE UNIQUE INDEX events_id ON events (id);
                CREATE UNIQUE INDEX events_resource_version_unique
                    ON events (tenant, resource_type, resource_id, version) WHERE new_version = 1;
                CREATE INDEX events_resource ON events (tenant, resource_type, resource_id, version);
                CREATE INDEX events_recorded ON events (tenant, recorded_at);
                CREATE INDEX events_actor ON events (tenant, actor_id);

                -- A tenant's sequence has no gap: each event follows the previous one by exactly 1.
                CREATE TRIGGER events_sequence_gapless BEFORE INSERT ON events
                BEGIN
                    SELECT RAISE(ABORT, 'events.sequence must be the tenant''s previous sequence + 1')
                    WHERE NEW.sequence != COALESCE(
                        (SELECT MAX(sequence) FROM events WHERE tenant = NEW.tenant), 0) + 1;
                END;

                -- A resource's versions have no gap: an event that makes a version takes the next one, any other
                -- event keeps the current one.
                CREATE TRIGGER events_version_contiguous BEFORE INSERT ON events
                WHEN NEW.version IS NOT NULL
                BEGIN
                    SELECT RAISE(ABORT, 'events.version must follow the resource''s previous version')
                    WHERE NEW.version != COALESCE(
                        (SELECT MAX(version) FROM events
                         WHERE tenant = NEW.tenant AND resource_type = NEW.resource_type
                           AND resource_id = NEW.resource_id AND new_version = 1), 0) + NEW.new_version;
                END;

                CREATE TABLE resource_heads (
                    tenant TEXT NOT NULL,
                    resource_type TEXT NOT NULL,
                    resource_id TEXT NOT NULL,
                    version INTEGER NOT NULL CHECK (version >= 1),
                    state TEXT,
                    secret_digests TEXT,
                    last_sequence INTEGER NOT NULL,
                    updated_at INTEGER NOT NULL
                );
                CREATE UNIQUE INDEX resource_heads_key ON resource_heads (tenant, resource_type, resource_id);

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
        return migrator
    }
}
