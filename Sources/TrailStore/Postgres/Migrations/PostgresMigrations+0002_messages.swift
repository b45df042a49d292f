extension PostgresMigrations {
    static let m0002Messages = Migration(id: "0002_messages", sql: [
        // The durable queue of asynchronous submissions; queue_seq is the acceptance order.
        """
        CREATE TABLE messages (
            queue_seq bigserial PRIMARY KEY,
            id uuid NOT NULL UNIQUE,
            tenant text COLLATE "C" NOT NULL CHECK (length(tenant) BETWEEN 1 AND 100),
            kind text NOT NULL,
            body bytea NOT NULL,
            idempotency_key text COLLATE "C",
            request_digest bytea,
            status text NOT NULL CHECK (status IN ('pending', 'processing', 'completed', 'failed')),
            attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
            error text,
            available_at bigint NOT NULL,
            claim_token text,
            claimed_until bigint,
            first_sequence bigint,
            event_count integer NOT NULL DEFAULT 0,
            created_at bigint NOT NULL,
            updated_at bigint NOT NULL
        )
        """,
        "CREATE UNIQUE INDEX messages_idempotency ON messages (tenant, idempotency_key) WHERE idempotency_key IS NOT NULL",
        "CREATE INDEX messages_open ON messages (queue_seq) WHERE status IN ('pending', 'processing')",
        "CREATE INDEX messages_tenant_status ON messages (tenant, status, queue_seq)",
        // The resources each message names, to process the messages of one resource in order.
        """
        CREATE TABLE message_resources (
            queue_seq bigint NOT NULL REFERENCES messages (queue_seq),
            tenant text COLLATE "C" NOT NULL,
            resource_type text COLLATE "C" NOT NULL,
            resource_id text COLLATE "C" NOT NULL,
            PRIMARY KEY (queue_seq, resource_type, resource_id)
        )
        """,
        "CREATE INDEX message_resources_resource ON message_resources (tenant, resource_type, resource_id, queue_seq)",
    ])
}
