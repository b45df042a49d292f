import Crypto
import Foundation
import Hummingbird
import TrailCore
import TrailStore

/// `GET /api/v1/integrity/public-key` (SPEC §8): the Ed25519 public key that verifies this installation's signed
/// checkpoints. Public like `/health`: whoever holds an export must be able to check it without an account.
struct IntegrityController: Sendable {
    typealias Context = TrailRequestContext
    let keys: any IntegrityKeyStore

    func addRoutes(to router: some RouterMethods<Context>) {
        router.get("/api/v1/integrity/public-key") { _, _ in
            let seed = try await keys.checkpointSigningKey()
            let key = try Curve25519.Signing.PrivateKey(rawRepresentation: seed).publicKey
            let raw = Array(key.rawRepresentation)
            var writer = JSONWriter(capacity: 256)
            writer.raw("{")
            writer.key("algorithm"); writer.write(string: "Ed25519")
            writer.raw(","); writer.key("key_id"); writer.write(string: Self.keyId(raw))
            writer.raw(","); writer.key("public_key"); writer.write(string: Data(raw).base64EncodedString())
            writer.raw(","); writer.key("public_key_pem"); writer.write(string: key.pemRepresentation)
            writer.raw("}")
            return Response.json(writer.bytes)
        }
    }

    /// The key's id: the SHA-256 of its 32 raw bytes, in hex (what a checkpoint names its signer by).
    static func keyId(_ raw: [UInt8]) -> String {
        SHA256.hash(data: raw).map { String(format: "%02x", $0) }.joined()
    }
}
