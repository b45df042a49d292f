/// A JSON number kept exactly as it was written, so big and precise numbers survive storage untouched.
///
/// Two numbers are equal when they denote the same value (`1`, `1.0` and `10e-1` are equal); the comparison is
/// exact, on the decimal digits, never through `Double`.
public struct JSONNumber: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// The literal as it appeared in the JSON text (always a valid JSON number).
    public let literal: String

    /// Accepts only the JSON number grammar (RFC 8259 §6).
    public init?(literal: String) {
        guard JSONNumber.isValid(Array(literal.utf8)) else { return nil }
        self.literal = literal
    }

    init(unchecked literal: String) { self.literal = literal }

    public init(_ value: Int) { literal = String(value) }

    public var description: String { literal }

    /// True when the literal has neither a fraction nor an exponent.
    public var isIntegerLiteral: Bool {
        !literal.utf8.contains { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }
    }

    /// The value in a canonical decimal form: `[-]digits` or `[-]digitsE exponent`, with no leading or trailing
    /// zeros in `digits`; equal values have equal canonical forms.
    public var canonical: String {
        var negative = false
        var digits: [UInt8] = []
        var exponent = 0
        var afterPoint = false
        var bytes = literal.utf8.makeIterator()
        var explicitExponent = 0
        while let byte = bytes.next() {
            switch byte {
            case UInt8(ascii: "-"): negative = true
            case UInt8(ascii: "."): afterPoint = true
            case UInt8(ascii: "e"), UInt8(ascii: "E"):
                var sign = 1
                var value = 0
                while let e = bytes.next() {
                    if e == UInt8(ascii: "-") { sign = -1 } else if e == UInt8(ascii: "+") { continue } else {
                        // Exponents beyond this bound cannot come from real data; saturate rather than overflow.
                        value = min(value * 10 + Int(e - 48), 100_000_000)
                    }
                }
                explicitExponent = sign * value
            default:
                if !(digits.isEmpty && byte == UInt8(ascii: "0")) { digits.append(byte) }
                if afterPoint { exponent -= 1 }
            }
        }
        while let last = digits.last, last == UInt8(ascii: "0") {
            digits.removeLast()
            exponent += 1
        }
        if digits.isEmpty { return "0" }
        exponent += explicitExponent
        let body = String(decoding: digits, as: UTF8.self)
        let sign = negative ? "-" : ""
        return exponent == 0 ? sign + body : sign + body + "E" + String(exponent)
    }

    public static func == (lhs: JSONNumber, rhs: JSONNumber) -> Bool {
        lhs.literal == rhs.literal || lhs.canonical == rhs.canonical
    }

    public func hash(into hasher: inout Hasher) { hasher.combine(canonical) }

    static func isValid(_ bytes: [UInt8]) -> Bool {
        var index = 0
        func digit(_ i: Int) -> Bool { i < bytes.count && bytes[i] >= 48 && bytes[i] <= 57 }
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard digit(index) else { return false }
        if bytes[index] == UInt8(ascii: "0") { index += 1 } else { while digit(index) { index += 1 } }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard digit(index) else { return false }
            while digit(index) { index += 1 }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
                index += 1
            }
            guard digit(index) else { return false }
            while digit(index) { index += 1 }
        }
        return index == bytes.count
    }
}
