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
/// It holds each tenant's tree as its right edge (O(log n) hashes), extended with each new event's hash. Each
/// checkpoint is kept with that edge and the hash of its last event (``CheckpointBasis``), so a restarted signer
/// goes on from the newest checkpoint without reading every hash again. It goes on only if the stored event at
/// the checkpoint's size still has the hash the checkpoint was made with (with the hash chain, a rewrite of any
/// earlier event that keeps the chain whole changes that hash) and the log is not shorter than the checkpoint;
/// otherwise the log was changed behind Trail's back, the tenant gets no further checkpoint (signing the changed
/// log would vouch for it), and the error is logged. New checkpoints always extend the tree the earlier ones
/// signed.
public final class Checkpointer: Service, Sendable {
    let store: any TrailStorage
    let configuration: CheckpointConfiguration
    let logger: Logger
    let clock: @Sendable () -> Timestamp

    private struct Tree: Sendable {
        var frontier = MerkleTree.Frontier()
        /// The hash of the tree's last event.
        var lastHash = EventHash.genesis
        var lastSigned: (size: Int64, time: Timestamp)?
        /// Why the tenant gets no more checkpoints, if it does not.
        var refused: String?
        /// While the tree is built again from the first event: the checkpoint it must match on the way.
        var rebuilding: Checkpoint?
        /// Since when the tenant has had events no checkpoint covers, as far as the signer has seen: the time of
        /// its last checkpoint, or when the signer first saw it without one; nil while every event is covered.
        var waitingSince: Timestamp?
    }

    private let trees = Mutex<[String: Tree]>([:])
    /// The installation's key, read from the store once (it never changes).
    private let key = Mutex<Curve25519.Signing.PrivateKey?>(nil)

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
                } catch where !Task.isCancelled {  // an interrupted round at shutdown is no failure
                    self.logger.warning("signing checkpoints failed", metadata: ["error": "\(error)"])
                } catch {}
                try? await Task.sleep(for: self.configuration.pollInterval)
            }
        }
    }

    /// Signs a checkpoint for every tenant that is due one; returns them.
    @discardableResult
    public func signDue() async throws -> [Checkpoint] {
        let heads = try await store.chainHeads()
        let key = try await signingKey()
        var signed: [Checkpoint] = []
        for (tenant, head) in heads.sorted(by: { $0.key < $1.key }) {
            guard var tree = try await tree(tenant) else { continue }
            let signedSize = max(tree.frontier.size, tree.rebuilding?.size ?? 0)
            if head.sequence < signedSize {
                refuse(tenant, &tree, "the log of tenant \(tenant) ends at event \(head.sequence), before its checkpoint of size \(signedSize): events were removed outside Trail (run trail verify)")
                continue
            }
            // Extend the tree to the head read above (events appended since wait for the next round), keeping the
            // roots of the subtrees it completes.
            while tree.frontier.size < head.sequence {
                // A rebuild stops at the checkpoint it must match.
                let end = tree.rebuilding.map { min($0.size, head.sequence) } ?? head.sequence
                let hashes = try await store.eventHashes(
                    tenant: tenant, after: tree.frontier.size, limit: Int(min(end - tree.frontier.size, 100_000)))
                guard let last = hashes.last else { break }
                var completed: [(MerkleTree.Subtree, Digest256)] = []
                for hash in hashes {
                    // (A leaf hash is always 32 bytes.)
                    tree.frontier.append(leaf: Digest256(MerkleTree.leafHash(hash))!) { subtree, root in
                        if subtree.level >= SubtreeRoots.minimumLevel { completed.append((subtree, root)) }
                    }
                }
                tree.lastHash = last
                if let expected = tree.rebuilding, tree.frontier.size == expected.size {
                    guard tree.frontier.root == expected.root else {
                        refuse(tenant, &tree, "the first \(expected.size) events of tenant \(tenant) no longer have the Merkle root signed at \(expected.time.formatted()): the log was changed outside Trail (run trail verify)")
                        break
                    }
                    tree.rebuilding = nil
                }
                try await store.saveSubtreeRoots(tenant: tenant, completed, through: tree.frontier.size)
            }
            if tree.refused != nil || tree.rebuilding != nil {
                trees.withLock { $0[tenant] = tree }
                continue
            }
            let now = clock()
            let size = tree.frontier.size
            let since = tree.lastSigned.map { size - $0.size } ?? size
            let waited = tree.lastSigned.map { Duration.microseconds(now.microseconds - $0.time.microseconds) }
            let due = since > 0 && (since >= configuration.everyEvents || waited.map { $0 >= configuration.interval } ?? true)
            if since > 0 { tree.waitingSince = tree.waitingSince ?? tree.lastSigned?.time ?? now }
            if due {
                let checkpoint = try Checkpoint.sign(tenant: tenant, size: size, root: tree.frontier.root, time: now, with: key)
                try await store.saveCheckpoint(checkpoint, basis: CheckpointBasis(lastHash: tree.lastHash, frontier: tree.frontier.hashes))
                try witness(checkpoint)
                tree.lastSigned = (size, now)
                tree.waitingSince = nil
                signed.append(checkpoint)
            }
            trees.withLock { $0[tenant] = tree }
        }
        return signed
    }

    private func signingKey() async throws -> Curve25519.Signing.PrivateKey {
        if let key = key.withLock({ $0 }) { return key }
        let loaded = try Curve25519.Signing.PrivateKey(rawRepresentation: try await store.checkpointSigningKey())
        key.withLock { $0 = loaded }
        return loaded
    }

    /// The tenant's tree as far as it was built, or taken up from its newest checkpoint. Nil if the tenant was
    /// refused.
    private func tree(_ tenant: String) async throws -> Tree? {
        if let tree = trees.withLock({ $0[tenant] }) { return tree.refused == nil ? tree : nil }
        var tree = Tree()
        if let (latest, basis) = try await store.latestCheckpointBasis(tenant: tenant) {
            tree.lastSigned = (latest.size, latest.time)
            if try await store.subtreeRootsSize(tenant: tenant) < latest.size {
                // Subtree roots are missing below the checkpoint: build the tree again from its first event.
                tree.rebuilding = latest
                trees.withLock { $0[tenant] = tree }
                return tree
            }
            let stored = try await store.eventHashes(tenant: tenant, after: latest.size - 1, limit: 1).first
            if let frontier = MerkleTree.Frontier(size: latest.size, hashes: basis.frontier), frontier.root == latest.root,
               stored == basis.lastHash {
                tree.frontier = frontier
                tree.lastHash = basis.lastHash
            } else {
                refuse(tenant, &tree, stored == nil
                    ? "the log of tenant \(tenant) is shorter than its checkpoint of size \(latest.size) signed at \(latest.time.formatted()): events were removed outside Trail (run trail verify)"
                    : "event \(latest.size) of tenant \(tenant) no longer has the hash its checkpoint signed at \(latest.time.formatted()) was made with: the log was changed outside Trail (run trail verify)")
            }
        }
        trees.withLock { $0[tenant] = tree }
        return tree.refused == nil ? tree : nil
    }

    /// How long the events least recently covered have waited for a checkpoint (`trail_checkpoint_age_seconds`):
    /// over the tenants with events no checkpoint covers yet, the longest time since their last checkpoint (or
    /// since the signer first saw them, for a tenant that has none); zero when every event is covered. It stays
    /// under the interval plus a poll while the signer keeps up, and grows while it fails, is stopped, or refuses
    /// a tenant whose log was changed.
    public func checkpointAge(at now: Timestamp) -> Duration {
        let oldest = trees.withLock { $0.values.compactMap(\.waitingSince).min() }
        guard let oldest else { return .zero }
        return .microseconds(max(0, now.microseconds - oldest.microseconds))
    }

    private func refuse(_ tenant: String, _ tree: inout Tree, _ reason: String) {
        tree.refused = reason
        tree.waitingSince = tree.waitingSince ?? tree.lastSigned?.time ?? clock()
        trees.withLock { $0[tenant] = tree }
        logger.error("integrity failure: no further checkpoints for this tenant", metadata: ["tenant": "\(tenant)", "reason": "\(reason)"])
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
