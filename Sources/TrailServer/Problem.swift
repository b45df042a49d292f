public import Hummingbird
public import TrailCore
public import TrailService
import TrailStore

/// An error as users see it: `application/problem+json` (RFC 9457) with Trail's `errors` list (SPEC §6).
///
/// Every error leaving the server is turned into one of these by ``ProblemMiddleware``, so clients never see
/// HTML or a stack trace.
public struct Problem: HTTPResponseError, Sendable, CustomStringConvertible {
    public var status: HTTPResponse.Status
    /// A short identifier of the kind of problem, also the last part of `type`.
    public var slug: String
    public var title: String
    public var detail: String
    public var errors: [FieldError]
    public var headers: HTTPFields

    public init(_ status: HTTPResponse.Status, _ slug: String, title: String, detail: String,
                errors: [FieldError] = [], headers: HTTPFields = [:]) {
        self.status = status
        self.slug = slug
        self.title = title
        self.detail = detail
        self.errors = errors
        self.headers = headers
    }

    public var description: String {
        ([detail] + errors.map(\.description)).joined(separator: "\n  ")
    }

    public var body: [UInt8] {
        var writer = JSONWriter(capacity: 256)
        writer.raw("{")
        writer.key("type"); writer.write(string: "urn:trail:problem:\(slug)")
        writer.raw(","); writer.key("title"); writer.write(string: title)
        writer.raw(","); writer.key("status"); writer.raw(String(status.code))
        writer.raw(","); writer.key("detail"); writer.write(string: detail)
        writer.raw(","); writer.key("errors"); writer.raw("[")
        for (i, error) in errors.enumerated() {
            if i > 0 { writer.raw(",") }
            writer.raw("{")
            writer.key("index"); writer.raw(error.index.map(String.init) ?? "null")
            writer.raw(","); writer.key("path"); writer.write(string: error.path)
            writer.raw(","); writer.key("message"); writer.write(string: error.message)
            writer.raw("}")
        }
        writer.raw("]}")
        return writer.bytes
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var fields = headers
        fields[.contentType] = "application/problem+json"
        return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }
}

/// The one mapping of use-case failures to HTTP: each ``ServiceError/Kind`` has its status; a retry hint
/// becomes `Retry-After`, a refused credential says how to present one (`WWW-Authenticate`).
extension Problem {
    public init(_ error: ServiceError) {
        var headers: HTTPFields = [:]
        if let seconds = error.retryAfter { headers[.retryAfter] = String(seconds) }
        if error.kind == .unauthenticated { headers[.wwwAuthenticate] = #"ApiKey realm="trail", Bearer realm="trail""# }
        self.init(Self.status(of: error.kind), error.slug, title: error.title, detail: error.detail,
                  errors: error.errors, headers: headers)
    }

    /// The status the answer to a request that failed with `error` has, once ``ProblemMiddleware`` maps it: for
    /// middleware inside that mapping that records what the caller got (meta-audit).
    static func status(of error: any Error) -> HTTPResponse.Status {
        switch error {
        case let problem as Problem: problem.status
        case let error as ServiceError: status(of: error.kind)
        case let error as StoreError: status(of: ServiceError(error).kind)
        case let error as any HTTPResponseError: error.status
        default: .internalServerError
        }
    }

    static func status(of kind: ServiceError.Kind) -> HTTPResponse.Status {
        switch kind {
        case .badRequest: .badRequest
        case .invalid: .unprocessableContent
        case .unauthenticated: .unauthorized
        case .notFound: .notFound
        case .conflict: .conflict
        case .unavailable: .serviceUnavailable
        case .internal: .internalServerError
        }
    }

    public static func unsupportedMediaType(_ given: String) -> Problem {
        Problem(.unsupportedMediaType, "unsupported-media-type", title: "Unsupported media type",
                detail: "The body must be JSON: send Content-Type: application/json (got \(given)).")
    }

    public static func tooLarge(limit: Int) -> Problem {
        Problem(.contentTooLarge, "body-too-large", title: "Body too large",
                detail: "The body exceeds the limit of \(limit) bytes; split the batch into smaller requests.")
    }

    public static func notFound(_ path: String) -> Problem {
        Problem(.notFound, "not-found", title: "Not found", detail: "Nothing here: \(path).")
    }

    /// A query parameter or header the route cannot use (also what use cases say of theirs).
    public static func badRequest(_ detail: String, path: String) -> Problem {
        Problem(ServiceError.badRequest(detail, path: path))
    }

    static func unauthenticated(_ detail: String) -> Problem {
        Problem(ServiceError.unauthenticated(detail))
    }

    public static let `internal` = Problem(ServiceError.internal)
}
