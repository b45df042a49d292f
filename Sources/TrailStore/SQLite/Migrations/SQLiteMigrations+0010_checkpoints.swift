import GRDB

extension SQLiteMigrations {
    static func m0010Checkpoints(_ db: Database) throws {
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
}
