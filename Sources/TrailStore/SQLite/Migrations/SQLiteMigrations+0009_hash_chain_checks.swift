import GRDB

extension SQLiteMigrations {
    static func m0009HashChainChecks(_ db: Database) throws {
        // The update trigger again, now refusing changes of the hashes as well.
        try db.execute(sql: """
            DROP TRIGGER events_no_update;
            CREATE TRIGGER events_no_update BEFORE UPDATE OF \(SQLiteMigrations.eventContentColumns) ON events
            BEGIN SELECT RAISE(ABORT, 'stored events are immutable: Trail never updates an event'); END;
            """)
    }
}
