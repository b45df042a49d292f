public import Crypto

/// Checks a tenant's events, fed in sequence order from its first, the way an auditor would with nothing but
/// an export, the installation's public key and the checkpoints it signed (SPEC §8):
///
/// - each event's `hash` is the SHA-256 of its canonical form (a changed field shows here);
/// - sequences run 1, 2, 3… with no gap, repeat or swap (a removed or reordered event shows here), and each
///   `prev_hash` is the previous event's `hash`;
/// - every checkpoint is signed by the key, and the Merkle root of the first `size` events is its root (a log
///   rewritten with fresh hashes shows here).
///
/// Stops at the first failure, which names the sequence where it was found.
///
/// An event whose content retention removed (SPEC §11, it carries `removed_at`), or an erasure rewrote
/// (`erased_at`), cannot be hashed again: its stored `hash` is taken as it is, so the chain, the tree and the
/// checkpoints are checked through it as through any other, and it is counted (``Report/removed``,
/// ``Report/erased``). Each must be accounted for: named by a `retention_cleanup` (or `erasure`) event of
/// category `AUDIT_ADMIN` (``RemovalClaims``) of the same log, written by what removed (erased) it; one that is
/// not is a failure (content changed by hand).
///
/// A chain can be intact and yet prove less than it seems: its newest events are *anchored* only when a signed
/// checkpoint covers them — one of exactly their number, or a later one with a consistency proof that they are
/// its first events (``prove(extendsTo:proof:)``). Without that, removing or rewriting the newest events would
/// not show; the report says how far the events are anchored (``Report/status``).
public struct ChainVerifier: Sendable {
    public struct Failure: Sendable, Equatable, CustomStringConvertible {
        /// The sequence at which the log stops being what was signed, when one event is to blame.
        public var sequence: Int64?
        public var reason: String

        public var description: String { sequence.map { "sequence \($0): \(reason)" } ?? reason }
    }

    public struct Report: Sendable, Equatable {
        public enum Status: String, Sendable {
            /// Intact, and every event is covered by a signed checkpoint.
            case anchored
            /// Intact as far as it goes, but no signed checkpoint covers the newest events (from
            /// `anchoredThrough + 1`): their removal or change would not show.
            case unanchored
            /// Changed, reordered, removed or forged: ``failure`` says where.
            case failed
        }

        public var tenant: String?
        /// Events read (up to the failure, if any).
        public var events: Int64
        /// The hash of the last good event: the head of what was verified.
        public var lastHash: EventHash.Digest
        /// The Merkle root of the events read.
        public var root: MerkleTree.Hash
        /// The checkpoints whose signature and root were checked.
        public var checkpointsVerified: [Checkpoint]
        /// A later checkpoint the events were proven, by a consistency proof, to be the beginning of.
        public var provenBy: Checkpoint?
        /// Checkpoints beyond the last event, not proven to extend these events (an export taken before them).
        public var laterCheckpoints: [Checkpoint]
        public var failure: Failure?
        /// Events whose content retention removed (their hashes taken as stored).
        public var removed: Int64 = 0
        /// Events an erasure rewrote (their hashes taken as stored).
        public var erased: Int64 = 0

        /// The checkpoint that anchors the events: a later one they were proven to begin (``provenBy``), else the
        /// newest verified one.
        public var anchor: Checkpoint? { provenBy ?? checkpointsVerified.last }

        /// How many of the events (from the first) a signed checkpoint covers.
        public var anchoredThrough: Int64 { provenBy != nil ? events : (checkpointsVerified.last?.size ?? 0) }

        /// No tampering was found (the events may still be unanchored).
        public var isValid: Bool { failure == nil }

        public var status: Status {
            if failure != nil { return .failed }
            return events > 0 && anchoredThrough == events ? .anchored : .unanchored
        }
    }

    private var tenant: String?
    /// The last good event's sequence and hash.
    private var sequence: Int64 = 0
    private var lastHash = Digest256(EventHash.genesis)!
    private var frontier = MerkleTree.Frontier()
    /// Checkpoints still to reach, smallest size first.
    private var pending: [Checkpoint]
    private var verified: [Checkpoint] = []
    private var proven: Checkpoint?
    private let requiresCheckpoint: Bool
    private let publicKey: Curve25519.Signing.PublicKey?
    public private(set) var failure: Failure?
    /// The removed events met, and the removals the log's cleanup events claim.
    private var removed = RemovalClaims()
    private var claimed = RemovalClaims()
    private var erased = RemovalClaims()
    private var claimedErased = RemovalClaims()

    /// - Parameters:
    ///   - tenant: the tenant the events must belong to (nil: the first event's).
    ///   - checkpoints: checkpoints to hold the events to; those of other tenants are ignored (a witness file
    ///     holds every tenant's), but at least one must be the tenant's when any is given.
    ///   - publicKey: the key that must have signed them; required when checkpoints are given.
    public init(tenant: String? = nil, checkpoints: [Checkpoint] = [], publicKey: Curve25519.Signing.PublicKey? = nil) {
        self.tenant = tenant
        self.publicKey = publicKey
        self.requiresCheckpoint = !checkpoints.isEmpty
        pending = checkpoints.sorted { $0.size < $1.size }
        if !checkpoints.isEmpty {
            if let publicKey {
                if let forged = checkpoints.first(where: { !$0.isSigned(by: publicKey) }) {
                    failure = Failure(reason: "the checkpoint of \(forged.tenant) at size \(forged.size) is not signed by the public key (key id \(SigningKeyID.of(publicKey)))")
                }
            } else {
                failure = Failure(reason: "checkpoints can only be trusted with the public key that signed them")
            }
        }
    }

    /// One event read and hashed, ready to be checked against the chain: the part of verification that needs no
    /// other event, so that many can be examined at once (``examine(line:)`` is pure).
    public enum Examined: Sendable {
        /// A blank line.
        case blank
        case event(Hashed)
        /// A line that is no event; `sequence` when it said which.
        case invalid(sequence: Int64?, reason: String)
    }

    /// An event's claims (`sequence`, `tenant`, `prev_hash`, `hash`), its hash recomputed from its content, and
    /// its Merkle leaf (from the claimed hash: if that is not the recomputed one, verification stops anyway).
    public struct Hashed: Sendable {
        public var sequence: Int64
        public var tenant: String
        public var prevHash: Digest256
        public var hash: Digest256
        public var recomputed: Digest256
        public var leaf: Digest256
        /// Retention removed its content: `recomputed` is the stored hash.
        public var removed: Bool
        /// An erasure rewrote its content: `recomputed` is the stored hash.
        public var erased: Bool
        /// The sequences this event, a cleanup's record, says were removed.
        public var claims: [ClosedRange<Int64>]
        /// The sequences this event, an erasure's record, says were erased.
        public var erasureClaims: [ClosedRange<Int64>]

        public init(sequence: Int64, tenant: String, prevHash: Digest256, hash: Digest256, recomputed: Digest256,
                    removed: Bool = false, erased: Bool = false, claims: [ClosedRange<Int64>] = [],
                    erasureClaims: [ClosedRange<Int64>] = []) {
            self.sequence = sequence
            self.tenant = tenant
            self.prevHash = prevHash
            self.hash = hash
            self.recomputed = recomputed
            self.removed = removed
            self.erased = erased
            self.claims = claims
            self.erasureClaims = erasureClaims
            leaf = MerkleTree.leaf(hash)
        }

        /// An event as stored, its hash recomputed unless it was removed or erased.
        static func make(sequence: Int64, tenant: String, prevHash: Digest256, hash: Digest256, removed: Bool, erased: Bool,
                         category: String?, action: String?, metadata: JSONObject?,
                         recompute: () throws(CanonicalJSON.Unrepresentable) -> Digest256) throws(CanonicalJSON.Unrepresentable) -> Hashed {
            if removed || erased {
                return Hashed(sequence: sequence, tenant: tenant, prevHash: prevHash, hash: hash, recomputed: hash,
                              removed: removed, erased: erased && !removed)
            }
            return Hashed(sequence: sequence, tenant: tenant, prevHash: prevHash, hash: hash, recomputed: try recompute(),
                          claims: RemovalClaims.claims(.removal, category: category, action: action, metadata: metadata),
                          erasureClaims: RemovalClaims.claims(.erasure, category: category, action: action, metadata: metadata))
        }
    }

    /// Reads and hashes one line of an NDJSON export.
    public static func examine(line: some Collection<UInt8>) -> Examined {
        examine(line: line, with: CanonicalLine.Canonicalizer())
    }

    /// Reads and hashes one line of an NDJSON export with `canonicalizer`'s buffers (one per thread).
    public static func examine(line: some Collection<UInt8>, with canonicalizer: CanonicalLine.Canonicalizer) -> Examined {
        guard line.contains(where: { $0 != 0x20 && $0 != 0x0D && $0 != 0x09 }) else { return .blank }
        // The fast path for what exports hold; anything it does not take goes the general way below, which reads
        // the members: so do lines whose content does not match their hash (removed or erased events, which are
        // then taken as stored, or changed ones) and Trail's lifecycle records (rare), whose claims are read.
        if let fast = canonicalizer.event(line), let sequence = fast.sequence, let tenant = fast.tenant,
           let prevHash = fast.prevHash, let hash = fast.hash, fast.recomputed == hash, !RemovalClaims.mayClaim(line) {
            return .event(Hashed(sequence: sequence, tenant: tenant, prevHash: prevHash, hash: hash, recomputed: fast.recomputed))
        }
        do {
            guard let object = try JSONParser.parse(line).objectValue else {
                return .invalid(sequence: nil, reason: "the line is not a JSON object")
            }
            return examine(returned: object)
        } catch {
            return .invalid(sequence: nil, reason: "the line is not JSON: \(error)")
        }
    }

    /// Reads and hashes one event as a read returned it.
    public static func examine(returned event: JSONObject) -> Examined {
        // By value, as the canonical form (and the fast path) reads it: 1.0 is 1.
        guard case .number(let number) = event["sequence"], let sequence = (try? CanonicalJSON.number(number.literal)).flatMap({ Int64($0) }) else {
            return .invalid(sequence: nil, reason: "the event has no sequence")
        }
        guard let tenant = event["tenant"]?.stringValue else { return .invalid(sequence: sequence, reason: "the event has no tenant") }
        guard let hash = event["hash"]?.stringValue.flatMap(EventHash.digest(hex:)).flatMap(Digest256.init) else {
            return .invalid(sequence: sequence, reason: "the event has no hash (64 lower-case hex digits)")
        }
        guard let prevHash = event["prev_hash"]?.stringValue.flatMap(EventHash.digest(hex:)).flatMap(Digest256.init) else {
            return .invalid(sequence: sequence, reason: "the event has no prev_hash (64 lower-case hex digits)")
        }
        do {
            return .event(try Hashed.make(
                sequence: sequence, tenant: tenant, prevHash: prevHash, hash: hash,
                removed: event["removed_at"]?.stringValue != nil, erased: event["erased_at"]?.stringValue != nil,
                category: event["category"]?.stringValue, action: event["action"]?.stringValue,
                metadata: event["metadata"]?.objectValue) { () throws(CanonicalJSON.Unrepresentable) in
                    Digest256(try EventHash.of(returned: event))!
                })
        } catch {
            return .invalid(sequence: sequence, reason: "the event cannot be canonicalized: \(error)")
        }
    }

    /// Hashes one event as a store holds it.
    public static func examine(_ event: RecordedEvent) -> Examined {
        guard let hash = Digest256(event.hash), let prevHash = Digest256(event.prevHash) else {
            return .invalid(sequence: event.sequence, reason: "the event's hash or prev_hash is not 32 bytes")
        }
        do {
            return .event(try Hashed.make(
                sequence: event.sequence, tenant: event.tenant, prevHash: prevHash, hash: hash,
                removed: event.removedAt != nil, erased: event.erasedAt != nil, category: event.category,
                action: event.action, metadata: event.metadata) { () throws(CanonicalJSON.Unrepresentable) in
                    Digest256(try EventHash.of(event))!
                })
        } catch {
            return .invalid(sequence: event.sequence, reason: "the event cannot be canonicalized: \(error)")
        }
    }

    /// Checks the next line of an NDJSON export (blank lines are skipped); line after line, pass the same
    /// `canonicalizer`.
    public mutating func add(line: some Collection<UInt8>, with canonicalizer: CanonicalLine.Canonicalizer = .init()) {
        guard failure == nil else { return }
        add(Self.examine(line: line, with: canonicalizer))
    }

    /// Checks the next event as a store holds it.
    public mutating func add(_ event: RecordedEvent) {
        guard failure == nil else { return }
        add(Self.examine(event))
    }

    /// Checks the next examined event against the chain.
    public mutating func add(_ examined: Examined) {
        switch examined {
        case .blank:
            return
        case .invalid(let sequence, let reason):
            guard failure == nil else { return }
            let expected = self.sequence + 1
            fail(expected, sequence == expected ? reason : "the line after event \(self.sequence): \(reason)")
        case .event(let event):
            add(event)
        }
    }

    /// Checks the next hashed event against the chain and the checkpoints.
    public mutating func add(_ event: Hashed) {
        guard failure == nil else { return }
        let (sequence, tenant) = (event.sequence, event.tenant)
        if self.tenant == nil {
            self.tenant = tenant
            pending.removeAll { $0.tenant != tenant }
            if requiresCheckpoint && pending.isEmpty {
                return fail(nil, "none of the checkpoints is for tenant \(tenant)")
            }
        }
        let expected = self.sequence + 1
        guard tenant == self.tenant else {
            return fail(sequence, "the event belongs to tenant \(tenant), not \(self.tenant!)")
        }
        guard sequence == expected else {
            if sequence > expected {
                return fail(expected, "event \(expected) is missing here (found event \(sequence) in its place): removed or moved, or the export is filtered (export with include_access=true and no filter)")
            }
            return fail(expected, "event \(sequence) comes again or out of order where \(expected) should be")
        }
        guard event.recomputed == event.hash else {
            return fail(sequence, "the event's content does not match its hash: it was changed after it was stored")
        }
        guard event.prevHash == lastHash else {
            return fail(sequence, "prev_hash is not the hash of event \(self.sequence): the chain was broken here")
        }
        (self.sequence, lastHash) = (sequence, event.hash)
        if event.removed { removed.add(sequence...sequence) }
        if event.erased { erased.add(sequence...sequence) }
        for claim in event.claims { claimed.add(claim) }
        for claim in event.erasureClaims { claimedErased.add(claim) }
        frontier.append(leaf: event.leaf)
        while let next = pending.first, next.size == frontier.size {
            pending.removeFirst()
            guard frontier.root == next.root else {
                return fail(nil, "the first \(next.size) events do not have the Merkle root signed at \(next.time.formatted()): the log up to \(next.size) was rewritten")
            }
            verified.append(next)
        }
    }

    /// The number of events fed so far (up to a failure).
    public var events: Int64 { sequence }

    /// The checkpoints given that lie beyond the events fed so far, smallest first.
    public var laterCheckpoints: [Checkpoint] { pending }

    /// Anchors the events fed (all of them) to a later checkpoint: `proof` must show, by RFC 9162 consistency,
    /// that they are its first events. The checkpoint must be signed by the public key. A proof that fails is a
    /// failure: these events are not the beginning of the log the checkpoint signed.
    public mutating func prove(extendsTo checkpoint: Checkpoint, proof: [MerkleTree.Hash]) {
        guard failure == nil, sequence > 0 else { return }
        guard let publicKey, checkpoint.isSigned(by: publicKey) else {
            return fail(nil, "the checkpoint of \(checkpoint.tenant) at size \(checkpoint.size) is not signed by the public key")
        }
        guard checkpoint.tenant == tenant, checkpoint.size > sequence else {
            return fail(nil, "the checkpoint of \(checkpoint.tenant) at size \(checkpoint.size) does not extend these \(sequence) events of \(tenant ?? "no tenant")")
        }
        guard MerkleTree.verifyConsistency(first: Int(sequence), second: Int(checkpoint.size), firstRoot: frontier.root,
                                           secondRoot: checkpoint.root, proof: proof) else {
            return fail(nil, "these \(sequence) events are not the first \(sequence) of the log of \(checkpoint.size) events signed at \(checkpoint.time.formatted()): the consistency proof does not hold")
        }
        proven = checkpoint
        pending.removeAll { $0.size <= checkpoint.size }
    }

    /// The outcome, once every event was fed.
    ///
    /// - Parameter whole: the events are the tenant's whole log (a store's), not an export that may have been
    ///   taken before later checkpoints: a checkpoint beyond the last event then means events were removed.
    public func finish(whole: Bool) -> Report {
        var failure = self.failure
        if failure == nil, whole, let missing = pending.first {
            failure = Failure(
                sequence: sequence + 1,
                reason: "the log ends at event \(sequence), but the checkpoint signed at \(missing.time.formatted()) covers \(missing.size): "
                    + (missing.size == sequence + 1 ? "event \(missing.size) was" : "events \(sequence + 1)…\(missing.size) were")
                    + " removed")
        }
        if failure == nil, let unclaimed = removed.first(notIn: claimed) {
            failure = Failure(
                sequence: unclaimed,
                reason: "event \(unclaimed) has had its content removed, but no retention_cleanup event of the log names it: it was emptied outside a cleanup")
        }
        if failure == nil, let unclaimed = erased.first(notIn: claimedErased) {
            failure = Failure(
                sequence: unclaimed,
                reason: "event \(unclaimed) is marked erased, but no erasure event of the log names it: it was rewritten outside an erasure")
        }
        var report = Report(tenant: tenant, events: sequence, lastHash: lastHash.bytes, root: frontier.root,
                            checkpointsVerified: verified, provenBy: proven, laterCheckpoints: pending, failure: failure)
        report.removed = removed.count
        report.erased = erased.count
        return report
    }

    private mutating func fail(_ sequence: Int64?, _ reason: String) {
        failure = Failure(sequence: sequence, reason: reason)
    }
}
