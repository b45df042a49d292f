import TrailCore
import TrailStore

/// Roots, inclusion and consistency proofs of a tenant's Merkle tree (SPEC §8) from the subtree roots the store
/// keeps (``SubtreeRoots``) and a few blocks of event hashes: a few dozen reads and O(log n) hashing whatever the
/// size of the log, so a proof at ten million events answers in milliseconds.
///
/// A subtree whose root is not kept yet (the checkpoint signer keeps them as it goes, a second or so behind the
/// newest events) is computed from its halves, down to event hashes. That is bounded: an answer that would read
/// more than ``maximumBlocks`` blocks of event hashes is refused (unavailable: retry shortly) instead of loading the
/// server.
struct TreeProofs {
    /// Roots and blocks read so far, shared by the computations of one answer (a proof and the roots it names
    /// read the same subtrees), and the ``maximumBlocks`` budget with them.
    private let resolver: Resolver

    init(store: any IntegrityStore, tenant: String) {
        resolver = Resolver(store: store, tenant: tenant)
    }

    /// The most blocks of 2^``SubtreeRoots/minimumLevel`` event hashes one answer may read.
    static let maximumBlocks = 256
    /// The problem of a tree larger than the tenant's stored log.
    static let shorterLog = "tree-size"

    func root(size: Int64) async throws -> MerkleTree.Hash {
        try await compute { MerkleTree.root(size: size, $0) }
    }

    func inclusionProof(index: Int64, size: Int64) async throws -> [MerkleTree.Hash] {
        try await compute { MerkleTree.inclusionProof(index: index, size: size, $0) }
    }

    func consistencyProof(from: Int64, size: Int64) async throws -> [MerkleTree.Hash] {
        try await compute { MerkleTree.consistencyProof(from: from, size: size, $0) }
    }

    /// Runs `body` once to learn the subtrees it needs, reads them, and runs it again with them.
    private func compute<T>(_ body: @escaping (MerkleTree.SubtreeRoots) -> T) async throws -> T {
        let wanted = MerkleTree.subtreesNeeded { _ = body($0) }
        try await resolver.keep(wanted.filter { $0.level >= SubtreeRoots.minimumLevel })
        var roots: [MerkleTree.Subtree: Digest256] = [:]
        for subtree in wanted { roots[subtree] = try await resolver.root(subtree) }
        return body { roots[$0]! }
    }

    /// Finds subtree roots: kept ones from the store, smaller ones from a block of event hashes, missing big
    /// ones from their halves.
    private final class Resolver {
        let store: any IntegrityStore
        let tenant: String
        var known: [MerkleTree.Subtree: Digest256] = [:]
        /// Leaf hashes of blocks read, by block.
        var blocks: [Int64: [Digest256]] = [:]

        init(store: any IntegrityStore, tenant: String) {
            self.store = store
            self.tenant = tenant
        }

        func keep(_ subtrees: [MerkleTree.Subtree]) async throws {
            let unknown = subtrees.filter { known[$0] == nil }
            guard !unknown.isEmpty else { return }
            known.merge(try await store.subtreeRoots(tenant: tenant, unknown)) { old, _ in old }
        }

        func root(_ subtree: MerkleTree.Subtree) async throws -> Digest256 {
            if let root = known[subtree] { return root }
            let root: Digest256
            if subtree.level < SubtreeRoots.minimumLevel {
                let block = subtree.leaves.lowerBound >> SubtreeRoots.minimumLevel
                let leaves = try await self.block(block)
                let start = Int(subtree.leaves.lowerBound - block << SubtreeRoots.minimumLevel)
                guard start + subtree.leaves.count <= leaves.count else {
                    throw ServiceError(.conflict, TreeProofs.shorterLog, title: "No such tree",
                                       detail: "The tenant's log has fewer than \(subtree.leaves.upperBound) events.")
                }
                root = MerkleTree.subtreeRoot(leafHashes: leaves[start..<(start + subtree.leaves.count)])
            } else {
                let (left, right) = subtree.children
                try await keep([left, right])
                root = MerkleTree.node(try await self.root(left), try await self.root(right))
            }
            known[subtree] = root
            return root
        }

        /// The leaf hashes of one block of events (fewer at the end of the log).
        private func block(_ block: Int64) async throws -> [Digest256] {
            if let leaves = blocks[block] { return leaves }
            guard blocks.count < TreeProofs.maximumBlocks else {
                throw ServiceError(.unavailable, "tree-not-ready", title: "Tree not ready",
                                   detail: "Trail is still keeping the Merkle tree of this tenant's newest events; retry shortly, or ask about the newest checkpoint's size.",
                                   retryAfter: 1)
            }
            let size = Int64(1) << SubtreeRoots.minimumLevel
            let hashes = try await store.eventHashes(tenant: tenant, after: block * size, limit: Int(size))
            let leaves = hashes.map { Digest256(MerkleTree.leafHash($0))! }
            blocks[block] = leaves
            return leaves
        }
    }
}
