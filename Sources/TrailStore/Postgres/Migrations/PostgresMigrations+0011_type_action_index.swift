extension PostgresMigrations {
    static let m0011TypeActionIndex = Migration(id: "0011_type_action_index", sql: [
        // Lists by resource type and action (the Django trail's `model` + `action`).
        "CREATE INDEX events_type_action ON events (tenant, resource_type, action, sequence)",
    ])
}
