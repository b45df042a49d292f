extension PostgresMigrations {
    static let m0014RetentionHolds = Migration(id: "0014_retention_holds", sql: [
        // Retention and erasure (SPEC §11): an event whose content was removed, or a data subject's values erased
        // from, keeps its place in the log and its hashes.
        "ALTER TABLE events ADD COLUMN removed_at bigint",
        "ALTER TABLE events ADD COLUMN erased_at bigint",
        // The only changes a stored event may undergo keep what places it in the log and the chain: its removal,
        // which empties everything else, once; an erasure, which rewrites its content and marks it anew. A row
        // trigger now (only updates fire it: inserts cost nothing); `search` (derived words) stays updatable.
        "DROP TRIGGER events_no_update ON events",
        """
        CREATE FUNCTION trail_check_event_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.tenant IS NOT DISTINCT FROM OLD.tenant AND NEW.sequence IS NOT DISTINCT FROM OLD.sequence
                AND NEW.id IS NOT DISTINCT FROM OLD.id AND NEW.occurred_at IS NOT DISTINCT FROM OLD.occurred_at
                AND NEW.recorded_at IS NOT DISTINCT FROM OLD.recorded_at AND NEW.action IS NOT DISTINCT FROM OLD.action
                AND NEW.category IS NOT DISTINCT FROM OLD.category AND NEW.outcome IS NOT DISTINCT FROM OLD.outcome
                AND NEW.resource_type IS NOT DISTINCT FROM OLD.resource_type
                AND NEW.resource_id IS NOT DISTINCT FROM OLD.resource_id
                AND NEW.version IS NOT DISTINCT FROM OLD.version AND NEW.new_version IS NOT DISTINCT FROM OLD.new_version
                AND NEW.prev_hash IS NOT DISTINCT FROM OLD.prev_hash AND NEW.hash IS NOT DISTINCT FROM OLD.hash
                AND ((OLD.removed_at IS NULL AND NEW.removed_at IS NOT NULL AND NEW.erased_at IS NOT DISTINCT FROM OLD.erased_at
                      AND NEW.actor_id IS NULL AND NEW.actor IS NULL AND NEW.resource_name IS NULL
                      AND NEW.changes::text = '{}' AND NEW.summary = '' AND NEW.state_after IS NULL
                      AND NEW.secret_digests IS NULL AND NEW.context IS NULL AND NEW.metadata IS NULL
                      AND NEW.duration_ms IS NULL AND NEW.error IS NULL)
                    OR (OLD.removed_at IS NULL AND NEW.removed_at IS NULL AND NEW.erased_at IS NOT NULL
                      AND (OLD.erased_at IS NULL OR NEW.erased_at > OLD.erased_at))) THEN
                RETURN NEW;
            END IF;
            RAISE EXCEPTION 'stored events are immutable: Trail only empties an event retention removes, or rewrites one an erasure reaches'
                USING ERRCODE = 'insufficient_privilege';
        END $$
        """,
        """
        CREATE TRIGGER events_no_update BEFORE UPDATE OF \(eventContentColumns), removed_at, erased_at ON events
        FOR EACH ROW EXECUTE FUNCTION trail_check_event_change()
        """,
        // A tenant's retention rules, in the order they were given.
        """
        CREATE TABLE retention_rules (
            tenant text COLLATE "C" NOT NULL,
            position integer NOT NULL,
            resource_type text NOT NULL,
            category text,
            keep_days double precision NOT NULL CHECK (keep_days > 0),
            PRIMARY KEY (tenant, position)
        )
        """,
        """
        CREATE TABLE legal_holds (
            id text PRIMARY KEY,
            tenant text COLLATE "C" NOT NULL,
            name text NOT NULL,
            reason text NOT NULL,
            match_resource_type text,
            match_resource_id text,
            match_actor text,
            match_since bigint,
            match_until bigint,
            created_at bigint NOT NULL,
            created_by text NOT NULL,
            released_at bigint,
            released_by text
        )
        """,
        "CREATE INDEX legal_holds_tenant ON legal_holds (tenant, created_at)",
        // The completed messages that carried a removed event lose their body: found by their first event.
        "CREATE INDEX messages_events ON messages (tenant, first_sequence) WHERE status = 'completed'",
    ])
}
