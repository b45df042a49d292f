extension PostgresMigrations {
    static let m0010Checkpoints = Migration(id: "0010_checkpoints", sql: [
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
    ])
}
