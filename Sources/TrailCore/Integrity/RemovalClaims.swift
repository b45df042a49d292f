/// Sequences as sorted, disjoint ranges: the events a verification found removed (or erased), and those the
/// log's cleanup (or erasure) records say were (SPEC §11).
///
/// A cleanup writes, before it removes a batch, an event of category ``category`` and action
/// `retention_cleanup` whose `metadata.removed_sequences` lists the batch as `[[first, last], …]`; an erasure, an
/// event of action `erasure` with `metadata.erased_sequences`. Verifiers hold every removed or erased event to
/// such a record, so that changing an event by hand (keeping its hash) does not pass for either.
public struct RemovalClaims: Sendable, Equatable {
    public static let category = "AUDIT_ADMIN"

    /// What a record claims.
    public enum Kind: Sendable {
        case removal, erasure

        public var action: String { self == .removal ? "retention_cleanup" : "erasure" }
        public var member: String { self == .removal ? "removed_sequences" : "erased_sequences" }
    }

    public private(set) var ranges: [ClosedRange<Int64>] = []

    public init() {}

    public init(_ sequences: some Sequence<Int64>) {
        for sequence in sequences { add(sequence...sequence) }
    }

    /// How many sequences.
    public var count: Int64 { ranges.reduce(0) { $0 + $1.upperBound - $1.lowerBound + 1 } }

    /// Adds `range`, merging it with its neighbours (cheap when ranges come in ascending order, as they do).
    public mutating func add(_ range: ClosedRange<Int64>) {
        guard let last = ranges.last, range.lowerBound <= last.upperBound + 1 else {
            ranges.append(range)
            return
        }
        if range.lowerBound >= last.lowerBound {
            ranges[ranges.count - 1] = last.lowerBound...max(last.upperBound, range.upperBound)
            return
        }
        var merged: [ClosedRange<Int64>] = []
        for next in (ranges + [range]).sorted(by: { $0.lowerBound < $1.lowerBound }) {
            if let last = merged.last, next.lowerBound <= last.upperBound + 1 {
                merged[merged.count - 1] = last.lowerBound...max(last.upperBound, next.upperBound)
            } else {
                merged.append(next)
            }
        }
        ranges = merged
    }

    /// The first sequence here that `other` does not hold, or nil.
    public func first(notIn other: RemovalClaims) -> Int64? {
        var j = 0
        for range in ranges {
            var next = range.lowerBound
            while next <= range.upperBound {
                while j < other.ranges.count && other.ranges[j].upperBound < next { j += 1 }
                guard j < other.ranges.count, other.ranges[j].lowerBound <= next else { return next }
                next = other.ranges[j].upperBound + 1
            }
        }
        return nil
    }

    /// `[[first, last], …]`, as a cleanup record's metadata holds it.
    public var json: JSONValue {
        .array(ranges.map { .array([.number(JSONNumber(Int($0.lowerBound))), .number(JSONNumber(Int($0.upperBound)))]) })
    }

    /// The removals (or erasures) an event claims: those of a cleanup (erasure) record, none for any other event.
    public static func claims(_ kind: Kind, category: String?, action: String?, metadata: JSONObject?) -> [ClosedRange<Int64>] {
        guard category == Self.category, action == kind.action, let list = metadata?[kind.member]?.arrayValue else { return [] }
        return list.compactMap { pair in
            guard let bounds = pair.arrayValue, bounds.count == 2,
                  let first = bounds[0].intValue, let last = bounds[1].intValue, first >= 1, first <= last else { return nil }
            return first...last
        }
    }

    /// Whether an export line may be a cleanup or erasure record, whose claims the fast path of verification
    /// cannot read: a byte search for ``category``, true for every such line and rarely for another.
    public static func mayClaim(_ line: some Collection<UInt8>) -> Bool {
        if let found = line.withContiguousStorageIfAvailable({ contains($0, needle) }) { return found }
        return Array(line).withUnsafeBufferPointer { contains($0, needle) }
    }

    private static let needle = Array(category.utf8)

    private static func contains(_ haystack: UnsafeBufferPointer<UInt8>, _ needle: [UInt8]) -> Bool {
        guard let first = needle.first, haystack.count >= needle.count else { return false }
        var i = 0
        let end = haystack.count - needle.count
        while i <= end {
            if haystack[i] == first && needle.indices.allSatisfy({ haystack[i + $0] == needle[$0] }) { return true }
            i += 1
        }
        return false
    }
}
