import Foundation
import GRDB
import TrailCore

extension SQLiteMigrations {
    static func m0006ImmutableEventsSigningKey(_ db: Database) throws {
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
}
