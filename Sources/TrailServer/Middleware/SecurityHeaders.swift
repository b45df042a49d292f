import Hummingbird
import HTTPTypes

/// Headers on every response, errors included, that keep browsers from doing anything with Trail's answers
/// but show them as data: no MIME sniffing, no framing, no scripts or subresources, no referrer, no caching of
/// audit data. (HSTS is left to the TLS-terminating proxy in front of Trail, which knows whether HTTPS is used.)
struct SecurityHeadersMiddleware<Context: RequestContext>: RouterMiddleware {
    static var fields: HTTPFields {
        [
            .xContentTypeOptions: "nosniff",
            .xFrameOptions: "DENY",
            .contentSecurityPolicy: "default-src 'none'; frame-ancestors 'none'",
            .referrerPolicy: "no-referrer",
            .crossOriginResourcePolicy: "same-origin",
        ]
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        for field in Self.fields where response.headers[field.name] == nil {
            response.headers.append(field)
        }
        if response.headers[.cacheControl] == nil {
            response.headers[.cacheControl] = "no-store"
        }
        return response
    }
}

/// Cross-origin requests from browsers (CORS), allowed only from the origins configured (`--cors-origin`);
/// with none configured (the default) no CORS header is ever sent and browsers keep other sites out.
struct AllowedOriginsMiddleware<Context: RequestContext>: RouterMiddleware {
    let allowedOrigins: Set<String>

    static var allowedHeaders: String { "Authorization, Content-Type, Idempotency-Key, Prefer, X-Request-ID" }
    static var allowedMethods: String { "GET, POST, DELETE, OPTIONS" }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let origin = request.headers[.origin], allowedOrigins.contains(origin) else {
            return try await next(request, context)
        }
        var response: Response
        if request.method == .options, request.headers[.accessControlRequestMethod] != nil {
            response = Response(status: .noContent)
            response.headers[.accessControlAllowMethods] = Self.allowedMethods
            response.headers[.accessControlAllowHeaders] = Self.allowedHeaders
            response.headers[.accessControlMaxAge] = "600"
        } else {
            response = try await next(request, context)
            response.headers[.accessControlExposeHeaders] = "Location, Retry-After, X-Request-ID"
        }
        response.headers[.accessControlAllowOrigin] = origin
        response.headers[.vary] = "Origin"
        return response
    }
}

extension HTTPField.Name {
    static let xContentTypeOptions = HTTPField.Name("X-Content-Type-Options")!
    static let xFrameOptions = HTTPField.Name("X-Frame-Options")!
    static let referrerPolicy = HTTPField.Name("Referrer-Policy")!
    static let crossOriginResourcePolicy = HTTPField.Name("Cross-Origin-Resource-Policy")!
}
