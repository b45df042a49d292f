public import Hummingbird
public import TrailCore
public import TrailStore

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

extension Problem {
    public static func badJSON(_ error: JSONParseError) -> Problem {
        Problem(.badRequest, "malformed-json", title: "Malformed JSON",
                detail: "The body is not valid JSON: \(error).",
                errors: [FieldError(index: nil, path: "", message: error.description)])
    }

    /// The most errors one problem lists: a batch of 10,000 bad items is refused with the first hundred, and
    /// the count of all.
    public static let maximumErrors = 100

    public static func invalid(_ failure: InvalidSubmission) -> Problem {
        let count = failure.errors.count
        let listed = count > maximumErrors ? "the first \(maximumErrors) are listed in errors" : "see errors"
        return Problem(.unprocessableContent, "invalid-payload", title: "Invalid payload",
                       detail: "The submission was refused and nothing was stored: \(count) error\(count == 1 ? "" : "s") (\(listed)).",
                       errors: Array(failure.errors.prefix(maximumErrors)))
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

    public static func badRequest(_ detail: String, path: String) -> Problem {
        Problem(.badRequest, "bad-request", title: "Bad request", detail: detail,
                errors: [FieldError(index: nil, path: path, message: detail)])
    }

    /// The mapping of store failures: conflicts are the client's, unavailability is temporary (503 with
    /// `Retry-After`), anything else is Trail's fault (500, details logged, not shown).
    public static func store(_ error: StoreError) -> Problem {
        switch error.code {
        case .idempotencyConflict:
            Problem(.conflict, "idempotency-conflict", title: "Idempotency key reused", detail: error.message)
        case .unavailable:
            Problem(.serviceUnavailable, "storage-unavailable", title: "Storage unavailable",
                    detail: "Trail cannot reach its storage right now; nothing was stored. Retry shortly.",
                    headers: [.retryAfter: "1"])
        case .indeterminate:
            Problem(.serviceUnavailable, "storage-outcome-unknown", title: "Storage connection lost",
                    detail: "Trail lost its connection to its storage while committing: the submission may or may not be stored. Retry with the same Idempotency-Key: a stored submission is then answered, not stored again.",
                    headers: [.retryAfter: "1"])
        default:
            .internal
        }
    }

    public static let `internal` = Problem(
        .internalServerError, "internal", title: "Internal error",
        detail: "Trail failed to handle this request; nothing was stored. The error is in Trail's log.")
}
