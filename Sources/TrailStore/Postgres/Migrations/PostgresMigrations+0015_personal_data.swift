extension PostgresMigrations {
    /// The data subjects' keys (crypto-shredding, SPEC §11) in a schema of their own, so that a dump of the store
    /// can leave them out (`pg_dump --exclude-schema=trail_vault`): a backup taken before an erasure then holds
    /// only sealed values whose key is gone.
    static let m0015PersonalData = Migration(id: "0015_personal_data", sql: [
        "CREATE SCHEMA IF NOT EXISTS trail_vault",
        "CREATE TABLE trail_vault.settings (name text PRIMARY KEY, value bytea NOT NULL)",
        """
        CREATE TABLE trail_vault.subject_keys (
            lookup text PRIMARY KEY,
            id text NOT NULL UNIQUE,
            tenant text NOT NULL,
            key bytea NOT NULL
        )
        """,
        // The keys each tenant marks personal (besides the installation's list): part of the store, not secret.
        "CREATE TABLE personal_keys (tenant text NOT NULL, key text NOT NULL, PRIMARY KEY (tenant, key))",
    ])
}
