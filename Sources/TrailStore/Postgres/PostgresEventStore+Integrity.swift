import PostgresNIO
public import TrailCore

extension PostgresEventStore: IntegrityStore {
    public func checkpointSigningKey() async throws(StoreError) -> [UInt8] {
        let seed = try await read { connection, logger in
            var seed: [UInt8]?
            for try await value in try await connection.query(
                "SELECT value FROM trail_settings WHERE name = 'checkpoint_signing_key'", logger: logger).decode(ByteBuffer.self) {
                seed = Array(buffer: value)
            }
            return seed
        }
        guard let seed, seed.count == 32 else { throw StoreError(.corrupt, "the store has no checkpoint signing key") }
        return seed
    }

    public func chainHeads() async throws(StoreError) -> [String: ChainHead] {
        try await read { connection, logger in
            var heads: [String: ChainHead] = [:]
            for try await (tenant, sequence, hash) in try await connection.query("""
                SELECT tenant, last_sequence, last_hash FROM tenant_heads WHERE last_sequence > 0
                """, logger: logger).decode((String, Int64, ByteBuffer).self) {
                heads[tenant] = ChainHead(sequence: sequence, hash: Array(buffer: hash))
            }
            return heads
        }
    }

    public func chainHead(tenant: String) async throws(StoreError) -> ChainHead {
        try await read { connection, logger in
            var head = ChainHead.empty
            for try await (sequence, hash) in try await connection.query("""
                SELECT last_sequence, last_hash FROM tenant_heads WHERE tenant = \(tenant)
                """, logger: logger).decode((Int64, ByteBuffer).self) {
                head = ChainHead(sequence: sequence, hash: Array(buffer: hash))
            }
            return head
        }
    }

    public func eventHashes(tenant: String, after sequence: Int64, limit: Int) async throws(StoreError) -> [EventHash.Digest] {
        try await read { connection, logger in
            var hashes: [EventHash.Digest] = []
            for try await hash in try await connection.query("""
                SELECT hash FROM events WHERE tenant = \(tenant) AND sequence > \(sequence) ORDER BY sequence LIMIT \(limit)
                """, logger: logger).decode(ByteBuffer.self) {
                hashes.append(Array(buffer: hash))
            }
            return hashes
        }
    }

    public func saveCheckpoint(_ checkpoint: Checkpoint, basis: CheckpointBasis) async throws(StoreError) {
        try await read { connection, logger in
            try await connection.query("""
                INSERT INTO checkpoints (tenant, size, root, signed_at, key_id, signature, last_hash, frontier)
                VALUES (\(checkpoint.tenant), \(checkpoint.size), \(ByteBuffer(bytes: checkpoint.root)),
                        \(checkpoint.time.microseconds), \(checkpoint.keyId), \(ByteBuffer(bytes: checkpoint.signature)),
                        \(ByteBuffer(bytes: basis.lastHash)), \(ByteBuffer(bytes: basis.frontierBytes)))
                ON CONFLICT (tenant, size) DO NOTHING
                """, logger: logger)
        }
    }

    public func latestCheckpointBasis(tenant: String) async throws(StoreError) -> (Checkpoint, CheckpointBasis)? {
        try await read { connection, logger in
            var found: (Checkpoint, CheckpointBasis)?
            for try await (tenant, size, root, time, keyId, signature, lastHash, frontier) in try await connection.query("""
                SELECT tenant, size, root, signed_at, key_id, signature, last_hash, frontier FROM checkpoints
                WHERE tenant = \(tenant) ORDER BY size DESC LIMIT 1
                """, logger: logger).decode((String, Int64, ByteBuffer, Int64, String, ByteBuffer, ByteBuffer, ByteBuffer).self) {
                found = (Checkpoint(tenant: tenant, size: size, root: Array(buffer: root), time: Timestamp(microseconds: time),
                                    keyId: keyId, signature: Array(buffer: signature)),
                         CheckpointBasis(lastHash: Array(buffer: lastHash), frontierBytes: Array(buffer: frontier)))
            }
            return found
        }
    }

    public func checkpoints(tenant: String, newest: Bool, limit: Int) async throws(StoreError) -> [Checkpoint] {
        let found = try await read { connection, logger in
            try await Self.checkpoints(connection.query("""
                SELECT tenant, size, root, signed_at, key_id, signature FROM checkpoints
                WHERE tenant = \(tenant) ORDER BY size \(unescaped: newest ? "DESC" : "ASC") LIMIT \(limit)
                """, logger: logger))
        }
        return newest ? found.reversed() : found
    }

    public func checkpoint(tenant: String, size: Int64) async throws(StoreError) -> Checkpoint? {
        try await read { connection, logger in
            try await Self.checkpoints(connection.query("""
                SELECT tenant, size, root, signed_at, key_id, signature FROM checkpoints
                WHERE tenant = \(tenant) AND size = \(size)
                """, logger: logger)).first
        }
    }

    public func saveSubtreeRoots(
        tenant: String, _ roots: [(MerkleTree.Subtree, Digest256)], through size: Int64
    ) async throws(StoreError) {
        try await read { connection, logger in
            try await connection.withTransaction(logger: logger) { connection in
                if !roots.isEmpty {
                    try await connection.run("""
                        INSERT INTO subtree_roots (tenant, level, position, root)
                        SELECT \(tenant), u.level, u.position, u.root
                        FROM unnest(\(roots.map { Int32($0.0.level) })::int4[], \(roots.map(\.0.index))::int8[],
                                    \(roots.map { ByteBuffer(bytes: $0.1.bytes) })::bytea[]) AS u(level, position, root)
                        ON CONFLICT (tenant, level, position) DO NOTHING
                        """, logger: logger)
                }
                try await connection.run("""
                    INSERT INTO subtree_roots_progress (tenant, size) VALUES (\(tenant), \(size))
                    ON CONFLICT (tenant) DO UPDATE SET size = greatest(subtree_roots_progress.size, excluded.size)
                    """, logger: logger)
            }
        }
    }

    public func subtreeRoots(
        tenant: String, _ subtrees: [MerkleTree.Subtree]
    ) async throws(StoreError) -> [MerkleTree.Subtree: Digest256] {
        guard !subtrees.isEmpty else { return [:] }
        let wanted = Array(Set(subtrees))
        return try await read { connection, logger in
            var found: [MerkleTree.Subtree: Digest256] = [:]
            for try await (level, position, root) in try await connection.query("""
                SELECT r.level, r.position, r.root FROM subtree_roots r
                JOIN unnest(\(wanted.map { Int32($0.level) })::int4[], \(wanted.map(\.index))::int8[]) AS w(level, position)
                    ON r.level = w.level AND r.position = w.position
                WHERE r.tenant = \(tenant)
                """, logger: logger).decode((Int32, Int64, ByteBuffer).self) {
                if let digest = Digest256(Array(buffer: root)) { found[MerkleTree.Subtree(level: Int(level), index: position)] = digest }
            }
            return found
        }
    }

    public func subtreeRootsSize(tenant: String) async throws(StoreError) -> Int64 {
        try await read { connection, logger in
            var size: Int64 = 0
            for try await value in try await connection.query(
                "SELECT size FROM subtree_roots_progress WHERE tenant = \(tenant)", logger: logger).decode(Int64.self) {
                size = value
            }
            return size
        }
    }

    static func checkpoints(_ rows: PostgresRowSequence) async throws -> [Checkpoint] {
        var checkpoints: [Checkpoint] = []
        for try await (tenant, size, root, time, keyId, signature) in rows.decode(
            (String, Int64, ByteBuffer, Int64, String, ByteBuffer).self) {
            checkpoints.append(Checkpoint(tenant: tenant, size: size, root: Array(buffer: root),
                                          time: Timestamp(microseconds: time), keyId: keyId, signature: Array(buffer: signature)))
        }
        return checkpoints
    }
}
