import Crypto

/// The hash chain of SPEC §8: an event's `hash` is the SHA-256 of the RFC 8785 canonical form of the event as
/// every read returns it (``StoredEventJSON``), without `hash` but with `prev_hash`, the hash of the tenant's
/// event at `sequence − 1` (``genesis`` for the first). Anyone holding an export can recompute it with any
/// RFC 8785 implementation: parse the line, remove `hash`, canonicalize, SHA-256.
public enum EventHash {
    public typealias Digest = [UInt8]

    /// The `prev_hash` of a tenant's first event: 32 zero bytes (64 zeros in hex).
    public static let genesis: Digest = Array(repeating: 0, count: 32)

    /// The hash of an event, from its stored values and `prevHash` (its own `hash` is ignored).
    public static func of(_ event: RecordedEvent) throws(CanonicalJSON.Unrepresentable) -> Digest {
        Array(SHA256.hash(data: try canonicalForm(of: event)))
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
        func object(_ object: JSONObject?) throws(CanonicalJSON.Unrepresentable) {
            if let object { try CanonicalJSON.write(.object(object), into: &writer) } else { writer.raw("null") }
        }
        func integer(_ value: Int64?) {
            writer.raw(value.map(CanonicalJSON.format(integer:)) ?? "null")
        }
        func string(_ value: String?) {
            if let value { writer.write(string: value) } else { writer.raw("null") }
        }
        // Member names in UTF-16 order (RFC 8785 §3.2.3); a test checks this order against the sorting encoder.
        writer.raw("{\"action\":"); writer.write(string: event.action)
        writer.raw(",\"actor\":"); try object(event.actor)
        writer.raw(",\"category\":"); string(event.category)
        writer.raw(",\"changes\":"); try object(event.changes)
        writer.raw(",\"context\":"); try object(event.context)
        writer.raw(",\"duration_ms\":"); integer(event.durationMs)
        writer.raw(",\"error\":"); try object(event.error)
        writer.raw(",\"id\":"); writer.write(string: event.id)
        writer.raw(",\"metadata\":"); try object(event.metadata)
        writer.raw(",\"occurred_at\":"); writer.write(string: event.occurredAt.formatted())
        writer.raw(",\"outcome\":"); writer.write(string: event.outcome.rawValue)
        writer.raw(",\"prev_hash\":"); writer.write(string: Hex.encode(event.prevHash))
        writer.raw(",\"recorded_at\":"); writer.write(string: event.recordedAt.formatted())
        writer.raw(",\"resource\":")
        if event.resourceType != nil || event.resourceId != nil || event.resourceName != nil {
            writer.raw("{\"id\":"); string(event.resourceId)
            writer.raw(",\"name\":"); string(event.resourceName)
            writer.raw(",\"type\":"); string(event.resourceType)
            writer.raw("}")
        } else {
            writer.raw("null")
        }
        writer.raw(",\"sequence\":"); integer(event.sequence)
        writer.raw(",\"summary\":"); writer.write(string: event.summary)
        writer.raw(",\"tenant\":"); writer.write(string: event.tenant)
        writer.raw(",\"version\":"); integer(event.version)
        writer.raw("}")
        return writer.bytes
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

    /// Makes `event`, numbered `sequence + 1`, the chain's next event: sets its `prevHash`, computes its `hash`,
    /// and moves the head to it.
    public mutating func link(_ event: inout RecordedEvent) throws(CanonicalJSON.Unrepresentable) {
        precondition(event.sequence == sequence + 1, "events are chained in sequence order")
        event.prevHash = hash
        event.hash = try EventHash.of(event)
        self = ChainHead(sequence: event.sequence, hash: event.hash)
    }
}
