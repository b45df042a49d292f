import Crypto

/// The hash chain of SPEC §8: an event's `hash` is the SHA-256 of the RFC 8785 canonical form of the event as
/// it is stored (``StoredEventJSON``; personal values sealed, as NDJSON exports and proofs show them, SPEC §11),
/// without `hash` but with `prev_hash`, the hash of the tenant's event at `sequence − 1` (``genesis`` for the
/// first). Anyone holding an NDJSON export can recompute it with any RFC 8785 implementation: parse the line,
/// remove `hash`, canonicalize, SHA-256.
public enum EventHash {
    public typealias Digest = [UInt8]

    /// The `prev_hash` of a tenant's first event: 32 zero bytes (64 zeros in hex).
    public static let genesis: Digest = Array(repeating: 0, count: 32)

    /// The hash of an event, from its stored values and `prevHash` (its own `hash` is ignored).
    public static func of(_ event: RecordedEvent) throws(CanonicalJSON.Unrepresentable) -> Digest {
        try Prefix(of: event).hash(of: event)
    }

    /// The hash of an event as a read returned it (a JSON object with a `hash` member, which is left out).
    public static func of(returned event: JSONObject) throws(CanonicalJSON.Unrepresentable) -> Digest {
        Array(SHA256.hash(data: try CanonicalJSON.encode(.object(event.removing(["hash"])))))
    }

    /// The canonical form that is hashed: what ``StoredEventJSON`` writes, without `hash`, members sorted and
    /// values written as RFC 8785 says. Written directly (its top-level names are fixed, so their order is
    /// too) rather than built as a ``JSONValue`` and sorted: this runs once per event inside every append.
    public static func canonicalForm(of event: RecordedEvent) throws(CanonicalJSON.Unrepresentable) -> [UInt8] {
        var writer = JSONWriter(capacity: 512)
        try writePrefix(event.prefixMembers, into: &writer)
        writeSuffix(event, into: &writer)
        return writer.bytes
    }

    /// The members of the canonical form up to `metadata` (in sorted order): all known before an event gets its
    /// place in the log.
    public struct PrefixMembers: Sendable {
        public var action: String
        public var actor: JSONObject?
        public var category: String?
        public var changes: JSONObject
        public var context: JSONObject?
        public var durationMs: Int64?
        public var error: JSONObject?
        public var id: String
        public var metadata: JSONObject?

        public init(action: String, actor: JSONObject?, category: String?, changes: JSONObject, context: JSONObject?,
                    durationMs: Int64?, error: JSONObject?, id: String, metadata: JSONObject?) {
            self.action = action
            self.actor = actor
            self.category = category
            self.changes = changes
            self.context = context
            self.durationMs = durationMs
            self.error = error
            self.id = id
            self.metadata = metadata
        }
    }

    /// SHA-256 over the first members of an event's canonical form (its objects, the costly part), computed
    /// before the event's sequence, time and `prev_hash` are known: the append path computes it outside its
    /// single writer, which then only hashes the short rest (``hash(of:)``).
    public struct Prefix: @unchecked Sendable {  // SHA256 is a value holding no references
        private let hasher: SHA256

        public init(_ members: PrefixMembers) throws(CanonicalJSON.Unrepresentable) {
            var writer = JSONWriter(capacity: 512)
            try EventHash.writePrefix(members, into: &writer)
            var hasher = SHA256()
            hasher.update(data: writer.bytes)
            self.hasher = hasher
        }

        public init(of event: RecordedEvent) throws(CanonicalJSON.Unrepresentable) {
            try self.init(event.prefixMembers)
        }

        /// The hash of `event`, whose first members must be those this prefix was made of.
        public func hash(of event: RecordedEvent) -> Digest {
            var writer = JSONWriter(capacity: 256)
            EventHash.writeSuffix(event, into: &writer)
            var hasher = self.hasher
            hasher.update(data: writer.bytes)
            return Array(hasher.finalize())
        }
    }

    // Member names in UTF-16 order (RFC 8785 §3.2.3); a test checks this order against the sorting encoder.

    static func writePrefix(_ members: PrefixMembers, into writer: inout JSONWriter) throws(CanonicalJSON.Unrepresentable) {
        func object(_ object: JSONObject?) throws(CanonicalJSON.Unrepresentable) {
            if let object { try CanonicalJSON.write(.object(object), into: &writer) } else { writer.raw("null") }
        }
        writer.raw("{\"action\":"); writer.write(string: members.action)
        writer.raw(",\"actor\":"); try object(members.actor)
        writer.raw(",\"category\":"); writer.write(optional: members.category)
        writer.raw(",\"changes\":"); try object(members.changes)
        writer.raw(",\"context\":"); try object(members.context)
        writer.raw(",\"duration_ms\":"); writer.raw(members.durationMs.map(CanonicalJSON.format(integer:)) ?? "null")
        writer.raw(",\"error\":"); try object(members.error)
        writer.raw(",\"id\":"); writer.write(string: members.id)
        writer.raw(",\"metadata\":"); try object(members.metadata)
    }

    static func writeSuffix(_ event: RecordedEvent, into writer: inout JSONWriter) {
        writer.raw(",\"occurred_at\":"); writer.write(timestamp: event.occurredAt)
        writer.raw(",\"outcome\":"); writer.write(string: event.outcome.rawValue)
        writer.raw(",\"prev_hash\":"); writer.write(hex: event.prevHash)
        writer.raw(",\"recorded_at\":"); writer.write(timestamp: event.recordedAt)
        writer.raw(",\"resource\":")
        if event.resourceType != nil || event.resourceId != nil || event.resourceName != nil {
            writer.raw("{\"id\":"); writer.write(optional: event.resourceId)
            writer.raw(",\"name\":"); writer.write(optional: event.resourceName)
            writer.raw(",\"type\":"); writer.write(optional: event.resourceType)
            writer.raw("}")
        } else {
            writer.raw("null")
        }
        writer.raw(",\"sequence\":"); writer.raw(CanonicalJSON.format(integer: event.sequence))
        writer.raw(",\"summary\":"); writer.write(string: event.summary)
        writer.raw(",\"tenant\":"); writer.write(string: event.tenant)
        writer.raw(",\"version\":"); writer.raw(event.version.map(CanonicalJSON.format(integer:)) ?? "null")
        writer.raw("}")
    }

    /// Lower-case hex, as `hash` and `prev_hash` are written.
    public static func hex(_ digest: Digest) -> String { Hex.encode(digest) }

    /// The 32 bytes of a hash written in lower-case hex, or nil.
    public static func digest(hex text: String) -> Digest? { Hex.decode(text, count: 32) }
}

/// The newest event of a tenant's hash chain: what its next event follows (SPEC §8).
public struct ChainHead: Sendable, Equatable {
    public var sequence: Int64
    public var hash: EventHash.Digest

    public init(sequence: Int64, hash: EventHash.Digest) {
        self.sequence = sequence
        self.hash = hash
    }

    /// Before a tenant's first event.
    public static let empty = ChainHead(sequence: 0, hash: EventHash.genesis)

    /// Makes `event`, numbered `sequence + 1`, the chain's next event: sets its `prevHash`, computes its `hash`
    /// (from `prefix`, when it was begun in advance), and moves the head to it.
    public mutating func link(_ event: inout RecordedEvent, prefix: EventHash.Prefix? = nil) throws(CanonicalJSON.Unrepresentable) {
        precondition(event.sequence == sequence + 1, "events are chained in sequence order")
        event.prevHash = hash
        let begun: EventHash.Prefix
        if let prefix { begun = prefix } else { begun = try EventHash.Prefix(of: event) }
        event.hash = begun.hash(of: event)
        self = ChainHead(sequence: event.sequence, hash: event.hash)
    }
}

extension RecordedEvent {
    /// The members of its canonical form that ``EventHash/Prefix`` covers.
    public var prefixMembers: EventHash.PrefixMembers {
        EventHash.PrefixMembers(action: action, actor: actor, category: category, changes: changes, context: context,
                                durationMs: durationMs, error: error, id: id, metadata: metadata)
    }
}
