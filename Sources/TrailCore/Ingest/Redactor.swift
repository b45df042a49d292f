import Crypto

/// Replaces the values of sensitive keys with `"[REDACTED]"` (SPEC §2.5) and keeps, for each, a keyed digest
/// (HMAC-SHA-256 with the installation's secret) so a later change of the value is detected without storing it.
public struct Redactor: Sendable {
    public static let marker = "[REDACTED]"
    public static let defaultSensitiveKeys = [
        "password", "passwd", "secret", "token", "api_key", "apikey", "access_token", "refresh_token",
        "authorization", "private_key", "card_number", "cvv", "ssn",
    ]

    /// Digests by field path, for every redacted field of a state.
    public typealias Digests = [String: String]

    private let sensitive: Set<String>
    private let key: SymmetricKey

    /// - Parameters:
    ///   - sensitiveKeys: key names matched case-insensitively at any depth.
    ///   - secret: the per-installation secret; never stored with the events.
    public init(sensitiveKeys: [String] = Redactor.defaultSensitiveKeys, secret: [UInt8]) {
        sensitive = Set(sensitiveKeys.map { $0.lowercased() })
        key = SymmetricKey(data: secret)
    }

    public func isSensitive(_ key: String) -> Bool {
        !sensitive.isEmpty && sensitive.contains(key.lowercased())
    }

    /// The object with sensitive values replaced by the marker, and their digests by path under `prefix`.
    /// A sensitive key holding `null` keeps it: in a merge patch that means "remove", which reveals nothing.
    public func redact(_ object: JSONObject, prefix: String = "") -> (JSONObject, Digests) {
        var digests: Digests = [:]
        let redacted = redact(object, prefix: prefix, into: &digests)
        return (redacted, digests)
    }

    private func redact(_ object: JSONObject, prefix: String, into digests: inout Digests) -> JSONObject {
        var result = JSONObject()
        for member in object {
            let path = FieldPath.join(prefix, member.key)
            if isSensitive(member.key), !member.value.isNull {
                digests[path] = digest(member.value)
                result.append(member.key, .string(Redactor.marker))
            } else if case .object(let nested) = member.value {
                result.append(member.key, .object(redact(nested, prefix: path, into: &digests)))
            } else {
                result.append(member.key, member.value)
            }
        }
        return result
    }

    /// A reported change (SPEC §3) with its values replaced by the marker if any key of its path is sensitive,
    /// and the sensitive members of object values redacted.
    public func redact(_ change: Change) -> Change {
        if FieldPath.split(change.path).contains(where: isSensitive) {
            let marker = JSONValue.string(Redactor.marker)
            return Change(path: change.path, old: change.old.map { _ in marker }, new: change.new.map { _ in marker },
                          redacted: true)
        }
        func clean(_ value: JSONValue?) -> JSONValue? {
            guard case .object(let object)? = value else { return value }
            return .object(redact(object).0)
        }
        return Change(path: change.path, old: clean(change.old), new: clean(change.new), redacted: change.redacted)
    }

    /// The keyed digest of a value, over a canonical encoding (sorted keys, numbers by value) so that equal
    /// values always give equal digests.
    public func digest(_ value: JSONValue) -> String {
        var bytes: [UInt8] = []
        Redactor.canonical(value, into: &bytes)
        let mac = HMAC<SHA256>.authenticationCode(for: bytes, using: key)
        return Hex.encode(Array(mac))
    }

    private static func canonical(_ value: JSONValue, into bytes: inout [UInt8]) {
        switch value {
        case .number(let number): bytes.append(contentsOf: number.canonical.utf8)
        case .array(let elements):
            bytes.append(UInt8(ascii: "["))
            for (i, element) in elements.enumerated() {
                if i > 0 { bytes.append(UInt8(ascii: ",")) }
                canonical(element, into: &bytes)
            }
            bytes.append(UInt8(ascii: "]"))
        case .object(let object):
            bytes.append(UInt8(ascii: "{"))
            for (i, member) in object.members.sorted(by: { $0.key < $1.key }).enumerated() {
                if i > 0 { bytes.append(UInt8(ascii: ",")) }
                bytes.append(contentsOf: JSONWriter.encode(.string(member.key)))
                bytes.append(UInt8(ascii: ":"))
                canonical(member.value, into: &bytes)
            }
            bytes.append(UInt8(ascii: "}"))
        default:
            bytes.append(contentsOf: JSONWriter.encode(value))
        }
    }
}
