public import Crypto
import Foundation
import NIOPosix
public import TrailCore
public import TrailStore

/// Verification of a tenant's log (SPEC §8), shared by `POST /api/v1/integrity/verify` and `trail verify`.
public enum Verification {
    /// Checks a tenant's stored events, oldest first, against its stored checkpoints and `extra` ones (a witness
    /// file, a checkpoint an auditor kept), with `publicKey` (by default the store's own).
    public static func verifyStore(
        _ store: any TrailStorage, tenant: String, publicKey: Curve25519.Signing.PublicKey? = nil,
        extra: [Checkpoint] = []
    ) async throws -> ChainVerifier.Report {
        try await check(store, tenant: tenant, with: verifier(for: store, tenant: tenant, publicKey: publicKey, extra: extra))
    }

    /// A verifier for a tenant's log: its stored checkpoints and `extra` ones of the tenant, held to `publicKey`
    /// (by default the store's own).
    public static func verifier(
        for store: any TrailStorage, tenant: String, publicKey: Curve25519.Signing.PublicKey? = nil,
        extra: [Checkpoint] = []
    ) async throws -> ChainVerifier {
        var key = publicKey
        if key == nil { key = try await self.publicKey(of: store) }
        let stored = try await store.checkpoints(tenant: tenant, newest: false, limit: Int(Int32.max))
        return ChainVerifier(tenant: tenant, checkpoints: stored + extra.filter { $0.tenant == tenant }, publicKey: key)
    }

    /// Feeds `verifier` the tenant's stored events, oldest first, and reports on them as the tenant's whole log
    /// (a stored checkpoint beyond its last event means events were removed). Each page of events is written
    /// out as the lines an export would hold (what reads return is what was hashed) and examined like an
    /// export's lines.
    /// `progress` is told how many events have been checked, after each batch.
    public static func check(
        _ store: any TrailStorage, tenant: String, with verifier: ChainVerifier,
        progress: (@Sendable (Int64) async throws -> Void)? = nil
    ) async throws -> ChainVerifier.Report {
        var verifier = verifier
        var after: Int64 = 0
        try await examine(into: &verifier, progress: progress) {
            var query = EventQuery(afterSequence: after, oldestFirst: true, includesAccess: true, limit: 2_000)
            query.bulk = true
            query.sealed = true
            let page = try await store.eventColumns(tenant: tenant, matching: query)
            guard let last = page.last else { return nil }
            after = last.sequence
            return exportLines(page)
        }
        return verifier.finish(whole: true)
    }

    /// Anchors an export the verifier has read to the tenant's newest checkpoint, when that is later than the
    /// export (the log grew since it was taken): a consistency proof from the store shows the export's events
    /// are that checkpoint's first ones, or the verifier fails.
    public static func anchorToLaterCheckpoint(_ verifier: inout ChainVerifier, store: any TrailStorage, tenant: String) async throws {
        guard verifier.failure == nil, verifier.events > 0, let newest = verifier.laterCheckpoints.last else { return }
        let proof: [MerkleTree.Hash]
        do {
            proof = try await TreeProofs(store: store, tenant: tenant).consistencyProof(from: verifier.events, size: newest.size)
        } catch let error as ServiceError where error.slug == TreeProofs.shorterLog {
            // The proof is read from the store, which lacks events its own checkpoint covers: nothing proves the
            // export, and the store's log was cut (its own verification says where).
            proof = []
        }
        verifier.prove(extendsTo: newest, proof: proof)
    }

    /// The events as the lines of an NDJSON export (one buffer, sliced).
    static func exportLines(_ events: [StoredEventColumns]) -> [ArraySlice<UInt8>] {
        var writer = JSONWriter(capacity: 1024 * events.count)
        var ends: [Int] = []
        ends.reserveCapacity(events.count)
        for event in events {
            StoredEventJSON.write(event, into: &writer)
            ends.append(writer.bytes.count)
        }
        let text = writer.bytes
        var start = 0
        return ends.map { end in
            defer { start = end }
            return text[start..<end]
        }
    }

    /// Checks an NDJSON export arriving in `chunks` (a file read in turn, a request's body) against `verifier`,
    /// in constant memory whatever its size. False if no chunk had a byte (no export was given).
    public static func verifyExport<Chunks: AsyncSequence>(
        _ verifier: inout ChainVerifier, chunks: Chunks
    ) async throws -> Bool where Chunks.Element == [UInt8] {
        var splitter = LineSplitter()
        var iterator = chunks.makeAsyncIterator()
        var (sawBytes, ended) = (false, false)
        try await examine(into: &verifier) {
            while let chunk = try await iterator.next() {
                guard !chunk.isEmpty else { continue }
                sawBytes = true
                var lines: [ArraySlice<UInt8>] = []
                splitter.feed(chunk) { lines.append($0) }
                return lines
            }
            if ended { return nil }
            ended = true
            var last: [ArraySlice<UInt8>] = []
            splitter.finish { last.append($0) }
            return last
        }
        return sawBytes
    }

    /// Feeds `verifier` the lines `next` gives, batch after batch (nil at the end), in order. Each batch is
    /// parsed and hashed on a thread of a pool of one thread per core (NIO's thread pool: Dispatch's left a core
    /// idle a third of the time on Linux while the reader waited), several batches ahead so that every core
    /// stays busy, while the calling task reads the next batches and checks the finished ones against the chain,
    /// suspending (not blocking its thread) while it waits. Memory: a few batches.
    private static func examine(
        into verifier: inout ChainVerifier, progress: (@Sendable (Int64) async throws -> Void)? = nil,
        batches next: () async throws -> [ArraySlice<UInt8>]?
    ) async throws {
        let workers = ProcessInfo.processInfo.activeProcessorCount
        let pool = NIOThreadPool(numberOfThreads: workers)
        pool.start()
        var inFlight: [Task<[ChainVerifier.Examined], any Error>] = []
        func submit(_ lines: [ArraySlice<UInt8>]) {
            inFlight.append(Task {
                try await pool.runIfActive {
                    let canonicalizer = CanonicalLine.Canonicalizer()
                    return lines.map { ChainVerifier.examine(line: $0, with: canonicalizer) }
                }
            })
        }
        do {
            var ended = false
            while verifier.failure == nil {
                while !ended && inFlight.count < 2 * workers + 2 {
                    if let lines = try await next() { submit(lines) } else { ended = true }
                }
                guard !inFlight.isEmpty else { break }
                for item in try await inFlight.removeFirst().value {
                    verifier.add(item)
                    if verifier.failure != nil { break }
                }
                try await progress?(Int64(verifier.events))
            }
        } catch {
            for task in inFlight { task.cancel() }
            try? await pool.shutdownGracefully()
            throw error
        }
        // (After a failure, batches still in flight are not needed.)
        for task in inFlight { task.cancel() }
        try await pool.shutdownGracefully()
    }

    /// The store's own checkpoint key.
    public static func publicKey(of store: any IntegrityStore) async throws -> Curve25519.Signing.PublicKey {
        try Curve25519.Signing.PrivateKey(rawRepresentation: try await store.checkpointSigningKey()).publicKey
    }

    /// The report as JSON: `{"status": "anchored" | "unanchored" | "failed", "valid", "tenant", "events",
    /// "removed_events", "erased_events", "anchored_through", "unanchored_events", "anchor": checkpoint | null, "anchor_by_consistency_proof",
    /// "last_hash", "root", "checkpoints_verified", "latest_checkpoint_verified", "failure": {"sequence",
    /// "reason"} | null}`. `valid` is true when no tampering was found, anchored or not.
    public static func write(_ report: ChainVerifier.Report, into writer: inout JSONWriter) {
        writer.raw("{"); writer.key("status"); writer.write(string: report.status.rawValue)
        writer.raw(","); writer.key("valid"); writer.raw(report.isValid ? "true" : "false")
        writer.raw(","); writer.key("tenant")
        if let tenant = report.tenant { writer.write(string: tenant) } else { writer.raw("null") }
        writer.raw(","); writer.key("events"); writer.raw(String(report.events))
        writer.raw(","); writer.key("removed_events"); writer.raw(String(report.removed))
        writer.raw(","); writer.key("erased_events"); writer.raw(String(report.erased))
        writer.raw(","); writer.key("anchored_through"); writer.raw(String(report.anchoredThrough))
        writer.raw(","); writer.key("unanchored_events"); writer.raw(String(report.events - report.anchoredThrough))
        writer.raw(","); writer.key("anchor")
        if let anchor = report.anchor { anchor.write(into: &writer) } else { writer.raw("null") }
        writer.raw(","); writer.key("anchor_by_consistency_proof"); writer.raw(report.provenBy != nil ? "true" : "false")
        writer.raw(","); writer.key("last_hash"); writer.write(hex: report.lastHash)
        writer.raw(","); writer.key("root"); writer.write(hex: report.root)
        writer.raw(","); writer.key("checkpoints_verified"); writer.raw(String(report.checkpointsVerified.count))
        writer.raw(","); writer.key("latest_checkpoint_verified")
        if let latest = report.checkpointsVerified.last { latest.write(into: &writer) } else { writer.raw("null") }
        writer.raw(","); writer.key("failure")
        if let failure = report.failure {
            writer.raw("{"); writer.key("sequence"); writer.raw(failure.sequence.map(String.init) ?? "null")
            writer.raw(","); writer.key("reason"); writer.write(string: failure.reason)
            writer.raw("}")
        } else {
            writer.raw("null")
        }
        writer.raw("}")
    }

    /// One line for people, beginning with the tenant and the outcome: `acme: VERIFIED — …` (anchored),
    /// `acme: NOT ANCHORED — …` (intact, but the newest events are covered by no checkpoint), or
    /// `acme: FAILED at sequence 17: …`.
    public static func summary(_ report: ChainVerifier.Report) -> String {
        let tenant = report.tenant ?? "(no events)"
        if let failure = report.failure {
            return "\(tenant): FAILED " + (failure.sequence.map { "at sequence \($0): " } ?? "") + failure.reason
        }
        let checkpoints = report.checkpointsVerified.count
        let changed = [report.removed > 0 ? "\(report.removed) removed by retention" : nil,
                       report.erased > 0 ? "\(report.erased) rewritten by erasures" : nil].compactMap { $0 }
        let removed = changed.isEmpty ? "" : " (of which \(changed.joined(separator: ", ")), each named by its record)"
        let chain = "\(report.events) event\(report.events == 1 ? "" : "s")\(removed), hash chain intact, root \(EventHash.hex(report.root)), "
            + "\(checkpoints) checkpoint\(checkpoints == 1 ? "" : "s") verified"
        switch report.status {
        case .anchored:
            let anchor = report.anchor.map { "size \($0.size), signed \($0.time.formatted())" } ?? ""
            let how = report.provenBy != nil ? " by a consistency proof to the later checkpoint (\(anchor))" : " (latest: \(anchor))"
            return "\(tenant): VERIFIED — \(chain); every event is covered by a signed checkpoint\(how)"
        case .unanchored:
            let first = report.anchoredThrough + 1
            let range = first == report.events ? "event \(first) is" : "events \(first)–\(report.events) are"
            var text = "\(tenant): NOT ANCHORED — \(chain); but \(range) covered by no signed checkpoint, so their removal "
                + "or change would not show"
            if let later = report.laterCheckpoints.last {
                text += " (a checkpoint of size \(later.size) was signed after these events: a consistency proof from "
                    + "\(report.events) to \(later.size) would anchor them)"
            } else {
                text += " (Trail signs a checkpoint soon after new events: verify again then, or with a later checkpoint)"
            }
            return text
        case .failed:
            return "\(tenant): FAILED"  // (a failure is returned above)
        }
    }
}

/// Splits a byte stream into lines (LF, with an optional CR), handing each to `body`; for NDJSON bodies and
/// files read in chunks, in constant memory per line.
public struct LineSplitter {
    private var pending: [UInt8] = []

    public init() {}

    public mutating func feed(_ bytes: [UInt8], _ body: (ArraySlice<UInt8>) -> Void) {
        var start = 0
        bytes.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            while start < buffer.count, let found = memchr(base + start, 0x0A, buffer.count - start) {
                let index = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
                if pending.isEmpty {
                    body(bytes[start..<index])
                } else {
                    pending.append(contentsOf: buffer[start..<index])
                    body(pending[...])
                    pending.removeAll(keepingCapacity: true)
                }
                start = index + 1
            }
        }
        pending.append(contentsOf: bytes[start...])
    }

    /// The last line, if the stream did not end with a line break.
    public mutating func finish(_ body: (ArraySlice<UInt8>) -> Void) {
        if !pending.isEmpty { body(pending[...]) }
        pending.removeAll()
    }
}
