import GRDB

extension SQLiteMigrations {
    static func m0011TypeActionIndex(_ db: Database) throws {
        // Lists by resource type and action (the Django trail's `model` + `action`): without it a rare pair
        // walks tens of thousands of newer events to fill a page.
        try db.execute(sql: "CREATE INDEX events_type_action ON events (tenant, resource_type, action, sequence)")
    }
}
