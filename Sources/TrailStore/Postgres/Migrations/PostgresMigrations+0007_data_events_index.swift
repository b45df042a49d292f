extension PostgresMigrations {
    static let m0007DataEventsIndex = Migration(id: "0007_data_events_index", sql: [
        // The tenant's events in sequence order without the records of who read the log (meta-audit), which
        // lists leave out by default and a read-heavy installation piles up at the newest end.
        """
        CREATE INDEX events_data_sequence ON events (tenant, sequence)
        WHERE category IS DISTINCT FROM 'AUDIT_ACCESS'
        """,
    ])
}
