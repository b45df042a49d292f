public import TrailCore

/// The durable queue of asynchronous submissions (SPEC §9), kept in the store itself: no broker to run.
///
/// A message holds a submission that was validated when it was accepted. Workers claim messages, process them into
/// events and complete them in the same transaction as those events (`AppendRequest.completes`), so a message
/// becomes events exactly once. Messages on one resource are processed in the order they were accepted: a message
/// is claimable only when no older open message names one of its resources.
public protocol MessageQueue: Sendable {
    /// Stores a new message (pending), or with an idempotency key seen before in this queue, returns the first
    /// message (`replayed`); the same key with another body throws ``StoreError/Code/idempotencyConflict``.
    func enqueue(_ message: NewMessage) async throws(StoreError) -> EnqueueResult

    /// One message of a tenant, or nil.
    func message(tenant: String, id: String) async throws(StoreError) -> QueuedMessage?

    /// A tenant's messages with `status` (all when nil), oldest first, at most `limit`.
    func messages(tenant: String?, status: QueuedMessage.Status?, limit: Int) async throws(StoreError) -> [QueuedMessage]

    /// The events a completed message produced (by its sequence range).
    func events(of message: QueuedMessage) async throws(StoreError) -> [RecordedEvent]

    /// Claims up to `limit` claimable messages, oldest first, for `leaseSeconds` (after which another worker may
    /// claim them again). No two claimed messages name the same resource.
    func claim(limit: Int, leaseSeconds: Int64) async throws(StoreError) -> [ClaimedMessage]

    /// Gives a claimed message back after a failure: pending again after `retryAfter` with its error, or failed
    /// for good when `retryAfter` is nil. Does nothing if the claim was lost (another worker took the message).
    func release(_ claim: MessageClaim, error: String, retryAfter: Duration?) async throws(StoreError)

    /// Makes a failed message pending again (`trail messages retry`). False if it is not failed.
    func retry(tenant: String, id: String) async throws(StoreError) -> Bool

    /// How many messages wait (pending or processing), across tenants.
    func openMessageCount() async throws(StoreError) -> Int

    /// How many messages are pending, processing and failed, across tenants (completed ones are not counted:
    /// they are most of the table). Every one of the three statuses is in the answer, 0 when none has it.
    func messageCounts() async throws(StoreError) -> [QueuedMessage.Status: Int]

    /// Returns when a message may have become claimable (one was queued or retried, here or in another process
    /// where the store can tell), or after `timeout`.
    func waitForMessages(timeout: Duration) async
}

/// A store with its queue and its keys: what the service runs on.
public typealias TrailStorage = EventStore & MessageQueue & KeyStore & IntegrityStore & ReadinessProbe & LifecycleStore & ErasureStore
    & StreamStore & SessionStore

/// A submission accepted for later processing.
public struct NewMessage: Sendable {
    public var tenant: String
    /// What the body is, so a worker knows how to process it (e.g. `activity-stream`).
    public var kind: String
    /// The request body as received (already validated).
    public var body: [UInt8]
    public var idempotency: IdempotencyClaim?
    /// The resources the submission names: the queue keeps their order.
    public var resources: [ResourceKey]
    /// What Trail knew of the request the body came in (`ip`, `user_agent`, `request_id`), for the events.
    public var requestContext: JSONObject?

    public init(
        tenant: String, kind: String, body: [UInt8], idempotency: IdempotencyClaim?, resources: [ResourceKey],
        requestContext: JSONObject? = nil
    ) {
        self.tenant = tenant
        self.kind = kind
        self.body = body
        self.idempotency = idempotency
        self.resources = resources
        self.requestContext = requestContext
    }
}

public struct ResourceKey: Hashable, Sendable {
    public var type: String
    public var id: String

    public init(type: String, id: String) {
        self.type = type
        self.id = id
    }
}

public struct EnqueueResult: Sendable {
    public var message: QueuedMessage
    /// True when an idempotency key seen before returned the first message: nothing new was queued.
    public var replayed: Bool

    public init(message: QueuedMessage, replayed: Bool) {
        self.message = message
        self.replayed = replayed
    }
}

/// A message as the queue holds it.
public struct QueuedMessage: Sendable, Equatable {
    public enum Status: String, Sendable, CaseIterable {
        case pending, processing, completed, failed
    }

    public var id: String
    public var tenant: String
    public var kind: String
    public var status: Status
    public var attempts: Int
    public var error: String?
    public var createdAt: Timestamp
    public var updatedAt: Timestamp
    /// The sequence of its first event and the number of events, once completed.
    public var firstSequence: Int64?
    public var eventCount: Int

    public init(
        id: String, tenant: String, kind: String, status: Status, attempts: Int, error: String?,
        createdAt: Timestamp, updatedAt: Timestamp, firstSequence: Int64?, eventCount: Int
    ) {
        self.id = id
        self.tenant = tenant
        self.kind = kind
        self.status = status
        self.attempts = attempts
        self.error = error
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.firstSequence = firstSequence
        self.eventCount = eventCount
    }
}

/// Proof that a worker holds a message: its id and the token of this claim.
public struct MessageClaim: Sendable, Equatable {
    public var id: String
    public var token: String

    public init(id: String, token: String) {
        self.id = id
        self.token = token
    }
}

/// A claimed message with what a worker needs to process it.
public struct ClaimedMessage: Sendable {
    public var claim: MessageClaim
    public var tenant: String
    public var kind: String
    public var body: [UInt8]
    public var idempotency: IdempotencyClaim?
    /// Including this claim.
    public var attempts: Int
    public var requestContext: JSONObject?

    public init(
        claim: MessageClaim, tenant: String, kind: String, body: [UInt8], idempotency: IdempotencyClaim?,
        attempts: Int, requestContext: JSONObject? = nil
    ) {
        self.claim = claim
        self.tenant = tenant
        self.kind = kind
        self.body = body
        self.idempotency = idempotency
        self.attempts = attempts
        self.requestContext = requestContext
    }
}

extension StoreError.Code {
    /// The worker's claim on a message was lost (it expired and another worker took the message).
    public static let claimLost = StoreError.Code(name: "claimLost")
}

extension StoreError {
    /// `claim` no longer holds its message.
    static func lost(_ claim: MessageClaim) -> StoreError {
        StoreError(.claimLost, "message \(claim.id) is no longer claimed by this worker (its lease expired)")
    }
}
