import Hummingbird
import HTTPTypes
import TrailCore
import TrailService
import TrailStore

/// How callers prove who they are (SPEC §7).
public enum AuthenticationMode: Sendable, Equatable {
    /// Every endpoint but `/health` needs an API key (`Authorization: ApiKey <key>` or `Bearer <key>`), or a
    /// JWT bearer token when JWT keys are configured.
    case required
    /// No credentials are asked for or looked at: every caller is an admin of tenant `default`. For local
    /// experiments only (`trail serve --insecure-no-auth`).
    case disabled
}

/// Finds the caller of each request and puts it in the request context; refuses unknown callers with 401.
/// What the caller may do is checked by each route (``TrailRequestContext/tenant(for:)``), which also gives the
/// tenant every store call of the request is confined to.
struct AuthenticationMiddleware: RouterMiddleware {
    typealias Context = TrailRequestContext
    let mode: AuthenticationMode
    let keys: KeyCache
    /// Per-credential limits; nil for none.
    let limiter: RateLimiter?
    /// Failed authentications per client address; nil for none.
    let failures: RateLimiter?
    /// Checks JWT bearer tokens; nil when none are accepted.
    let tokens: JWTVerifier?
    /// Where refused keys are recorded.
    let access: AccessLog

    static let anonymous = Principal(tenant: TenantName.default, roles: [.admin], subject: "anonymous",
                                     credential: .none)

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let principal = try await limitingFailures(of: request, context: context) {
            try await self.principal(of: request, context: context)
        }
        context.notes?.tenant = principal.tenant
        if principal.credential != .none, let limiter, let wait = limiter.take(principal.rateLimitKey) {
            TrailMetrics.rateLimited("credential")
            throw Problem(.tooManyRequests, "rate-limited", title: "Too many requests",
                          detail: "This credential may make \(Int(limiter.limit.perSecond)) requests per second (bursts of \(Int(limiter.limit.burst))); nothing was done. Retry after \(wait) s.",
                          headers: [.retryAfter: String(wait)])
        }
        context.principal = principal
        return try await next(request, context)
    }

    /// Runs `check`, which authenticates a request, under the limit of failed authentications from its client's
    /// address: 429 while that address has none left; a 401 of `check` takes one (and is counted and logged).
    func limitingFailures<T>(of request: Request, context: Context, _ check: () async throws -> T) async throws -> T {
        // (An in-process request has no address, and no such limit.)
        let address = mode == .required ? access.origin.clientAddress(of: request, peer: context.remoteAddress?.ipAddress) : nil
        if let failures, let address, let wait = failures.waitIfEmpty(address) {
            TrailMetrics.rateLimited("failed_authentication")
            throw Problem(.tooManyRequests, "authentication-rate-limited", title: "Too many failed authentications",
                          detail: "Too many requests from \(address) failed to authenticate; nothing was done. Retry after \(wait) s with a valid key.",
                          headers: [.retryAfter: String(wait)])
        }
        do {
            return try await check()
        } catch let problem as Problem where problem.status == .unauthorized {
            if let failures, let address { _ = failures.take(address) }
            TrailMetrics.authenticationFailed()
            context.logger.info("authentication refused", metadata: [
                "path": "\(request.uri.path)", "peer": "\(address ?? "-")", "reason": "\(problem.detail)"])
            throw problem
        }
    }

    func principal(of request: Request, context: Context) async throws -> Principal {
        guard mode == .required else { return Self.anonymous }
        guard let header = request.headers[.authorization] else {
            throw Problem.unauthenticated("Send an API key: Authorization: ApiKey <key> (or Bearer <key>).")
        }
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, ["apikey", "bearer"].contains(parts[0].lowercased()) else {
            throw Problem.unauthenticated("Trail takes Authorization: ApiKey <key> or Authorization: Bearer <key>.")
        }
        return try await principal(presenting: parts[1].trimmingHeaderWhitespace, tokenAllowed: parts[0].lowercased() == "bearer",
                                   request: request, context: context).principal
    }

    /// The caller an API key (or, when `tokenAllowed`, a JWT) names, and when the token expires; 401 for any
    /// other credential. A refused key of a known tenant is recorded in that tenant's log.
    func principal(presenting credential: String, tokenAllowed: Bool, request: Request,
                   context: Context) async throws -> (principal: Principal, expiresAt: Timestamp?) {
        guard let presented = APIKeyText(parsing: credential) else {
            if let tokens, tokenAllowed, JWTVerifier.looksLikeToken(credential) {
                do {
                    let verified = try await tokens.verify(token: credential)
                    return (verified.principal, verified.expiresAt)
                } catch {
                    throw Problem(error)  // a refused token counts as a failed authentication, like a refused key
                }
            }
            throw Problem.unauthenticated("That is not a Trail API key (they look like trail_<16 hex digits>_<43 characters>)\(tokens == nil ? "" : " nor a JWT").")
        }
        // (Made only for a refusal: a Problem is not free, and most requests are let in.)
        func refused() -> Problem { Problem.unauthenticated("The API key is unknown, revoked, or mistyped.") }
        // A known key names its tenant: a refusal goes into that tenant's log (a few a minute at most).
        func record(_ key: APIKey, reason: String) async throws {
            guard access.recorder.failures.take(key.id) == nil else { return }
            var details = JSONObject()
            details.append("reason", .string(reason))
            try await access.record(.authenticationFailed,
                                    by: Principal(tenant: key.tenant, roles: [], subject: key.id, credential: .apiKey),
                                    request: request, context: context, status: 401, details: details)
        }
        switch try await keys.check(presented) {
        case .valid(let key):
            return (Principal(tenant: key.tenant, roles: [key.role], subject: key.id, credential: .apiKey), nil)
        case .unknown:
            throw refused()
        case .wrongSecret(let key):
            try await record(key, reason: "wrong secret")
            throw refused()
        case .revoked(let key):
            try await record(key, reason: "revoked")
            throw refused()
        }
    }
}

extension TrailRequestContext {
    /// The tenant this request works in, once its caller is known to be allowed `permission`: 403 otherwise.
    func tenant(for permission: Permission) throws -> String {
        try principal(for: permission).tenant
    }

    /// The caller, once known to be allowed `permission`: 403 otherwise.
    func principal(for permission: Permission) throws -> Principal {
        // Every route but /health sits behind the middleware: no principal here is a wiring mistake, refused.
        guard let principal else { throw Problem.unauthenticated("Send an API key: Authorization: ApiKey <key>.") }
        guard principal.allows(permission) else {
            let held = principal.roles.sorted().map(\.rawValue).joined(separator: ", ")
            let needed = permission.roles.map(\.rawValue).joined(separator: " or ")
            throw Problem(.forbidden, "forbidden", title: "Forbidden",
                          detail: "This credential has the role \(held); to \(permission.rawValue) it needs \(needed).")
        }
        return principal
    }
}
