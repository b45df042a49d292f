extension PostgresMigrations {
    static let m0009HashChainChecks = Migration(id: "0009_hash_chain_checks", sql: [
        "DROP TRIGGER events_no_update ON events",
        """
        CREATE TRIGGER events_no_update BEFORE UPDATE OF \(eventContentColumns) ON events
        FOR EACH STATEMENT EXECUTE FUNCTION trail_refuse_event_change()
        """,
        // As in 0001, and: a tenant's first new event must follow its newest stored one's hash, and the
        // tenant's head moves to the newest new event's hash.
        """
        CREATE OR REPLACE FUNCTION trail_events_appended() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            culprit text;
        BEGIN
            SELECT s.tenant INTO culprit
            FROM (SELECT tenant, min(sequence) AS low, max(sequence) AS high, count(*) AS n,
                         count(DISTINCT sequence) AS distinct_n, count(hash) AS hashed
                  FROM appended GROUP BY tenant) s
            LEFT JOIN tenant_heads h ON h.tenant = s.tenant
            LEFT JOIN appended f ON f.tenant = s.tenant AND f.sequence = s.low
            WHERE h.tenant IS NULL OR s.low <> h.last_sequence + 1 OR s.high - s.low + 1 <> s.n
                  OR s.distinct_n <> s.n OR s.hashed <> s.n OR f.prev_hash IS DISTINCT FROM h.last_hash
            LIMIT 1;
            IF FOUND THEN
                RAISE EXCEPTION 'the events of tenant % do not continue its sequence and hash chain without gap or repeat', culprit
                    USING ERRCODE = 'integrity_constraint_violation';
            END IF;
            SELECT v.resource_type || '/' || v.resource_id INTO culprit
            FROM (SELECT tenant, resource_type, resource_id, min(version) AS low, max(version) AS high,
                         count(*) AS n, count(DISTINCT version) AS distinct_n
                  FROM appended WHERE new_version GROUP BY tenant, resource_type, resource_id) v
            LEFT JOIN resource_heads r
                ON r.tenant = v.tenant AND r.resource_type = v.resource_type AND r.resource_id = v.resource_id
            WHERE r.tenant IS NULL OR v.low <> r.previous_version + 1 OR v.high <> r.version
                  OR v.high - v.low + 1 <> v.n OR v.distinct_n <> v.n
            LIMIT 1;
            IF FOUND THEN
                RAISE EXCEPTION 'the versions of resource % do not continue its previous head without gap or repeat', culprit
                    USING ERRCODE = 'integrity_constraint_violation';
            END IF;
            UPDATE tenant_heads h SET last_sequence = a.sequence, last_hash = a.hash
            FROM (SELECT tenant, max(sequence) AS high FROM appended GROUP BY tenant) s
            JOIN appended a ON a.tenant = s.tenant AND a.sequence = s.high
            WHERE h.tenant = s.tenant;
            RETURN NULL;
        END
        $$
        """,
    ])
}
