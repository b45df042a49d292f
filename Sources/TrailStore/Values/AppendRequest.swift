public import TrailCore

/// One submission to record.
public struct AppendRequest: Sendable {
    public var tenant: String
    public var activities: [Activity]
    public var idempotency: IdempotencyClaim?
    /// The queued message this submission processes: it is marked completed in the same transaction as the
    /// events, or the append fails with ``StoreError/Code/claimLost`` and stores nothing.
    public var completes: MessageClaim?

    public init(tenant: String, activities: [Activity], idempotency: IdempotencyClaim? = nil, completes: MessageClaim? = nil) {
        self.tenant = tenant
        self.activities = activities
        self.idempotency = idempotency
        self.completes = completes
    }
}

/// A submission's idempotency key and a digest of its body, to tell a retry from a different submission.
public struct IdempotencyClaim: Sendable, Equatable {
    public var key: String
    public var requestDigest: [UInt8]

    public init(key: String, requestDigest: [UInt8]) {
        self.key = key
        self.requestDigest = requestDigest
    }
}

public struct AppendResult: Sendable {
    /// The stored events, in submission order.
    public var events: [RecordedEvent]
    /// When the submission was first recorded.
    public var recordedAt: Timestamp
    /// True when this answers a repeated idempotency key: nothing new was stored.
    public var replayed: Bool

    public init(events: [RecordedEvent], recordedAt: Timestamp, replayed: Bool) {
        self.events = events
        self.recordedAt = recordedAt
        self.replayed = replayed
    }
}
