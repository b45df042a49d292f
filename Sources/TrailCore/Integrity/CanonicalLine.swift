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

    private struct GiveUp: Error {}

    private struct Scanner {
        struct Top {
            /// The length of the canonical form, in the output or (`inScratch`) in the scratch buffer.
            var count = 0
            var inScratch = false
            var sequence: Int64?
            var tenant: Range<Int>?
            var prevHash: Digest256?
            var hash: Digest256?
            var sawHash = false
        }

        let source: UnsafePointer<UInt8>
        let count: Int
        var index = 0
        var output: Buffer<UInt8>
        var written = 0
        var scratch: Buffer<UInt8>
        var members: Buffer<Member>
        var memberCount = 0
        var order: Buffer<Int>
        var topOrder: [Int]
        var depth = 0
        var top = Top()

        init(source: UnsafePointer<UInt8>, count: Int, output: Buffer<UInt8>, scratch: Buffer<UInt8>,
             members: Buffer<Member>, order: Buffer<Int>, topOrder: [Int]) {
            self.source = source
            self.count = count
            self.output = output
            self.scratch = scratch
            self.members = members
            self.order = order
            self.topOrder = topOrder
        }

        mutating func document() throws(GiveUp) -> Top {
            skipWhitespace()
            guard index < count, source[index] == UInt8(ascii: "{") else { throw GiveUp() }
            try object(isTop: true)
            skipWhitespace()
            guard index == count else { throw GiveUp() }
            if !top.inScratch { top.count = written }
            return top
        }

        // MARK: Output

        /// Room for `extra` more bytes of output.
        @inline(__always) mutating func room(_ extra: Int) {
            if written + extra > output.capacity { output.reserve(written + extra, keeping: written) }
        }

        @inline(__always) mutating func emit(_ byte: UInt8) {
            room(1)
            output.base[written] = byte
            written += 1
        }

        @inline(__always) mutating func emit(_ start: Int, _ end: Int) {
            let length = end - start
            room(length)
            (output.base + written).update(from: source + start, count: length)
            written += length
        }

        // MARK: Reading

        mutating func skipWhitespace() {
            while index < count {
                switch source[index] {
                case 0x20, 0x0A, 0x0D, 0x09: index += 1
                default: return
                }
            }
        }

        mutating func value() throws(GiveUp) {
            skipWhitespace()
            guard index < count else { throw GiveUp() }
            switch source[index] {
            case UInt8(ascii: "\""):
                let start = index
                try string()
                emit(start, index)
            case UInt8(ascii: "{"): try object(isTop: false)
            case UInt8(ascii: "["): try array()
            case UInt8(ascii: "t"): try literal("true")
            case UInt8(ascii: "f"): try literal("false")
            case UInt8(ascii: "n"): try literal("null")
            default: try number()
            }
        }

        mutating func literal(_ word: StaticString) throws(GiveUp) {
            let length = word.utf8CodeUnitCount
            guard count - index >= length, memcmp(source + index, word.utf8Start, length) == 0 else { throw GiveUp() }
            emit(index, index + length)
            index += length
        }

        mutating func enter() throws(GiveUp) {
            depth += 1
            guard depth <= JSONParser.maximumDepth else { throw GiveUp() }
        }

        mutating func array() throws(GiveUp) {
            try enter()
            index += 1
            emit(UInt8(ascii: "["))
            skipWhitespace()
            if index < count, source[index] == UInt8(ascii: "]") {
                index += 1
            } else {
                while true {
                    try value()
                    if try closes(with: UInt8(ascii: "]")) { break }
                    emit(UInt8(ascii: ","))
                }
            }
            emit(UInt8(ascii: "]"))
            depth -= 1
        }

        /// After an element or member: true at the closing `bracket`, false past a comma; anything else gives up.
        mutating func closes(with bracket: UInt8) throws(GiveUp) -> Bool {
            skipWhitespace()
            guard index < count else { throw GiveUp() }
            let byte = source[index]
            index += 1
            if byte == bracket { return true }
            guard byte == UInt8(ascii: ",") else { throw GiveUp() }
            return false
        }

        /// An object: each member written as it comes (`"name":value,`), then, if the names were not in order,
        /// the members rewritten in name order. At the top (`isTop`), `hash` is left out, and the members
        /// verification reads are kept.
        mutating func object(isTop: Bool) throws(GiveUp) {
            try enter()
            index += 1
            let start = written
            emit(UInt8(ascii: "{"))
            let first = memberCount
            skipWhitespace()
            if index < count, source[index] == UInt8(ascii: "}") {
                index += 1
            } else {
                while true {
                    skipWhitespace()
                    guard index < count, source[index] == UInt8(ascii: "\"") else { throw GiveUp() }
                    let quoted = index
                    try string()
                    let name = (quoted + 1)..<(index - 1)
                    // Names compare as UTF-16 code units: raw UTF-8 bytes order alike below U+E000, without escapes.
                    for i in name where source[i] == UInt8(ascii: "\\") || source[i] >= 0xEE { throw GiveUp() }
                    skipWhitespace()
                    guard index < count, source[index] == UInt8(ascii: ":") else { throw GiveUp() }
                    index += 1
                    let text = written
                    emit(quoted, name.upperBound + 1)
                    emit(UInt8(ascii: ":"))
                    let value = written
                    try self.value()
                    if isTop, try readTop(name: name, value: value) {
                        written = text  // `hash` is not part of what it hashes
                    } else {
                        if memberCount == members.capacity { members.reserve(memberCount + 1, keeping: memberCount) }
                        members.base[memberCount] = Member(name: name, text: text..<written)
                        memberCount += 1
                        emit(UInt8(ascii: ","))
                    }
                    if try closes(with: UInt8(ascii: "}")) { break }
                }
            }
            if memberCount > first {
                try putInOrder(first: first, objectStart: start, isTop: isTop)
                written -= 1  // the last member's comma
            }
            emit(UInt8(ascii: "}"))
            memberCount = first
            depth -= 1
        }

        /// The top-level members verification reads; true for `hash`, which is left out of the canonical form.
        mutating func readTop(name: Range<Int>, value: Int) throws(GiveUp) -> Bool {
            let valueBytes = UnsafeBufferPointer(start: output.base + value, count: written - value)
            func quotedHex() -> Digest256? {
                guard valueBytes.count == 66 else { return nil }
                return Digest256(hex: UnsafeRawBufferPointer(start: valueBytes.baseAddress! + 1, count: 64))
            }
            switch name.count {
            case 4 where memcmp(source + name.lowerBound, "hash", 4) == 0:
                guard !top.sawHash else { throw GiveUp() }  // a duplicate
                top.sawHash = true
                top.hash = quotedHex()
                return true
            case 8 where memcmp(source + name.lowerBound, "sequence", 8) == 0:
                if valueBytes.count <= 18, !valueBytes.isEmpty, valueBytes.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) {
                    top.sequence = valueBytes.reduce(Int64(0)) { $0 * 10 + Int64($1 - UInt8(ascii: "0")) }
                }
            case 6 where memcmp(source + name.lowerBound, "tenant", 6) == 0:
                // The value was copied from the source unchanged: its text is there too, between the quotes.
                if valueBytes.count >= 2, valueBytes[0] == UInt8(ascii: "\""), !valueBytes.contains(UInt8(ascii: "\\")) {
                    top.tenant = (index - valueBytes.count + 1)..<(index - 1)
                }
            case 9 where memcmp(source + name.lowerBound, "prev_hash", 9) == 0:
                top.prevHash = quotedHex()
            default:
                break
            }
            return false
        }

        /// -1, 0 or 1 as name `a` sorts before, with, or after name `b` (bytewise: see the name check above).
        @inline(__always) func compare(_ a: Int, _ b: Int) -> Int32 {
            let (x, y) = (members.base[a].name, members.base[b].name)
            let common = memcmp(source + x.lowerBound, source + y.lowerBound, min(x.count, y.count))
            if common != 0 { return common }
            return x.count == y.count ? 0 : (x.count < y.count ? -1 : 1)
        }

        /// Rewrites the members `first..<memberCount` of the object at `objectStart` in name order (nothing to do
        /// when they came in order); a repeated name gives up.
        mutating func putInOrder(first: Int, objectStart: Int, isTop: Bool) throws(GiveUp) {
            let count = memberCount - first
            var sorted = true
            for i in (first + 1)..<(first + count) {
                let comparison = compare(i - 1, i)
                if comparison == 0 { throw GiveUp() }
                if comparison > 0 { sorted = false; break }
            }
            if sorted { return }
            if order.capacity < count { order.reserve(count) }
            let indices = order.base
            if isTop && topOrder.count == count && inOrder(topOrder, first: first) {
                for i in 0..<count { indices[i] = topOrder[i] }
            } else {
                // Insertion sort of member indices: objects are small.
                for i in 0..<count {
                    var j = i
                    while j > 0, compare(first + indices[j - 1], first + i) > 0 {
                        indices[j] = indices[j - 1]
                        j -= 1
                    }
                    indices[j] = i
                }
                for i in 1..<count where compare(first + indices[i - 1], first + indices[i]) == 0 { throw GiveUp() }
                if isTop { topOrder = Array(UnsafeBufferPointer(start: indices, count: count)) }
            }
            // The members, in order, each followed by its comma, then copied back over the object's members.
            let membersStart = objectStart + 1
            if scratch.capacity < written + 1 { scratch.reserve(written + 1) }
            var out = scratch.base + 1
            for i in 0..<count {
                let text = members.base[first + indices[i]].text
                out.update(from: output.base + text.lowerBound, count: text.count)
                out += text.count
                out.pointee = UInt8(ascii: ",")
                out += 1
            }
            if isTop {
                // The whole form is ready: hashed where it is, not copied back.
                scratch.base[0] = UInt8(ascii: "{")
                (out - 1).pointee = UInt8(ascii: "}")
                top.inScratch = true
                top.count = scratch.base.distance(to: out)
                return
            }
            (output.base + membersStart).update(from: scratch.base + 1, count: written - membersStart)
        }

        /// Whether the members `first…`, taken in `candidate` order, have strictly increasing names.
        func inOrder(_ candidate: [Int], first: Int) -> Bool {
            for i in 1..<candidate.count where compare(first + candidate[i - 1], first + candidate[i]) >= 0 { return false }
            return true
        }

        /// A string whose escapes are canonical and whose text is valid UTF-8; `index` ends past its closing quote.
        mutating func string() throws(GiveUp) {
            index += 1
            while true {
                // Eight bytes at a time while none is a quote, a backslash, a control character or non-ASCII.
                while index + 8 <= count {
                    let word = UnsafeRawPointer(source + index).loadUnaligned(as: UInt64.self)
                    if Self.needsALook(word) { break }
                    index += 8
                }
                guard index < count else { throw GiveUp() }
                switch source[index] {
                case UInt8(ascii: "\""):
                    index += 1
                    return
                case UInt8(ascii: "\\"):
                    try escape()
                case 0..<0x20:
                    throw GiveUp()
                case 0x80...:
                    let bytes = UnsafeBufferPointer(start: source, count: count)
                    guard case .valid(let length) = UTF8Sequence.check(bytes, at: index) else { throw GiveUp() }
                    index += length
                default:
                    index += 1
                }
            }
        }

        /// Whether any of a word's bytes is `"`, `\`, below 0x20 or from 0x80 (never a false "no"; a false "yes"
        /// only after a true one, which the byte-by-byte look then finds first).
        @inline(__always) static func needsALook(_ word: UInt64) -> Bool {
            JSONWriter.escapeMarks(word) | (word & 0x8080_8080_8080_8080) != 0
        }

        /// An escape inside a string, which must be canonical already.
        mutating func escape() throws(GiveUp) {
            guard index + 1 < count else { throw GiveUp() }
            switch source[index + 1] {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "b"), UInt8(ascii: "f"), UInt8(ascii: "n"),
                 UInt8(ascii: "r"), UInt8(ascii: "t"):
                index += 2
            case UInt8(ascii: "u"):
                // Canonical only for control characters without a short escape, in lower-case hex.
                guard index + 5 < count, source[index + 2] == UInt8(ascii: "0"), source[index + 3] == UInt8(ascii: "0"),
                      source[index + 4] == UInt8(ascii: "0") || source[index + 4] == UInt8(ascii: "1") else { throw GiveUp() }
                let last = source[index + 5]
                guard (last >= UInt8(ascii: "0") && last <= UInt8(ascii: "9")) || (last >= UInt8(ascii: "a") && last <= UInt8(ascii: "f")) else {
                    throw GiveUp()
                }
                if source[index + 4] == UInt8(ascii: "0"),
                   [UInt8(ascii: "0"), UInt8(ascii: "8"), UInt8(ascii: "9"), UInt8(ascii: "a"), UInt8(ascii: "c"), UInt8(ascii: "d")].contains(last) {
                    throw GiveUp()  // \b \t \n \f \r have short forms; NUL is refused by the parser
                }
                index += 6
            default:
                throw GiveUp()
            }
        }

        /// A number: as written if it is a whole number of up to 15 digits (its own canonical form), else
        /// rewritten as RFC 8785 says.
        mutating func number() throws(GiveUp) {
            let start = index
            func digit(_ at: Int) -> Bool { at < count && source[at] >= UInt8(ascii: "0") && source[at] <= UInt8(ascii: "9") }
            if index < count, source[index] == UInt8(ascii: "-") { index += 1 }
            guard digit(index) else { throw GiveUp() }
            if source[index] == UInt8(ascii: "0") {
                index += 1
                if digit(index) { throw GiveUp() }
            } else {
                while digit(index) { index += 1 }
            }
            var plain = true
            if index < count, source[index] == UInt8(ascii: ".") {
                plain = false
                index += 1
                guard digit(index) else { throw GiveUp() }
                while digit(index) { index += 1 }
            }
            if index < count, source[index] == UInt8(ascii: "e") || source[index] == UInt8(ascii: "E") {
                plain = false
                index += 1
                if index < count, source[index] == UInt8(ascii: "+") || source[index] == UInt8(ascii: "-") { index += 1 }
                guard digit(index) else { throw GiveUp() }
                while digit(index) { index += 1 }
            }
            let literal = UnsafeBufferPointer(start: source + start, count: index - start)
            if plain && literal.count <= 15 && !literal.elementsEqual("-0".utf8) {
                emit(start, index)
                return
            }
            guard let canonical = try? CanonicalJSON.number(String(decoding: literal, as: UTF8.self)) else { throw GiveUp() }
            for byte in canonical.utf8 { emit(byte) }
        }
    }
}
