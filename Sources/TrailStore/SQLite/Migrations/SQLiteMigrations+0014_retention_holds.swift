import GRDB

extension SQLiteMigrations {
    static func m0014RetentionHolds(_ db: Database) throws {
        try db.execute(sql: """
            -- Retention and erasure (SPEC §11): an event whose content was removed, or a data subject's values
            -- erased from, keeps its place in the log and its hashes.
            ALTER TABLE events ADD COLUMN removed_at INTEGER;
            ALTER TABLE events ADD COLUMN erased_at INTEGER;
            -- The only changes a stored event may undergo keep what places it in the log and the chain (tenant,
            -- sequence, id, times, action, category, outcome, resource type and id, version, hashes): its removal,
            -- which empties everything else, once; and an erasure, which rewrites its content and marks it anew.
            DROP TRIGGER events_no_update;
            CREATE TRIGGER events_no_update BEFORE UPDATE OF \(SQLiteMigrations.eventContentColumns), removed_at, erased_at ON events
            WHEN NOT (NEW.tenant IS OLD.tenant AND NEW.sequence IS OLD.sequence AND NEW.id IS OLD.id
                AND NEW.occurred_at IS OLD.occurred_at AND NEW.recorded_at IS OLD.recorded_at
                AND NEW.action IS OLD.action AND NEW.category IS OLD.category AND NEW.outcome IS OLD.outcome
                AND NEW.resource_type IS OLD.resource_type AND NEW.resource_id IS OLD.resource_id
                AND NEW.version IS OLD.version AND NEW.new_version IS OLD.new_version
                AND NEW.prev_hash IS OLD.prev_hash AND NEW.hash IS OLD.hash
                AND ((OLD.removed_at IS NULL AND NEW.removed_at IS NOT NULL AND NEW.erased_at IS OLD.erased_at
                      AND NEW.actor_id IS NULL AND NEW.actor IS NULL AND NEW.resource_name IS NULL AND NEW.changes = '{}'
                      AND NEW.summary = '' AND NEW.state_after IS NULL AND NEW.secret_digests IS NULL
                      AND NEW.context IS NULL AND NEW.metadata IS NULL AND NEW.duration_ms IS NULL AND NEW.error IS NULL)
                    OR (OLD.removed_at IS NULL AND NEW.removed_at IS NULL AND NEW.erased_at IS NOT NULL
                      AND (OLD.erased_at IS NULL OR NEW.erased_at > OLD.erased_at))))
            BEGIN SELECT RAISE(ABORT, 'stored events are immutable: Trail only empties an event retention removes, or rewrites one an erasure reaches'); END;

            -- A tenant's retention rules, in the order they were given.
            CREATE TABLE retention_rules (
                tenant TEXT NOT NULL,
                position INTEGER NOT NULL,
                resource_type TEXT NOT NULL,
                category TEXT,
                keep_days REAL NOT NULL CHECK (keep_days > 0),
                PRIMARY KEY (tenant, position)
            ) WITHOUT ROWID;

            CREATE TABLE legal_holds (
                id TEXT PRIMARY KEY NOT NULL,
                tenant TEXT NOT NULL,
                name TEXT NOT NULL,
                reason TEXT NOT NULL,
                match_resource_type TEXT,
                match_resource_id TEXT,
                match_actor TEXT,
                match_since INTEGER,
                match_until INTEGER,
                created_at INTEGER NOT NULL,
                created_by TEXT NOT NULL,
                released_at INTEGER,
                released_by TEXT
            );
            CREATE INDEX legal_holds_tenant ON legal_holds (tenant, created_at);

            -- The completed messages that carried a removed event lose their body: found by their first event.
            CREATE INDEX messages_events ON messages (tenant, first_sequence) WHERE status = 'completed';
            """)
    }
}
