extension PostgresMigrations {
    static let m0019SearchBehindWriter = Migration(id: "0019_search_behind_writer", sql: [
        // The full-text index is built behind the writer (issue 27, as on SQLite): the writer stores each event's
        // words in `events.search` (a column, no index), and an indexer copies them into this table, whose GIN
        // index is what searches use, in large batches that move the tenant's watermark in the same transaction.
        // A search reads this table for the events up to the watermark and the events past it directly
        // (PostgresSearch), so it sees every committed event however far behind the indexer is.
        """
        CREATE TABLE event_search (
            tenant text NOT NULL,
            sequence bigint NOT NULL,
            search tsvector NOT NULL,
            PRIMARY KEY (tenant, sequence)
        )
        """,
        // Each tenant's watermark: its events up to `indexed_through` are in `event_search` (those with words).
        // Its row is locked by whatever changes `event_search` (the indexer, erasure, retention), so that none of
        // them copies words another is removing.
        "CREATE TABLE search_progress (tenant text PRIMARY KEY, indexed_through bigint NOT NULL)",
        // What is there: indexed now, in one statement (one snapshot for the rows and the watermarks).
        """
        WITH copied AS (
            INSERT INTO event_search (tenant, sequence, search)
            SELECT tenant, sequence, search FROM events WHERE search IS NOT NULL AND length(search) > 0
        )
        INSERT INTO search_progress (tenant, indexed_through) SELECT tenant, max(sequence) FROM events GROUP BY tenant
        """,
        "DROP INDEX IF EXISTS events_search",
        "CREATE INDEX event_search_words ON event_search USING gin (search)",
    ])
}
