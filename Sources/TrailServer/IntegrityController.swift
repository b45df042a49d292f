import Crypto
import Foundation
import Hummingbird
import TrailCore
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
            let tenant = try context.tenant(for: .read)
            let checkpoint = try await latest(tenant)
            var writer = JSONWriter(capacity: 320)
            checkpoint.write(into: &writer)
            return Response.json(writer.bytes)
        }
        routes.get("/api/v1/integrity/proofs/inclusion/{id}", query: ["size"]) { request, context in
            let tenant = try context.tenant(for: .read)
            let id = try context.pathParameter("id")
            guard let event = try await store.event(tenant: tenant, id: id) else {
                throw Problem(.notFound, "event-not-found", title: "No such event", detail: "There is no event \(id).")
            }
            let size = try await treeSize(request.uri.queryParameters, "size", tenant: tenant)
            guard event.sequence <= size else {
                throw Problem.badRequest("Event \(id) is event \(event.sequence), after the tree of \(size) events; ask for a larger size.", path: "size")
            }
            let tree = TreeProofs(store: store, tenant: tenant)
            let proof = try await tree.inclusionProof(index: event.sequence - 1, size: size)
            var writer = JSONWriter(capacity: 512 + 70 * proof.count)
            writer.raw("{"); writer.key("event_id"); writer.write(string: event.id)
            writer.raw(","); writer.key("sequence"); writer.raw(String(event.sequence))
            writer.raw(","); writer.key("leaf_index"); writer.raw(String(event.sequence - 1))
            writer.raw(","); writer.key("tree_size"); writer.raw(String(size))
            writer.raw(","); writer.key("hash"); writer.write(hex: event.hash)
            writer.raw(","); writer.key("leaf_hash"); writer.write(hex: MerkleTree.leafHash(event.hash))
            writer.raw(","); writer.key("root"); writer.write(hex: try await tree.root(size: size))
            writer.raw(","); writer.key("proof"); Self.write(proof, into: &writer)
            writer.raw(","); writer.key("checkpoint"); try await writeCheckpoint(tenant, size: size, into: &writer)
            writer.raw("}")
            return Response.json(writer.bytes)
        }
        routes.get("/api/v1/integrity/proofs/consistency", query: ["from", "to"]) { request, context in
            let tenant = try context.tenant(for: .read)
            let parameters = request.uri.queryParameters
            guard parameters["from"] != nil else {
                throw Problem.badRequest("from is required: the size of the earlier tree (a checkpoint's size).", path: "from")
            }
            let from = try await treeSize(parameters, "from", tenant: tenant)
            let to = try await treeSize(parameters, "to", tenant: tenant)
            guard from <= to else {
                throw Problem.badRequest("from (\(from)) must not be larger than to (\(to)).", path: "from")
            }
            let tree = TreeProofs(store: store, tenant: tenant)
            let proof = try await tree.consistencyProof(from: from, size: to)
            var writer = JSONWriter(capacity: 1024 + 70 * proof.count)
            writer.raw("{"); writer.key("from"); writer.raw(String(from))
            writer.raw(","); writer.key("to"); writer.raw(String(to))
            writer.raw(","); writer.key("from_root"); writer.write(hex: try await tree.root(size: from))
            writer.raw(","); writer.key("to_root"); writer.write(hex: try await tree.root(size: to))
            writer.raw(","); writer.key("proof"); Self.write(proof, into: &writer)
            writer.raw(","); writer.key("from_checkpoint"); try await writeCheckpoint(tenant, size: from, into: &writer)
            writer.raw(","); writer.key("to_checkpoint"); try await writeCheckpoint(tenant, size: to, into: &writer)
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

    /// The tenant's newest checkpoint; 404 before its first.
    private func latest(_ tenant: String) async throws -> Checkpoint {
        guard let checkpoint = try await store.latestCheckpoint(tenant: tenant) else {
            throw Problem(.notFound, "no-checkpoint", title: "No checkpoint yet",
                          detail: "Tenant \(tenant) has no signed checkpoint yet: Trail signs one soon after its first events.")
        }
        return checkpoint
    }

    /// A tree size from the query (`name`), 1 up to the tenant's number of events; absent: the newest
    /// checkpoint's size.
    private func treeSize(_ parameters: Parameters, _ name: String, tenant: String) async throws -> Int64 {
        guard let text = parameters[Substring(name)].map(String.init), !text.isEmpty else {
            return try await latest(tenant).size
        }
        let events = try await store.chainHead(tenant: tenant).sequence
        guard let size = Int64(text), size >= 1, size <= events else {
            throw Problem.badRequest("\(name) must be a whole number from 1 to \(events) (the tenant's events).", path: name)
        }
        return size
    }

    /// The stored checkpoint of exactly `size`, or `null`.
    private func writeCheckpoint(_ tenant: String, size: Int64, into writer: inout JSONWriter) async throws {
        if let checkpoint = try await store.checkpoint(tenant: tenant, size: size) {
            checkpoint.write(into: &writer)
        } else {
            writer.raw("null")
        }
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
