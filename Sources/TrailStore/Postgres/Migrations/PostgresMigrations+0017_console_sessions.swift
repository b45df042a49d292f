extension PostgresMigrations {
    static let m0017ConsoleSessions = Migration(id: "0017_console_sessions", sql: [
        // Web console sessions (SPEC §12), by the SHA-256 of their cookie's value.
        """
        CREATE TABLE console_sessions (
            digest text PRIMARY KEY,
            tenant text NOT NULL,
            roles text NOT NULL,
            subject text NOT NULL,
            credential text NOT NULL CHECK (credential IN ('api_key', 'jwt', 'none')),
            form_token text NOT NULL,
            created_at bigint NOT NULL,
            last_seen_at bigint NOT NULL,
            expires_at bigint NOT NULL
        )
        """,
        "CREATE INDEX console_sessions_last_seen ON console_sessions (last_seen_at)",
    ])
}
