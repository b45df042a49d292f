import Crypto

/// The text of an API key: `trail_<id>_<secret>`, where `id` is 16 lower-case hex digits naming the key in the
/// store and `secret` is 43 base64url characters (32 random bytes). The store keeps the id and the SHA-256 of the
/// secret, never the secret: a copy of the database lets nobody call Trail. The id finds the key with one indexed
/// read; the secret's digest is then compared in constant time, so response times say nothing about how much
/// of a guess was right.
public struct APIKeyText: Sendable, Equatable {
    public static let prefix = "trail_"
    public static let idLength = 16
    public static let secretLength = 43

    public let id: String
    public let secret: String

    public init(id: String, secret: String) {
        self.id = id
        self.secret = secret
    }

    /// A key made of these random bytes (8 for the id, 32 for the secret; the caller draws them).
    public init(idBytes: [UInt8], secretBytes: [UInt8]) {
        precondition(idBytes.count == 8 && secretBytes.count == 32)
        id = Hex.encode(idBytes)
        secret = Base64URL.encode(secretBytes)
    }

    /// Parses a presented key; nil when it is not shaped like one of Trail's.
    public init?(parsing text: some StringProtocol) {
        let bytes = Array(text.utf8)
        let prefix = Array(Self.prefix.utf8)
        guard bytes.count == prefix.count + Self.idLength + 1 + Self.secretLength,
              bytes.starts(with: prefix) else { return nil }
        let idBytes = bytes[prefix.count..<prefix.count + Self.idLength]
        let separator = prefix.count + Self.idLength
        guard idBytes.allSatisfy(Hex.isLowerDigit), bytes[separator] == UInt8(ascii: "_") else { return nil }
        let secretBytes = bytes[(separator + 1)...]
        guard secretBytes.allSatisfy(Base64URL.isDigit) else { return nil }
        id = String(decoding: idBytes, as: UTF8.self)
        secret = String(decoding: secretBytes, as: UTF8.self)
    }

    public var text: String { Self.prefix + id + "_" + secret }

    /// What the store keeps of the secret: its SHA-256, in hex.
    public var secretDigest: String { Self.digest(ofSecret: secret) }

    public static func digest(ofSecret secret: String) -> String {
        Hex.encode(Array(SHA256.hash(data: Array(secret.utf8))))
    }

    /// Whether this key's secret has the stored digest, in time that depends only on the digests' length.
    public func matches(digest stored: String) -> Bool {
        let expected = Array(stored.utf8), actual = Array(secretDigest.utf8)
        guard expected.count == actual.count else { return false }
        var difference: UInt8 = 0
        for i in 0..<expected.count { difference |= expected[i] ^ actual[i] }
        return difference == 0
    }
}

enum Hex {
    /// The lower-case hex digits, by value.
    static let digits: [UInt8] = Array("0123456789abcdef".utf8)

    static func encode(_ bytes: [UInt8]) -> String {
        var text = [UInt8]()
        text.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// The bytes of exactly `count` bytes' worth of lower-case hex, or nil.
    static func decode(_ text: String, count: Int) -> [UInt8]? {
        decode(text.utf8, count: count)
    }

    static func decode(_ digits: some Collection<UInt8>, count: Int) -> [UInt8]? {
        guard digits.count == count * 2 else { return nil }
        var valid = false
        let bytes = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            valid = Array(digits).withUnsafeBytes { decode($0, into: UnsafeMutableRawBufferPointer(buffer)) }
            initialized = count
        }
        return valid ? bytes : nil
    }

    /// Decodes lower-case hex `digits` (twice `out.count` of them) into `out`; false if any is not one.
    static func decode(_ digits: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer) -> Bool {
        precondition(digits.count == out.count * 2)
        var invalid: UInt8 = 0
        hexValues.withUnsafeBufferPointer { values in
            for i in 0..<out.count {
                let high = values[Int(digits[2 * i])], low = values[Int(digits[2 * i + 1])]
                invalid |= (high | low) & 0xF0
                out[i] = high << 4 | low & 0x0F
            }
        }
        return invalid == 0
    }

    /// Each byte's value as a lower-case hex digit, 0xFF for any other byte.
    private static let hexValues: [UInt8] = (0...255).map { byte in
        switch UInt8(byte) {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt8(byte) - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt8(byte) - UInt8(ascii: "a") + 10
        default: 0xFF
        }
    }

    static func isLowerDigit(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "f"))
    }
}

/// Base64 with the URL-safe alphabet and no padding (RFC 4648 §5).
enum Base64URL {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    static func encode(_ bytes: [UInt8]) -> String {
        var text = [UInt8]()
        text.reserveCapacity((bytes.count * 4 + 2) / 3)
        var i = 0
        while i < bytes.count {
            let chunk = (UInt32(bytes[i]) << 16) | (i + 1 < bytes.count ? UInt32(bytes[i + 1]) << 8 : 0)
                | (i + 2 < bytes.count ? UInt32(bytes[i + 2]) : 0)
            let count = min(3, bytes.count - i) + 1
            for j in 0..<count { text.append(alphabet[Int((chunk >> (18 - 6 * UInt32(j))) & 0x3F)]) }
            i += 3
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// The bytes of unpadded base64url text, or nil if it is not that.
    static func decode(_ text: some Collection<UInt8>) -> [UInt8]? {
        guard text.count % 4 != 1 else { return nil }
        var bytes = [UInt8]()
        bytes.reserveCapacity(text.count * 3 / 4)
        var chunk: UInt32 = 0
        var bits = 0
        for digit in text {
            let value: UInt8
            switch digit {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): value = digit - UInt8(ascii: "A")
            case UInt8(ascii: "a")...UInt8(ascii: "z"): value = digit - UInt8(ascii: "a") + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = digit - UInt8(ascii: "0") + 52
            case UInt8(ascii: "-"): value = 62
            case UInt8(ascii: "_"): value = 63
            default: return nil
            }
            chunk = (chunk << 6) | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                bytes.append(UInt8((chunk >> UInt32(bits)) & 0xFF))
            }
        }
        return bytes
    }

    static func isDigit(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z")) || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
            || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
    }
}
