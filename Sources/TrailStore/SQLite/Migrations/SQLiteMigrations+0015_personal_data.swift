import GRDB

extension SQLiteMigrations {
    static func m0015PersonalData(_ db: Database) throws {
        // The search tokens an event was indexed with for its sealed personal values (SPEC §11), space-separated;
        // NULL for none. The search index keeps no copy of what it indexed, and forgets a row's words only when
        // given them again: removals and erasures read them here. Not part of the event (not hashed).
        try db.execute(sql: "ALTER TABLE events ADD COLUMN sealed_words TEXT")
        // The keys each tenant marks personal (besides the installation's list).
        try db.execute(sql: "CREATE TABLE personal_keys (tenant TEXT NOT NULL, key TEXT NOT NULL, PRIMARY KEY (tenant, key)) WITHOUT ROWID")
    }
}
