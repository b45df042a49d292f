public import Crypto
import Foundation

/// A signed statement that a tenant's log held `size` events whose Merkle root (RFC 9162, over their hashes in
/// sequence order) is `root`, at `time` (SPEC §8). Signed with Ed25519 over the RFC 8785 form of
/// `{"root", "size", "tenant", "time"}` (root in hex, time as Trail writes times).
///
/// As JSON: `{"tenant", "size", "root", "time", "key_id", "signature"}` (signature in base64).
public struct Checkpoint: Sendable, Equatable {
    public var tenant: String
    public var size: Int64
    public var root: MerkleTree.Hash
    public var time: Timestamp
    /// ``SigningKeyID/of(_:)`` the key that signed it.
    public var keyId: String
    public var signature: [UInt8]

    public init(tenant: String, size: Int64, root: MerkleTree.Hash, time: Timestamp, keyId: String, signature: [UInt8]) {
        self.tenant = tenant
        self.size = size
        self.root = root
        self.time = time
        self.keyId = keyId
        self.signature = signature
    }

    /// Signs the statement with `key`.
    public static func sign(
        tenant: String, size: Int64, root: MerkleTree.Hash, time: Timestamp, with key: Curve25519.Signing.PrivateKey
    ) throws -> Checkpoint {
        var checkpoint = Checkpoint(tenant: tenant, size: size, root: root, time: time,
                                    keyId: SigningKeyID.of(key.publicKey), signature: [])
        checkpoint.signature = Array(try key.signature(for: checkpoint.signedBytes))
        return checkpoint
    }

    /// What the signature covers.
    public var signedBytes: [UInt8] {
        var writer = JSONWriter(capacity: 192)
        writer.raw("{\"root\":"); writer.write(hex: root)
        writer.raw(",\"size\":"); writer.raw(CanonicalJSON.format(integer: size))
        writer.raw(",\"tenant\":"); writer.write(string: tenant)
        writer.raw(",\"time\":"); writer.write(timestamp: time)
        writer.raw("}")
        return writer.bytes
    }

    /// Whether `key` signed this checkpoint.
    public func isSigned(by key: Curve25519.Signing.PublicKey) -> Bool {
        key.isValidSignature(signature, for: signedBytes)
    }

    public func write(into writer: inout JSONWriter) {
        writer.raw("{"); writer.key("tenant"); writer.write(string: tenant)
        writer.raw(","); writer.key("size"); writer.raw(String(size))
        writer.raw(","); writer.key("root"); writer.write(hex: root)
        writer.raw(","); writer.key("time"); writer.write(timestamp: time)
        writer.raw(","); writer.key("key_id"); writer.write(string: keyId)
        writer.raw(","); writer.key("signature"); writer.write(string: Data(signature).base64EncodedString())
        writer.raw("}")
    }

    /// The checkpoint as one line of JSON (a witness file holds one per line).
    public var json: String {
        var writer = JSONWriter(capacity: 320)
        write(into: &writer)
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    public struct Malformed: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// A checkpoint as ``write(into:)`` writes it.
    public init(json object: JSONObject) throws(Malformed) {
        func string(_ name: String) throws(Malformed) -> String {
            guard let value = object[name]?.stringValue else { throw Malformed(description: "a checkpoint needs \"\(name)\" (a string)") }
            return value
        }
        guard let size = object["size"]?.intValue, size >= 1 else {
            throw Malformed(description: "a checkpoint needs \"size\" (a whole number from 1)")
        }
        guard let root = Hex.decode(try string("root"), count: 32) else {
            throw Malformed(description: "a checkpoint's \"root\" is 64 lower-case hex digits")
        }
        guard let time = Timestamp(rfc3339: try string("time")) else {
            throw Malformed(description: "a checkpoint's \"time\" is an RFC 3339 date-time")
        }
        guard let signature = Data(base64Encoded: try string("signature")), signature.count == 64 else {
            throw Malformed(description: "a checkpoint's \"signature\" is 64 bytes in base64")
        }
        self.init(tenant: try string("tenant"), size: size, root: root, time: time, keyId: try string("key_id"),
                  signature: Array(signature))
    }
}

/// How a checkpoint names its signer: the SHA-256 of the Ed25519 public key's 32 raw bytes, in hex.
public enum SigningKeyID {
    public static func of(_ key: Curve25519.Signing.PublicKey) -> String {
        Hex.encode(Array(SHA256.hash(data: key.rawRepresentation)))
    }
}
