import Foundation
import GRDB

extension SQLiteMigrations {
    static func m0001EventsHeadsIdempotency(_ db: Database) throws {
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
}
