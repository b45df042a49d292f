import Hummingbird
import TrailCore
import TrailService
import TrailStore

/// Alert rules and fired alerts (SPEC §14), for admins, in their own tenant: `GET`/`POST /api/v1/alerts/rules`,
/// `GET`/`DELETE /api/v1/alerts/rules/{id}`, `GET /api/v1/alerts`. Creating and deleting a rule is an
/// `AUDIT_ADMIN` event; a fired alert is a `SECURITY` event.
struct AlertsController: Sendable {
    typealias Context = TrailRequestContext
    let rules: AlertRules
    let body: JSONBodyReader
    let origin: RequestOrigin

    func addRoutes(to routes: Routes) {
        routes.get("/api/v1/alerts/rules") { _, context in
            let tenant = try context.tenant(for: .manageStreams)
            let list = try await rules.list(tenant: tenant).map { $0.json(head: nil) }
            return LifecycleController.json(.object(JSONObject([.init(key: "data", value: .array(list))])))
        }
        routes.post("/api/v1/alerts/rules") { request, context in
            let principal = try context.principal(for: .manageStreams)
            let who = Operator(principal, requestContext: origin.context(of: request, in: context))
            let rule = try await body.withBody(request) { bytes in
                try await rules.create(body: bytes.readableBytesView, tenant: principal.tenant, by: who)
            }
            var response = LifecycleController.json(rule.json(head: nil), status: .created)
            response.headers[.location] = "/api/v1/alerts/rules/\(rule.id)"
            return response
        }
        routes.get("/api/v1/alerts/rules/{id}") { _, context in
            let tenant = try context.tenant(for: .manageStreams)
            return LifecycleController.json(try await rules.get(id: try context.pathParameter("id"), tenant: tenant).json(head: nil))
        }
        routes.delete("/api/v1/alerts/rules/{id}") { request, context in
            let principal = try context.principal(for: .manageStreams)
            let who = Operator(principal, requestContext: origin.context(of: request, in: context))
            try await rules.delete(id: try context.pathParameter("id"), tenant: principal.tenant, by: who)
            return Response(status: .noContent)
        }
        routes.get("/api/v1/alerts", query: ["limit"]) { request, context in
            let tenant = try context.tenant(for: .manageStreams)
            var limit = 100
            if let text = request.uri.queryParameters["limit"] {
                guard let value = Int(text), (1...1000).contains(value) else {
                    throw Problem.badRequest("limit must be a whole number from 1 to 1000.", path: "limit")
                }
                limit = value
            }
            let alerts = try await rules.alerts(tenant: tenant, limit: limit).map(\.json)
            return LifecycleController.json(.object(JSONObject([.init(key: "data", value: .array(alerts))])))
        }
    }
}
