/// The counting of a threshold rule (SPEC §14): per group, the events of the last `window` (by the time they
/// were recorded); when a group reaches `threshold` the rule fires for it, and that group's count starts again
/// from zero (a burst of three times the threshold fires three times, not once per event past it).
public struct SlidingWindows: Sendable {
    public struct Hit: Sendable, Equatable {
        public var time: Timestamp
        public var sequence: Int64

        public init(time: Timestamp, sequence: Int64) {
            self.time = time
            self.sequence = sequence
        }
    }

    /// A group that reached the threshold, with the events that made it.
    public struct Firing: Sendable, Equatable {
        public var group: String?
        public var hits: [Hit]
    }

    public let threshold: Int
    public let windowMicroseconds: Int64
    private var groups: [String: [Hit]] = [:]

    public init(threshold: Int, windowSeconds: Int64) {
        self.threshold = max(threshold, 1)
        windowMicroseconds = windowSeconds * 1_000_000
    }

    /// Counts one event of `group` (nil: a rule without grouping); the firing if it completes the threshold.
    public mutating func count(group: String?, _ hit: Hit) -> Firing? {
        let key = group ?? ""
        var hits = groups[key] ?? []
        hits.removeAll { $0.time.microseconds <= hit.time.microseconds - windowMicroseconds }
        hits.append(hit)
        guard hits.count >= threshold else {
            groups[key] = hits
            return nil
        }
        groups[key] = nil
        return Firing(group: group, hits: hits)
    }

    /// Forgets groups whose every event is older than the window at `now` (bounds the memory of many groups).
    public mutating func prune(now: Timestamp) {
        groups = groups.filter { $0.value.last.map { $0.time.microseconds > now.microseconds - windowMicroseconds } ?? false }
    }
}
