extension PostgresMigrations {
    static let m0012SubtreeRoots = Migration(id: "0012_subtree_roots", sql: [
        // Roots of perfect subtrees of each tenant's Merkle tree (SubtreeRoots), so that proofs need not hash
        // the whole log; derived from the events' hashes by the checkpoint signer, which records how far.
        """
        CREATE TABLE subtree_roots (
            tenant text NOT NULL,
            level int4 NOT NULL CHECK (level BETWEEN 1 AND 62),
            position int8 NOT NULL CHECK (position >= 0),
            root bytea NOT NULL CHECK (length(root) = 32),
            PRIMARY KEY (tenant, level, position)
        )
        """,
        """
        CREATE TABLE subtree_roots_progress (
            tenant text PRIMARY KEY,
            size int8 NOT NULL CHECK (size >= 0)
        )
        """,
    ])
}
