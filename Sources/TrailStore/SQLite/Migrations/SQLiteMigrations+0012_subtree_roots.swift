import GRDB

extension SQLiteMigrations {
    static func m0012SubtreeRoots(_ db: Database) throws {
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
}
