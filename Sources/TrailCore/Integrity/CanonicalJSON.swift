/// The JSON Canonicalization Scheme (RFC 8785): one byte sequence per JSON value, so that a hash of it can be
/// recomputed by anyone, in any language, from the value alone.
///
/// - Objects: members sorted by their names compared as UTF-16 code units; no whitespace.
/// - Strings: as ECMAScript's `JSON.stringify` writes them — `\"`, `\\`, `\b`, `\t`, `\n`, `\f`, `\r`, other
///   control characters as `\u00xx` (lower-case hex), everything else as UTF-8.
/// - Numbers: the IEEE 754 double nearest to the literal, written as ECMAScript's `Number.prototype.toString`
///   does (shortest round-trip digits; plain notation from 1e-6 up to 1e21, exponent notation outside).
///   Literals beyond the range of doubles (`1e400`) cannot be canonicalized.
public enum CanonicalJSON {
    public struct Unrepresentable: Error, Sendable, Equatable, CustomStringConvertible {
        public var literal: String
        public var description: String { "the number \(literal) is outside the range of IEEE 754 doubles (RFC 8785)" }
    }

    public static func encode(_ value: JSONValue) throws(Unrepresentable) -> [UInt8] {
        var writer = JSONWriter(capacity: 256)
        try write(value, into: &writer)
        return writer.bytes
    }

    public static func write(_ value: JSONValue, into writer: inout JSONWriter) throws(Unrepresentable) {
        switch value {
        case .null: writer.raw("null")
        case .bool(let flag): writer.raw(flag ? "true" : "false")
        case .string(let text): writer.write(string: text)
        case .number(let number): writer.raw(try self.number(number.literal))
        case .array(let elements):
            writer.raw("[")
            for (i, element) in elements.enumerated() {
                if i > 0 { writer.raw(",") }
                try write(element, into: &writer)
            }
            writer.raw("]")
        case .object(let object):
            writer.raw("{")
            // Compared as UTF-16 code units without copying them out; most objects hold few members, often
            // already in order.
            var members = Array(object)
            func precedes(_ a: JSONObject.Member, _ b: JSONObject.Member) -> Bool {
                a.key.utf16.lexicographicallyPrecedes(b.key.utf16)
            }
            if !zip(members, members.dropFirst()).allSatisfy({ !precedes($1, $0) }) {
                members.sort(by: precedes)
            }
            for (i, member) in members.enumerated() {
                if i > 0 { writer.raw(",") }
                writer.write(string: member.key)
                writer.raw(":")
                try write(member.value, into: &writer)
            }
            writer.raw("}")
        }
    }

    /// Where `value` holds a number with no canonical form (beyond the range of doubles), if anywhere: a path of
    /// member names and `[index]`es from the top (`metadata.amount`, `[2].object.size`), and the literal.
    public static func unrepresentableNumber(in value: JSONValue) -> (path: String, literal: String)? {
        switch value {
        case .number(let number):
            guard let double = Double(number.literal), double.isFinite else { return ("", number.literal) }
            return nil
        case .array(let elements):
            for (index, element) in elements.enumerated() {
                if let found = unrepresentableNumber(in: element) {
                    return ("[\(index)]" + (found.path.isEmpty || found.path.hasPrefix("[") ? "" : ".") + found.path, found.literal)
                }
            }
            return nil
        case .object(let object):
            for member in object {
                if let found = unrepresentableNumber(in: member.value) {
                    return (member.key + (found.path.isEmpty || found.path.hasPrefix("[") ? "" : ".") + found.path, found.literal)
                }
            }
            return nil
        case .null, .bool, .string:
            return nil
        }
    }

    /// A JSON number literal as RFC 8785 writes it.
    public static func number(_ literal: String) throws(Unrepresentable) -> String {
        // A whole number of up to 15 digits is its own canonical form (JSON has no leading zeros), but -0.
        if literal.utf8.count <= 15, literal != "-0",
           !literal.utf8.contains(where: { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }) {
            return literal
        }
        guard let value = Double(literal), value.isFinite else { throw Unrepresentable(literal: literal) }
        return format(value)
    }

    /// An integer as RFC 8785 writes it: through the nearest double, like any other number (integers beyond
    /// ±2^53 lose digits there, the same way for every implementation).
    public static func format(integer value: Int64) -> String {
        value.magnitude <= 1 << 53 ? String(value) : format(Double(value))
    }

    /// ECMAScript's `Number.prototype.toString` of a finite double (ECMA-262 §6.1.6.1.20).
    public static func format(_ value: Double) -> String {
        if value == 0 { return "0" }  // -0 as well
        // Swift's description gives the shortest digits that round-trip, closest to the value on a tie, as
        // ECMAScript requires; only the notation differs. Take the digits and the decimal exponent from it.
        var digits: [UInt8] = []
        var pointPosition: Int?
        var exponent = 0
        var text = Array(value.magnitude.description.utf8)
        if let e = text.firstIndex(where: { $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }) {
            exponent = Int(String(decoding: text[(e + 1)...], as: UTF8.self))!
            text.removeSubrange(e...)
        }
        for byte in text {
            if byte == UInt8(ascii: ".") { pointPosition = digits.count } else { digits.append(byte) }
        }
        // value = 0.d1d2… × 10^n, with d1 ≠ 0: n is ECMAScript's n, digits its s.
        var n = (pointPosition ?? digits.count) + exponent
        while digits.first == UInt8(ascii: "0") { digits.removeFirst(); n -= 1 }
        while digits.last == UInt8(ascii: "0") { digits.removeLast() }
        let k = digits.count
        let s = String(decoding: digits, as: UTF8.self)
        let sign = value < 0 ? "-" : ""
        if k <= n && n <= 21 {
            return sign + s + String(repeating: "0", count: n - k)
        }
        if 0 < n && n <= 21 {
            return sign + String(s.prefix(n)) + "." + String(s.dropFirst(n))
        }
        if -6 < n && n <= 0 {
            return sign + "0." + String(repeating: "0", count: -n) + s
        }
        let e = n - 1
        let exponentText = (e < 0 ? "-" : "+") + String(e.magnitude)
        return sign + String(s.prefix(1)) + (k == 1 ? "" : "." + String(s.dropFirst(1))) + "e" + exponentText
    }
}
