import Foundation
import Hummingbird
import TrailCore
import TrailService
import TrailStore

/// The console's pages for admins: API keys, and the data lifecycle (retention rules, a cleanup's preview,
/// legal holds). Each change goes through the same use case as the API's and is recorded the same way.
extension ConsoleController {
    func addAdminRoutes(to pages: Routes) {
        let keys = KeyManagement(keys: store, cache: self.keys)
        pages.get("/ui/admin/keys") { _, context in
            try await keysPage(keys, context: context)
        }
        pages.post("/ui/admin/keys") { request, context in
            let caller = try context.principal(for: .manageKeys)
            let form = try await ConsoleForm.read(request)
            try form.checkOrigin(request, expected: renderer.formToken(context))
            var body = JSONObject()
            body.append("role", .string(form["role"] ?? ""))
            body.append("name", .string(form["name"] ?? ""))
            let role: Role, name: String
            do {
                (role, name) = try KeyManagement.creation(from: JSONWriter.encode(.object(body)))
            } catch {
                return try await keysPage(keys, context: context, message: Self.explain(error), status: .unprocessableContent)
            }
            let (key, text) = try await keys.create(tenant: caller.tenant, role: role, name: name)
            try await access.record(.apiKeyCreated, by: caller, request: request, context: context, status: 201,
                                    details: KeyManagement.details(key))
            var created = View()
            created["id"] = key.id
            created["role"] = key.role.rawValue
            created["text"] = text
            return try await keysPage(keys, context: context, created: created, status: .created)
        }
        pages.post("/ui/admin/keys/{id}/revoke") { request, context in
            let caller = try context.principal(for: .manageKeys)
            try await ConsoleForm.read(request).checkOrigin(request, expected: renderer.formToken(context))
            let key = try await keys.revoke(tenant: caller.tenant, id: try context.pathParameter("id"))
            try await access.record(.apiKeyRevoked, by: caller, request: request, context: context, status: 303,
                                    details: KeyManagement.details(key))
            return ConsoleRenderer.redirect(to: "/ui/admin/keys")
        }
        addDataRoutes(to: pages)
    }

    private func keysPage(_ keys: KeyManagement, context: Context, created: View? = nil, message: String? = nil,
                          status: HTTPResponse.Status = .ok) async throws -> Response {
        let tenant = try context.tenant(for: .manageKeys)
        var view = View()
        view["formToken"] = renderer.formToken(context)
        view["created"] = created
        view["message"] = message
        view["roles"] = [Role.reader, .auditor, .writer, .admin].map(\.rawValue)
        view["keys"] = try await keys.list(tenant: tenant).map { key -> View in
            var row = View()
            row["id"] = key.id
            row["name"] = key.name
            row["role"] = key.role.rawValue
            row["created"] = ConsoleFormat.short(key.createdAt)
            row["revoked"] = key.revokedAt.map(ConsoleFormat.short)
            row["revokeHref"] = "/ui/admin/keys/\(ConsoleFormat.segment(key.id))/revoke"
            return row
        }
        return renderer.page("keys", title: "API keys", view: view, context: context, current: "/ui/admin/keys", status: status)
    }

    private func addDataRoutes(to pages: Routes) {
        let retention = Retention(store: store, minimumDays: minimumRetentionDays)
        let holds = LegalHolds(store: store)
        pages.get("/ui/admin/data") { _, context in
            try await dataPage(retention, holds, context: context)
        }
        pages.post("/ui/admin/retention/add") { request, context in
            let (who, form) = try await adminForm(request, context)
            let policy = try await retention.policy(tenant: who.tenant)
            var rule = JSONObject()
            rule.append("resource_type", .string(form["resource_type"] ?? ""))
            if let category = form["category"], !category.isEmpty { rule.append("category", .string(category)) }
            let days = form["keep_days"] ?? ""
            rule.append("keep_days", JSONNumber(literal: days).map(JSONValue.number) ?? .string(days))
            return try await changePolicy(retention, holds, rules: (policy.json.objectValue?["rules"]?.arrayValue ?? []) + [.object(rule)],
                                          who: who, context: context)
        }
        pages.post("/ui/admin/retention/remove") { request, context in
            let (who, form) = try await adminForm(request, context)
            var rules = try await retention.policy(tenant: who.tenant).json.objectValue?["rules"]?.arrayValue ?? []
            guard let index = form["index"].flatMap(Int.init), rules.indices.contains(index) else {
                throw Problem.badRequest("index must name one of the rules shown.", path: "index")
            }
            rules.remove(at: index)
            return try await changePolicy(retention, holds, rules: rules, who: who, context: context)
        }
        pages.post("/ui/admin/retention/preview") { request, context in
            let (who, _) = try await adminForm(request, context)
            let report = try await retention.run(tenant: who.tenant, dryRun: true, by: who.operator)
            return try await dataPage(retention, holds, context: context, preview: ConsoleFormat.pretty(report.json))
        }
        pages.post("/ui/admin/holds") { request, context in
            let (who, form) = try await adminForm(request, context)
            var match = JSONObject()
            for name in ["resource_type", "resource_id", "actor", "since", "until"] {
                guard let value = form[name], !value.isEmpty else { continue }
                match.append(name, .string(name == "since" || name == "until" ? ConsoleFormat.rfc3339(fromLocal: value) : value))
            }
            var body = JSONObject()
            body.append("name", .string(form["name"] ?? ""))
            body.append("reason", .string(form["reason"] ?? ""))
            body.append("match", .object(match))
            do {
                _ = try await holds.create(body: JSONWriter.encode(.object(body)), tenant: who.tenant, by: who.operator)
            } catch let error as ServiceError where error.kind == .invalid {
                return try await dataPage(retention, holds, context: context, message: Self.explain(error), status: .unprocessableContent)
            }
            return ConsoleRenderer.redirect(to: "/ui/admin/data")
        }
        pages.post("/ui/admin/holds/{id}/release") { request, context in
            let (who, _) = try await adminForm(request, context)
            _ = try await holds.release(id: try context.pathParameter("id"), tenant: who.tenant, by: who.operator)
            return ConsoleRenderer.redirect(to: "/ui/admin/data")
        }
    }

    /// The caller, allowed to manage data, and its form (checked for its token).
    private func adminForm(_ request: Request, _ context: Context) async throws -> (who: (tenant: String, operator: Operator), form: ConsoleForm) {
        let principal = try context.principal(for: .manageData)
        let form = try await ConsoleForm.read(request)
        try form.checkOrigin(request, expected: renderer.formToken(context))
        return ((principal.tenant, Operator(principal, requestContext: access.origin.context(of: request, in: context))), form)
    }

    /// Sets the tenant's retention rules to `rules` (checked as the API checks them); a refusal is shown on the page.
    private func changePolicy(_ retention: Retention, _ holds: LegalHolds, rules: [JSONValue],
                              who: (tenant: String, operator: Operator), context: Context) async throws -> Response {
        let body = JSONWriter.encode(.object(JSONObject([.init(key: "rules", value: .array(rules))])))
        do {
            _ = try await retention.setPolicy(body: body, tenant: who.tenant, by: who.operator)
        } catch let error as ServiceError where error.kind == .invalid {
            return try await dataPage(retention, holds, context: context, message: Self.explain(error), status: .unprocessableContent)
        }
        return ConsoleRenderer.redirect(to: "/ui/admin/data")
    }

    private func dataPage(_ retention: Retention, _ holds: LegalHolds, context: Context, message: String? = nil,
                          preview: String? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        let tenant = try context.tenant(for: .manageData)
        var view = View()
        view["formToken"] = renderer.formToken(context)
        view["message"] = message
        view["preview"] = preview
        let rules = try await retention.policy(tenant: tenant).rules
        view["hasRules"] = !rules.isEmpty
        view["rules"] = rules.enumerated().map { index, rule -> View in
            var row = View()
            row["index"] = String(index)
            row["resourceType"] = rule.resourceType
            row["category"] = rule.category ?? "any"
            row["days"] = RetentionPolicy.format(rule.keepDays)
            return row
        }
        let held = try await holds.list(tenant: tenant)
        view["hasHolds"] = !held.isEmpty
        view["holds"] = held.map { hold -> View in
            var row = View()
            row["name"] = hold.name
            row["reason"] = hold.reason
            row["match"] = JSONWriter.string(hold.match.json)
            row["created"] = ConsoleFormat.short(hold.createdAt)
            row["released"] = hold.releasedAt.map(ConsoleFormat.short)
            row["releaseHref"] = "/ui/admin/holds/\(ConsoleFormat.segment(hold.id))/release"
            return row
        }
        return renderer.page("data", title: "Data lifecycle", view: view, context: context, current: "/ui/admin/data", status: status)
    }

    /// A refusal of a use case as one line: its detail and each field's error.
    static func explain(_ error: any Error) -> String {
        let problem = (error as? ServiceError).map(Problem.init) ?? Problem.internal
        return ([problem.detail] + problem.errors.map { "\($0.path.isEmpty ? "" : $0.path + ": ")\($0.message)" }).joined(separator: " ")
    }
}
