extension PostgresMigrations {
    static let m0005ApiKeys = Migration(id: "0005_api_keys", sql: [
        // API keys (SPEC §7): the secret is never stored, only its SHA-256 (hex).
        """
        CREATE TABLE api_keys (
            id text COLLATE "C" PRIMARY KEY CHECK (length(id) = 16),
            tenant text COLLATE "C" NOT NULL CHECK (length(tenant) BETWEEN 1 AND 100),
            name text NOT NULL,
            role text NOT NULL CHECK (role IN ('writer', 'reader', 'auditor', 'admin')),
            secret_digest text NOT NULL CHECK (length(secret_digest) = 64),
            created_at bigint NOT NULL,
            revoked_at bigint
        )
        """,
        "CREATE INDEX api_keys_tenant ON api_keys (tenant, created_at)",
    ])
}
