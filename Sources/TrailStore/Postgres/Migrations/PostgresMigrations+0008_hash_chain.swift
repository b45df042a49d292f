import Logging
import PostgresNIO
import TrailCore

extension PostgresMigrations {
    // The hash chain (SPEC §8). The events stored before it are hashed by `chainExistingEvents` after these
    // statements; 0009 then makes the hashes immutable and checks every append continues the chain.
    static let m0008HashChain = Migration(id: "0008_hash_chain", sql: [
        "ALTER TABLE events ADD COLUMN prev_hash bytea, ADD COLUMN hash bytea",
        "ALTER TABLE tenant_heads ADD COLUMN last_hash bytea NOT NULL DEFAULT '\\x\(String(repeating: "0", count: 64))'",
    ], then: chainExistingEvents)

    /// Hashes the events stored before the chain existed, each tenant's in sequence order, a page at a time, and
    /// records each tenant's newest hash in `tenant_heads`.
    static func chainExistingEvents(on connection: PostgresConnection, logger: Logger) async throws {
        var tenants: [(String, Int64)] = []
        for try await tenant in try await connection.query("SELECT tenant, last_sequence FROM tenant_heads", logger: logger)
            .decode((String, Int64).self) {
            tenants.append(tenant)
        }
        let page: Int64 = 10_000
        for (tenant, last) in tenants {
            var chain = ChainHead.empty
            while chain.sequence < last {
                let events = try await PostgresRows.events(connection.query("""
                    SELECT id::text, sequence, tenant, occurred_at, recorded_at, action, actor::text, resource_type,
                        resource_id, version, changes::text, summary, context::text, metadata::text, category, outcome,
                        resource_name, duration_ms, error, prev_hash, hash
                    FROM events
                    WHERE tenant = \(tenant) AND sequence > \(chain.sequence) AND sequence <= \(chain.sequence + page)
                    ORDER BY sequence
                    """, logger: logger))
                guard !events.isEmpty else { break }
                var linked: [RecordedEvent] = []
                for var event in events {
                    try chain.linkStored(&event)
                    linked.append(event)
                }
                try await connection.query("""
                    UPDATE events e SET prev_hash = u.prev_hash, hash = u.hash
                    FROM unnest(\(linked.map(\.sequence))::int8[], \(linked.map { ByteBuffer(bytes: $0.prevHash) })::bytea[],
                        \(linked.map { ByteBuffer(bytes: $0.hash) })::bytea[]) AS u(sequence, prev_hash, hash)
                    WHERE e.tenant = \(tenant) AND e.sequence = u.sequence
                    """, logger: logger)
            }
            try await connection.query("""
                UPDATE tenant_heads SET last_hash = \(ByteBuffer(bytes: chain.hash)) WHERE tenant = \(tenant)
                """, logger: logger)
        }
    }
}
