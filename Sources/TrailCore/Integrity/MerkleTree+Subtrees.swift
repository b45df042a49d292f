/// Roots and proofs of RFC 9162 trees from the roots of their perfect subtrees, without the leaves.
///
/// Every subtree an inclusion or consistency proof names is either perfect and aligned (2^k leaves starting at a
/// multiple of 2^k) or ends at the tree's size, and then is a few perfect aligned ones side by side. So with
/// the roots of perfect subtrees at hand (a store keeps those of 256 leaves and more, ``Frontier/append(leaf:completing:)``),
/// a proof in a tree of n leaves costs O(log n) of them and O(log n) hashing, whatever n.
///
/// The functions take the roots from `subtree`. To learn which a proof needs, call them once with a `subtree`
/// that records what it is asked for (and answers anything), fetch those, then call again.
extension MerkleTree {
    /// The perfect subtree of the 2^`level` leaves from `index` × 2^`level`.
    public struct Subtree: Hashable, Sendable, CustomStringConvertible {
        public let level: Int
        public let index: Int64

        public init(level: Int, index: Int64) {
            precondition(level >= 0 && level < 63 && index >= 0)
            self.level = level
            self.index = index
        }

        /// Its leaves.
        public var leaves: Range<Int64> { (index << level)..<((index + 1) << level) }

        /// Its two halves (level ≥ 1).
        public var children: (Subtree, Subtree) {
            (Subtree(level: level - 1, index: 2 * index), Subtree(level: level - 1, index: 2 * index + 1))
        }

        public var description: String { "\(level)/\(index)" }
    }

    public typealias SubtreeRoots = (Subtree) -> Digest256

    /// MTH of the leaves `start..<end`, a range of the tree: aligned and perfect, or ending at its size.
    static func root(of leaves: Range<Int64>, _ subtree: SubtreeRoots) -> Digest256 {
        let count = leaves.count
        precondition(count >= 1)
        if count & (count - 1) == 0 && leaves.lowerBound % Int64(count) == 0 {
            return subtree(Subtree(level: count.trailingZeroBitCount, index: leaves.lowerBound / Int64(count)))
        }
        let k = Int64(split(count))
        let middle = leaves.lowerBound + k
        return node(root(of: leaves.lowerBound..<middle, subtree), root(of: middle..<leaves.upperBound, subtree))
    }

    /// MTH of the tree of `size` leaves.
    public static func root(size: Int64, _ subtree: SubtreeRoots) -> Hash {
        size == 0 ? emptyRoot : root(of: 0..<size, subtree).bytes
    }

    /// PATH(index, D[size]) (RFC 9162 §2.1.3.1).
    public static func inclusionProof(index: Int64, size: Int64, _ subtree: SubtreeRoots) -> [Hash] {
        precondition(index >= 0 && index < size)
        var proof: [Digest256] = []
        var leaves = 0..<size
        // From the root down; the path lists the siblings from the leaf up.
        while leaves.count > 1 {
            let middle = leaves.lowerBound + Int64(split(leaves.count))
            if index < middle {
                proof.append(root(of: middle..<leaves.upperBound, subtree))
                leaves = leaves.lowerBound..<middle
            } else {
                proof.append(root(of: leaves.lowerBound..<middle, subtree))
                leaves = middle..<leaves.upperBound
            }
        }
        return proof.reversed().map(\.bytes)
    }

    /// PROOF(from, D[size]) (RFC 9162 §2.1.4.1): that the tree of the first `from` leaves is a prefix of the
    /// tree of `size`; 1 ≤ from ≤ size.
    public static func consistencyProof(from: Int64, size: Int64, _ subtree: SubtreeRoots) -> [Hash] {
        precondition(from >= 1 && from <= size)
        var proof: [Digest256] = []
        var (m, leaves, complete) = (from, 0..<size, true)
        // SUBPROOF(m, D[leaves], complete), unrolled from the root down; its hashes come out leaf side last.
        while m != Int64(leaves.count) {
            let middle = leaves.lowerBound + Int64(split(leaves.count))
            let k = middle - leaves.lowerBound
            if m <= k {
                proof.append(root(of: middle..<leaves.upperBound, subtree))
                leaves = leaves.lowerBound..<middle
            } else {
                proof.append(root(of: leaves.lowerBound..<middle, subtree))
                m -= k
                leaves = middle..<leaves.upperBound
                complete = false
            }
        }
        if !complete { proof.append(root(of: leaves, subtree)) }
        return proof.reversed().map(\.bytes)
    }

    /// The subtrees a computation asks `subtree` for, in the order it asks.
    public static func subtreesNeeded(_ compute: (SubtreeRoots) -> Void) -> [Subtree] {
        var asked: [Subtree] = []
        compute { asked.append($0); return Digest256.zero }
        return asked
    }

    /// The root of a perfect aligned subtree from its leaves' hashes (already `leafHash`ed), in order.
    public static func subtreeRoot(leafHashes: some Collection<Digest256>) -> Digest256 {
        precondition(leafHashes.count.nonzeroBitCount == 1)
        var frontier = Frontier()
        for leaf in leafHashes { frontier.append(leaf: leaf) }
        return Digest256(frontier.root)!
    }
}

extension Digest256 {
    /// 32 zero bytes (a placeholder, never a hash of anything found).
    public static let zero = Digest256([UInt8](repeating: 0, count: 32))!
}
