import GRDB

extension SQLiteMigrations {
    static func m0017ConsoleSessions(_ db: Database) throws {
        // Web console sessions (SPEC §12), by the SHA-256 of their cookie's value.
        try db.execute(sql: """
            CREATE TABLE console_sessions (
                digest TEXT PRIMARY KEY NOT NULL,
                tenant TEXT NOT NULL,
                roles TEXT NOT NULL,
                subject TEXT NOT NULL,
                credential TEXT NOT NULL CHECK (credential IN ('api_key', 'jwt', 'none')),
                form_token TEXT NOT NULL,
                created_at INTEGER NOT NULL,
                last_seen_at INTEGER NOT NULL,
                expires_at INTEGER NOT NULL
            ) WITHOUT ROWID
            """)
        try db.execute(sql: "CREATE INDEX console_sessions_last_seen ON console_sessions (last_seen_at)")
    }
}
