/// Why a call failed: Trail's answer (its problem+json: status, type, title, detail and each field's error),
/// or no answer at all.
public struct TrailClientError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure it is; more may be added.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        let name: String
        public var description: String { name }
        /// The request was refused as malformed (400) or invalid (422): see ``errors``.
        public static let invalid = Code(name: "invalid")
        /// The key (or token) is missing, unknown, revoked (401), or lacks the role (403).
        public static let authentication = Code(name: "authentication")
        public static let notFound = Code(name: "notFound")
        /// An idempotency key was used with another body (409).
        public static let conflict = Code(name: "conflict")
        /// Trail answered 429 or 503 (or 5xx) after every retry.
        public static let unavailable = Code(name: "unavailable")
        /// Trail could not be reached, or did not answer in time, after every retry.
        public static let transport = Code(name: "transport")
        /// Trail's answer could not be read.
        public static let decoding = Code(name: "decoding")
    }

    /// One field's error, as Trail named it (`index` of the item in a batch, dotted `path`).
    public struct FieldError: Sendable, Hashable, Decodable {
        public var index: Int?
        public var path: String
        public var message: String
    }

    public var code: Code
    /// The HTTP status, when Trail answered.
    public var status: Int?
    /// The problem's `type` (`urn:trail:problem:…`).
    public var type: String?
    public var title: String?
    public var detail: String
    public var errors: [FieldError]

    public var description: String {
        ((status.map { "\($0) " } ?? "") + (title.map { "\($0): " } ?? "") + detail)
            + errors.map { "\n  \($0.index.map { "[\($0)] " } ?? "")\($0.path): \($0.message)" }.joined()
    }

    init(code: Code, status: Int? = nil, type: String? = nil, title: String? = nil, detail: String, errors: [FieldError] = []) {
        self.code = code
        self.status = status
        self.type = type
        self.title = title
        self.detail = detail
        self.errors = errors
    }
}
