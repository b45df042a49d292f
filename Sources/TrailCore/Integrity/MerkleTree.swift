import Crypto

/// Merkle tree hashing, inclusion and consistency proofs of RFC 9162 §2.1 (Certificate Transparency v2, the same
/// tree as RFC 6962), with SHA-256: `leaf = SHA-256(0x00 ‖ data)`, `node = SHA-256(0x01 ‖ left ‖ right)`, and
/// a tree of n leaves split at the largest power of two below n. Pure: leaves in, hashes out.
public enum MerkleTree {
    public typealias Hash = [UInt8]

    public static func leafHash(_ data: some Sequence<UInt8>) -> Hash {
        var input: [UInt8] = [0x00]
        input.append(contentsOf: data)
        return digest(input)
    }

    public static func nodeHash(_ left: Hash, _ right: Hash) -> Hash {
        var input: [UInt8] = []
        input.reserveCapacity(1 + left.count + right.count)
        input.append(0x01)
        input.append(contentsOf: left)
        input.append(contentsOf: right)
        return digest(input)
    }

    /// SHA-256 as bytes (one hashing call, and the digest copied out without going through a sequence).
    static func digest(_ input: [UInt8]) -> Hash {
        SHA256.hash(data: input).withUnsafeBytes { Array($0) }
    }

    /// The hash of an empty tree: SHA-256 of nothing.
    public static var emptyRoot: Hash { Array(SHA256.hash(data: [UInt8]())) }

    /// MTH(D[n]) of leaf hashes (already `leafHash`ed), in O(n) time and O(log n) memory.
    public static func root(ofLeafHashes leaves: some Collection<Hash>) -> Hash {
        var frontier = Frontier()
        for leaf in leaves { frontier.append(leafHash: leaf) }
        return frontier.root
    }

    /// `leafHash` of an event's hash, without allocating.
    public static func leaf(_ hash: Digest256) -> Digest256 { hash.sha256(prefixedBy: 0x00) }

    /// `nodeHash`, without allocating.
    public static func node(_ left: Digest256, _ right: Digest256) -> Digest256 { left.sha256(prefixedBy: 0x01, followedBy: right) }

    /// A tree growing one leaf at a time, holding only its right edge: the complete subtrees pending there,
    /// largest first (O(log n) hashes). Its root at any size is the root of the tree of the leaves so far.
    public struct Frontier: Sendable, Equatable {
        public private(set) var size: Int64 = 0
        /// The roots of the complete subtrees on the right edge, largest first: one per bit set in `size`.
        private var edge: [Digest256] = []

        public init() {}

        /// The edge of a tree of `size` leaves, as ``hashes`` gave it; nil if they cannot be its edge.
        public init?(size: Int64, hashes: [Hash]) {
            let edge = hashes.compactMap(Digest256.init)
            guard size >= 0, hashes.count == size.nonzeroBitCount, edge.count == hashes.count else { return nil }
            self.size = size
            self.edge = edge
        }

        /// The roots of the complete subtrees on the right edge, largest first.
        public var hashes: [Hash] { edge.map(\.bytes) }

        public mutating func append(leafHash: Hash) {
            guard let leaf = Digest256(leafHash) else { preconditionFailure("a leaf hash is 32 bytes") }
            append(leaf: leaf)
        }

        public mutating func append(leaf: Digest256) {
            append(leaf: leaf) { _, _ in }
        }

        /// Appends a leaf, and hands `completing` each perfect subtree of two leaves or more that it completes,
        /// smallest first, with its root.
        public mutating func append(leaf: Digest256, completing: (Subtree, Digest256) -> Void) {
            // A new leaf merges with the equal-sized subtrees on the edge: one per low bit set in the old size.
            var node = leaf
            var merges = size
            var level = 0
            while merges & 1 == 1 {
                node = MerkleTree.node(edge.removeLast(), node)
                merges >>= 1
                level += 1
                completing(Subtree(level: level, index: ((size + 1) >> level) - 1), node)
            }
            edge.append(node)
            size += 1
        }

        /// MTH of the leaves so far: the edge folded from the smallest subtree leftwards, which is exactly the
        /// RFC's split at powers of two.
        public var root: Hash {
            guard var hash = edge.last else { return MerkleTree.emptyRoot }
            for left in edge.dropLast().reversed() { hash = MerkleTree.node(left, hash) }
            return hash.bytes
        }
    }

    /// The largest power of two smaller than `n` (n ≥ 2).
    static func split(_ n: Int) -> Int {
        var k = 1
        while k << 1 < n { k <<= 1 }
        return k
    }

    /// PATH(m, D[n]): the audit path of leaf `index` in the tree of `leaves` (RFC 9162 §2.1.3.1).
    public static func inclusionProof(index: Int, leafHashes leaves: [Hash]) -> [Hash] {
        precondition(index >= 0 && index < leaves.count)
        return inclusionProof(index: Int64(index), size: Int64(leaves.count), subtreeRoots(of: leaves))
    }

    /// PROOF(m, D[n]): that the tree of the first `size` leaves is a prefix of the tree of `leaves`
    /// (RFC 9162 §2.1.4.1); 1 ≤ size ≤ leaves.count.
    public static func consistencyProof(from size: Int, leafHashes leaves: [Hash]) -> [Hash] {
        precondition(size >= 1 && size <= leaves.count)
        return consistencyProof(from: Int64(size), size: Int64(leaves.count), subtreeRoots(of: leaves))
    }

    /// Subtree roots computed from all the leaves (O(size of the subtree) each).
    private static func subtreeRoots(of leaves: [Hash]) -> SubtreeRoots {
        { subtree in Digest256(root(ofLeafHashes: leaves[Int(subtree.leaves.lowerBound)..<Int(subtree.leaves.upperBound)]))! }
    }

    /// Verifies an inclusion proof (RFC 9162 §2.1.3.2).
    public static func verifyInclusion(leafHash: Hash, index: Int, size: Int, proof: [Hash], root: Hash) -> Bool {
        guard index >= 0, index < size else { return false }
        var fn = index, sn = size - 1
        var r = leafHash
        for p in proof {
            if sn == 0 { return false }
            if fn & 1 == 1 || fn == sn {
                r = nodeHash(p, r)
                if fn & 1 == 0 {
                    while fn & 1 == 0 && fn != 0 { fn >>= 1; sn >>= 1 }
                }
            } else {
                r = nodeHash(r, p)
            }
            fn >>= 1
            sn >>= 1
        }
        return sn == 0 && r == root
    }

    /// Verifies a consistency proof between the tree of `first` leaves with root `firstRoot` and the tree of
    /// `second` leaves with root `secondRoot` (RFC 9162 §2.1.4.2).
    public static func verifyConsistency(first: Int, second: Int, firstRoot: Hash, secondRoot: Hash, proof: [Hash]) -> Bool {
        guard first >= 1, first <= second else { return false }
        if first == second { return proof.isEmpty && firstRoot == secondRoot }
        var path = proof
        if first & (first - 1) == 0 { path.insert(firstRoot, at: 0) }
        guard let head = path.first else { return false }
        var fn = first - 1, sn = second - 1
        while fn & 1 == 1 { fn >>= 1; sn >>= 1 }
        var fr = head, sr = head
        for c in path.dropFirst() {
            if sn == 0 { return false }
            if fn & 1 == 1 || fn == sn {
                fr = nodeHash(c, fr)
                sr = nodeHash(c, sr)
                if fn & 1 == 0 {
                    while fn & 1 == 0 && fn != 0 { fn >>= 1; sn >>= 1 }
                }
            } else {
                sr = nodeHash(sr, c)
            }
            fn >>= 1
            sn >>= 1
        }
        return fr == firstRoot && sr == secondRoot && sn == 0
    }
}
