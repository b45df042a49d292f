public import TrailCore
public import TrailStore

/// Why a use case refused or failed, in terms that hold whatever the channel: a kind (what the caller can do
/// about it), a stable slug, a title and a detail for people, and the fields at fault. `TrailServer` maps each
/// kind to an HTTP status and writes the rest as problem+json (SPEC §6); the CLI prints the detail and errors.
public struct ServiceError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The request is malformed or names something impossible (a bad parameter, malformed JSON).
        case badRequest
        /// The submission is well-formed but breaks the contract; nothing was stored.
        case invalid
        /// The caller's credentials are missing or refused.
        case unauthenticated
        /// The thing asked about does not exist.
        case notFound
        /// The request conflicts with what is stored (a reused idempotency key, a tree beyond the log).
        case conflict
        /// Trail cannot do it right now; a retry after ``ServiceError/retryAfter`` seconds may succeed.
        case unavailable
        /// Trail failed; the cause is logged, not shown.
        case `internal`
    }

    public var kind: Kind
    /// A short identifier of the kind of failure (`invalid-payload`, `tree-size`), stable for clients to test.
    public var slug: String
    public var title: String
    public var detail: String
    public var errors: [FieldError]
    /// Seconds after which a retry may succeed (``Kind/unavailable``).
    public var retryAfter: Int?

    public init(_ kind: Kind, _ slug: String, title: String, detail: String, errors: [FieldError] = [],
                retryAfter: Int? = nil) {
        self.kind = kind
        self.slug = slug
        self.title = title
        self.detail = detail
        self.errors = errors
        self.retryAfter = retryAfter
    }

    public var description: String {
        ([detail] + errors.map(\.description)).joined(separator: "\n  ")
    }
}

extension ServiceError {
    public static func badJSON(_ error: JSONParseError) -> ServiceError {
        ServiceError(.badRequest, "malformed-json", title: "Malformed JSON",
                     detail: "The body is not valid JSON: \(error).",
                     errors: [FieldError(index: nil, path: "", message: error.description)])
    }

    /// A request body parsed as JSON, or the refusal that says why it is not JSON.
    public static func json(_ body: some Collection<UInt8>) throws(ServiceError) -> JSONValue {
        do { return try JSONParser.parse(body) } catch { throw badJSON(error) }
    }

    /// The most errors one refusal lists: a batch of 10,000 bad items is refused with the first hundred, and the
    /// count of all.
    public static let maximumErrors = 100

    public static func invalid(_ failure: InvalidSubmission) -> ServiceError {
        let count = failure.errors.count
        let listed = count > maximumErrors ? "the first \(maximumErrors) are listed in errors" : "see errors"
        return ServiceError(.invalid, "invalid-payload", title: "Invalid payload",
                            detail: "The submission was refused and nothing was stored: \(count) error\(count == 1 ? "" : "s") (\(listed)).",
                            errors: Array(failure.errors.prefix(maximumErrors)))
    }

    public static func badRequest(_ detail: String, path: String) -> ServiceError {
        ServiceError(.badRequest, "bad-request", title: "Bad request", detail: detail,
                     errors: [FieldError(index: nil, path: path, message: detail)])
    }

    public static func unauthenticated(_ detail: String) -> ServiceError {
        ServiceError(.unauthenticated, "unauthenticated", title: "Authentication required", detail: detail)
    }

    /// What a store failure means to the caller: conflicts are the caller's, unavailability is temporary (retry
    /// after a second), anything else is Trail's fault (its details are for the log, not the caller).
    public init(_ error: StoreError) {
        switch error.code {
        case .idempotencyConflict:
            self.init(.conflict, "idempotency-conflict", title: "Idempotency key reused", detail: error.message)
        case .unavailable:
            self.init(.unavailable, "storage-unavailable", title: "Storage unavailable",
                      detail: "Trail cannot reach its storage right now; nothing was stored. Retry shortly.",
                      retryAfter: 1)
        case .indeterminate:
            self.init(.unavailable, "storage-outcome-unknown", title: "Storage connection lost",
                      detail: "Trail lost its connection to its storage while committing: the submission may or may not be stored. Retry with the same Idempotency-Key: a stored submission is then answered, not stored again.",
                      retryAfter: 1)
        default:
            self = .internal
        }
    }

    public static let `internal` = ServiceError(
        .internal, "internal", title: "Internal error",
        detail: "Trail failed to handle this request; nothing was stored. The error is in Trail's log.")
}
