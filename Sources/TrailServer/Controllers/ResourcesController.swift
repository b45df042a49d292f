import Hummingbird
import TrailCore
import TrailStore

/// The read side so far (SPEC §5): one event by id, a resource's history, a resource's state now, at a version,
/// or at a time.
struct ResourcesController: Sendable {
    typealias Context = TrailRequestContext
    let store: any TrailStorage

    /// Events per page of a history, unless `limit` says otherwise.
    static let historyLimit = 100

    func addRoutes(to routes: Routes) {
        routes.get("/api/v1/audit/logs/{id}") { _, context in
            let tenant = try context.tenant(for: .read)
            let id = try context.pathParameter("id")
            guard let event = try await store.event(tenant: tenant, id: id) else {
                throw Problem(.notFound, "event-not-found", title: "No such event", detail: "There is no event \(id).")
            }
            var writer = JSONWriter(capacity: 1024)
            StoredEventJSON.write(event, into: &writer)
            return Response.json(writer.bytes)
        }
        // Oldest first, a page at a time: a resource with a million versions is never one response.
        routes.get("/api/v1/resources/{type}/{id}/history", query: ["limit", "cursor"]) { request, context in
            let tenant = try context.tenant(for: .read)
            let (type, id) = (try context.pathParameter("type"), try context.pathParameter("id"))
            let page = try Page(request.uri.queryParameters, defaultLimit: Self.historyLimit, order: .oldestFirst)
            // As stored, JSON columns unparsed: a history is written out, never looked into.
            let events = try await store.eventColumns(
                tenant: tenant, matching: .history(resourceType: type, resourceId: id, after: page.cursor, limit: page.limit))
            var writer = JSONWriter(capacity: 256 + 1024 * events.count)
            writer.raw("{"); writer.key("data"); StoredEventJSON.writeArray(events, into: &writer)
            writer.raw(","); writer.key("next_cursor")
            Page.writeNextCursor(after: events.map(\.sequence), limit: page.limit, .oldestFirst, into: &writer)
            writer.raw("}")
            return Response.json(writer.bytes)
        }
        routes.get("/api/v1/resources/{type}/{id}", query: ["version", "at"]) { request, context in
            let tenant = try context.tenant(for: .read)
            let (type, id) = (try context.pathParameter("type"), try context.pathParameter("id"))
            let point = try Self.point(request.uri.queryParameters)
            guard let snapshot = try await store.snapshot(tenant: tenant, resourceType: type, resourceId: id, at: point) else {
                let when = switch point {
                case .latest: ""
                case .version(let version): " at version \(version)"
                case .time(let time): " at \(time.formatted())"
                }
                throw Problem(.notFound, "resource-not-found", title: "No such resource",
                              detail: "Trail has no \(type) \(id)\(when).")
            }
            var writer = JSONWriter(capacity: 512)
            writer.raw("{")
            writer.key("type"); writer.write(string: type)
            writer.raw(","); writer.key("id"); writer.write(string: id)
            writer.raw(","); writer.key("version"); writer.raw(String(snapshot.version))
            writer.raw(","); writer.key("deleted"); writer.raw(snapshot.state == nil && !snapshot.removed ? "true" : "false")
            if snapshot.removed { writer.raw(","); writer.key("removed"); writer.raw("true") }
            writer.raw(","); writer.key("state"); writer.write(snapshot.state.map(JSONValue.object) ?? .null)
            writer.raw(","); writer.key("event_id"); writer.write(string: snapshot.eventId)
            writer.raw(","); writer.key("as_of"); writer.write(timestamp: snapshot.asOf)
            writer.raw("}")
            return Response.json(writer.bytes)
        }
    }

    /// `?version=N` or `?at=RFC3339`, not both; neither is the current state.
    static func point(_ query: Parameters) throws -> SnapshotPoint {
        try point(version: query["version"].map(String.init), at: query["at"].map(String.init))
    }

    static func point(version: String?, at: String?) throws -> SnapshotPoint {
        switch (version, at) {
        case (nil, nil):
            return .latest
        case (let version?, nil):
            guard let number = Int64(version), number >= 1 else {
                throw Problem.badRequest("version must be a whole number from 1.", path: "version")
            }
            return .version(number)
        case (nil, let at?):
            guard let time = Timestamp(rfc3339: at) else {
                throw Problem.badRequest("at must be an RFC 3339 date-time, like 2026-02-16T11:31:39Z.", path: "at")
            }
            return .time(time)
        case (_?, _?):
            throw Problem.badRequest("Give version or at, not both.", path: "at")
        }
    }
}
