#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The RFC 8785 canonical form of one exported event, straight from its JSON text, without building a
/// ``JSONValue``: what `trail verify` does to every line of an export, so it must be fast.
///
/// Handles what JSON writers commonly produce: strings whose escapes are already canonical (`\"`, `\\`, `\b`,
/// `\f`, `\n`, `\r`, `\t`, `\u00xx` for other control characters), valid UTF-8, member names without escapes or
/// characters from U+E000 up (whose UTF-8 order differs from UTF-16 order), numbers of any form (rewritten as
/// RFC 8785 says). Anything else — another escape, a duplicate name, deep nesting, invalid text — makes it give
/// up (nil), and the caller takes the general path (``JSONParser`` then ``CanonicalJSON``), which either
/// produces the same bytes or reports the error. A test compares both paths on many inputs.
public enum CanonicalLine {
    /// What verification needs from a line: the hash of its canonical form without `hash`, and the members it
    /// checks.
    public struct Event: Sendable {
        /// SHA-256 of the canonical form without `hash`.
        public var recomputed: Digest256
        public var sequence: Int64?
        public var tenant: String?
        public var prevHash: Digest256?
        public var hash: Digest256?
    }

    /// One line's event, with a canonicalizer of its own (tests, single lines; loops keep a ``Canonicalizer``).
    public static func event(_ line: [UInt8]) -> Event? {
        Canonicalizer().event(line)
    }

    /// The canonical form of one line without its top-level `hash`, or nil where the fast path gives up.
    public static func canonicalForm(_ line: [UInt8]) -> [UInt8]? {
        Canonicalizer().canonicalForm(line)
    }

    /// Canonicalizes line after line in buffers it keeps (no allocation per line once they have grown). One per
    /// thread: it is not `Sendable`.
    public final class Canonicalizer {
        private var output: Buffer<UInt8>
        private var scratch: Buffer<UInt8>
        private var members: Buffer<Member>
        private var order: Buffer<Int>
        /// The order the previous line's top-level members were sorted into, tried first on the next line: the
        /// lines of an export share their shape.
        private var topOrder: [Int] = []
        /// The previous line's tenant, reused while the next lines name the same one.
        private var tenant: (bytes: [UInt8], string: String) = ([], "")

        public init() {
            output = Buffer(capacity: 4096)
            scratch = Buffer(capacity: 4096)
            members = Buffer(capacity: 64)
            order = Buffer(capacity: 64)
        }

        deinit {
            output.free()
            scratch.free()
            members.free()
            order.free()
        }

        public func event(_ line: some Collection<UInt8>) -> Event? {
            if let event = line.withContiguousStorageIfAvailable({ event(in: $0) }) { return event }
            return Array(line).withUnsafeBufferPointer { event(in: $0) }
        }

        public func event(in line: UnsafeBufferPointer<UInt8>) -> Event? {
            guard let top = scan(line) else { return nil }
            let recomputed = Digest256.sha256(UnsafeRawBufferPointer(start: form(top), count: top.count))
            var tenant: String?
            if let range = top.tenant {
                let bytes = UnsafeBufferPointer(rebasing: line[range])
                if !bytes.elementsEqual(self.tenant.bytes) {
                    self.tenant = (Array(bytes), String(decoding: bytes, as: UTF8.self))
                }
                tenant = self.tenant.string
            }
            return Event(recomputed: recomputed, sequence: top.sequence, tenant: tenant, prevHash: top.prevHash, hash: top.hash)
        }

        func canonicalForm(_ line: [UInt8]) -> [UInt8]? {
            line.withUnsafeBufferPointer { line in
                scan(line).map { Array(UnsafeBufferPointer(start: form($0), count: $0.count)) }
            }
        }

        /// Where the scanner left the canonical form.
        private func form(_ top: Scanner.Top) -> UnsafeMutablePointer<UInt8> {
            top.inScratch ? scratch.base : output.base
        }

        /// Writes the canonical form into `output`; what the top-level members said, or nil to give up.
        private func scan(_ line: UnsafeBufferPointer<UInt8>) -> Scanner.Top? {
            guard let base = line.baseAddress else { return nil }
            output.reserve(line.count + 64)
            scratch.reserve(line.count + 64)
            var scanner = Scanner(source: base, count: line.count, output: output, scratch: scratch,
                                  members: members, order: order, topOrder: topOrder)
            let top = try? scanner.document()
            (output, scratch, members, order, topOrder) = (scanner.output, scanner.scratch, scanner.members, scanner.order, scanner.topOrder)
            return top
        }
    }

    /// Memory that grows and is freed by hand: the scanner's buffers, written through pointers.
    struct Buffer<Element> {
        private(set) var base: UnsafeMutablePointer<Element>
        private(set) var capacity: Int

        init(capacity: Int) {
            base = .allocate(capacity: capacity)
            self.capacity = capacity
        }

        /// Room for at least `count` elements; the first `keeping` are kept when it moves.
        mutating func reserve(_ count: Int, keeping: Int = 0) {
            guard count > capacity else { return }
            let grown = max(count, capacity * 2)
            let moved = UnsafeMutablePointer<Element>.allocate(capacity: grown)
            moved.moveInitialize(from: base, count: keeping)
            base.deallocate()
            (base, capacity) = (moved, grown)
        }

        func free() { base.deallocate() }
    }

    /// A member of an object being read: its name in the source, and its text (`"name":value`) in the output.
    struct Member {
        var name: Range<Int>
        var text: Range<Int>
    }
}
