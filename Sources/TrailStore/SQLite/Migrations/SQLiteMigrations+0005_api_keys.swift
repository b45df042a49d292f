import GRDB

extension SQLiteMigrations {
    static func m0005ApiKeys(_ db: Database) throws {
        try db.execute(sql: """
            -- API keys (SPEC §7): the secret is never stored, only its SHA-256 (hex).
            CREATE TABLE api_keys (
                id TEXT PRIMARY KEY NOT NULL CHECK (length(id) = 16),
                tenant TEXT NOT NULL CHECK (length(tenant) BETWEEN 1 AND 100),
                name TEXT NOT NULL,
                role TEXT NOT NULL CHECK (role IN ('writer', 'reader', 'auditor', 'admin')),
                secret_digest TEXT NOT NULL CHECK (length(secret_digest) = 64),
                created_at INTEGER NOT NULL,
                revoked_at INTEGER
            ) WITHOUT ROWID;
            CREATE INDEX api_keys_tenant ON api_keys (tenant, created_at);
            """)
    }
}
