import GRDB
import TrailCore

extension SQLiteMigrations {
    static func m0008HashChain(_ db: Database) throws {
        // The hash chain (SPEC §8): every event's hash and its predecessor's, for the events stored before
        // it too.
        try db.execute(sql: """
            ALTER TABLE events ADD COLUMN prev_hash BLOB;
            ALTER TABLE events ADD COLUMN hash BLOB;
            """)
        try SQLiteMigrations.chainExistingEvents(db)
    }

    /// Hashes the events stored before the chain existed, each tenant's in sequence order.
    static func chainExistingEvents(_ db: Database) throws {
        let rows = try RawStatement(db.makeStatement(sql: """
            SELECT id, sequence, tenant, occurred_at, recorded_at, action, actor, resource_type, resource_id, version,
                changes, summary, context, metadata, category, outcome, resource_name, duration_ms, error, prev_hash, hash,
                NULL, NULL, rowid
            FROM events ORDER BY tenant, sequence
            """))
        let update = try RawStatement(db.makeStatement(sql: "UPDATE events SET prev_hash = ?, hash = ? WHERE rowid = ?"))
        var chain = ChainHead.empty
        var tenant: String?
        try rows.each(db) { row in
            var event = try RecordedEvent(SQLiteRows.columns(row))
            if event.tenant != tenant { (tenant, chain) = (event.tenant, .empty) }
            try chain.linkStored(&event)
            try update.execute(db, [.blob(event.prevHash), .blob(event.hash), .integer(row.int64(SQLiteRows.eventColumnCount))])
        }
    }
}
