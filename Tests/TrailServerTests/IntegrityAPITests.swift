import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import TrailCore
import TrailServer
import TrailStore
import TrailTestSupport

/// The integrity endpoints (SPEC §8) built so far.
@Suite struct IntegrityAPITests {
    /// The public key is served without credentials, and verifies what the store's signing key signs.
    @Test(arguments: StoreKind.available)
    func publicKeyVerifiesTheInstallationsSignatures(kind: StoreKind) async throws {
        try await withFreshLocation(kind) { location, _ in
            try await location.withStore { store in
                let seed = try await store.checkpointSigningKey()
                try await buildApplication(configuration: ServerConfiguration(), store: store).test(.router) { client in
                    let response = try await client.execute(uri: "/api/v1/integrity/public-key", method: .get)
                    #expect(response.status == .ok)
                    let body = try parseJSON(response.body)
                    #expect(body["algorithm"] == "Ed25519")
                    let raw = try #require(body["public_key"]?.stringValue.flatMap { Data(base64Encoded: $0) })
                    let key = try Curve25519.Signing.PublicKey(rawRepresentation: raw)
                    let pem = try Curve25519.Signing.PublicKey(pemRepresentation: try #require(body["public_key_pem"]?.stringValue))
                    #expect(pem.rawRepresentation == key.rawRepresentation)
                    #expect(body["key_id"]?.stringValue == SHA256.hash(data: raw).map { String(format: "%02x", $0) }.joined())
                    let message = Array("checkpoint".utf8)
                    let signature = try Curve25519.Signing.PrivateKey(rawRepresentation: seed).signature(for: message)
                    #expect(key.isValidSignature(signature, for: message))
                    #expect(!key.isValidSignature(signature, for: Array("forged".utf8)))
                    #expect(!String(buffer: response.body).contains(Data(seed).base64EncodedString()))
                }
            }
        }
    }
}
