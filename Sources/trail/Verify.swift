import ArgumentParser
import Crypto
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TrailCore
import TrailServer
import TrailStore

struct Verify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Prove a log was not changed: recompute every hash, the chain, the Merkle roots and the checkpoint signatures.",
        discussion: """
            Offline, from an export: trail verify --export events.ndjson --public-key trail.pub [--checkpoint F]...
              (export with: trail export --format ndjson --include-access, or
               GET /api/v1/audit/logs/export?format=ndjson&include_access=true; the public key from
               GET /api/v1/integrity/public-key, as that JSON, as PEM, or as base64)
            A whole store: trail verify --database F [--tenant T] (its own key and checkpoints, plus any given).
            Prints one line per tenant; exits 1 if anything fails, naming the first bad sequence and why.
            """)

    @Option(name: .long, help: "An NDJSON export of one tenant's whole log, oldest first (- for standard input).")
    var export: String?

    @Option(name: .long, help: "The installation's public key: the JSON of /api/v1/integrity/public-key, PEM, or base64.")
    var publicKey: String?

    @Option(name: .long, help: "A file of checkpoints (one JSON object, or one per line, like the witness file); repeatable.")
    var checkpoint: [String] = []

    @Option(name: .long, help: "With --database: only this tenant; with --export: the tenant the export must belong to.")
    var tenant: String?

    @Flag(name: .long, help: "Print each tenant's report as one line of JSON.")
    var json = false

    @OptionGroup var store: DatabaseOption

    func validate() throws {
        if export != nil {
            guard publicKey != nil || checkpoint.isEmpty else {
                throw ValidationError("--checkpoint needs --public-key: a checkpoint is only as good as the key that signed it")
            }
        }
    }

    func run() async throws {
        let key = try publicKey.map(Self.readPublicKey)
        let checkpoints = try checkpoint.flatMap(Self.readCheckpoints)
        var reports: [ChainVerifier.Report] = []
        if let export {
            var verifier = ChainVerifier(tenant: tenant, checkpoints: checkpoints, publicKey: key)
            let handle = export == "-" ? FileHandle.standardInput : FileHandle(forReadingAtPath: export)
            guard let handle else { throw ValidationError("cannot read \(export)") }
            let descriptor = handle.fileDescriptor
            let chunks = AsyncThrowingStream<[UInt8], any Error>(unfolding: {
                let chunk = try Self.nextChunk(of: descriptor, named: export)
                return chunk.isEmpty ? nil : chunk
            })
            _ = try await Verification.verifyExport(&verifier, chunks: chunks)
            reports.append(verifier.finish())
        } else {
            reports = try await store.withStore { store in
                var tenants = tenant.map { [$0] } ?? []
                if tenant == nil { tenants = try await store.chainHeads().keys.sorted() }
                var reports: [ChainVerifier.Report] = []
                for tenant in tenants {
                    reports.append(try await Verification.verifyStore(store, tenant: tenant, publicKey: key, extra: checkpoints))
                }
                return reports
            }
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
        if reports.isEmpty { print("no events to verify") }
        if reports.contains(where: { !$0.isValid }) { throw ExitCode.failure }
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
