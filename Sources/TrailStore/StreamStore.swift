public import TrailCore

/// Something that follows a tenant's log from a durable cursor (SPEC §14): a sink, which forwards the events it
/// matches, or an alert rule, which counts them.
public struct Follower: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        case sink, rule
    }

    public var id: String
    public var tenant: String
    public var kind: Kind
    public var name: String
    /// What it is, as checked when it was created (a sink's type, address, format and match; a rule's match,
    /// grouping, threshold, window and sink), without secrets.
    public var definition: JSONObject
    /// What it must keep secret (a webhook's signing secret, its extra headers), as JSON; kept encrypted, and
    /// never answered by the API. Nil for none, and when the vault cannot open it any more.
    public var secret: JSONObject?
    /// The last sequence of the tenant's log it has dealt with.
    public var cursor: Int64
    public var createdAt: Timestamp
    public var createdBy: String
    /// Events it delivered (a sink) or counted (a rule), in all.
    public var handled: Int64
    public var lastSuccessAt: Timestamp?
    public var lastError: String?
    public var lastErrorAt: Timestamp?
    /// Failures in a row since its last success.
    public var failures: Int
    /// Not to be tried again before then (backoff), nil when due.
    public var retryAt: Timestamp?

    public init(id: String, tenant: String, kind: Kind, name: String, definition: JSONObject, secret: JSONObject?,
                cursor: Int64, createdAt: Timestamp, createdBy: String, handled: Int64 = 0, lastSuccessAt: Timestamp? = nil,
                lastError: String? = nil, lastErrorAt: Timestamp? = nil, failures: Int = 0, retryAt: Timestamp? = nil) {
        self.id = id
        self.tenant = tenant
        self.kind = kind
        self.name = name
        self.definition = definition
        self.secret = secret
        self.cursor = cursor
        self.createdAt = createdAt
        self.createdBy = createdBy
        self.handled = handled
        self.lastSuccessAt = lastSuccessAt
        self.lastError = lastError
        self.lastErrorAt = lastErrorAt
        self.failures = failures
        self.retryAt = retryAt
    }
}

/// An alert rule that fired (SPEC §14).
public struct FiredAlert: Sendable, Equatable {
    public var id: String
    public var tenant: String
    public var ruleId: String
    public var ruleName: String
    /// The actor or resource type the count was of; nil for a rule without grouping.
    public var group: String?
    public var count: Int
    public var threshold: Int
    public var windowSeconds: Int64
    /// The first and last events counted (their `recorded_at` and sequences).
    public var firstAt: Timestamp
    public var lastAt: Timestamp
    public var firstSequence: Int64
    public var lastSequence: Int64
    public var firedAt: Timestamp
    /// The sequence of the `SECURITY` event that records it in the log.
    public var eventSequence: Int64?
    /// The sink it is sent to, nil for none; `deliveredAt` once it was.
    public var sinkId: String?
    public var deliveredAt: Timestamp?

    public init(id: String, tenant: String, ruleId: String, ruleName: String, group: String?, count: Int, threshold: Int,
                windowSeconds: Int64, firstAt: Timestamp, lastAt: Timestamp, firstSequence: Int64, lastSequence: Int64,
                firedAt: Timestamp, eventSequence: Int64?, sinkId: String?, deliveredAt: Timestamp? = nil) {
        self.id = id
        self.tenant = tenant
        self.ruleId = ruleId
        self.ruleName = ruleName
        self.group = group
        self.count = count
        self.threshold = threshold
        self.windowSeconds = windowSeconds
        self.firstAt = firstAt
        self.lastAt = lastAt
        self.firstSequence = firstSequence
        self.lastSequence = lastSequence
        self.firedAt = firedAt
        self.eventSequence = eventSequence
        self.sinkId = sinkId
        self.deliveredAt = deliveredAt
    }
}

/// Sinks, alert rules and fired alerts (SPEC §14). A follower's cursor and state are changed only by the process
/// that holds its lease, so that on PostgreSQL with several processes each follower is run by one at a time.
public protocol StreamStore: Sendable {
    func insertFollower(_ follower: Follower) async throws(StoreError)

    /// A tenant's followers of `kind` (every tenant's when `tenant` is nil), oldest first.
    func followers(tenant: String?, kind: Follower.Kind?) async throws(StoreError) -> [Follower]

    func follower(tenant: String, id: String) async throws(StoreError) -> Follower?

    /// Deletes a follower; false if there is none.
    func deleteFollower(tenant: String, id: String) async throws(StoreError) -> Bool

    /// Takes the lease of a follower for `owner` until `until`, or renews it: when no one holds it, `owner`
    /// does, or its holder's lease ran out by `now`. The follower if `owner` holds it now; nil if another process
    /// does, or it was deleted.
    func leaseFollower(id: String, owner: String, now: Timestamp, until: Timestamp) async throws(StoreError) -> Follower?

    /// Records progress: the cursor moves to `cursor` (never back), `handled` more events, a success at `time`,
    /// failures reset. False (and nothing changed) if `owner` no longer holds the lease.
    func advanceFollower(id: String, owner: String, cursor: Int64, handled: Int, at time: Timestamp) async throws(StoreError) -> Bool

    /// Records a failure: its message, one more in a row, and when to try again.
    func failFollower(id: String, owner: String, error: String, at time: Timestamp, retryAt: Timestamp) async throws(StoreError)

    func insertAlert(_ alert: FiredAlert) async throws(StoreError)

    /// A tenant's fired alerts, newest first, at most `limit`.
    func alerts(tenant: String, limit: Int) async throws(StoreError) -> [FiredAlert]

    /// The alerts sent to `sink` and not delivered yet, oldest first.
    func undeliveredAlerts(tenant: String, sink: String, limit: Int) async throws(StoreError) -> [FiredAlert]

    func markAlertsDelivered(tenant: String, ids: [String], at time: Timestamp) async throws(StoreError)
}
