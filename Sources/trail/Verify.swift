import ArgumentParser
import Crypto
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TrailCore
import TrailService
import TrailStore

struct Verify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Prove a log was not changed: recompute every hash, the chain, the Merkle roots and the checkpoint signatures.",
        discussion: """
            Offline, from an export: trail verify --export events.ndjson --public-key trail.pub [--checkpoint F]...
              [--consistency-proof P]
              (export with: trail export --format ndjson --include-access, or
               GET /api/v1/audit/logs/export?format=ndjson&include_access=true; the public key from
               GET /api/v1/integrity/public-key, as that JSON, as PEM, or as base64; a checkpoint signed after
               the export anchors it with GET /api/v1/integrity/proofs/consistency?from=<events>&to=<its size>)
            A whole store: trail verify --database F [--tenant T] (its own key and checkpoints, plus any given).
            Prints one line per tenant. Exit status: 0 verified and anchored (a signed checkpoint covers every
            event); 3 the chain is intact but its newest events are covered by no checkpoint, so their removal
            would not show; 1 tampering found (the first bad sequence and why); 2 nothing could be verified
            (no such file, store or tenant, no events).
            """)

    @Option(name: .long, help: "An NDJSON export of one tenant's whole log, oldest first (- for standard input).")
    var export: String?

    @Option(name: .long, help: "The installation's public key: the JSON of /api/v1/integrity/public-key, PEM, or base64.")
    var publicKey: String?

    @Option(name: .long, help: "A file of checkpoints (one JSON object, or one per line, like the witness file); repeatable.")
    var checkpoint: [String] = []

    @Option(name: .long, help: "With --export: the JSON of /api/v1/integrity/proofs/consistency from the export's size to a later checkpoint, which anchors the export to it.")
    var consistencyProof: String?

    @Option(name: .long, help: "With --database: only this tenant; with --export: the tenant the export must belong to.")
    var tenant: String?

    @Flag(name: .long, help: "Print each tenant's report as one line of JSON.")
    var json = false

    @OptionGroup var store: DatabaseOption

    /// The exit statuses (documented in the discussion above and the README).
    enum Outcome: Int32 {
        case anchored = 0, failed = 1, unverifiable = 2, unanchored = 3
    }

    func validate() throws {
        if export != nil {
            guard publicKey != nil || (checkpoint.isEmpty && consistencyProof == nil) else {
                throw ValidationError("--checkpoint and --consistency-proof need --public-key: a checkpoint is only as good as the key that signed it")
            }
        } else if consistencyProof != nil {
            throw ValidationError("--consistency-proof goes with --export (a store is verified against its own checkpoints)")
        }
    }

    func run() async throws {
        let reports: [ChainVerifier.Report]
        do {
            reports = try await self.reports()
        } catch let error as ValidationError {
            throw Self.unverifiable(error.message)
        } catch let error as StoreError {
            throw Self.unverifiable(error.message)
        }
        for report in reports {
            if json {
                var writer = JSONWriter()
                Verification.write(report, into: &writer)
                print(String(decoding: writer.bytes, as: UTF8.self))
            } else {
                print(Verification.summary(report))
            }
        }
        let outcome: Outcome = reports.contains { $0.status == .failed } ? .failed
            : reports.contains { $0.status == .unanchored } ? .unanchored : .anchored
        if outcome != .anchored { throw ExitCode(outcome.rawValue) }
    }

    private func reports() async throws -> [ChainVerifier.Report] {
        let key = try publicKey.map(Self.readPublicKey)
        let checkpoints = try checkpoint.flatMap(Self.readCheckpoints)
        guard let export else {
            let tenant = self.tenant
            // (Not `store.withStore`, which fails with status 1: a store that cannot be read is status 2 here.)
            return try await store.location().withStore(creating: false) { store in
                let heads = try await store.chainHeads()
                if let tenant, heads[tenant] == nil {
                    throw ValidationError("tenant \(tenant) has no events in this store: nothing to verify")
                }
                guard !heads.isEmpty else { throw ValidationError("the store holds no events: nothing to verify") }
                var reports: [ChainVerifier.Report] = []
                for tenant in tenant.map({ [$0] }) ?? heads.keys.sorted() {
                    reports.append(try await Verification.verifyStore(store, tenant: tenant, publicKey: key, extra: checkpoints))
                }
                return reports
            }
        }
        var verifier = ChainVerifier(tenant: tenant, checkpoints: checkpoints, publicKey: key)
        let handle = export == "-" ? FileHandle.standardInput : FileHandle(forReadingAtPath: export)
        guard let handle else { throw ValidationError("cannot read \(export): no such file, or not readable") }
        let descriptor = handle.fileDescriptor
        let chunks = AsyncThrowingStream<[UInt8], any Error>(unfolding: {
            let chunk = try Self.nextChunk(of: descriptor, named: export)
            return chunk.isEmpty ? nil : chunk
        })
        _ = try await Verification.verifyExport(&verifier, chunks: chunks)
        guard verifier.events > 0 || verifier.failure != nil else {
            throw ValidationError("\(export) holds no events: nothing to verify")
        }
        if let consistencyProof {
            let (checkpoint, proof) = try Self.readConsistencyProof(consistencyProof, events: verifier.events)
            verifier.prove(extendsTo: checkpoint, proof: proof)
        }
        return [verifier.finish(whole: false)]
    }

    /// Prints why nothing could be verified and exits 2.
    static func unverifiable(_ message: String) -> ExitCode {
        FileHandle.standardError.write(Data("error: \(message)\n".utf8))
        return ExitCode(Outcome.unverifiable.rawValue)
    }

    /// The checkpoint and proof of a consistency proof's JSON (`/api/v1/integrity/proofs/consistency`), which must
    /// start at the export's size.
    static func readConsistencyProof(_ path: String, events: Int64) throws -> (Checkpoint, [MerkleTree.Hash]) {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw ValidationError("cannot read \(path)") }
        do {
            guard let object = try JSONParser.parse(text).objectValue else { throw ValidationError("not a JSON object") }
            guard case .number(let from) = object["from"], Int64(from.literal) == events else {
                throw ValidationError("its from is not \(events), the number of events in the export")
            }
            guard let signed = object["to_checkpoint"]?.objectValue else {
                throw ValidationError("its to_checkpoint is null: ask for a proof to the size of a checkpoint")
            }
            guard case .array(let hashes) = object["proof"] else { throw ValidationError("it has no proof") }
            let proof = try hashes.map { hash in
                guard let digest = hash.stringValue.flatMap(EventHash.digest(hex:)) else { throw ValidationError("a proof hash is not 64 hex digits") }
                return digest
            }
            return (try Checkpoint(json: signed), proof)
        } catch let error as ValidationError {
            throw ValidationError("\(path) is not a consistency proof of this export: \(error.message)")
        } catch {
            throw ValidationError("\(path) is not a consistency proof: \(error)")
        }
    }

    /// The next megabyte of a file or pipe (less at its end; empty after it), read straight into the array.
    static func nextChunk(of descriptor: Int32, named name: String) throws -> [UInt8] {
        try [UInt8](unsafeUninitializedCapacity: 1 << 20) { buffer, count in
            count = 0
            while count < buffer.count {
                let got = read(descriptor, buffer.baseAddress! + count, buffer.count - count)
                if got == 0 { break }
                if got < 0 {
                    if errno == EINTR { continue }
                    throw ValidationError("cannot read \(name): \(String(cString: strerror(errno)))")
                }
                count += got
            }
        }
    }

    /// A public key file: the JSON Trail serves, PEM, or the 32 raw bytes in base64.
    static func readPublicKey(_ path: String) throws -> Curve25519.Signing.PublicKey {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw ValidationError("cannot read \(path)") }
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        do {
            if !trimmed.hasPrefix("{"), trimmed.contains("BEGIN PUBLIC KEY") {
                return try Curve25519.Signing.PublicKey(pemRepresentation: trimmed)
            }
            var base64 = trimmed
            if trimmed.hasPrefix("{") {
                guard let value = try JSONParser.parse(trimmed).objectValue?["public_key"]?.stringValue else {
                    throw ValidationError("\(path) has no \"public_key\"")
                }
                base64 = value
            }
            guard let raw = Data(base64Encoded: base64) else { throw ValidationError("\(path) is not a public key") }
            return try Curve25519.Signing.PublicKey(rawRepresentation: raw)
        } catch let error as ValidationError {
            throw error
        } catch {
            throw ValidationError("\(path) is not an Ed25519 public key: \(error)")
        }
    }

    /// Checkpoints from a file: one JSON object, or one per line.
    static func readCheckpoints(_ path: String) throws -> [Checkpoint] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw ValidationError("cannot read \(path)") }
        let lines = text.split(whereSeparator: \.isNewline).filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
        let documents = lines.count > 1 ? lines.map(String.init) : [text]
        return try documents.enumerated().map { index, document in
            do {
                guard let object = try JSONParser.parse(document).objectValue else { throw ValidationError("not an object") }
                return try Checkpoint(json: object)
            } catch {
                throw ValidationError("\(path), checkpoint \(index + 1): \(error)")
            }
        }
    }
}
