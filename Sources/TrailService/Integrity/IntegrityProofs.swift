public import TrailCore
public import TrailStore

/// What a tenant may ask of its log's integrity (SPEC §8): its newest checkpoint, that an event is in the tree
/// of a checkpoint (inclusion), and that an earlier tree is a prefix of a later one (consistency). Tree sizes
/// are as a caller gives them (text, or nothing for the newest checkpoint's size) and are checked here.
public struct IntegrityProofs: Sendable {
    let store: any TrailStorage
    let tenant: String

    public init(store: any TrailStorage, tenant: String) {
        self.store = store
        self.tenant = tenant
    }

    /// That `event` is leaf `sequence − 1` of the tree of `treeSize` events whose root is `root`.
    public struct Inclusion: Sendable {
        public let event: RecordedEvent
        public let treeSize: Int64
        public let root: MerkleTree.Hash
        public let proof: [MerkleTree.Hash]
        /// The stored checkpoint of exactly `treeSize` events, if there is one.
        public let checkpoint: Checkpoint?
    }

    /// That the tree of `from` events is the first part of the tree of `to`.
    public struct Consistency: Sendable {
        public let from: Int64
        public let to: Int64
        public let fromRoot: MerkleTree.Hash
        public let toRoot: MerkleTree.Hash
        public let proof: [MerkleTree.Hash]
        public let fromCheckpoint: Checkpoint?
        public let toCheckpoint: Checkpoint?
    }

    /// The tenant's newest checkpoint; not found before its first.
    public func latestCheckpoint() async throws -> Checkpoint {
        guard let checkpoint = try await store.latestCheckpoint(tenant: tenant) else {
            throw ServiceError(.notFound, "no-checkpoint", title: "No checkpoint yet",
                               detail: "Tenant \(tenant) has no signed checkpoint yet: Trail signs one soon after its first events.")
        }
        return checkpoint
    }

    /// The inclusion proof of event `id` in the tree of `size` events (by default the newest checkpoint's).
    public func inclusion(eventID id: String, size: String?) async throws -> Inclusion {
        // As stored: the proof is of the hash, which covers the sealed form of personal values.
        guard let event = try await store.event(tenant: tenant, id: id, sealed: true) else {
            throw ServiceError(.notFound, "event-not-found", title: "No such event", detail: "There is no event \(id).")
        }
        let size = try await treeSize(size, name: "size")
        guard event.sequence <= size else {
            throw ServiceError.badRequest("Event \(id) is event \(event.sequence), after the tree of \(size) events; ask for a larger size.", path: "size")
        }
        let tree = TreeProofs(store: store, tenant: tenant)
        let proof = try await tree.inclusionProof(index: event.sequence - 1, size: size)
        return Inclusion(event: event, treeSize: size, root: try await tree.root(size: size), proof: proof,
                         checkpoint: try await store.checkpoint(tenant: tenant, size: size))
    }

    /// The consistency proof from the tree of `from` events to that of `to` (by default the newest
    /// checkpoint's size); `from` is required.
    public func consistency(from fromText: String?, to toText: String?) async throws -> Consistency {
        guard fromText != nil else {
            throw ServiceError.badRequest("from is required: the size of the earlier tree (a checkpoint's size).", path: "from")
        }
        let from = try await treeSize(fromText, name: "from")
        let to = try await treeSize(toText, name: "to")
        guard from <= to else {
            throw ServiceError.badRequest("from (\(from)) must not be larger than to (\(to)).", path: "from")
        }
        let tree = TreeProofs(store: store, tenant: tenant)
        let proof = try await tree.consistencyProof(from: from, size: to)
        return Consistency(
            from: from, to: to, fromRoot: try await tree.root(size: from), toRoot: try await tree.root(size: to),
            proof: proof, fromCheckpoint: try await store.checkpoint(tenant: tenant, size: from),
            toCheckpoint: try await store.checkpoint(tenant: tenant, size: to))
    }

    /// A tree size as given (`name` says which), 1 up to the tenant's number of events; nothing given: the
    /// newest checkpoint's size.
    func treeSize(_ text: String?, name: String) async throws -> Int64 {
        guard let text, !text.isEmpty else { return try await latestCheckpoint().size }
        let events = try await store.chainHead(tenant: tenant).sequence
        guard let size = Int64(text), size >= 1, size <= events else {
            throw ServiceError.badRequest("\(name) must be a whole number from 1 to \(events) (the tenant's events).", path: name)
        }
        return size
    }
}
