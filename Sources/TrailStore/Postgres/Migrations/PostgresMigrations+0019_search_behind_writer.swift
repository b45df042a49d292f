extension PostgresMigrations {
    static let m0019SearchBehindWriter = Migration(id: "0019_search_behind_writer", sql: [
        // The full-text index is built behind the writer (issue 27, as on SQLite): the writer stores each event's
        // words in `events.search` (a column, no index), and an indexer copies them into this table, whose GIN
        // index is what searches use, in large batches that move the tenant's watermark in the same transaction.
        // A search first indexes what the indexer has not reached (PostgresSearch), so it sees every committed
        // event however far behind the indexer is.
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
        // One indexing step, in one call (PostgresSearch.indexPending): locks the tenant's watermark (skipping a
        // tenant another transaction holds, unless `waiting`: then NULL), copies the words of up to `batch` of its
        // events past it and moves it past them; returns how many events it passed. Each statement of the call
        // reads a snapshot of its own, so the copy sees what a transaction that held the watermark committed. The
        // index is derived and moves with its watermark, so its commit does not wait for the disk: a crash loses
        // both together, and the events are indexed again.
        """
        CREATE FUNCTION trail_index_search(tenant_name text, batch int, waiting bool) RETURNS int8
        LANGUAGE plpgsql AS $$
        DECLARE
            watermark int8;
            passed int8;
            newest int8;
        BEGIN
            PERFORM set_config('synchronous_commit', 'off', true);
            INSERT INTO search_progress (tenant, indexed_through) VALUES (tenant_name, 0) ON CONFLICT (tenant) DO NOTHING;
            IF waiting THEN
                SELECT indexed_through INTO watermark FROM search_progress WHERE tenant = tenant_name FOR UPDATE;
            ELSE
                SELECT indexed_through INTO watermark FROM search_progress WHERE tenant = tenant_name FOR UPDATE SKIP LOCKED;
                IF NOT FOUND THEN
                    RETURN NULL;
                END IF;
            END IF;
            WITH pending AS (
                SELECT e.sequence, e.search FROM events e
                WHERE e.tenant = tenant_name AND e.sequence > watermark ORDER BY e.sequence LIMIT batch
            ), copied AS (
                INSERT INTO event_search (tenant, sequence, search)
                SELECT tenant_name, p.sequence, p.search FROM pending p WHERE p.search IS NOT NULL AND length(p.search) > 0
            )
            SELECT count(*), max(p.sequence) INTO passed, newest FROM pending p;
            IF passed > 0 THEN
                UPDATE search_progress SET indexed_through = newest WHERE tenant = tenant_name;
            END IF;
            RETURN passed;
        END
        $$
        """,
    ])
}
