import Crypto

/// The digest that tells a retried submission from a different one under the same idempotency key:
/// SHA-256 over the body re-encoded compactly, so whitespace does not matter but every value and key does.
public enum RequestDigest {
    /// - Parameter kind: what the body was sent as, when it is not an activity-stream submission: the same key
    ///   and body sent to another endpoint is another submission (a 409), not a repeat.
    public static func of(_ body: JSONValue, kind: String? = nil) -> [UInt8] {
        var hash = SHA256()
        if let kind { hash.update(data: Array((kind + "\n").utf8)) }
        hash.update(data: JSONWriter.encode(body))
        return Array(hash.finalize())
    }
}
