import Crypto
import Foundation
import Hummingbird
import TrailCore
import TrailService
import TrailStore

/// The integrity API (SPEC §8):
/// - `GET /api/v1/integrity/public-key`: the Ed25519 key that verifies this installation's checkpoints. Public
///   like `/health`: whoever holds an export must be able to check it without an account.
/// - `GET /api/v1/integrity/checkpoints/latest`: the caller's tenant's newest signed checkpoint.
/// - `GET /api/v1/integrity/proofs/inclusion/{event_id}?size=`: that the event is leaf `sequence − 1` of the
///   tenant's tree of `size` events (default: the newest checkpoint's size).
/// - `GET /api/v1/integrity/proofs/consistency?from=&to=`: that the tree of `from` events is a prefix of the
///   tree of `to` (default: the newest checkpoint's size).
/// - `POST /api/v1/integrity/verify`: verifies the tenant's stored log (empty body) or an NDJSON export of it
///   (the body), against the stored checkpoints.
struct IntegrityController: Sendable {
    typealias Context = TrailRequestContext
    let store: any TrailStorage

    /// The public-key route, which needs no caller.
    func addPublicRoutes(to routes: Routes) {
        routes.get("/api/v1/integrity/public-key") { _, _ in
            let key = try await Verification.publicKey(of: store)
            var writer = JSONWriter(capacity: 256)
            writer.raw("{")
            writer.key("algorithm"); writer.write(string: "Ed25519")
            writer.raw(","); writer.key("key_id"); writer.write(string: SigningKeyID.of(key))
            writer.raw(","); writer.key("public_key"); writer.write(string: key.rawRepresentation.base64EncodedString())
            writer.raw(","); writer.key("public_key_pem"); writer.write(string: key.pemRepresentation)
            writer.raw("}")
            return Response.json(writer.bytes)
        }
    }

    func addRoutes(to routes: Routes) {
        routes.get("/api/v1/integrity/checkpoints/latest") { _, context in
            let checkpoint = try await IntegrityProofs(store: store, tenant: try context.tenant(for: .read)).latestCheckpoint()
            var writer = JSONWriter(capacity: 320)
            checkpoint.write(into: &writer)
            return Response.json(writer.bytes)
        }
        routes.get("/api/v1/integrity/proofs/inclusion/{id}", query: ["size"]) { request, context in
            let proofs = IntegrityProofs(store: store, tenant: try context.tenant(for: .read))
            let answer = try await proofs.inclusion(eventID: try context.pathParameter("id"),
                                                    size: request.uri.queryParameters["size"].map(String.init))
            let event = answer.event
            var writer = JSONWriter(capacity: 512 + 70 * answer.proof.count)
            writer.raw("{"); writer.key("event_id"); writer.write(string: event.id)
            writer.raw(","); writer.key("sequence"); writer.raw(String(event.sequence))
            writer.raw(","); writer.key("leaf_index"); writer.raw(String(event.sequence - 1))
            writer.raw(","); writer.key("tree_size"); writer.raw(String(answer.treeSize))
            writer.raw(","); writer.key("hash"); writer.write(hex: event.hash)
            writer.raw(","); writer.key("leaf_hash"); writer.write(hex: MerkleTree.leafHash(event.hash))
            writer.raw(","); writer.key("root"); writer.write(hex: answer.root)
            writer.raw(","); writer.key("proof"); Self.write(answer.proof, into: &writer)
            writer.raw(","); writer.key("checkpoint"); Self.write(answer.checkpoint, into: &writer)
            writer.raw("}")
            return Response.json(writer.bytes)
        }
        routes.get("/api/v1/integrity/proofs/consistency", query: ["from", "to"]) { request, context in
            let proofs = IntegrityProofs(store: store, tenant: try context.tenant(for: .read))
            let parameters = request.uri.queryParameters
            let answer = try await proofs.consistency(from: parameters["from"].map(String.init),
                                                      to: parameters["to"].map(String.init))
            var writer = JSONWriter(capacity: 1024 + 70 * answer.proof.count)
            writer.raw("{"); writer.key("from"); writer.raw(String(answer.from))
            writer.raw(","); writer.key("to"); writer.raw(String(answer.to))
            writer.raw(","); writer.key("from_root"); writer.write(hex: answer.fromRoot)
            writer.raw(","); writer.key("to_root"); writer.write(hex: answer.toRoot)
            writer.raw(","); writer.key("proof"); Self.write(answer.proof, into: &writer)
            writer.raw(","); writer.key("from_checkpoint"); Self.write(answer.fromCheckpoint, into: &writer)
            writer.raw(","); writer.key("to_checkpoint"); Self.write(answer.toCheckpoint, into: &writer)
            writer.raw("}")
            return Response.json(writer.bytes)
        }
        routes.post("/api/v1/integrity/verify") { request, context in
            let tenant = try context.tenant(for: .verify)
            // The body is streamed through the verifier: an export of any size, in constant memory.
            var verifier = try await Verification.verifier(for: store, tenant: tenant)
            let report: ChainVerifier.Report
            if try await Verification.verifyExport(&verifier, chunks: request.body.map { Array($0.readableBytesView) }) {
                // An export taken earlier is a prefix of the log, anchored to a later checkpoint by a proof.
                try await Verification.anchorToLaterCheckpoint(&verifier, store: store, tenant: tenant)
                report = verifier.finish(whole: false)
            } else {
                report = try await Verification.check(store, tenant: tenant, with: verifier)
            }
            var writer = JSONWriter(capacity: 1024)
            Verification.write(report, into: &writer)
            return Response.json(writer.bytes)
        }
    }

    /// A checkpoint, or `null`.
    static func write(_ checkpoint: Checkpoint?, into writer: inout JSONWriter) {
        if let checkpoint { checkpoint.write(into: &writer) } else { writer.raw("null") }
    }

    static func write(_ hashes: [MerkleTree.Hash], into writer: inout JSONWriter) {
        writer.raw("[")
        for (i, hash) in hashes.enumerated() {
            if i > 0 { writer.raw(",") }
            writer.write(hex: hash)
        }
        writer.raw("]")
    }
}
