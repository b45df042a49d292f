public import Crypto

/// A SHA-256 digest held inline — 32 bytes, no allocation — for the paths that handle one or more per event:
/// the verifier (an event's claimed, previous and recomputed hash, its Merkle leaf) and the tree's right edge.
/// The public API keeps digests as `[UInt8]` (``EventHash/Digest``, ``MerkleTree/Hash``); ``bytes`` and
/// ``init(_:)-([UInt8])`` convert.
public struct Digest256: Hashable, Sendable {
    /// The 32 bytes in order, eight to a word (as loaded from memory: the words are not numbers).
    private var words: (UInt64, UInt64, UInt64, UInt64)

    /// 32 bytes from memory.
    init(loading raw: UnsafeRawBufferPointer) {
        precondition(raw.count == 32)
        words = (raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self), raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self),
                 raw.loadUnaligned(fromByteOffset: 16, as: UInt64.self), raw.loadUnaligned(fromByteOffset: 24, as: UInt64.self))
    }

    public init(_ digest: SHA256Digest) {
        self = digest.withUnsafeBytes { Digest256(loading: $0) }
    }

    /// 32 bytes, or nil for any other count.
    public init?(_ bytes: [UInt8]) {
        guard bytes.count == 32 else { return nil }
        self = bytes.withUnsafeBytes { Digest256(loading: $0) }
    }

    /// 64 lower-case hex digits, or nil.
    init?(hex digits: UnsafeRawBufferPointer) {
        guard digits.count == 64 else { return nil }
        var raw = (UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        let valid = withUnsafeMutableBytes(of: &raw) { out in Hex.decode(digits, into: out) }
        guard valid else { return nil }
        words = raw
    }

    public var bytes: [UInt8] {
        withUnsafeBytes(of: words) { Array($0) }
    }

    public static func == (a: Digest256, b: Digest256) -> Bool {
        a.words.0 == b.words.0 && a.words.1 == b.words.1 && a.words.2 == b.words.2 && a.words.3 == b.words.3
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(words.0)
        hasher.combine(words.1)
        hasher.combine(words.2)
        hasher.combine(words.3)
    }

    /// SHA-256 of `data`.
    public static func sha256(_ data: UnsafeRawBufferPointer) -> Digest256 {
        var hasher = SHA256()
        hasher.update(bufferPointer: data)
        return Digest256(hasher.finalize())
    }

    /// SHA-256 of `prefix ‖ self ‖ other`: a Merkle leaf (prefix 0x00, no other) or node (0x01, left ‖ right).
    func sha256(prefixedBy prefix: UInt8, followedBy other: Digest256? = nil) -> Digest256 {
        withUnsafeTemporaryAllocation(byteCount: 65, alignment: 8) { buffer in
            buffer[0] = prefix
            withUnsafeBytes(of: words) { UnsafeMutableRawBufferPointer(rebasing: buffer[1..<33]).copyMemory(from: $0) }
            guard let other else { return Digest256.sha256(UnsafeRawBufferPointer(rebasing: buffer[0..<33])) }
            withUnsafeBytes(of: other.words) { UnsafeMutableRawBufferPointer(rebasing: buffer[33..<65]).copyMemory(from: $0) }
            return Digest256.sha256(UnsafeRawBufferPointer(buffer))
        }
    }
}
