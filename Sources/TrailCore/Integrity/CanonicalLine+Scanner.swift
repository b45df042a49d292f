#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The one pass over a line that checks it and writes its canonical form: structure (objects put in order,
/// arrays, literals). Strings and numbers: CanonicalLine+Scalars.swift.
extension CanonicalLine {
    struct GiveUp: Error {}

    struct Scanner {
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
    }
}
