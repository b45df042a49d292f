import GRDB

extension SQLiteMigrations {
    static func m0016Streams(_ db: Database) throws {
        // Sinks and alert rules (SPEC §14): each follows its tenant's log from a durable cursor; the process
        // holding its lease (lease_owner until lease_until) runs it.
        try db.execute(sql: """
            CREATE TABLE followers (
                id TEXT PRIMARY KEY NOT NULL,
                tenant TEXT NOT NULL,
                kind TEXT NOT NULL CHECK (kind IN ('sink', 'rule')),
                name TEXT NOT NULL,
                definition TEXT NOT NULL,
                secret BLOB,
                cursor INTEGER NOT NULL CHECK (cursor >= 0),
                created_at INTEGER NOT NULL,
                created_by TEXT NOT NULL,
                handled INTEGER NOT NULL DEFAULT 0,
                last_success_at INTEGER,
                last_error TEXT,
                last_error_at INTEGER,
                failures INTEGER NOT NULL DEFAULT 0,
                retry_at INTEGER,
                lease_owner TEXT,
                lease_until INTEGER
            )
            """)
        try db.execute(sql: "CREATE INDEX followers_tenant ON followers (tenant, kind, created_at)")
        try db.execute(sql: """
            CREATE TABLE alerts (
                id TEXT PRIMARY KEY NOT NULL,
                tenant TEXT NOT NULL,
                rule_id TEXT NOT NULL,
                rule_name TEXT NOT NULL,
                group_key TEXT,
                count INTEGER NOT NULL,
                threshold INTEGER NOT NULL,
                window_seconds INTEGER NOT NULL,
                first_at INTEGER NOT NULL,
                last_at INTEGER NOT NULL,
                first_sequence INTEGER NOT NULL,
                last_sequence INTEGER NOT NULL,
                fired_at INTEGER NOT NULL,
                event_sequence INTEGER,
                sink_id TEXT,
                delivered_at INTEGER
            )
            """)
        try db.execute(sql: "CREATE INDEX alerts_tenant ON alerts (tenant, fired_at)")
        try db.execute(sql: "CREATE INDEX alerts_undelivered ON alerts (sink_id, fired_at) WHERE sink_id IS NOT NULL AND delivered_at IS NULL")
    }
}
