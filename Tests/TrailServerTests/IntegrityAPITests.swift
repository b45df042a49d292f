import Crypto
import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Synchronization
import Testing
import TrailCore
import TrailServer
@testable import TrailService
import TrailStore
import TrailTestSupport

/// The integrity endpoints (SPEC §8), through the real router on both stores.
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

    static func activity(_ verb: String, _ id: String) -> Activity {
        Activity(action: Verb.normalize(verb), actor: JSONObject([.init(key: "id", value: "7")]), actorId: "7",
                 resourceType: "doc", resourceId: id, data: JSONObject())
    }

    static func hashes(_ value: JSONValue?) -> [MerkleTree.Hash] {
        (value?.arrayValue ?? []).compactMap { $0.stringValue.flatMap(EventHash.digest(hex:)) }
    }

    static func checkpoint(_ value: JSONValue?) throws -> Checkpoint {
        try Checkpoint(json: try #require(value?.objectValue))
    }

    /// Every inclusion proof of a 1,000-event tenant verifies against its signed checkpoint; consistency proofs
    /// between every pair of its checkpoints verify; forged proofs fail.
    @Test(arguments: StoreKind.available)
    func proofsRoundTripAgainstSignedCheckpoints(kind: StoreKind) async throws {
        try await withFreshLocation(kind) { location, _ in
            try await location.withStore { store in
                let key = try await Verification.publicKey(of: store)
                let signer = Checkpointer(store: store, configuration: CheckpointConfiguration(everyEvents: 1), logger: Logger(label: "test"))
                var appended: [String] = []
                // Checkpoints at 1, 250, 500, 999 and 1000 events (sizes of every shape: a power of two and not).
                for size in [1, 250, 500, 999, 1000] {
                    while appended.count < size {
                        let count = min(100, size - appended.count)
                        let result = try await store.append(AppendRequest(tenant: "default", activities: (0..<count).map { i in
                            Self.activity("create", "d-\(appended.count + i)")
                        }))
                        appended += result.events.map(\.id)
                    }
                    #expect(try await signer.signDue().map(\.size) == [Int64(size)])
                }
                let ids = appended
                try await buildApplication(configuration: ServerConfiguration(authentication: .disabled), store: store).test(.router) { client in
                    let latest = try Self.checkpoint(try parseJSON(try await client.execute(uri: "/api/v1/integrity/checkpoints/latest", method: .get).body))
                    #expect(latest.size == 1000 && latest.isSigned(by: key) && latest.keyId == SigningKeyID.of(key))
                    for (index, id) in ids.enumerated() {
                        let body = try parseJSON(try await client.execute(uri: "/api/v1/integrity/proofs/inclusion/\(id)", method: .get).body)
                        #expect(body["tree_size"]?.intValue == 1000 && body["leaf_index"]?.intValue == Int64(index))
                        let event = try #require(try await store.event(tenant: "default", id: id))
                        let leaf = MerkleTree.leafHash(event.hash)
                        let proof = Self.hashes(body["proof"])
                        #expect(MerkleTree.verifyInclusion(leafHash: leaf, index: index, size: 1000, proof: proof, root: latest.root), "event \(index + 1)")
                        #expect(try Self.checkpoint(body["checkpoint"]) == latest)
                        if index % 97 == 0, !proof.isEmpty {
                            var forged = proof
                            forged[forged.count / 2][0] ^= 1
                            #expect(!MerkleTree.verifyInclusion(leafHash: leaf, index: index, size: 1000, proof: forged, root: latest.root))
                            #expect(!MerkleTree.verifyInclusion(leafHash: MerkleTree.leafHash(EventHash.genesis), index: index, size: 1000, proof: proof, root: latest.root))
                        }
                    }
                    // Against an earlier checkpoint, by size.
                    let early = try parseJSON(try await client.execute(uri: "/api/v1/integrity/proofs/inclusion/\(ids[100])?size=250", method: .get).body)
                    let at250 = try Self.checkpoint(early["checkpoint"])
                    #expect(at250.size == 250 && at250.isSigned(by: key))
                    let event = try #require(try await store.event(tenant: "default", id: ids[100]))
                    #expect(MerkleTree.verifyInclusion(leafHash: MerkleTree.leafHash(event.hash), index: 100, size: 250, proof: Self.hashes(early["proof"]), root: at250.root))

                    let sizes: [Int64] = [1, 250, 500, 999, 1000]
                    for from in sizes {
                        for to in sizes where to >= from {
                            let body = try parseJSON(try await client.execute(uri: "/api/v1/integrity/proofs/consistency?from=\(from)&to=\(to)", method: .get).body)
                            let (first, second) = (try Self.checkpoint(body["from_checkpoint"]), try Self.checkpoint(body["to_checkpoint"]))
                            #expect(first.isSigned(by: key) && second.isSigned(by: key))
                            let proof = Self.hashes(body["proof"])
                            #expect(MerkleTree.verifyConsistency(first: Int(from), second: Int(to), firstRoot: first.root, secondRoot: second.root, proof: proof), "\(from) → \(to)")
                            if !proof.isEmpty {
                                var forged = proof
                                forged[0][31] ^= 0x80
                                #expect(!MerkleTree.verifyConsistency(first: Int(from), second: Int(to), firstRoot: first.root, secondRoot: second.root, proof: forged))
                            }
                        }
                    }
                }
            }
        }
    }

    @Test(arguments: StoreKind.available)
    func proofErrorsAreClearProblems(kind: StoreKind) async throws {
        // The signer looks once, at start, before any event: no checkpoint during the test, however slow the machine.
        try await withRouter(kind, checkpoints: CheckpointConfiguration(pollInterval: .seconds(3_600))) { client in
            let none = try await client.execute(uri: "/api/v1/integrity/checkpoints/latest", method: .get)
            #expect(none.status == .notFound && none.headers[.contentType] == "application/problem+json")
            let created = try parseJSON(try await client.execute(uri: "/api/v1/audit/logs", method: .post, headers: jsonHeaders,
                                                                body: ByteBuffer(string: #"{"action":"login","user_id":"u-1"}"#)).body)
            let id = try #require(created["id"]?.stringValue, "\(created)")
            #expect(try await client.execute(uri: "/api/v1/integrity/proofs/inclusion/\(id)", method: .get).status == .notFound, "no checkpoint to default to")
            #expect(try await client.execute(uri: "/api/v1/integrity/proofs/inclusion/\(id)?size=1", method: .get).status == .ok)
            for uri in ["/api/v1/integrity/proofs/inclusion/\(id)?size=2", "/api/v1/integrity/proofs/inclusion/\(id)?size=0",
                        "/api/v1/integrity/proofs/inclusion/\(id)?size=x", "/api/v1/integrity/proofs/consistency?to=1",
                        "/api/v1/integrity/proofs/consistency?from=2&to=1", "/api/v1/integrity/proofs/consistency?from=1&to=5"] {
                let response = try await client.execute(uri: uri, method: .get)
                #expect(response.status == .badRequest, "\(uri)")
                #expect(response.headers[.contentType] == "application/problem+json")
            }
            #expect(try await client.execute(uri: "/api/v1/integrity/proofs/inclusion/no-such-event?size=1", method: .get).status == .notFound)
        }
    }

    /// `POST /api/v1/integrity/verify`: the stored log (empty body), or an export streamed in the body.
    @Test(arguments: StoreKind.available)
    func verifyEndpointChecksTheStoreOrAnExport(kind: StoreKind) async throws {
        try await withFreshLocation(kind) { location, _ in
            try await location.withStore { store in
                for i in 0..<3 {
                    _ = try await store.append(AppendRequest(tenant: "default", activities: [Self.activity("create", "v-\(i)")]))
                }
                try await Checkpointer(store: store, configuration: CheckpointConfiguration(everyEvents: 1), logger: Logger(label: "test")).signDue()
                try await buildApplication(configuration: ServerConfiguration(authentication: .disabled), store: store).test(.router) { client in
                    let stored = try parseJSON(try await client.execute(uri: "/api/v1/integrity/verify", method: .post).body)
                    #expect(stored["valid"] == true && stored["events"]?.intValue == 3 && stored["checkpoints_verified"]?.intValue == 1)
                    #expect(stored["status"] == "anchored" && stored["anchored_through"]?.intValue == 3 && stored["anchor"]?["size"]?.intValue == 3)
                    let export = String(buffer: try await client.execute(uri: "/api/v1/audit/logs/export?format=ndjson&include_access=true", method: .get).body)
                    let good = try parseJSON(try await client.execute(uri: "/api/v1/integrity/verify", method: .post, body: ByteBuffer(string: export)).body)
                    #expect(good["valid"] == true && good["events"]?.intValue == 3 && good["root"] == stored["root"])
                    let lines = export.split(separator: "\n")
                    let changed = export.replacingOccurrences(of: "v-1", with: "v-9")
                    let forged = try parseJSON(try await client.execute(uri: "/api/v1/integrity/verify", method: .post, body: ByteBuffer(string: changed)).body)
                    #expect(forged["valid"] == false && forged["failure"]?["sequence"]?.intValue == 2)
                    // The first two events are an export taken before the third: a consistency proof from the store
                    // anchors them to the checkpoint of 3.
                    let earlier = try parseJSON(try await client.execute(uri: "/api/v1/integrity/verify", method: .post, body: ByteBuffer(string: lines[0] + "\n" + lines[1])).body)
                    #expect(earlier["valid"] == true && earlier["status"] == "anchored" && earlier["anchor_by_consistency_proof"] == true, "\(earlier)")
                    // One missing inside the range is tampering.
                    let gap = try parseJSON(try await client.execute(uri: "/api/v1/integrity/verify", method: .post, body: ByteBuffer(string: lines[0] + "\n" + lines[2])).body)
                    #expect(gap["status"] == "failed" && gap["failure"]?["sequence"]?.intValue == 2)
                    // The log grows (events, and the records of these reads) and is checkpointed again: the export
                    // taken before still verifies, anchored by the newer checkpoint; the stored log's newest events
                    // are unanchored until then.
                    for i in 3..<8 {
                        _ = try await store.append(AppendRequest(tenant: "default", activities: [Self.activity("create", "v-\(i)")]))
                    }
                    let grown = try parseJSON(try await client.execute(uri: "/api/v1/integrity/verify", method: .post).body)
                    #expect(grown["status"] == "unanchored" && grown["valid"] == true && grown["anchored_through"]?.intValue == 3
                            && grown["unanchored_events"]?.intValue == 5, "\(grown)")
                    try await Checkpointer(store: store, configuration: CheckpointConfiguration(everyEvents: 1), logger: Logger(label: "test")).signDue()
                    let later = try parseJSON(try await client.execute(uri: "/api/v1/integrity/verify", method: .post, body: ByteBuffer(string: export)).body)
                    #expect(later["status"] == "anchored" && later["events"]?.intValue == 3 && later["anchor"]?["size"]?.intValue == 8, "\(later)")
                }
            }
        }
    }

    /// An export verifies alike however it is cut into chunks (lines split across them, one byte at a time),
    /// read in turn as `trail verify` reads a file or pushed as the endpoint receives a body; a changed event is
    /// found in any.
    @Test func exportsVerifyAlikeInAnyChunking() async throws {
        try await withFreshLocation(.sqlite) { location, _ in
            try await location.withStore { store in
                for i in 0..<40 {
                    _ = try await store.append(AppendRequest(tenant: "default", activities: [Self.activity("create", "c-\(i)")]))
                }
                let stored = try await Verification.verifyStore(store, tenant: "default")
                let columns = try await store.eventColumns(tenant: "default", matching: EventQuery(oldestFirst: true, includesAccess: true, limit: 100))
                var writer = JSONWriter()
                for event in columns {
                    StoredEventJSON.write(event, into: &writer)
                    writer.raw("\n")
                }
                let export = writer.bytes
                let changed = Array(String(decoding: export, as: UTF8.self).replacingOccurrences(of: "c-17", with: "c-97").utf8)
                #expect(changed != export)
                for size in [1, 7, 100, 4096, export.count] {
                    func chunks(_ bytes: [UInt8]) -> [[UInt8]] {
                        stride(from: 0, to: bytes.count, by: size).map { Array(bytes[$0..<min($0 + size, bytes.count)]) }
                    }
                    var blocking = ChainVerifier(tenant: "default")
                    _ = try await Verification.verifyExport(&blocking, chunks: Pieces(chunks(export)).stream)
                    #expect(blocking.finish(whole: true) == stored, "chunks of \(size), read in turn")
                    var suspending = ChainVerifier(tenant: "default")
                    let stream = AsyncStream<[UInt8]> { continuation in
                        for chunk in chunks(export) { continuation.yield(chunk) }
                        continuation.finish()
                    }
                    #expect(try await Verification.verifyExport(&suspending, chunks: stream))
                    #expect(suspending.finish(whole: true) == stored, "chunks of \(size), suspending")
                    var tampered = ChainVerifier(tenant: "default")
                    _ = try await Verification.verifyExport(&tampered, chunks: Pieces(chunks(changed)).stream)
                    #expect(tampered.finish(whole: true).failure?.sequence == 18, "chunks of \(size)")
                }
                var empty = ChainVerifier(tenant: "default")
                #expect(try await !Verification.verifyExport(&empty, chunks: AsyncStream<[UInt8]> { $0.finish() }), "no body")
            }
        }
    }

    /// Chunks read one after the other on demand, as `trail verify` reads a file.
    final class Pieces: Sendable {
        private let rest: Mutex<ArraySlice<[UInt8]>>
        init(_ chunks: [[UInt8]]) { rest = Mutex(chunks[...]) }
        var stream: AsyncThrowingStream<[UInt8], any Error> {
            AsyncThrowingStream(unfolding: { self.rest.withLock { $0.popFirst() } })
        }
    }

    /// A signer started later goes on from the newest checkpoint's stored basis (no rereading of every hash), and
    /// its checkpoints extend the same tree; one that finds the checkpointed event's hash changed signs nothing.
    @Test(arguments: StoreKind.available)
    func aRestartedSignerGoesOnFromTheNewestCheckpoint(kind: StoreKind) async throws {
        try await withFreshLocation(kind) { location, _ in
            try await location.withStore { store in
                func append(_ count: Int) async throws {
                    for i in 0..<count {
                        _ = try await store.append(AppendRequest(tenant: "default", activities: [Self.activity("create", "r-\(UUID())-\(i)")]))
                    }
                }
                func signer() -> Checkpointer {
                    Checkpointer(store: store, configuration: CheckpointConfiguration(everyEvents: 1), logger: Logger(label: "test"))
                }
                try await append(7)
                #expect(try await signer().signDue().map(\.size) == [7])
                try await append(6)
                #expect(try await signer().signDue().map(\.size) == [13], "a new signer, from the stored basis")
                try await append(1)
                #expect(try await signer().signDue().map(\.size) == [14])
                let report = try await Verification.verifyStore(store, tenant: "default")
                #expect(report.isValid && report.checkpointsVerified.map(\.size) == [7, 13, 14], "\(String(describing: report.failure))")
            }
            // The checkpointed event's hash changed behind Trail's back: no further checkpoint.
            switch location {
            case .sqlite(let path, _):
                let queue = try outsideConnection(path)
                try await queue.write { db in
                    try db.execute(sql: "DROP TRIGGER events_no_update; UPDATE events SET hash = prev_hash WHERE sequence = 14")
                }
            case .postgres(let url, _):
                try await PostgresAdmin.execute("DROP TRIGGER events_no_update ON events", on: url)
                try await PostgresAdmin.execute("UPDATE events SET hash = prev_hash WHERE sequence = 14", on: url)
            }
            try await location.withStore { store in
                _ = try await store.append(AppendRequest(tenant: "default", activities: [Self.activity("create", "later")]))
                let signed = try await Checkpointer(store: store, configuration: CheckpointConfiguration(everyEvents: 1),
                                                    logger: Logger(label: "test")).signDue()
                #expect(signed.isEmpty)
            }
        }
    }

    /// Runs statements on the store's database outside Trail (setting up, or tampering).
    static func execute(_ statements: String..., on location: StoreLocation) async throws {
        for sql in statements {
            switch location {
            case .sqlite(let path, _):
                let queue = try outsideConnection(path)
                try await queue.write { db in try db.execute(sql: sql) }
            case .postgres(let url, _):
                try await PostgresAdmin.execute(sql, on: url)
            }
        }
    }

    /// The signer keeps the roots of the tree's subtrees of 256 events and more; proofs are computed from them
    /// and a block or two of event hashes, so a proof over tens of thousands of events reads a few blocks — without
    /// the roots it would need hundreds, and is refused rather than load the server. Roots lost (or never kept,
    /// as before this version) are built again from the first event, once, and must give the signed root.
    @Test(.timeLimit(.minutes(10)), arguments: StoreKind.available)
    func proofsComeFromKeptSubtreeRoots(kind: StoreKind) async throws {
        // On SQLite, just over 256 blocks of 256 events, to show the bound; on PostgreSQL (slower to fill, and
        // the bound is the same code) enough for subtrees of several levels.
        let count = kind == .sqlite ? 66_000 : 6_000
        let bounded = count > 256 << SubtreeRoots.minimumLevel  // (TreeProofs reads at most 256 blocks)
        try await withFreshLocation(kind) { location, _ in
            try await location.withStore { store in
                for batch in 0..<(count / 6_000 + 1) {
                    let size = min(6_000, count - batch * 6_000)
                    _ = try await store.append(AppendRequest(tenant: "default", activities: (0..<size).map { Self.activity("create", "s-\(batch)-\($0)") }))
                }
                func signer() -> Checkpointer {
                    Checkpointer(store: store, configuration: CheckpointConfiguration(everyEvents: 1), logger: Logger(label: "test"))
                }
                #expect(try await signer().signDue().map(\.size) == [Int64(count)])
                #expect(try await store.subtreeRootsSize(tenant: "default") == Int64(count))
                let level8 = (0..<Int64(count / 256)).map { MerkleTree.Subtree(level: 8, index: $0) }
                let kept = try await store.subtreeRoots(tenant: "default", level8 + [MerkleTree.Subtree(level: 12, index: 0), MerkleTree.Subtree(level: 17, index: 0)])
                #expect(kept.count == level8.count + 1, "every subtree of 256 and more within the log, none beyond")

                var hashes: [MerkleTree.Hash] = []
                while hashes.count < count {
                    hashes += try await store.eventHashes(tenant: "default", after: Int64(hashes.count), limit: 10_000).map(MerkleTree.leafHash)
                }
                let leaves = hashes
                let app = buildApplication(configuration: ServerConfiguration(authentication: .disabled), store: store)
                @Sendable func proofs(_ client: any TestClientProtocol) async throws -> (HTTPResponse.Status, HTTPResponse.Status) {
                    let index = Int64(count) * 6 / 10
                    let event = try await store.events(tenant: "default", matching: EventQuery(afterSequence: index, oldestFirst: true, limit: 1))[0]
                    let inclusion = try await client.execute(uri: "/api/v1/integrity/proofs/inclusion/\(event.id)", method: .get)
                    if inclusion.status == .ok {
                        let body = try parseJSON(inclusion.body)
                        #expect(Self.hashes(body["proof"]) == MerkleTree.inclusionProof(index: Int(index), leafHashes: leaves))
                        #expect(body["root"]?.stringValue == EventHash.hex(MerkleTree.root(ofLeafHashes: leaves)))
                    }
                    let from = count / 5 + 37
                    let consistency = try await client.execute(uri: "/api/v1/integrity/proofs/consistency?from=\(from)&to=\(count)", method: .get)
                    if consistency.status == .ok {
                        #expect(Self.hashes(try parseJSON(consistency.body)["proof"]) == MerkleTree.consistencyProof(from: from, leafHashes: leaves))
                    }
                    return (inclusion.status, consistency.status)
                }
                try await app.test(.router) { client in
                    let (inclusion, consistency) = try await proofs(client)
                    #expect(inclusion == .ok && consistency == .ok)
                }
                // Without the roots, the same proofs would read every block: refused past the bound, to be retried.
                try await Self.execute("DELETE FROM subtree_roots", "DELETE FROM subtree_roots_progress", on: location)
                try await app.test(.router) { client in
                    let (inclusion, consistency) = try await proofs(client)
                    #expect(inclusion == (bounded ? .serviceUnavailable : .ok) && consistency == (bounded ? .serviceUnavailable : .ok))
                }
                // A new signer builds them again from the first event (signing nothing new), and proofs answer.
                #expect(try await signer().signDue().isEmpty)
                #expect(try await store.subtreeRoots(tenant: "default", level8).count == level8.count)
                try await app.test(.router) { client in
                    let (inclusion, consistency) = try await proofs(client)
                    #expect(inclusion == .ok && consistency == .ok)
                }
            }
            // Roots lost and an early event changed behind Trail's back: the rebuilt tree does not have the
            // signed root, and the tenant gets no further checkpoint.
            try await Self.execute("DELETE FROM subtree_roots_progress", on: location)
            let dropTrigger = if case .sqlite = location { "DROP TRIGGER events_no_update" } else { "DROP TRIGGER events_no_update ON events" }
            try await Self.execute(dropTrigger, "UPDATE events SET hash = prev_hash WHERE sequence = 5", on: location)
            try await location.withStore { store in
                _ = try await store.append(AppendRequest(tenant: "default", activities: [Self.activity("create", "later")]))
                let signer = Checkpointer(store: store, configuration: CheckpointConfiguration(everyEvents: 1), logger: Logger(label: "test"))
                #expect(try await signer.signDue().isEmpty)
                #expect(try await signer.signDue().isEmpty)
            }
        }
    }
}
