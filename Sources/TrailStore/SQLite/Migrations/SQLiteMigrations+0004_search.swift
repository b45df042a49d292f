import GRDB

extension SQLiteMigrations {
    static func m0004Search(_ db: Database) throws {
        try db.execute(sql: SQLiteSearch.createTable)
        try SQLiteSearch.indexExistingEvents(db)
    }
}
