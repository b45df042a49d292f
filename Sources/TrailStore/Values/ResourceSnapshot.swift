public import TrailCore

/// Which state of a resource to read.
public enum SnapshotPoint: Sendable, Equatable {
    /// The current state.
    case latest
    /// The state that version N made.
    case version(Int64)
    /// The state as Trail had recorded it at this time (events recorded up to it).
    case time(Timestamp)
}

/// A resource's state at some point, with the event that left it.
public struct ResourceSnapshot: Sendable, Equatable {
    public var version: Int64
    /// Nil when the resource was deleted.
    public var state: JSONObject?
    public var eventId: String
    /// When that event was recorded.
    public var asOf: Timestamp
    /// Retention removed that event, and with it the state it left (SPEC §11): `state` is nil, not because the
    /// resource was deleted. (The current state is kept: the latest snapshot has it whatever was removed.)
    public var removed: Bool

    public init(version: Int64, state: JSONObject?, eventId: String, asOf: Timestamp, removed: Bool = false) {
        self.version = version
        self.state = state
        self.eventId = eventId
        self.asOf = asOf
        self.removed = removed
    }
}
