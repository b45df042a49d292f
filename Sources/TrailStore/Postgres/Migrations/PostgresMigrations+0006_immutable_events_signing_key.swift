import Logging
import PostgresNIO
import TrailCore

extension PostgresMigrations {
    static let m0006ImmutableEventsSigningKey = Migration(id: "0006_immutable_events_signing_key", sql: [
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
    ], then: makeSigningKey)

    /// The installation's Ed25519 key that signs checkpoints (SPEC §8), outside the events table.
    static func makeSigningKey(on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query("""
            INSERT INTO trail_settings (name, value) VALUES ('checkpoint_signing_key', \(ByteBuffer(bytes: SigningKeySeed.make())))
            """, logger: logger)
    }
}
