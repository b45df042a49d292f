public import Hummingbird
public import TrailClient
import Foundation

/// Who is making the request being served, and from where: what every event recorded while serving it is
/// attributed to (``AuditMiddleware`` sets it for the handler's task and the tasks it starts).
public struct AuditContext: Sendable, Hashable {
    public var actor: Actor?
    public var ip: String?
    public var userAgent: String?
    public var requestId: String?

    public init(actor: Actor? = nil, ip: String? = nil, userAgent: String? = nil, requestId: String? = nil) {
        self.actor = actor
        self.ip = ip
        self.userAgent = userAgent
        self.requestId = requestId
    }

    /// The request being served's context (nil outside one).
    @TaskLocal public static var current: AuditContext?

    /// As an event's `context` (SPEC §3).
    var json: [String: TrailJSON] {
        var json: [String: TrailJSON] = [:]
        if let ip { json["ip"] = .string(ip) }
        if let userAgent { json["user_agent"] = .string(userAgent) }
        if let requestId { json["request_id"] = .string(requestId) }
        return json
    }
}

/// Puts the request's actor (from `actor`, a closure over the request and its context: the signed-in user),
/// client address, user agent and request id (`X-Request-ID`, else a new one) into ``AuditContext/current``
/// while the rest of the responder chain runs.
public struct AuditMiddleware<Context: RequestContext>: RouterMiddleware {
    let actor: @Sendable (Request, Context) -> Actor?
    let address: @Sendable (Request, Context) -> String?

    /// - Parameters:
    ///   - actor: who the request is from (nil: nobody known).
    ///   - address: the client's address; by default the first `X-Forwarded-For` hop when there is one (put the
    ///     middleware behind your trusted proxy), else the socket peer when the context knows it.
    public init(actor: @escaping @Sendable (Request, Context) -> Actor?,
                address: (@Sendable (Request, Context) -> String?)? = nil) {
        self.actor = actor
        self.address = address ?? { request, context in
            if let forwarded = request.headers[.init("X-Forwarded-For")!]?.split(separator: ",").first {
                return forwarded.trimmingCharacters(in: .whitespaces)
            }
            return (context as? any RemoteAddressRequestContext)?.remoteAddress?.ipAddress
        }
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let audit = AuditContext(
            actor: actor(request, context), ip: address(request, context), userAgent: request.headers[.userAgent],
            requestId: request.headers[.init("X-Request-ID")!] ?? UUID().uuidString)
        return try await AuditContext.$current.withValue(audit) {
            try await next(request, context)
        }
    }
}
