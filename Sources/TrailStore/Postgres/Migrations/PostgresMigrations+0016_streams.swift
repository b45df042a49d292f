extension PostgresMigrations {
    static let m0016Streams = Migration(id: "0016_streams", sql: [
        // Sinks and alert rules (SPEC §14): each follows its tenant's log from a durable cursor; the process
        // holding its lease (lease_owner until lease_until) runs it, one process at a time.
        """
        CREATE TABLE followers (
            id text PRIMARY KEY,
            tenant text NOT NULL,
            kind text NOT NULL CHECK (kind IN ('sink', 'rule')),
            name text NOT NULL,
            definition text NOT NULL,
            secret bytea,
            cursor bigint NOT NULL CHECK (cursor >= 0),
            created_at bigint NOT NULL,
            created_by text NOT NULL,
            handled bigint NOT NULL DEFAULT 0,
            last_success_at bigint,
            last_error text,
            last_error_at bigint,
            failures integer NOT NULL DEFAULT 0,
            retry_at bigint,
            lease_owner text,
            lease_until bigint
        )
        """,
        "CREATE INDEX followers_tenant ON followers (tenant, kind, created_at)",
        """
        CREATE TABLE alerts (
            id text PRIMARY KEY,
            tenant text NOT NULL,
            rule_id text NOT NULL,
            rule_name text NOT NULL,
            group_key text,
            count integer NOT NULL,
            threshold integer NOT NULL,
            window_seconds bigint NOT NULL,
            first_at bigint NOT NULL,
            last_at bigint NOT NULL,
            first_sequence bigint NOT NULL,
            last_sequence bigint NOT NULL,
            fired_at bigint NOT NULL,
            event_sequence bigint,
            sink_id text,
            delivered_at bigint
        )
        """,
        "CREATE INDEX alerts_tenant ON alerts (tenant, fired_at)",
        "CREATE INDEX alerts_undelivered ON alerts (sink_id, fired_at) WHERE sink_id IS NOT NULL AND delivered_at IS NULL",
    ])
}
