import Hummingbird
import TrailCore
import TrailStore
import TrailService

/// The read endpoints of the Django audit trail Trail replaces (SPEC §5, compatibility): `GET /api/audit/logs/`
/// (`days`, `action`, `model` = resource type, `limit`), `/api/audit/logs/summary/` and
/// `/api/audit/logs/my_activity/` (a JWT's subject, or the actor named by `?actor=`). Lists are JSON
/// arrays of the Django trail's log objects, newest first, at most `limit` (default 100, at most 1000).
struct CompatibilityController: Sendable {
    typealias Context = TrailRequestContext
    let store: any TrailStorage

    /// The list's filters, `model` (the resource type) and `limit`.
    static let parameters = AuditLogsController.filters + ["model", "limit"]

    func addRoutes(to routes: Routes) {
        routes.get("/api/audit/logs", query: Self.parameters) { request, context in
            try await list(request.uri.queryParameters, actor: nil, tenant: try context.tenant(for: .read))
        }
        routes.get("/api/audit/logs/my_activity", query: Self.parameters) { request, context in
            let caller = try context.principal(for: .read)
            // A token's subject is a person: by default, theirs. An API key stands for an application acting for
            // many people: the actor is named.
            let named = request.uri.queryParameters["actor"].map(String.init).flatMap { $0.isEmpty ? nil : $0 }
            guard let actor = named ?? (caller.credential == .jwt ? caller.subject : nil) else {
                throw Problem.badRequest("Name the actor with ?actor= (an API key stands for an application, not for one actor).",
                                         path: "actor")
            }
            return try await list(request.uri.queryParameters, actor: actor, tenant: caller.tenant)
        }
        routes.get("/api/audit/logs/summary", query: Self.parameters.filter { $0 != "limit" }) { request, context in
            let tenant = try context.tenant(for: .read)
            let parameters = request.uri.queryParameters
            let query = try Self.query(parameters)
            let days = parameters["days"].flatMap { Int64(String($0)) } ?? 30
            return Response.json(AuditSummaryJSON.encode(try await store.summary(tenant: tenant, matching: query), days: days))
        }
    }

    /// The Django trail's filters on top of the list's: `model` is the resource type; `days` defaults to 30.
    static func query(_ parameters: Parameters) throws -> EventQuery {
        var query = try AuditLogsController.query(parameters, defaultDays: 30)
        if let model = parameters["model"].map(String.init), !model.isEmpty { query.resourceType = model }
        if parameters["limit"] == nil { query.limit = 100 }
        return query
    }

    private func list(_ parameters: Parameters, actor: String?, tenant: String) async throws -> Response {
        var query = try Self.query(parameters)
        if let actor { query.actorId = actor }
        let events = try await store.events(tenant: tenant, matching: query)
        var writer = JSONWriter(capacity: 256 + 512 * events.count)
        writer.raw("[")
        for (i, event) in events.enumerated() {
            if i > 0 { writer.raw(",") }
            Self.writeLog(event, into: &writer)
        }
        writer.raw("]")
        return Response.json(writer.bytes)
    }

    /// `{"id", "timestamp", "user_display": {"id", "username", "email"}, "action", "model_name", "object_id",
    /// "object_repr", "changes": {field: {"old", "new"}}, "ip_address"}`: the timestamp is the recorded time, the
    /// username the actor's `username` or else `name`, `object_repr` the resource id (Trail keeps no repr).
    static func writeLog(_ event: RecordedEvent, into writer: inout JSONWriter) {
        writer.raw("{")
        writer.key("id"); writer.write(string: event.id)
        writer.raw(","); writer.key("timestamp"); writer.write(timestamp: event.recordedAt)
        writer.raw(","); writer.key("user_display"); writer.raw("{")
        writer.key("id"); writer.write(event.actor?["id"] ?? .null)
        writer.raw(","); writer.key("username"); writer.write(event.actor?["username"] ?? event.actor?["name"] ?? .null)
        writer.raw(","); writer.key("email"); writer.write(event.actor?["email"] ?? .null)
        writer.raw("}")
        writer.raw(","); writer.key("action"); writer.write(string: event.action)
        writer.raw(","); writer.key("model_name"); writer.write(event.resourceType.map(JSONValue.string) ?? .null)
        writer.raw(","); writer.key("object_id"); writer.write(event.resourceId.map(JSONValue.string) ?? .null)
        writer.raw(","); writer.key("object_repr"); writer.write(event.resourceId.map(JSONValue.string) ?? .null)
        writer.raw(","); writer.key("changes"); writer.raw("{")
        var first = true
        for change in event.changes {
            guard case .array(let pair) = change.value, pair.count == 2 else { continue }
            if !first { writer.raw(",") }
            first = false
            writer.key(change.key); writer.raw("{")
            writer.key("old"); writer.write(pair[0])
            writer.raw(","); writer.key("new"); writer.write(pair[1])
            writer.raw("}")
        }
        writer.raw("}")
        writer.raw(","); writer.key("ip_address"); writer.write(event.context?["ip"] ?? .null)
        writer.raw("}")
    }
}
