extension PostgresMigrations {
    static let m0003MessageContext = Migration(id: "0003_message_context", sql: [
        // What Trail knew of the request a queued body came in (ip, user agent, request id), for its events.
        "ALTER TABLE messages ADD COLUMN request_context json",
    ])
}
