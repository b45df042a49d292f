/// Writes JSON values as compact UTF-8 text, keys in their stored order.
///
/// Named `JSONWriter` so it never shadows Foundation's `JSONEncoder`.
public struct JSONWriter: Sendable {
    public private(set) var bytes: [UInt8]

    public init(capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    public static func encode(_ value: JSONValue) -> [UInt8] {
        var writer = JSONWriter()
        writer.write(value)
        return writer.bytes
    }

    public static func string(_ value: JSONValue) -> String {
        String(decoding: encode(value), as: UTF8.self)
    }

    public static func string(_ object: JSONObject) -> String {
        string(.object(object))
    }

    public mutating func write(_ value: JSONValue) {
        switch value {
        case .null: raw("null")
        case .bool(let flag): raw(flag ? "true" : "false")
        case .number(let number): bytes.append(contentsOf: number.literal.utf8)
        case .string(let string): write(string: string)
        case .array(let elements):
            bytes.append(UInt8(ascii: "["))
            for (i, element) in elements.enumerated() {
                if i > 0 { bytes.append(UInt8(ascii: ",")) }
                write(element)
            }
            bytes.append(UInt8(ascii: "]"))
        case .object(let object): write(object: object)
        }
    }

    public mutating func write(object: JSONObject) {
        bytes.append(UInt8(ascii: "{"))
        for (i, member) in object.members.enumerated() {
            if i > 0 { bytes.append(UInt8(ascii: ",")) }
            write(string: member.key)
            bytes.append(UInt8(ascii: ":"))
            write(member.value)
        }
        bytes.append(UInt8(ascii: "}"))
    }

    /// Empties the writer, keeping its memory for what comes next.
    public mutating func removeAll() { bytes.removeAll(keepingCapacity: true) }

    /// Raw UTF-8 that the caller guarantees is valid JSON (literals, punctuation, pre-encoded values).
    public mutating func raw(_ text: String) { bytes.append(contentsOf: text.utf8) }

    /// A timestamp as a JSON string, in its ``Timestamp/formatted()`` form, without making the string.
    public mutating func write(timestamp: Timestamp) {
        bytes.append(UInt8(ascii: "\""))
        let start = bytes.count
        bytes.append(contentsOf: repeatElement(0, count: Timestamp.formattedCount))
        bytes.withUnsafeMutableBufferPointer { timestamp.format(into: $0.baseAddress! + start) }
        bytes.append(UInt8(ascii: "\""))
    }

    public mutating func write(string: String) {
        var text = string
        text.withUTF8 { write(escaping: $0) }
    }

    /// A JSON string of UTF-8 text: quoted, with `"`, `\` and control characters escaped. Runs of bytes that
    /// need nothing are found eight at a time and copied whole.
    public mutating func write(escaping utf8: UnsafeBufferPointer<UInt8>) {
        bytes.append(UInt8(ascii: "\""))
        if let base = utf8.baseAddress {
            let count = utf8.count
            var (index, runStart) = (0, 0)
            while index < count {
                while index + 8 <= count, !Self.mayNeedEscaping(UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self)) {
                    index += 8
                }
                // The byte to escape is among the next eight, if any is (the word test has no false "no").
                let end = min(index + 8, count)
                while index < end, base[index] >= 0x20, base[index] != 0x22, base[index] != 0x5C { index += 1 }
                guard index < end else { continue }
                bytes.append(contentsOf: UnsafeBufferPointer(start: base + runStart, count: index - runStart))
                appendEscape(base[index])
                index += 1
                runStart = index
            }
            bytes.append(contentsOf: UnsafeBufferPointer(start: base + runStart, count: count - runStart))
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// Whether any of a word's bytes may be `"`, `\` or a control character (never a false "no").
    @inline(__always) static func mayNeedEscaping(_ word: UInt64) -> Bool {
        escapeMarks(word) != 0
    }

    /// Eight bytes read as one word: the high bit of each byte set where that byte may be `"`, `\` or a
    /// control character. Never a false "no"; a false "yes" only in a byte after a true one (a borrow).
    @inline(__always) static func escapeMarks(_ word: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
        let quote = word ^ (ones &* 0x22), backslash = word ^ (ones &* 0x5C)
        let hasQuote = (quote &- ones) & ~quote
        let hasBackslash = (backslash &- ones) & ~backslash
        let hasControl = (word &- ones &* 0x20) & ~word
        return (hasQuote | hasBackslash | hasControl) & highs
    }

    private mutating func appendEscape(_ byte: UInt8) {
        switch byte {
        case 0x22: raw("\\\"")
        case 0x5C: raw("\\\\")
        case 0x0A: raw("\\n")
        case 0x0D: raw("\\r")
        case 0x09: raw("\\t")
        case 0x08: raw("\\b")
        case 0x0C: raw("\\f")
        default:
            raw("\\u00")
            bytes.append(Hex.digits[Int(byte >> 4)])
            bytes.append(Hex.digits[Int(byte & 0xF)])
        }
    }

    /// Bytes as a JSON string of lower-case hex digits (hashes).
    public mutating func write(hex data: [UInt8]) {
        let count = 2 * data.count + 2
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: count) { text in
            text[0] = UInt8(ascii: "\"")
            Hex.digits.withUnsafeBufferPointer { digits in
                for (i, byte) in data.enumerated() {
                    text[1 + 2 * i] = digits[Int(byte >> 4)]
                    text[2 + 2 * i] = digits[Int(byte & 0xF)]
                }
            }
            text[count - 1] = UInt8(ascii: "\"")
            bytes.append(contentsOf: UnsafeBufferPointer(text))
        }
    }

    // Convenience for hand-built responses: `"key":` with the separating comma handled by the caller.
    public mutating func key(_ key: String) {
        write(string: key)
        bytes.append(UInt8(ascii: ":"))
    }
}
