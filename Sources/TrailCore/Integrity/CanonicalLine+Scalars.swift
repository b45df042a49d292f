#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Strings (escapes kept when already canonical, UTF-8 checked) and numbers (rewritten as RFC 8785 says).
extension CanonicalLine.Scanner {
    mutating func string() throws(CanonicalLine.GiveUp) {
        index += 1
        while true {
            // Eight bytes at a time while none is a quote, a backslash, a control character or non-ASCII.
            while index + 8 <= count {
                let word = UnsafeRawPointer(source + index).loadUnaligned(as: UInt64.self)
                if Self.needsALook(word) { break }
                index += 8
            }
            guard index < count else { throw CanonicalLine.GiveUp() }
            switch source[index] {
            case UInt8(ascii: "\""):
                index += 1
                return
            case UInt8(ascii: "\\"):
                try escape()
            case 0..<0x20:
                throw CanonicalLine.GiveUp()
            case 0x80...:
                let bytes = UnsafeBufferPointer(start: source, count: count)
                guard case .valid(let length) = UTF8Sequence.check(bytes, at: index) else { throw CanonicalLine.GiveUp() }
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
    mutating func escape() throws(CanonicalLine.GiveUp) {
        guard index + 1 < count else { throw CanonicalLine.GiveUp() }
        switch source[index + 1] {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "b"), UInt8(ascii: "f"), UInt8(ascii: "n"),
             UInt8(ascii: "r"), UInt8(ascii: "t"):
            index += 2
        case UInt8(ascii: "u"):
            // Canonical only for control characters without a short escape, in lower-case hex.
            guard index + 5 < count, source[index + 2] == UInt8(ascii: "0"), source[index + 3] == UInt8(ascii: "0"),
                  source[index + 4] == UInt8(ascii: "0") || source[index + 4] == UInt8(ascii: "1") else { throw CanonicalLine.GiveUp() }
            let last = source[index + 5]
            guard (last >= UInt8(ascii: "0") && last <= UInt8(ascii: "9")) || (last >= UInt8(ascii: "a") && last <= UInt8(ascii: "f")) else {
                throw CanonicalLine.GiveUp()
            }
            if source[index + 4] == UInt8(ascii: "0"),
               [UInt8(ascii: "0"), UInt8(ascii: "8"), UInt8(ascii: "9"), UInt8(ascii: "a"), UInt8(ascii: "c"), UInt8(ascii: "d")].contains(last) {
                throw CanonicalLine.GiveUp()  // \b \t \n \f \r have short forms; NUL is refused by the parser
            }
            index += 6
        default:
            throw CanonicalLine.GiveUp()
        }
    }

    /// A number: as written if it is a whole number of up to 15 digits (its own canonical form), else
    /// rewritten as RFC 8785 says.
    mutating func number() throws(CanonicalLine.GiveUp) {
        let start = index
        func digit(_ at: Int) -> Bool { at < count && source[at] >= UInt8(ascii: "0") && source[at] <= UInt8(ascii: "9") }
        if index < count, source[index] == UInt8(ascii: "-") { index += 1 }
        guard digit(index) else { throw CanonicalLine.GiveUp() }
        if source[index] == UInt8(ascii: "0") {
            index += 1
            if digit(index) { throw CanonicalLine.GiveUp() }
        } else {
            while digit(index) { index += 1 }
        }
        var plain = true
        if index < count, source[index] == UInt8(ascii: ".") {
            plain = false
            index += 1
            guard digit(index) else { throw CanonicalLine.GiveUp() }
            while digit(index) { index += 1 }
        }
        if index < count, source[index] == UInt8(ascii: "e") || source[index] == UInt8(ascii: "E") {
            plain = false
            index += 1
            if index < count, source[index] == UInt8(ascii: "+") || source[index] == UInt8(ascii: "-") { index += 1 }
            guard digit(index) else { throw CanonicalLine.GiveUp() }
            while digit(index) { index += 1 }
        }
        let literal = UnsafeBufferPointer(start: source + start, count: index - start)
        if plain && literal.count <= 15 && !literal.elementsEqual("-0".utf8) {
            emit(start, index)
            return
        }
        guard let canonical = try? CanonicalJSON.number(String(decoding: literal, as: UTF8.self)) else { throw CanonicalLine.GiveUp() }
        for byte in canonical.utf8 { emit(byte) }
    }
}
