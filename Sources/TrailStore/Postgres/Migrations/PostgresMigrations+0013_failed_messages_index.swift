extension PostgresMigrations {
    static let m0013FailedMessagesIndex = Migration(id: "0013_failed_messages_index", sql: [
        // Failed messages counted on every metrics scrape (trail_async_messages) without reading the completed
        // ones, which are most of the table.
        "CREATE INDEX messages_failed ON messages (queue_seq) WHERE status = 'failed'",
    ])
}
