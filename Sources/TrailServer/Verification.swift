public import Crypto
import Dispatch
import Foundation
import Synchronization
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

    /// Feeds `verifier` the tenant's stored events, oldest first. Each page of events is written out as the
    /// lines an export would hold (what reads return is what was hashed) and examined like an export's lines, by
    /// the pool's threads, a few pages ahead of the chain check.
    public static func check(
        _ store: any TrailStorage, tenant: String, with verifier: ChainVerifier
    ) async throws -> ChainVerifier.Report {
        var verifier = verifier
        let workers = ProcessInfo.processInfo.activeProcessorCount
        let pool = ExaminationPool(threads: workers)
        defer { pool.close() }
        var after: Int64 = 0
        var ended = false
        var inFlight: [ExaminationPool.Job] = []
        while verifier.failure == nil {
            while !ended && inFlight.count < 2 * workers + 2 {
                let page = try await store.eventColumns(tenant: tenant, matching: EventQuery(
                    afterSequence: after, oldestFirst: true, includesAccess: true, limit: 2_000))
                guard let last = page.last else {
                    ended = true
                    break
                }
                after = last.sequence
                inFlight.append(pool.submit(exportLines(page)))
            }
            guard !inFlight.isEmpty else { break }
            for item in await inFlight.removeFirst().value {
                verifier.add(item)
                if verifier.failure != nil { break }
            }
        }
        return verifier.finish()
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

    /// Checks an NDJSON export read in chunks from `read` (nil or empty at its end) against `verifier`. Each
    /// chunk's lines are parsed and hashed by one of a few threads (one per core), several chunks ahead so that
    /// every core stays busy, while this thread reads and splits the next chunks and checks the finished ones
    /// against the chain, in order. Memory: a few chunks, whatever the export's size.
    public static func verifyExport(
        _ verifier: inout ChainVerifier, read: () throws -> [UInt8]?
    ) throws {
        let workers = ProcessInfo.processInfo.activeProcessorCount
        let pool = ExaminationPool(threads: workers)
        defer { pool.close() }
        var splitter = LineSplitter()
        var ended = false
        var inFlight: [ExaminationPool.Job] = []
        while verifier.failure == nil {
            while !ended && inFlight.count < 2 * workers + 2 {
                var lines: [ArraySlice<UInt8>] = []
                if let chunk = try read(), !chunk.isEmpty {
                    splitter.feed(chunk) { lines.append($0) }
                } else {
                    splitter.finish { lines.append($0) }
                    ended = true
                }
                inFlight.append(pool.submit(lines))
            }
            guard !inFlight.isEmpty else { break }
            for item in inFlight.removeFirst().wait() {
                verifier.add(item)
                if verifier.failure != nil { break }
            }
        }
    }

    /// Checks an NDJSON export arriving in `chunks` (a request's body) against `verifier`, like
    /// ``verifyExport(_:read:)`` but suspending, not blocking, while it waits for the examining threads. False if
    /// no chunk had a byte (no export was sent).
    public static func verifyExport<Chunks: AsyncSequence>(
        _ verifier: inout ChainVerifier, chunks: Chunks
    ) async throws -> Bool where Chunks.Element == [UInt8] {
        let workers = ProcessInfo.processInfo.activeProcessorCount
        let pool = ExaminationPool(threads: workers)
        defer { pool.close() }
        var splitter = LineSplitter()
        var inFlight: [ExaminationPool.Job] = []
        var sawBytes = false
        for try await chunk in chunks where !chunk.isEmpty {
            sawBytes = true
            var lines: [ArraySlice<UInt8>] = []
            splitter.feed(chunk) { lines.append($0) }
            inFlight.append(pool.submit(lines))
            while inFlight.count > 2 * workers + 2 && verifier.failure == nil {
                for item in await inFlight.removeFirst().value {
                    verifier.add(item)
                    if verifier.failure != nil { break }
                }
            }
            if verifier.failure != nil { return true }
        }
        guard sawBytes else { return false }
        var last: [ArraySlice<UInt8>] = []
        splitter.finish { last.append($0) }
        inFlight.append(pool.submit(last))
        while !inFlight.isEmpty && verifier.failure == nil {
            for item in await inFlight.removeFirst().value {
                verifier.add(item)
                if verifier.failure != nil { break }
            }
        }
        return true
    }

    /// Threads that examine lines of an export, each with its own canonicalizer. (Threads of its own, not
    /// Dispatch's: on Linux, Dispatch's pool left a core idle a third of the time while the reader waited.)
    private final class ExaminationPool: @unchecked Sendable {  // `queue` and `closed` are guarded by `condition`
        /// Some lines to examine, and their outcome once done: waited for by a thread (``wait()``) or a task
        /// (``value``), never both.
        final class Job: Sendable {
            fileprivate let lines: [ArraySlice<UInt8>]
            private let state = Mutex<(result: [ChainVerifier.Examined]?, waiter: CheckedContinuation<[ChainVerifier.Examined], Never>?)>((nil, nil))
            private let done = DispatchSemaphore(value: 0)

            init(_ lines: [ArraySlice<UInt8>]) { self.lines = lines }

            fileprivate func finish(_ result: [ChainVerifier.Examined]) {
                let waiter = state.withLock { state in
                    state.result = result
                    defer { state.waiter = nil }
                    return state.waiter
                }
                waiter?.resume(returning: result)
                done.signal()
            }

            /// Blocks the calling thread until the lines are examined.
            func wait() -> [ChainVerifier.Examined] {
                done.wait()
                return state.withLock { $0.result ?? [] }
            }

            /// Suspends the calling task (not its thread) until the lines are examined.
            var value: [ChainVerifier.Examined] {
                get async {
                    await withCheckedContinuation { continuation in
                        let ready = state.withLock { state in
                            if state.result == nil { state.waiter = continuation }
                            return state.result
                        }
                        if let ready { continuation.resume(returning: ready) }
                    }
                }
            }
        }

        private let condition = NSCondition()
        private var queue: [Job] = []
        private var closed = false

        init(threads: Int) {
            for _ in 0..<threads {
                let thread = Thread { [self] in work() }
                thread.name = "trail-verify"
                thread.start()
            }
        }

        func submit(_ lines: [ArraySlice<UInt8>]) -> Job {
            let job = Job(lines)
            condition.lock()
            queue.append(job)
            condition.signal()
            condition.unlock()
            return job
        }

        /// Lets the threads end once the queue is empty.
        func close() {
            condition.lock()
            closed = true
            condition.broadcast()
            condition.unlock()
        }

        private func work() {
            let canonicalizer = CanonicalLine.Canonicalizer()
            while true {
                condition.lock()
                while queue.isEmpty && !closed { condition.wait() }
                guard !queue.isEmpty else { return condition.unlock() }
                let job = queue.removeFirst()
                condition.unlock()
                job.finish(job.lines.map { ChainVerifier.examine(line: $0, with: canonicalizer) })
            }
        }
    }

    /// The store's own checkpoint key.
    public static func publicKey(of store: any IntegrityStore) async throws -> Curve25519.Signing.PublicKey {
        try Curve25519.Signing.PrivateKey(rawRepresentation: try await store.checkpointSigningKey()).publicKey
    }

    /// The report as JSON: `{"valid", "tenant", "events", "last_hash", "root", "checkpoints_verified",
    /// "latest_checkpoint_verified", "failure": {"sequence", "reason"} | null}`.
    public static func write(_ report: ChainVerifier.Report, into writer: inout JSONWriter) {
        writer.raw("{"); writer.key("valid"); writer.raw(report.isValid ? "true" : "false")
        writer.raw(","); writer.key("tenant")
        if let tenant = report.tenant { writer.write(string: tenant) } else { writer.raw("null") }
        writer.raw(","); writer.key("events"); writer.raw(String(report.events))
        writer.raw(","); writer.key("last_hash"); writer.write(string: EventHash.hex(report.lastHash))
        writer.raw(","); writer.key("root"); writer.write(string: EventHash.hex(report.root))
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

    /// One line for people: `acme: 1000 events verified, chain intact, 3 checkpoints verified (latest …)` or
    /// `acme: FAILED at sequence 17: …`.
    public static func summary(_ report: ChainVerifier.Report) -> String {
        let tenant = report.tenant ?? "(no events)"
        if let failure = report.failure {
            return "\(tenant): FAILED " + (failure.sequence.map { "at sequence \($0): " } ?? "") + failure.reason
        }
        let checkpoints = report.checkpointsVerified.count
        let latest = report.checkpointsVerified.last.map { " (latest: size \($0.size), signed \($0.time.formatted()))" } ?? ""
        return "\(tenant): OK — \(report.events) events, hash chain intact, root \(EventHash.hex(report.root)), "
            + "\(checkpoints) checkpoint\(checkpoints == 1 ? "" : "s") verified\(latest)"
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
