import Hummingbird
import Logging
import TrailCore
import TrailStore

/// Meta-audit (SPEC §7): reads and exports of the log, key creation and revocation, and failed authentications
/// are recorded as events of category `AUDIT_ACCESS` in the caller's tenant, in the same sequence as every
/// other event. Lists, summaries and exports leave them out unless asked for with `category=AUDIT_ACCESS`.
///
/// Recording is part of the request: a read is answered only once its record is committed, and a read whose
/// record cannot be stored fails (503) — an unrecorded read is what meta-audit exists to prevent. Callers
/// without credentials (`--insecure-no-auth`) are not recorded: there is nobody to attribute the access to.
struct AccessLog: Sendable {
    let store: any EventStore
    let origin: RequestOrigin
    /// The routes, whose query parameters are the only ones recorded.
    let routes: RouteTable
    /// The longest path or parameter value recorded, in characters: a record stays a few hundred bytes whatever
    /// the request (a longer one is cut, ending in `…`).
    static let maximumValueLength = 128
    /// Failed authentications recorded per key: at most 10 a minute, so a client retrying a revoked key in a
    /// loop does not fill its tenant's log.
    let failures = RateLimiter(limit: RateLimit(perSecond: 10.0 / 60, burst: 10))

    enum Action: String {
        case read
        case exported
        case verified
        case apiKeyCreated = "api_key_created"
        case apiKeyRevoked = "api_key_revoked"
        case authenticationFailed = "authentication_failed"
    }

    /// Records `action` by `caller` (nothing for a caller without credentials).
    func record(_ action: Action, by caller: Principal, request: Request, context: TrailRequestContext, status: Int,
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
        }
        let path = Self.bounded(request.uri.path)
        var metadata = JSONObject()
        metadata.append("method", .string(request.method.rawValue))
        metadata.append("route", context.endpointPath.map(JSONValue.string) ?? .null)
        metadata.append("path", .string(path))
        // The parameters the route reads, never the raw query: a client's unknown or oversized parameters do
        // not grow the log.
        var query = JSONObject()
        if let route = routes.route(method: request.method, path: context.endpointPath) {
            let given = request.uri.queryParameters
            for name in route.query {
                if let value = given[Substring(name)] { query.append(name, .string(Self.bounded(value))) }
            }
        }
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
            summary: "\(who) \(what) \(request.method.rawValue) \(path) (\(status)).")
        activity.addRequestContext(origin.context(of: request, in: context))
        _ = try await store.append(AppendRequest(tenant: caller.tenant, activities: [activity]))
    }

    /// `text`, or its first characters and `…` when it is longer than ``maximumValueLength``.
    static func bounded(_ text: some StringProtocol) -> String {
        text.count <= maximumValueLength ? String(text) : String(text.prefix(maximumValueLength - 1)) + "…"
    }
}

/// Records every read of the log (`GET` and `HEAD` but `/api/v1/messages` and `/api/v1/admin`, and
/// `POST /api/v1/integrity/verify`, which reads all of it) by an authenticated caller, answered or refused, with
/// its status.
struct AccessAuditMiddleware: RouterMiddleware {
    typealias Context = TrailRequestContext
    let log: AccessLog

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let verifies = request.method == .post && request.uri.path == "/api/v1/integrity/verify"
        guard request.method == .get || request.method == .head || verifies, let caller = context.principal, caller.credential != .none,
              Self.readsTheLog(request.uri.path) else {
            return try await next(request, context)
        }
        let action: AccessLog.Action = verifies ? .verified : request.uri.path.hasSuffix("/export") ? .exported : .read
        let response: Response
        do {
            response = try await next(request, context)
        } catch {
            let status = (error as? any HTTPResponseError)?.status.code ?? 500
            do {
                try await log.record(action, by: caller, request: request, context: context, status: status)
            } catch {
                context.logger.error("a refused read could not be recorded", metadata: ["error": "\(error)"])
            }
            throw error
        }
        try await log.record(action, by: caller, request: request, context: context, status: response.status.code)
        return response
    }

    static func readsTheLog(_ path: String) -> Bool {
        !(path.hasPrefix("/api/v1/messages") || path.hasPrefix("/api/v1/admin"))
    }
}
