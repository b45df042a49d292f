/// What a caller may do (SPEC §7). Each API key has one role; a JWT may carry several.
public enum Role: String, CaseIterable, Sendable, Comparable {
    /// Sends events (ingest, async submissions) and follows its messages.
    case writer
    /// Reads and exports the log.
    case reader
    /// Reads the log and verifies its integrity.
    case auditor
    /// Everything in its tenant, including API keys.
    case admin

    /// Whether this role grants `permission`.
    public func allows(_ permission: Permission) -> Bool {
        switch (self, permission) {
        case (.admin, _): true
        case (.writer, .ingest), (.writer, .messages): true
        case (.reader, .read), (.reader, .messages): true
        case (.auditor, .read), (.auditor, .verify), (.auditor, .messages): true
        default: false
        }
    }

    public static func < (left: Role, right: Role) -> Bool {
        allCases.firstIndex(of: left)! < allCases.firstIndex(of: right)!
    }
}

/// What an endpoint needs of its caller.
public enum Permission: String, Sendable {
    /// Send events.
    case ingest
    /// Read async submissions (`/api/v1/messages`): every role, since writers follow what they sent.
    case messages
    /// Read, search, summarise and export the log.
    case read
    /// Check the log's integrity.
    case verify
    /// Create, list and revoke API keys.
    case manageKeys = "manage keys"
    /// Set retention rules, run cleanups, place and release legal holds, erase data subjects (SPEC §11).
    case manageData = "manage data"
    /// Create, list and delete sinks and alert rules, list fired alerts (SPEC §14).
    case manageStreams = "manage sinks and alerts"

    /// The roles that grant it, for error messages.
    public var roles: [Role] { Role.allCases.filter { $0.allows(self) } }
}

/// Who is calling: the tenant every operation of the request is confined to, and what the caller may do there.
public struct Principal: Sendable, Equatable {
    public enum Credential: String, Sendable {
        /// An API key from the store; `subject` is the key's id.
        case apiKey = "api_key"
        /// A JWT bearer token; `subject` is its `sub`.
        case jwt
        /// No credentials: the server runs with authentication switched off (`--insecure-no-auth`).
        case none
    }

    public var tenant: String
    public var roles: Set<Role>
    public var subject: String
    public var credential: Credential

    public init(tenant: String, roles: Set<Role>, subject: String, credential: Credential) {
        self.tenant = tenant
        self.roles = roles
        self.subject = subject
        self.credential = credential
    }

    public func allows(_ permission: Permission) -> Bool {
        roles.contains { $0.allows(permission) }
    }

    /// What rate limits count requests by: the key, or the token's tenant and subject.
    public var rateLimitKey: String {
        credential == .apiKey ? subject : "\(credential.rawValue):\(tenant):\(subject)"
    }
}

/// Tenant names: 1 to 100 characters of ASCII letters, digits, `.`, `_` and `-` (they appear in URLs, logs and
/// command lines, so nothing that needs quoting).
public enum TenantName {
    public static func isValid(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 100 && name.utf8.allSatisfy { byte in
            (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
                || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
        }
    }

    public static let rule = "1 to 100 ASCII letters, digits, '.', '_' or '-'"

    /// The tenant of the first admin key, of the CLI's commands unless told otherwise, and of every request while
    /// authentication is switched off (SPEC §1).
    public static let `default` = "default"
}
