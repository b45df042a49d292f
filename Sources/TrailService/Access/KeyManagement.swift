public import TrailCore
public import TrailStore

/// API keys as operations (SPEC §7), for `/api/v1/admin/keys` and `trail keys`: create (the key's text is
/// returned this once), list (never secrets), revoke. A key revoked here is forgotten at once by `cache`, the
/// cache of the process that serves requests; elsewhere it is refused within ``KeyCache/lifetime``.
public struct KeyManagement: Sendable {
    let keys: any KeyStore
    let cache: KeyCache?

    public init(keys: any KeyStore, cache: KeyCache? = nil) {
        self.keys = keys
        self.cache = cache
    }

    public func create(tenant: String, role: Role, name: String) async throws -> (key: APIKey, text: String) {
        try await keys.createKey(tenant: tenant, role: role, name: name)
    }

    /// A tenant's keys, or every tenant's (nil).
    public func list(tenant: String?) async throws -> [APIKey] {
        try await keys.keys(tenant: tenant)
    }

    /// Revokes key `id` (only if it is `tenant`'s, when one is named); not found if there is no such key.
    public func revoke(tenant: String?, id: String) async throws -> APIKey {
        guard let key = try await keys.revokeKey(tenant: tenant, id: id) else {
            throw ServiceError(.notFound, "key-not-found", title: "No such key",
                               detail: tenant.map { "Tenant \($0) has no API key \(id)." } ?? "There is no API key \(id).")
        }
        cache?.forget(key.id)
        return key
    }

    /// A request to create a key: `{"role": "writer|reader|auditor|admin", "name": "…"}`; the name is optional,
    /// nothing else is allowed.
    public static func creation(from body: some Collection<UInt8>) throws(ServiceError) -> (role: Role, name: String) {
        let value = try ServiceError.json(body)
        guard let object = value.objectValue else {
            throw ServiceError.invalid(InvalidSubmission(errors: [FieldError(index: nil, path: "", message: "expected an object with role and name")]))
        }
        var errors: [FieldError] = []
        for key in object.keys where key != "role" && key != "name" {
            errors.append(FieldError(index: nil, path: key, message: "unknown field; a key has a role and a name"))
        }
        let roles = Role.allCases.map(\.rawValue).joined(separator: ", ")
        let role = object["role"]?.stringValue.flatMap(Role.init(rawValue:))
        if role == nil { errors.append(FieldError(index: nil, path: "role", message: "required, one of \(roles)")) }
        var name = ""
        switch object["name"] {
        case nil, .null?: break
        case .string(let given)? where given.codePoints <= APIKey.maximumNameLength: name = given
        default: errors.append(FieldError(index: nil, path: "name", message: "a string of at most \(APIKey.maximumNameLength) characters"))
        }
        guard errors.isEmpty, let role else { throw ServiceError.invalid(InvalidSubmission(errors: errors)) }
        return (role, name)
    }

    /// What the meta-audit event of a key's creation or revocation says of it: never its text.
    public static func details(_ key: APIKey) -> JSONObject {
        var details = JSONObject()
        details.append("key_id", .string(key.id))
        details.append("key_role", .string(key.role.rawValue))
        details.append("key_name", .string(key.name))
        return details
    }
}

/// An API key as the API and `trail keys list --json` show it; `key` (the text) only in the answer that created it.
public enum APIKeyJSON {
    public static func write(_ key: APIKey, text: String?, into writer: inout JSONWriter) {
        writer.raw("{")
        writer.key("id"); writer.write(string: key.id)
        writer.raw(","); writer.key("tenant"); writer.write(string: key.tenant)
        writer.raw(","); writer.key("name"); writer.write(string: key.name)
        writer.raw(","); writer.key("role"); writer.write(string: key.role.rawValue)
        writer.raw(","); writer.key("created_at"); writer.write(timestamp: key.createdAt)
        writer.raw(","); writer.key("revoked_at")
        if let revoked = key.revokedAt { writer.write(timestamp: revoked) } else { writer.raw("null") }
        if let text { writer.raw(","); writer.key("key"); writer.write(string: text) }
        writer.raw("}")
    }
}
