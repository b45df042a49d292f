import Foundation
import GRDB
public import TrailCore

extension SQLiteEventStore: IntegrityStore {
    public func checkpointSigningKey() async throws(StoreError) -> [UInt8] {
        let seed = try await read { db in
            try Data.fetchOne(db, sql: "SELECT value FROM settings WHERE name = 'checkpoint_signing_key'")
        }
        guard let seed, seed.count == 32 else { throw StoreError(.corrupt, "the store has no checkpoint signing key") }
        return Array(seed)
    }

    public func chainHeads() async throws(StoreError) -> [String: ChainHead] {
        try await read { db in
            // The tenants by skipping through the (tenant, sequence) index, one step per tenant, instead of
            // scanning every event; then each one's newest event.
            let tenants = try String.fetchAll(db, sql: """
                WITH RECURSIVE t(tenant) AS (
                    SELECT MIN(tenant) FROM events
                    UNION ALL
                    SELECT (SELECT MIN(tenant) FROM events WHERE tenant > t.tenant) FROM t WHERE t.tenant IS NOT NULL
                )
                SELECT tenant FROM t WHERE tenant IS NOT NULL
                """)
            var heads: [String: ChainHead] = [:]
            for tenant in tenants { heads[tenant] = try SQLiteRows.chain(db, tenant: tenant) }
            return heads
        }
    }

    public func chainHead(tenant: String) async throws(StoreError) -> ChainHead {
        try await read { db in try SQLiteRows.chain(db, tenant: tenant) }
    }

    public func eventHashes(tenant: String, after sequence: Int64, limit: Int) async throws(StoreError) -> [EventHash.Digest] {
        try await read { db in
            try RawStatement(db.cachedStatement(sql: """
                SELECT hash FROM events WHERE tenant = ? AND sequence > ? ORDER BY sequence LIMIT ?
                """)).all(db, [tenant, sequence, limit]) { $0.blob(0) }
        }
    }

    public func saveCheckpoint(_ checkpoint: Checkpoint, basis: CheckpointBasis) async throws(StoreError) {
        try await write { db in
            try db.execute(sql: """
                INSERT INTO checkpoints (tenant, size, root, signed_at, key_id, signature, last_hash, frontier)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (tenant, size) DO NOTHING
                """, arguments: [checkpoint.tenant, checkpoint.size, Data(checkpoint.root), checkpoint.time.microseconds,
                                 checkpoint.keyId, Data(checkpoint.signature), Data(basis.lastHash), Data(basis.frontierBytes)])
        }
    }

    public func latestCheckpointBasis(tenant: String) async throws(StoreError) -> (Checkpoint, CheckpointBasis)? {
        try await read { db in
            try Row.fetchOne(db, sql: """
                SELECT tenant, size, root, signed_at, key_id, signature, last_hash, frontier FROM checkpoints
                WHERE tenant = ? ORDER BY size DESC LIMIT 1
                """, arguments: [tenant]).map { row in
                (Self.checkpoint(row), CheckpointBasis(lastHash: Array(row[6] as Data), frontierBytes: Array(row[7] as Data)))
            }
        }
    }

    public func checkpoints(tenant: String, newest: Bool, limit: Int) async throws(StoreError) -> [Checkpoint] {
        let found = try await read { db in
            try Row.fetchAll(db, sql: """
                SELECT tenant, size, root, signed_at, key_id, signature FROM checkpoints
                WHERE tenant = ? ORDER BY size \(newest ? "DESC" : "ASC") LIMIT ?
                """, arguments: [tenant, limit]).map(Self.checkpoint)
        }
        return newest ? found.reversed() : found
    }

    public func checkpoint(tenant: String, size: Int64) async throws(StoreError) -> Checkpoint? {
        try await read { db in
            try Row.fetchOne(db, sql: """
                SELECT tenant, size, root, signed_at, key_id, signature FROM checkpoints WHERE tenant = ? AND size = ?
                """, arguments: [tenant, size]).map(Self.checkpoint)
        }
    }

    public func saveSubtreeRoots(
        tenant: String, _ roots: [(MerkleTree.Subtree, Digest256)], through size: Int64
    ) async throws(StoreError) {
        try await write { db in
            let insert = try db.cachedStatement(sql: """
                INSERT INTO subtree_roots (tenant, level, position, root) VALUES (?, ?, ?, ?)
                ON CONFLICT (tenant, level, position) DO NOTHING
                """)
            for (subtree, root) in roots {
                try insert.execute(arguments: [tenant, subtree.level, subtree.index, Data(root.bytes)])
            }
            try db.execute(sql: """
                INSERT INTO subtree_roots_progress (tenant, size) VALUES (?, ?)
                ON CONFLICT (tenant) DO UPDATE SET size = max(size, excluded.size)
                """, arguments: [tenant, size])
        }
    }

    public func subtreeRoots(
        tenant: String, _ subtrees: [MerkleTree.Subtree]
    ) async throws(StoreError) -> [MerkleTree.Subtree: Digest256] {
        try await read { db in
            let select = try db.cachedStatement(sql: "SELECT root FROM subtree_roots WHERE tenant = ? AND level = ? AND position = ?")
            var found: [MerkleTree.Subtree: Digest256] = [:]
            for subtree in Set(subtrees) {
                if let root = try Data.fetchOne(select, arguments: [tenant, subtree.level, subtree.index]).flatMap({ Digest256(Array($0)) }) {
                    found[subtree] = root
                }
            }
            return found
        }
    }

    public func subtreeRootsSize(tenant: String) async throws(StoreError) -> Int64 {
        try await read { db in
            try Int64.fetchOne(db, sql: "SELECT size FROM subtree_roots_progress WHERE tenant = ?", arguments: [tenant]) ?? 0
        }
    }

    static func checkpoint(_ row: Row) -> Checkpoint {
        Checkpoint(tenant: row[0], size: row[1], root: Array(row[2] as Data), time: Timestamp(microseconds: row[3]),
                   keyId: row[4], signature: Array(row[5] as Data))
    }
}
