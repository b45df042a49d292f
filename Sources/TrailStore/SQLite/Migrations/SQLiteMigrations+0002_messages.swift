import GRDB

extension SQLiteMigrations {
    static func m0002Messages(_ db: Database) throws {
        try db.execute(sql: """
            -- The durable queue of asynchronous submissions. queue_seq is the acceptance order.
            CREATE TABLE messages (
                queue_seq INTEGER PRIMARY KEY,
                id TEXT NOT NULL UNIQUE,
                tenant TEXT NOT NULL CHECK (length(tenant) BETWEEN 1 AND 100),
                kind TEXT NOT NULL,
                body BLOB NOT NULL,
                idempotency_key TEXT,
                request_digest BLOB,
                status TEXT NOT NULL CHECK (status IN ('pending', 'processing', 'completed', 'failed')),
                attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
                error TEXT,
                available_at INTEGER NOT NULL,
                claim_token TEXT,
                claimed_until INTEGER,
                first_sequence INTEGER,
                event_count INTEGER NOT NULL DEFAULT 0,
                created_at INTEGER NOT NULL,
                updated_at INTEGER NOT NULL
            );
            CREATE UNIQUE INDEX messages_idempotency ON messages (tenant, idempotency_key)
                WHERE idempotency_key IS NOT NULL;
            CREATE INDEX messages_open ON messages (queue_seq) WHERE status IN ('pending', 'processing');
            CREATE INDEX messages_tenant_status ON messages (tenant, status, queue_seq);
            -- The resources each message names, to process the messages of one resource in order.
            CREATE TABLE message_resources (
                queue_seq INTEGER NOT NULL REFERENCES messages (queue_seq),
                tenant TEXT NOT NULL,
                resource_type TEXT NOT NULL,
                resource_id TEXT NOT NULL,
                PRIMARY KEY (queue_seq, resource_type, resource_id)
            ) WITHOUT ROWID;
            CREATE INDEX message_resources_resource ON message_resources (tenant, resource_type, resource_id, queue_seq);
            """)
    }
}
