import Hummingbird
import TrailCore
import TrailService
import TrailStore

/// Sinks (SPEC §14), for admins, in their own tenant: `GET`/`POST /api/v1/sinks`, `GET`/`DELETE
/// /api/v1/sinks/{id}`. Creating and deleting one is an `AUDIT_ADMIN` event of the tenant.
struct SinksController: Sendable {
    typealias Context = TrailRequestContext
    let sinks: Sinks
    let body: JSONBodyReader
    let origin: RequestOrigin

    func addRoutes(to routes: Routes) {
        routes.get("/api/v1/sinks") { _, context in
            let tenant = try context.tenant(for: .manageStreams)
            let head = try await sinks.head(tenant: tenant)
            let list = try await sinks.list(tenant: tenant).map { $0.json(head: head) }
            return LifecycleController.json(.object(JSONObject([.init(key: "data", value: .array(list))])))
        }
        routes.post("/api/v1/sinks") { request, context in
            let who = try self.who(request, context)
            let sink = try await body.withBody(request) { bytes in
                try await sinks.create(body: bytes.readableBytesView, tenant: who.tenant, by: who.operator)
            }
            var response = LifecycleController.json(sink.json(head: try await sinks.head(tenant: who.tenant)), status: .created)
            response.headers[.location] = "/api/v1/sinks/\(sink.id)"
            return response
        }
        routes.get("/api/v1/sinks/{id}") { _, context in
            let tenant = try context.tenant(for: .manageStreams)
            let sink = try await sinks.get(id: try context.pathParameter("id"), tenant: tenant)
            return LifecycleController.json(sink.json(head: try await sinks.head(tenant: tenant)))
        }
        routes.delete("/api/v1/sinks/{id}") { request, context in
            let who = try self.who(request, context)
            try await sinks.delete(id: try context.pathParameter("id"), tenant: who.tenant, by: who.operator)
            return Response(status: .noContent)
        }
    }

    /// The caller, allowed to manage streams, as the admin records name them.
    func who(_ request: Request, _ context: Context) throws -> (tenant: String, operator: Operator) {
        let principal = try context.principal(for: .manageStreams)
        return (principal.tenant, Operator(principal, requestContext: origin.context(of: request, in: context)))
    }
}
