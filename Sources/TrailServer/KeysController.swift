import Hummingbird
public import TrailCore
public import TrailStore

/// `/api/v1/admin/keys` (SPEC §7), for admins, in their own tenant: list (`GET`), create (`POST {"role", "name"}`,
/// → 201 with the key's text, shown this once) and revoke (`DELETE /api/v1/admin/keys/{id}`).
struct KeysController: Sendable {
    typealias Context = TrailRequestContext
    let keys: any KeyStore
    /// Forgets revoked keys at once.
    let cache: KeyCache
    let body: JSONBodyReader
    let access: AccessLog

    func addRoutes(to routes: Routes) {
        routes.get("/api/v1/admin/keys") { _, context in
            let tenant = try context.tenant(for: .manageKeys)
            let keys = try await keys.keys(tenant: tenant)
            var writer = JSONWriter(capacity: 256 * (keys.count + 1))
            writer.raw("{"); writer.key("data"); writer.raw("[")
            for (i, key) in keys.enumerated() {
                if i > 0 { writer.raw(",") }
                APIKeyJSON.write(key, text: nil, into: &writer)
            }
            writer.raw("]}")
            return Response.json(writer.bytes)
        }
        routes.post("/api/v1/admin/keys") { request, context in
            let caller = try context.principal(for: .manageKeys)
            let (role, name) = try Self.parse(try await body.read(request))
            let (key, text) = try await keys.createKey(tenant: caller.tenant, role: role, name: name)
            try await access.record(.apiKeyCreated, by: caller, request: request, context: context, status: 201,
                                    details: Self.details(key))
            var writer = JSONWriter(capacity: 512)
            APIKeyJSON.write(key, text: text, into: &writer)
            return Response.json(writer.bytes, status: .created)
        }
        routes.delete("/api/v1/admin/keys/{id}") { request, context in
            let caller = try context.principal(for: .manageKeys)
            let id = try context.pathParameter("id")
            guard let key = try await keys.revokeKey(tenant: caller.tenant, id: id) else {
                throw Problem(.notFound, "key-not-found", title: "No such key", detail: "Tenant \(caller.tenant) has no API key \(id).")
            }
            cache.forget(key.id)
            try await access.record(.apiKeyRevoked, by: caller, request: request, context: context, status: 200,
                                    details: Self.details(key))
            var writer = JSONWriter(capacity: 256)
            APIKeyJSON.write(key, text: nil, into: &writer)
            return Response.json(writer.bytes)
        }
    }

    /// `{"role": "writer|reader|auditor|admin", "name": "…"}`; the name is optional, nothing else is allowed.
    static func parse(_ bytes: ByteBuffer) throws -> (Role, String) {
        let value: JSONValue
        do { value = try JSONParser.parse(bytes.readableBytesView) } catch { throw Problem.badJSON(error) }
        guard let object = value.objectValue else {
            throw Problem.invalid(InvalidSubmission(errors: [FieldError(index: nil, path: "", message: "expected an object with role and name")]))
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
        case .string(let given)? where given.count <= APIKey.maximumNameLength: name = given
        default: errors.append(FieldError(index: nil, path: "name", message: "a string of at most \(APIKey.maximumNameLength) characters"))
        }
        guard errors.isEmpty, let role else { throw Problem.invalid(InvalidSubmission(errors: errors)) }
        return (role, name)
    }

    /// What the meta-audit event says of a key: never its text.
    static func details(_ key: APIKey) -> JSONObject {
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
