import Logging
import PostgresNIO
import TrailCore

extension PostgresMigrations {
    static let m0001EventsHeadsIdempotency = Migration(id: "0001_events_heads_idempotency", sql: [
        """
        CREATE TABLE trail_settings (
            name text PRIMARY KEY,
            value bytea NOT NULL
        )
        """,
        // The serialisation point of a tenant's writers: every write transaction locks its tenant's row, and
        // the events trigger advances last_sequence.
        """
        CREATE TABLE tenant_heads (
            tenant text COLLATE "C" PRIMARY KEY CHECK (length(tenant) BETWEEN 1 AND 100),
            last_sequence bigint NOT NULL CHECK (last_sequence >= 0)
        )
        """,
        // Identifiers compare byte by byte (COLLATE "C"), whatever the database's locale: faster index
        // comparisons, and the same order as SQLite's. JSON columns are `json`: PostgreSQL checks them and keeps their text as written, key order
        // included (SPEC §2.3); queries cast to jsonb where they need operators. Times are microseconds
        // since the Unix epoch, as in the SQLite store.
        """
        CREATE TABLE events (
            tenant text COLLATE "C" NOT NULL CHECK (length(tenant) BETWEEN 1 AND 100),
            sequence bigint NOT NULL CHECK (sequence >= 1),
            id uuid NOT NULL,
            occurred_at bigint NOT NULL,
            recorded_at bigint NOT NULL,
            action text NOT NULL CHECK (length(action) >= 1),
            category text,
            outcome text NOT NULL DEFAULT 'success' CHECK (outcome IN ('success', 'failure', 'partial')),
            actor_id text COLLATE "C",
            actor json,
            resource_type text COLLATE "C",
            resource_id text COLLATE "C",
            resource_name text,
            version bigint,
            new_version boolean NOT NULL DEFAULT false,
            changes json NOT NULL DEFAULT '{}',
            summary text NOT NULL,
            state_after json,
            secret_digests json,
            context json,
            metadata json,
            duration_ms bigint,
            error text,
            CHECK (version IS NULL OR (resource_type IS NOT NULL AND resource_id IS NOT NULL AND version >= 1)),
            CHECK (NOT new_version OR version IS NOT NULL),
            PRIMARY KEY (tenant, sequence, recorded_at)
        ) PARTITION BY RANGE (recorded_at)
        """,
        "CREATE INDEX events_resource_version ON events (tenant, resource_type, resource_id, version)",
        "CREATE INDEX events_id ON events (id)",
        "CREATE INDEX events_recorded ON events (tenant, recorded_at)",
        "CREATE INDEX events_recorded_brin ON events USING brin (recorded_at)",
        "CREATE INDEX events_actor ON events (tenant, actor_id)",
        """
        CREATE TABLE resource_heads (
            tenant text COLLATE "C" NOT NULL,
            resource_type text COLLATE "C" NOT NULL,
            resource_id text COLLATE "C" NOT NULL,
            version bigint NOT NULL CHECK (version >= 1),
            -- The version before the statement that last wrote this head (0 for a new resource): what the
            -- events trigger checks that statement's new versions against.
            previous_version bigint NOT NULL DEFAULT 0 CHECK (previous_version BETWEEN 0 AND version),
            state json,
            secret_digests json,
            last_sequence bigint NOT NULL,
            updated_at bigint NOT NULL,
            PRIMARY KEY (tenant, resource_type, resource_id)
        )
        """,
        """
        CREATE TABLE idempotency_keys (
            tenant text COLLATE "C" NOT NULL,
            key text COLLATE "C" NOT NULL,
            request_digest bytea NOT NULL,
            first_sequence bigint,
            event_count integer NOT NULL CHECK (event_count >= 0),
            created_at bigint NOT NULL,
            PRIMARY KEY (tenant, key)
        )
        """,
        "CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at)",
        // Unique keys on a partitioned table must include the partition key, so (tenant, sequence) and
        // (tenant, resource, version) cannot be unique indexes across months. The invariants are kept by
        // this trigger instead, once per insert statement (Trail writes a transaction's events and heads in
        // one statement): a tenant's new events must continue its last sequence with no gap or repeat, and a
        // resource's new versions must run from its head's previous version + 1 to its head's version, with
        // no gap or repeat, so the heads must be written in the same statement. It then advances the
        // tenant's sequence.
        """
        CREATE FUNCTION trail_events_appended() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            culprit text;
        BEGIN
            SELECT s.tenant INTO culprit
            FROM (SELECT tenant, min(sequence) AS low, max(sequence) AS high, count(*) AS n,
                         count(DISTINCT sequence) AS distinct_n
                  FROM appended GROUP BY tenant) s
            LEFT JOIN tenant_heads h ON h.tenant = s.tenant
            WHERE h.tenant IS NULL OR s.low <> h.last_sequence + 1 OR s.high - s.low + 1 <> s.n
                  OR s.distinct_n <> s.n
            LIMIT 1;
            IF FOUND THEN
                RAISE EXCEPTION 'the events of tenant % do not continue its sequence without gap or repeat', culprit
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
            UPDATE tenant_heads h SET last_sequence = s.high
            FROM (SELECT tenant, max(sequence) AS high FROM appended GROUP BY tenant) s
            WHERE h.tenant = s.tenant;
            RETURN NULL;
        END
        $$
        """,
        """
        CREATE TRIGGER events_appended AFTER INSERT ON events REFERENCING NEW TABLE AS appended
            FOR EACH STATEMENT EXECUTE FUNCTION trail_events_appended()
        """,
    ], then: makeRedactionSecret)

    /// The installation's secret for keyed digests of redacted values (SPEC §2.5).
    static func makeRedactionSecret(on connection: PostgresConnection, logger: Logger) async throws {
        var generator = SystemRandomNumberGenerator()
        let secret = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        try await connection.query("""
            INSERT INTO trail_settings (name, value) VALUES ('redaction_secret', \(ByteBuffer(bytes: secret)))
            """, logger: logger)
    }
}
