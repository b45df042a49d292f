import GRDB
import TrailCore

extension SQLiteMigrations {
    static func m0007DataEventsIndex(_ db: Database) throws {
        // The tenant's events in sequence order without the records of who read the log (meta-audit): lists,
        // which leave those out by default, would otherwise step over every one of them, and a read-heavy
        // installation piles them up at the newest end, where lists start.
        try db.execute(sql: """
            CREATE INDEX events_data_sequence ON events (tenant, sequence)
            WHERE category IS NOT '\(EventQuery.accessCategory)'
            """)
    }
}
