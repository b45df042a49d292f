public import TrailCore

/// What the integrity features read and keep (SPEC §8): the installation's checkpoint signing key (created with
/// the store, kept outside the events table, in its settings, never returned by any read of the log), the
/// tenants' hash chains, and the checkpoints signed over them.
public protocol IntegrityStore: Sendable {
    /// The 32-byte seed of the Ed25519 private key that signs this installation's checkpoints.
    func checkpointSigningKey() async throws(StoreError) -> [UInt8]

    /// Every tenant that has events, with its newest event's sequence and hash.
    func chainHeads() async throws(StoreError) -> [String: ChainHead]

    /// One tenant's newest event's sequence and hash (``ChainHead/empty`` before its first).
    func chainHead(tenant: String) async throws(StoreError) -> ChainHead

    /// The hashes of a tenant's events after `sequence`, in sequence order, at most `limit`.
    func eventHashes(tenant: String, after sequence: Int64, limit: Int) async throws(StoreError) -> [EventHash.Digest]

    /// Keeps a checkpoint with what its signer needs to go on from it; one of a (tenant, size) already kept is
    /// ignored (another process signed it first).
    func saveCheckpoint(_ checkpoint: Checkpoint, basis: CheckpointBasis) async throws(StoreError)

    /// The tenant's newest checkpoint and its basis, or nil before its first.
    func latestCheckpointBasis(tenant: String) async throws(StoreError) -> (Checkpoint, CheckpointBasis)?

    /// The tenant's checkpoints, oldest (smallest) first, at most `limit`, from the newest when `newest`.
    func checkpoints(tenant: String, newest: Bool, limit: Int) async throws(StoreError) -> [Checkpoint]

    /// The tenant's checkpoint of exactly `size`, or nil.
    func checkpoint(tenant: String, size: Int64) async throws(StoreError) -> Checkpoint?

    /// Keeps roots of perfect subtrees of the tenant's Merkle tree (of ``SubtreeRoots/minimumLevel`` and up),
    /// and that every such root within the first `size` leaves is kept now. A root kept already stays as it is.
    func saveSubtreeRoots(tenant: String, _ roots: [(MerkleTree.Subtree, Digest256)], through size: Int64) async throws(StoreError)

    /// The kept roots of those of `subtrees` that are kept.
    func subtreeRoots(tenant: String, _ subtrees: [MerkleTree.Subtree]) async throws(StoreError) -> [MerkleTree.Subtree: Digest256]

    /// The number of leaves of the tenant's tree within which every subtree root is kept (0 before any).
    func subtreeRootsSize(tenant: String) async throws(StoreError) -> Int64
}

/// Which subtree roots a store keeps: those of 256 leaves and more. A proof then reads a few dozen roots and at
/// most a few blocks of 256 event hashes, whatever the size of the log, for n/128 rows kept.
public enum SubtreeRoots {
    public static let minimumLevel = 8
}

extension IntegrityStore {
    /// The tenant's newest checkpoint, or nil before its first.
    public func latestCheckpoint(tenant: String) async throws(StoreError) -> Checkpoint? {
        try await checkpoints(tenant: tenant, newest: true, limit: 1).first
    }
}

/// What a signer keeps with a checkpoint to go on from it after a restart without reading every hash again:
/// the hash of the checkpoint's last event, and the right edge of its Merkle tree.
public struct CheckpointBasis: Sendable, Equatable {
    public var lastHash: EventHash.Digest
    public var frontier: [MerkleTree.Hash]

    public init(lastHash: EventHash.Digest, frontier: [MerkleTree.Hash]) {
        self.lastHash = lastHash
        self.frontier = frontier
    }

    /// The frontier as stored: its hashes one after another.
    var frontierBytes: [UInt8] { frontier.flatMap { $0 } }

    init(lastHash: [UInt8], frontierBytes: [UInt8]) {
        self.init(lastHash: lastHash, frontier: stride(from: 0, to: frontierBytes.count, by: 32).map {
            Array(frontierBytes[$0..<min($0 + 32, frontierBytes.count)])
        })
    }
}

extension ChainHead {
    /// Links an event stored before the chain existed (the migrations' backfill), refusing a tenant's log that
    /// has a gap or an event without a canonical form.
    mutating func linkStored(_ event: inout RecordedEvent) throws(StoreError) {
        guard event.sequence == sequence + 1 else {
            throw StoreError(.corrupt, "Tenant \(event.tenant) has no event \(sequence + 1): its events cannot be chained.")
        }
        do {
            try link(&event)
        } catch {
            throw StoreError(.corrupt, "Event \(event.id) cannot be hashed: \(error).")
        }
    }
}

/// A fresh Ed25519 seed: 32 random bytes (RFC 8032 §5.1.5).
enum SigningKeySeed {
    static func make() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }
}
