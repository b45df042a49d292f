import Foundation
public import TrailCore
public import TrailStore

/// Meta-audit (SPEC §7): reads and exports of the log, key creation and revocation, and failed authentications
/// are recorded as events of category `AUDIT_ACCESS` in the caller's tenant, in the same sequence as every
/// other event. Lists, summaries and exports leave them out unless asked for with `category=AUDIT_ACCESS`.
///
/// Recording is part of the access: the caller (the HTTP layer) answers a read only once its record is
/// committed. Callers without credentials (`--insecure-no-auth`) are not recorded: there is nobody to attribute
/// the access to.
public struct AccessRecorder: Sendable {
    let store: any EventStore
    /// The longest path or parameter value recorded, in characters: a record stays a few hundred bytes whatever
    /// the request (a longer one is cut, ending in `…`).
    public static let maximumValueLength = 128
    /// Failed authentications recorded per key: at most 10 a minute, so a client retrying a revoked key in a
    /// loop does not fill its tenant's log.
    public let failures = RateLimiter(limit: RateLimit(perSecond: 10.0 / 60, burst: 10))

    public init(store: any EventStore) {
        self.store = store
    }

    public enum Action: String, Sendable {
        case read
        case exported
        case verified
        case apiKeyCreated = "api_key_created"
        case apiKeyRevoked = "api_key_revoked"
        case authenticationFailed = "authentication_failed"
        case signedIn = "console_signed_in"
        case signedOut = "console_signed_out"
    }

    /// The access as recorded: what was asked, by which route, and where from.
    public struct Access: Sendable {
        public var method: String
        /// The route's template (`/api/v1/audit/logs/{id}`), nil when none matched.
        public var route: String?
        public var path: String
        /// The query parameters the route reads, as given (never the raw query: a client's unknown or oversized
        /// parameters do not grow the log).
        public var query: [(name: String, value: String)]
        /// `ip`, `user_agent`, `request_id`.
        public var requestContext: JSONObject

        public init(method: String, route: String?, path: String, query: [(name: String, value: String)],
                    requestContext: JSONObject) {
            self.method = method
            self.route = route
            self.path = path
            self.query = query
            self.requestContext = requestContext
        }
    }

    /// Records `action` by `caller` (nothing for a caller without credentials), answered with `status`.
    public func record(_ action: Action, by caller: Principal, access: Access, status: Int,
                       details: JSONObject = JSONObject()) async throws(StoreError) {
        guard caller.credential != .none else { return }
        let who = caller.credential == .apiKey ? "API key \(caller.subject)" : "Token subject \(caller.subject)"
        let what = switch action {
        case .read: "read"
        case .exported: "exported"
        case .verified: "verified the log with"
        case .apiKeyCreated: "created an API key with"
        case .apiKeyRevoked: "revoked an API key with"
        case .authenticationFailed: "was refused at"
        case .signedIn: "signed in to the web console at"
        case .signedOut: "signed out of the web console at"
        }
        let path = Self.bounded(access.path)
        var metadata = JSONObject()
        metadata.append("method", .string(access.method))
        metadata.append("route", access.route.map(JSONValue.string) ?? .null)
        metadata.append("path", .string(path))
        var query = JSONObject()
        for (name, value) in access.query { query.append(name, .string(Self.bounded(value))) }
        if !query.isEmpty { metadata.append("query", .object(query)) }
        metadata.append("status", .number(JSONNumber(status)))
        for member in details { metadata.append(member.key, member.value) }
        var actor = JSONObject()
        actor.append("id", .string(caller.subject))
        actor.append("type", .string(caller.credential.rawValue))
        var activity = Activity(
            action: action.rawValue, actor: actor, actorId: caller.subject, resourceType: nil, resourceId: nil,
            metadata: metadata, category: EventQuery.accessCategory, outcome: status < 400 ? .success : .failure,
            reportedChanges: [],  // a generic event, about no resource
            summary: "\(who) \(what) \(access.method) \(path) (\(status)).")
        activity.addRequestContext(access.requestContext)
        _ = try await store.append(AppendRequest(tenant: caller.tenant, activities: [activity]))
    }

    /// `text` as an access record keeps it (a path, a query value: whatever the request held): its first
    /// characters and `…` when it is longer than ``maximumValueLength``, and the NUL character (a `%00` in a
    /// query) replaced by U+FFFD. No stored JSON holds NUL — Trail's parser refuses it, in submissions and when
    /// reading events back — so a record holding one could never be read.
    public static func bounded(_ text: some StringProtocol) -> String {
        let kept = text.count <= maximumValueLength ? String(text) : String(text.prefix(maximumValueLength - 1)) + "…"
        return kept.utf8.contains(0) ? kept.replacingOccurrences(of: "\u{0}", with: "\u{FFFD}") : kept
    }
}
