public import Crypto
import Foundation
public import Logging
public import ServiceLifecycle
public import TrailCore
public import TrailStore
import Synchronization

/// When checkpoints are signed (SPEC §8). Defaults are those documented in the README.
public struct CheckpointConfiguration: Sendable {
    /// A tenant gets a checkpoint once this many events were added since its last one…
    public var everyEvents: Int64
    /// …or once this long has passed since its last one, if any event was added meanwhile.
    public var interval: Duration
    /// How often the signer looks at the tenants' chains.
    public var pollInterval: Duration
    /// A file each new checkpoint is appended to, as one line of JSON (a witness outside the database).
    public var witnessFile: String?

    public init(everyEvents: Int64 = 10_000, interval: Duration = .seconds(60), pollInterval: Duration = .seconds(1),
                witnessFile: String? = nil) {
        self.everyEvents = everyEvents
        self.interval = interval
        self.pollInterval = pollInterval
        self.witnessFile = witnessFile
    }
}

/// Signs each tenant's Merkle root now and then (``CheckpointConfiguration``) and keeps the checkpoints in the
/// store (and the witness file). `trail serve` runs it; several processes on one store may each run one (a
/// checkpoint of a size already kept is dropped).
///
/// It holds each tenant's tree as its right edge (O(log n) hashes), built once from the stored hashes and then
/// extended with each new event's. Building it also recomputes the root of the newest stored checkpoint: if
/// that differs, the log was rewritten behind Trail's back, and the tenant gets no further checkpoint (signing
/// the rewritten log would vouch for it); the error is logged.
public final class Checkpointer: Service, Sendable {
    let store: any TrailStorage
    let configuration: CheckpointConfiguration
    let logger: Logger
    let clock: @Sendable () -> Timestamp

    private struct Tree: Sendable {
        var frontier = MerkleTree.Frontier()
        var lastSigned: (size: Int64, time: Timestamp)?
        /// Why the tenant gets no more checkpoints, if it does not.
        var refused: String?
    }

    private let trees = Mutex<[String: Tree]>([:])

    public init(store: any TrailStorage, configuration: CheckpointConfiguration, logger: Logger,
                clock: @escaping @Sendable () -> Timestamp = SystemClock.now) {
        self.store = store
        self.configuration = configuration
        self.logger = logger
        self.clock = clock
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    _ = try await self.signDue()
                } catch {
                    self.logger.warning("signing checkpoints failed", metadata: ["error": "\(error)"])
                }
                try? await Task.sleep(for: self.configuration.pollInterval)
            }
        }
    }

    /// Signs a checkpoint for every tenant that is due one; returns them.
    @discardableResult
    public func signDue() async throws -> [Checkpoint] {
        let heads = try await store.chainHeads()
        let key = try Curve25519.Signing.PrivateKey(rawRepresentation: try await store.checkpointSigningKey())
        var signed: [Checkpoint] = []
        for (tenant, head) in heads.sorted(by: { $0.key < $1.key }) {
            guard var tree = try await tree(tenant), tree.refused == nil else { continue }
            // Extend the tree to the head read above (events appended since wait for the next round).
            while tree.frontier.size < head.sequence {
                let hashes = try await store.eventHashes(
                    tenant: tenant, after: tree.frontier.size, limit: Int(min(head.sequence - tree.frontier.size, 100_000)))
                guard !hashes.isEmpty else { break }
                for hash in hashes { tree.frontier.append(leafHash: MerkleTree.leafHash(hash)) }
            }
            let now = clock()
            let size = tree.frontier.size
            let since = tree.lastSigned.map { size - $0.size } ?? size
            let waited = tree.lastSigned.map { Duration.microseconds(now.microseconds - $0.time.microseconds) }
            let due = since > 0 && (since >= configuration.everyEvents || waited.map { $0 >= configuration.interval } ?? true)
            if due {
                let checkpoint = try Checkpoint.sign(tenant: tenant, size: size, root: tree.frontier.root, time: now, with: key)
                try await store.saveCheckpoint(checkpoint)
                try witness(checkpoint)
                tree.lastSigned = (size, now)
                signed.append(checkpoint)
            }
            trees.withLock { $0[tenant] = tree }
        }
        return signed
    }

    /// The tenant's tree as far as it was built, or built now from the stored hashes up to its newest
    /// checkpoint, whose root it checks. Nil if the tenant was refused.
    private func tree(_ tenant: String) async throws -> Tree? {
        if let tree = trees.withLock({ $0[tenant] }) { return tree }
        var tree = Tree()
        if let latest = try await store.latestCheckpoint(tenant: tenant) {
            while tree.frontier.size < latest.size {
                let hashes = try await store.eventHashes(
                    tenant: tenant, after: tree.frontier.size, limit: Int(min(latest.size - tree.frontier.size, 100_000)))
                guard !hashes.isEmpty else { break }
                for hash in hashes { tree.frontier.append(leafHash: MerkleTree.leafHash(hash)) }
            }
            if tree.frontier.size != latest.size || tree.frontier.root != latest.root {
                tree.refused = "the stored events of tenant \(tenant) no longer match its checkpoint of size \(latest.size) signed at \(latest.time.formatted()): the log was changed outside Trail (run trail verify)"
                logger.error("integrity failure: no further checkpoints for this tenant", metadata: [
                    "tenant": "\(tenant)", "reason": "\(tree.refused!)"])
            }
            tree.lastSigned = (latest.size, latest.time)
        }
        trees.withLock { $0[tenant] = tree }
        return tree.refused == nil ? tree : nil
    }

    /// Appends the checkpoint to the witness file, if there is one.
    private func witness(_ checkpoint: Checkpoint) throws {
        guard let path = configuration.witnessFile else { return }
        if !FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.createFile(atPath: path, contents: nil) else {
                throw StoreError(.unavailable, "cannot create the witness file \(path)")
            }
        }
        guard let handle = FileHandle(forWritingAtPath: path) else {
            throw StoreError(.unavailable, "cannot open the witness file \(path)")
        }
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data((checkpoint.json + "\n").utf8))
        try handle.synchronize()
    }
}
