import GRDB

extension SQLiteMigrations {
    static func m0003MessageContext(_ db: Database) throws {
        // What Trail knew of the request a queued body came in (ip, user agent, request id), for its events.
        try db.execute(sql: "ALTER TABLE messages ADD COLUMN request_context TEXT")
    }
}
