import GRDB

extension SQLiteMigrations {
    static func m0013FailedMessagesIndex(_ db: Database) throws {
        // Failed messages counted on every metrics scrape (trail_async_messages) without reading the completed
        // ones, which are most of the table.
        try db.execute(sql: "CREATE INDEX messages_failed ON messages (queue_seq) WHERE status = 'failed'")
    }
}
