/// Where the installation's checkpoint signing key lives (SPEC §8): created with the store, kept outside the
/// events table (in its settings), never returned by any read of the log.
public protocol IntegrityKeyStore: Sendable {
    /// The 32-byte seed of the Ed25519 private key that signs this installation's checkpoints.
    func checkpointSigningKey() async throws(StoreError) -> [UInt8]
}

/// A fresh Ed25519 seed: 32 random bytes (RFC 8032 §5.1.5).
enum SigningKeySeed {
    static func make() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }
}
