import Crypto

/// The digest that tells a retried submission from a different one under the same idempotency key:
/// SHA-256 over the body re-encoded compactly, so whitespace does not matter but every value and key does.
public enum RequestDigest {
    public static func of(_ body: JSONValue) -> [UInt8] {
        Array(SHA256.hash(data: JSONWriter.encode(body)))
    }
}
