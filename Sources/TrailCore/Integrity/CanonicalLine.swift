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
    /// What verification needs from a line: its canonical form without `hash`, and the members it checks.
    public struct Event {
        public var canonical: [UInt8]
        public var sequence: Int64?
        public var tenant: String?
        public var prevHash: [UInt8]?
        public var hash: [UInt8]?
    }

    public static func event(_ line: some Collection<UInt8>) -> Event? {
        if let event = line.withContiguousStorageIfAvailable({ event(in: $0) }) { return event }
        return Array(line).withUnsafeBufferPointer { event(in: $0) }
    }

    static func event(in buffer: UnsafeBufferPointer<UInt8>) -> Event? {
        var scanner = Scanner(bytes: buffer)
        return try? scanner.event()
    }

    private struct GiveUp: Error {}

    private struct Scanner {
        let bytes: UnsafeBufferPointer<UInt8>
        var index = 0
        var output: [UInt8] = []
        var depth = 0
        /// The members of the objects being read, innermost last (one array for all levels).
        var members: [(name: Range<Int>, value: Range<Int>)] = []
        /// Where an object's members are put in order before they replace its value in `output`.
        var scratch: [UInt8] = []
        /// What the top-level object's members tell verification.
        var top = Event(canonical: [])

        init(bytes: UnsafeBufferPointer<UInt8>) {
            self.bytes = bytes
            output.reserveCapacity(bytes.count)
            members.reserveCapacity(64)
            scratch.reserveCapacity(bytes.count)
        }

        mutating func event() throws(GiveUp) -> Event {
            skipWhitespace()
            guard peek == UInt8(ascii: "{") else { throw GiveUp() }
            try object(isTop: true)
            skipWhitespace()
            guard index == bytes.count else { throw GiveUp() }
            top.canonical = output
            return top
        }

        var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

        mutating func skipWhitespace() {
            while index < bytes.count, bytes[index] == 0x20 || bytes[index] == 0x0A || bytes[index] == 0x0D || bytes[index] == 0x09 {
                index += 1
            }
        }

        mutating func value() throws(GiveUp) {
            skipWhitespace()
            guard let byte = peek else { throw GiveUp() }
            switch byte {
            case UInt8(ascii: "{"):
                try object(isTop: false)
            case UInt8(ascii: "["): try array()
            case UInt8(ascii: "\""):
                let range = try string()
                output.append(UInt8(ascii: "\""))
                output.append(contentsOf: bytes[range])
                output.append(UInt8(ascii: "\""))
            case UInt8(ascii: "t"): try literal("true")
            case UInt8(ascii: "f"): try literal("false")
            case UInt8(ascii: "n"): try literal("null")
            default: try number()
            }
        }

        mutating func literal(_ word: StaticString) throws(GiveUp) {
            let count = word.utf8CodeUnitCount
            guard bytes.count - index >= count else { throw GiveUp() }
            for offset in 0..<count where bytes[index + offset] != word.utf8Start[offset] { throw GiveUp() }
            output.append(contentsOf: UnsafeBufferPointer(start: word.utf8Start, count: count))
            index += count
        }

        mutating func enter() throws(GiveUp) {
            depth += 1
            guard depth <= JSONParser.maximumDepth else { throw GiveUp() }
        }

        mutating func array() throws(GiveUp) {
            try enter()
            index += 1
            output.append(UInt8(ascii: "["))
            skipWhitespace()
            if peek == UInt8(ascii: "]") {
                index += 1
            } else {
                while true {
                    try value()
                    skipWhitespace()
                    guard let byte = peek else { throw GiveUp() }
                    index += 1
                    if byte == UInt8(ascii: "]") { break }
                    guard byte == UInt8(ascii: ",") else { throw GiveUp() }
                    output.append(UInt8(ascii: ","))
                }
            }
            output.append(UInt8(ascii: "]"))
            depth -= 1
        }

        /// An object: each member's value written where it comes, then the members rewritten in name order.
        /// At the top (`isTop`), `hash` is left out, and the members verification reads are kept.
        mutating func object(isTop: Bool) throws(GiveUp) {
            try enter()
            index += 1
            let base = output.count
            let firstMember = members.count
            skipWhitespace()
            if peek == UInt8(ascii: "}") {
                index += 1
            } else {
                while true {
                    skipWhitespace()
                    guard peek == UInt8(ascii: "\"") else { throw GiveUp() }
                    let name = try string()
                    // Names compare as UTF-16 code units: raw UTF-8 bytes order alike below U+E000, without escapes.
                    for byte in bytes[name] where byte == UInt8(ascii: "\\") || byte >= 0xEE { throw GiveUp() }
                    skipWhitespace()
                    guard peek == UInt8(ascii: ":") else { throw GiveUp() }
                    index += 1
                    let start = output.count
                    try value()
                    members.append((name, start..<output.count))
                    skipWhitespace()
                    guard let byte = peek else { throw GiveUp() }
                    index += 1
                    if byte == UInt8(ascii: "}") { break }
                    guard byte == UInt8(ascii: ",") else { throw GiveUp() }
                }
            }
            let source = bytes
            func name(_ range: Range<Int>) -> UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(rebasing: source[range]) }
            members[firstMember...].sort { name($0.name).lexicographicallyPrecedes(name($1.name)) }
            scratch.removeAll(keepingCapacity: true)
            scratch.append(UInt8(ascii: "{"))
            var first = true
            for i in firstMember..<members.count {
                let member = members[i]
                if i > firstMember, name(members[i - 1].name).elementsEqual(name(member.name)) { throw GiveUp() }  // duplicate
                if isTop {
                    let key = name(member.name)
                    let value = output[member.value]
                    switch key.count {
                    case 4 where key.elementsEqual("hash".utf8):
                        top.hash = Self.hex(value)
                        continue
                    case 8 where key.elementsEqual("sequence".utf8):
                        top.sequence = Int64(String(decoding: value, as: UTF8.self))
                    case 6 where key.elementsEqual("tenant".utf8):
                        if value.count >= 2, value.first == UInt8(ascii: "\""), !value.contains(UInt8(ascii: "\\")) {
                            top.tenant = String(decoding: value.dropFirst().dropLast(), as: UTF8.self)
                        }
                    case 9 where key.elementsEqual("prev_hash".utf8):
                        top.prevHash = Self.hex(value)
                    default:
                        break
                    }
                }
                if !first { scratch.append(UInt8(ascii: ",")) }
                first = false
                scratch.append(UInt8(ascii: "\""))
                scratch.append(contentsOf: name(member.name))
                scratch.append(UInt8(ascii: "\""))
                scratch.append(UInt8(ascii: ":"))
                scratch.append(contentsOf: output[member.value])
            }
            scratch.append(UInt8(ascii: "}"))
            members.removeSubrange(firstMember...)
            output.replaceSubrange(base..., with: scratch)
            depth -= 1
        }

        /// A quoted JSON string of 64 lower-case hex digits, as bytes.
        static func hex(_ quoted: ArraySlice<UInt8>) -> [UInt8]? {
            guard quoted.count == 66 else { return nil }
            return Hex.decode(quoted.dropFirst().dropLast(), count: 32)
        }

        /// A string whose escapes are canonical and whose text is valid UTF-8: the range of its content.
        mutating func string() throws(GiveUp) -> Range<Int> {
            index += 1
            let start = index
            while true {
                guard index < bytes.count else { throw GiveUp() }
                let byte = bytes[index]
                switch byte {
                case UInt8(ascii: "\""):
                    index += 1
                    return start..<(index - 1)
                case UInt8(ascii: "\\"):
                    guard index + 1 < bytes.count else { throw GiveUp() }
                    switch bytes[index + 1] {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "b"), UInt8(ascii: "f"), UInt8(ascii: "n"),
                         UInt8(ascii: "r"), UInt8(ascii: "t"):
                        index += 2
                    case UInt8(ascii: "u"):
                        // Canonical only for control characters without a short escape, in lower-case hex.
                        guard index + 5 < bytes.count, bytes[index + 2] == UInt8(ascii: "0"), bytes[index + 3] == UInt8(ascii: "0"),
                              bytes[index + 4] == UInt8(ascii: "0") || bytes[index + 4] == UInt8(ascii: "1") else { throw GiveUp() }
                        let last = bytes[index + 5]
                        guard (last >= UInt8(ascii: "0") && last <= UInt8(ascii: "9")) || (last >= UInt8(ascii: "a") && last <= UInt8(ascii: "f")) else {
                            throw GiveUp()
                        }
                        if bytes[index + 4] == UInt8(ascii: "0"),
                           [UInt8(ascii: "0"), UInt8(ascii: "8"), UInt8(ascii: "9"), UInt8(ascii: "a"), UInt8(ascii: "c"), UInt8(ascii: "d")].contains(last) {
                            throw GiveUp()  // \b \t \n \f \r have short forms; NUL is refused by the parser
                        }
                        index += 6
                    default:
                        throw GiveUp()
                    }
                case 0..<0x20:
                    throw GiveUp()
                case 0x80...:
                    guard case .valid(let length) = UTF8Sequence.check(bytes, at: index) else { throw GiveUp() }
                    index += length
                default:
                    index += 1
                }
            }
        }

        /// A number: as written if it is a whole number of up to 15 digits (its own canonical form), else
        /// rewritten as RFC 8785 says.
        mutating func number() throws(GiveUp) {
            let start = index
            if peek == UInt8(ascii: "-") { index += 1 }
            func digit(_ at: Int) -> Bool { at < bytes.count && bytes[at] >= UInt8(ascii: "0") && bytes[at] <= UInt8(ascii: "9") }
            guard digit(index) else { throw GiveUp() }
            if bytes[index] == UInt8(ascii: "0") {
                index += 1
                if digit(index) { throw GiveUp() }
            } else {
                while digit(index) { index += 1 }
            }
            var plain = true
            if peek == UInt8(ascii: ".") {
                plain = false
                index += 1
                guard digit(index) else { throw GiveUp() }
                while digit(index) { index += 1 }
            }
            if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
                plain = false
                index += 1
                if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { index += 1 }
                guard digit(index) else { throw GiveUp() }
                while digit(index) { index += 1 }
            }
            let literal = UnsafeBufferPointer(rebasing: bytes[start..<index])
            if plain && literal.count <= 15 && !literal.elementsEqual("-0".utf8) {
                output.append(contentsOf: literal)
                return
            }
            guard let canonical = try? CanonicalJSON.number(String(decoding: literal, as: UTF8.self)) else { throw GiveUp() }
            output.append(contentsOf: canonical.utf8)
        }
    }
}
