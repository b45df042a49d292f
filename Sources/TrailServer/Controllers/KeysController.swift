import Hummingbird
import TrailCore
import TrailService
import TrailStore

/// `/api/v1/admin/keys` (SPEC §7), for admins, in their own tenant: list (`GET`), create (`POST {"role", "name"}`,
/// → 201 with the key's text, shown this once) and revoke (`DELETE /api/v1/admin/keys/{id}`).
struct KeysController: Sendable {
    typealias Context = TrailRequestContext
    /// Forgets revoked keys at once (its cache is the authentication's).
    let keys: KeyManagement
    let body: JSONBodyReader
    let access: AccessLog

    func addRoutes(to routes: Routes) {
        routes.get("/api/v1/admin/keys") { _, context in
            let tenant = try context.tenant(for: .manageKeys)
            return Response.dataList(try await keys.list(tenant: tenant), bytesPerItem: 256) { key, writer in
                APIKeyJSON.write(key, text: nil, into: &writer)
            }
        }
        routes.post("/api/v1/admin/keys") { request, context in
            let caller = try context.principal(for: .manageKeys)
            let (role, name) = try await body.withBody(request) { try KeyManagement.creation(from: $0.readableBytesView) }
            let (key, text) = try await keys.create(tenant: caller.tenant, role: role, name: name)
            try await access.record(.apiKeyCreated, by: caller, request: request, context: context, status: 201,
                                    details: KeyManagement.details(key))
            var writer = JSONWriter(capacity: 512)
            APIKeyJSON.write(key, text: text, into: &writer)
            return Response.json(writer.bytes, status: .created)
        }
        routes.delete("/api/v1/admin/keys/{id}") { request, context in
            let caller = try context.principal(for: .manageKeys)
            let id = try context.pathParameter("id")
            let key = try await keys.revoke(tenant: caller.tenant, id: id)
            try await access.record(.apiKeyRevoked, by: caller, request: request, context: context, status: 200,
                                    details: KeyManagement.details(key))
            var writer = JSONWriter(capacity: 256)
            APIKeyJSON.write(key, text: nil, into: &writer)
            return Response.json(writer.bytes)
        }
    }
}
