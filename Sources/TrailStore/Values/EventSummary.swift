public import TrailCore

/// Counts of events by facet; each list is ordered by count (highest first), then by name, except `byDay`,
/// which is in day order. Events without an actor or resource type are left out of those facets.
public struct EventSummary: Sendable, Equatable {
    public struct Durations: Sendable, Equatable {
        public var minimum: Int64
        public var average: Double
        public var maximum: Int64

        public init(minimum: Int64, average: Double, maximum: Int64) {
            self.minimum = minimum
            self.average = average
            self.maximum = maximum
        }
    }

    public var total: Int
    public var byAction: [(String, Int)]
    public var byResourceType: [(String, Int)]
    public var byActor: [(String, Int)]
    /// Days as `YYYY-MM-DD` (UTC, by recorded time).
    public var byDay: [(String, Int)]
    public var byOutcome: [(String, Int)]
    public var durationByAction: [(String, Durations)]

    public init(
        total: Int = 0, byAction: [(String, Int)] = [], byResourceType: [(String, Int)] = [], byActor: [(String, Int)] = [],
        byDay: [(String, Int)] = [], byOutcome: [(String, Int)] = [], durationByAction: [(String, Durations)] = []
    ) {
        self.total = total
        self.byAction = byAction
        self.byResourceType = byResourceType
        self.byActor = byActor
        self.byDay = byDay
        self.byOutcome = byOutcome
        self.durationByAction = durationByAction
    }

    public static func == (lhs: EventSummary, rhs: EventSummary) -> Bool {
        func same(_ a: [(String, Int)], _ b: [(String, Int)]) -> Bool { a.map(\.0) == b.map(\.0) && a.map(\.1) == b.map(\.1) }
        return lhs.total == rhs.total && same(lhs.byAction, rhs.byAction) && same(lhs.byResourceType, rhs.byResourceType)
            && same(lhs.byActor, rhs.byActor) && same(lhs.byDay, rhs.byDay) && same(lhs.byOutcome, rhs.byOutcome)
            && lhs.durationByAction.map(\.0) == rhs.durationByAction.map(\.0)
            && lhs.durationByAction.map(\.1) == rhs.durationByAction.map(\.1)
    }

    /// Sorts and assembles what a store counted.
    static func assemble(
        counts: [(facet: String, key: String, count: Int)], durations: [(String, Durations)]
    ) -> EventSummary {
        func facet(_ name: String) -> [(String, Int)] {
            counts.filter { $0.facet == name }.map { ($0.key, $0.count) }
                .sorted { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }
        }
        let days = counts.filter { $0.facet == "day" }.compactMap { row in Int64(row.key).map { ($0, row.count) } }
            .sorted { $0.0 < $1.0 }
            .map { (Timestamp(microseconds: $0.0 * 86_400_000_000).day, $0.1) }
        return EventSummary(
            total: facet("outcome").reduce(0) { $0 + $1.1 }, byAction: facet("action"),
            byResourceType: facet("resource_type"), byActor: facet("actor"), byDay: days, byOutcome: facet("outcome"),
            durationByAction: durations.sorted { $0.0 < $1.0 })
    }
}
