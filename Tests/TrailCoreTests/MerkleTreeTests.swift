import Crypto
import Foundation
import Testing
@testable import TrailCore

/// RFC 9162 Merkle trees: roots, proofs and the subtrees proofs are computed from.
@Suite struct MerkleTreeTests {
    static func sha(_ bytes: [UInt8]) -> [UInt8] { Array(SHA256.hash(data: bytes)) }
    static func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    /// The leaves of Certificate Transparency's reference tests (RFC 6962 implementations): 0, 1, 2, 2, 2, 4, 4
    /// and 2 bytes.
    static let leaves: [[UInt8]] = [[], [0x00], [0x10], [0x20, 0x21], [0x30, 0x31], [0x40, 0x41, 0x42, 0x43],
                                    [0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57], [0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f]]

    @Test func rootsDerivedByHand() {
        let l = Self.leaves.map { Self.sha([0x00] + $0) }
        func node(_ a: [UInt8], _ b: [UInt8]) -> [UInt8] { Self.sha([0x01] + a + b) }
        let hashes = Self.leaves.map { MerkleTree.leafHash($0) }
        #expect(hashes == l)
        #expect(MerkleTree.root(ofLeafHashes: [[UInt8]]()) == Self.sha([]))
        #expect(MerkleTree.root(ofLeafHashes: hashes.prefix(1)) == l[0])
        #expect(MerkleTree.root(ofLeafHashes: hashes.prefix(2)) == node(l[0], l[1]))
        #expect(MerkleTree.root(ofLeafHashes: hashes.prefix(3)) == node(node(l[0], l[1]), l[2]))
        #expect(MerkleTree.root(ofLeafHashes: hashes.prefix(5)) == node(node(node(l[0], l[1]), node(l[2], l[3])), l[4]))
        #expect(MerkleTree.root(ofLeafHashes: hashes.prefix(7))
                == node(node(node(l[0], l[1]), node(l[2], l[3])), node(node(l[4], l[5]), l[6])))
        // Inclusion of leaf 2 in a tree of 5, and consistency of 3 within 5, written out.
        #expect(MerkleTree.inclusionProof(index: 2, leafHashes: Array(hashes.prefix(5))) == [l[3], node(l[0], l[1]), l[4]])
        #expect(MerkleTree.consistencyProof(from: 3, leafHashes: Array(hashes.prefix(5))) == [l[2], l[3], node(l[0], l[1]), l[4]])
        #expect(MerkleTree.consistencyProof(from: 4, leafHashes: Array(hashes.prefix(5))) == [l[4]])
    }

    /// The roots published with Certificate Transparency's reference implementation for these leaves.
    @Test func rootsOfTheReferenceTests() {
        let roots = [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
            "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
            "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
            "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
            "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        ]
        let hashes = Self.leaves.map { MerkleTree.leafHash($0) }
        for (i, root) in roots.enumerated() {
            #expect(Self.hex(MerkleTree.root(ofLeafHashes: hashes.prefix(i + 1))) == root, "size \(i + 1)")
        }
    }

    /// Every inclusion and consistency proof of trees up to 40 leaves verifies; altered ones do not.
    @Test func proofsRoundTripAndForgeriesFail() {
        let hashes = (0..<40).map { MerkleTree.leafHash([UInt8(truncatingIfNeeded: $0), 7]) }
        let roots = (0...hashes.count).map { MerkleTree.root(ofLeafHashes: hashes.prefix($0)) }
        for size in 1...hashes.count {
            let tree = Array(hashes.prefix(size))
            for index in 0..<size {
                let proof = MerkleTree.inclusionProof(index: index, leafHashes: tree)
                #expect(MerkleTree.verifyInclusion(leafHash: tree[index], index: index, size: size, proof: proof, root: roots[size]))
                #expect(!MerkleTree.verifyInclusion(leafHash: tree[(index + 1) % size], index: index, size: size, proof: proof, root: roots[size]) || size == 1)
                if let first = proof.first {
                    var forged = proof
                    forged[0] = MerkleTree.nodeHash(first, first)
                    #expect(!MerkleTree.verifyInclusion(leafHash: tree[index], index: index, size: size, proof: forged, root: roots[size]))
                    #expect(!MerkleTree.verifyInclusion(leafHash: tree[index], index: index, size: size, proof: proof.dropLast() + [], root: roots[size]))
                }
            }
            for first in 1...size {
                let proof = MerkleTree.consistencyProof(from: first, leafHashes: tree)
                #expect(MerkleTree.verifyConsistency(first: first, second: size, firstRoot: roots[first], secondRoot: roots[size], proof: proof),
                        "\(first) → \(size)")
                if first < size {
                    #expect(!MerkleTree.verifyConsistency(first: first, second: size, firstRoot: roots[first == 1 ? 2 : first - 1],
                                                          secondRoot: roots[size], proof: proof))
                    var forged = proof
                    forged[forged.count - 1] = MerkleTree.nodeHash(forged[forged.count - 1], forged[0])
                    #expect(!MerkleTree.verifyConsistency(first: first, second: size, firstRoot: roots[first], secondRoot: roots[size], proof: forged))
                }
            }
        }
    }
}

/// Roots and proofs from the roots of perfect subtrees, as a store keeps them, instead of every leaf.
@Suite struct MerkleSubtreeTests {
    static let leaves = (0..<700).map { Digest256(MerkleTree.leafHash([UInt8(truncatingIfNeeded: $0), UInt8($0 >> 8)]))! }

    /// Every perfect subtree of two leaves or more, as appending the leaves completes them.
    static let completed: [MerkleTree.Subtree: Digest256] = {
        var frontier = MerkleTree.Frontier()
        var found: [MerkleTree.Subtree: Digest256] = [:]
        for leaf in leaves {
            frontier.append(leaf: leaf) { subtree, root in
                precondition(found.updateValue(root, forKey: subtree) == nil, "each subtree once")
            }
        }
        return found
    }()

    /// Roots as a store would give them: level 0 from the leaves, others from `completed`.
    static func roots(_ subtree: MerkleTree.Subtree) -> Digest256 {
        subtree.level == 0 ? leaves[Int(subtree.index)] : completed[subtree]!
    }

    @Test func appendingReportsEveryPerfectSubtreeWithItsRoot() {
        #expect(Self.completed.count == (1...9).reduce(0) { $0 + 700 >> $1 })
        for (subtree, root) in Self.completed {
            let slice = Self.leaves[Int(subtree.leaves.lowerBound)..<Int(subtree.leaves.upperBound)]
            #expect(MerkleTree.subtreeRoot(leafHashes: slice) == root, "\(subtree)")
        }
    }

    @Test func proofsFromSubtreesAreTheProofsFromLeaves() {
        let hashes = Self.leaves.map(\.bytes)
        for size in [1, 2, 3, 7, 8, 9, 255, 256, 257, 511, 512, 513, 699, 700] {
            let tree = Array(hashes.prefix(size))
            #expect(MerkleTree.root(size: Int64(size), Self.roots) == MerkleTree.root(ofLeafHashes: tree))
            for index in Set([0, 1, size / 3, size / 2, size - 2, size - 1]) where index >= 0 && index < size {
                #expect(MerkleTree.inclusionProof(index: Int64(index), size: Int64(size), Self.roots)
                        == MerkleTree.inclusionProof(index: index, leafHashes: tree), "\(index) of \(size)")
            }
            for from in Set([1, 2, size / 2, size - 1, size]) where from >= 1 && from <= size {
                #expect(MerkleTree.consistencyProof(from: Int64(from), size: Int64(size), Self.roots)
                        == MerkleTree.consistencyProof(from: from, leafHashes: tree), "\(from) → \(size)")
            }
        }
    }

    /// At ten million leaves a proof names a few dozen subtrees, not millions of leaves.
    @Test func aProofNeedsLogarithmicallyManySubtrees() {
        let size: Int64 = 10_000_037
        let inclusion = MerkleTree.subtreesNeeded { _ = MerkleTree.inclusionProof(index: 4_321_987, size: size, $0) }
        let consistency = MerkleTree.subtreesNeeded { _ = MerkleTree.consistencyProof(from: 7_654_321, size: size, $0) }
        let root = MerkleTree.subtreesNeeded { _ = MerkleTree.root(size: size, $0) }
        #expect(inclusion.count <= 2 * 24 && consistency.count <= 3 * 24 && root.count == size.nonzeroBitCount)
        #expect(inclusion.allSatisfy { $0.leaves.upperBound <= size })
    }
}
