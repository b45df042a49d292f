extension PostgresMigrations {
    static let m0004Search = Migration(id: "0004_search", sql: [
        // Each event's searchable words (SearchText in TrailCore), as lexemes taken as they are: Trail splits
        // the words itself, so both stores match the same way whatever the database's locale.
        "ALTER TABLE events ADD COLUMN search tsvector",
        // Events stored before this migration: the same words, split by PostgreSQL (close to Trail's split;
        // it may differ for unusual characters, depending on the database's locale).
        """
        UPDATE events SET search = COALESCE((
            SELECT array_to_tsvector(array_agg(DISTINCT left(w, 100)))
            FROM regexp_split_to_table(lower(concat_ws(' ', summary, resource_name, actor::jsonb ->> 'name',
                (SELECT string_agg(v #>> '{}', ' ') FROM jsonb_path_query(metadata::jsonb, 'strict $.**') AS v
                 WHERE jsonb_typeof(v) IN ('string', 'number')))), '[^[:alnum:]]+') AS w
            WHERE w <> ''), ''::tsvector)
        """,
        "CREATE INDEX events_search ON events USING gin (search)",
    ])
}
