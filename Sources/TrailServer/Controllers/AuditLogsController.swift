import Foundation
import Hummingbird
import Logging
import TrailCore
import TrailStore
import TrailService

/// `GET /api/v1/audit/logs` and `GET /api/v1/actors/{id}/activity` (SPEC §5): filtered event lists, newest
/// first, with keyset pagination.
struct AuditLogsController: Sendable {
    typealias Context = TrailRequestContext
    let store: any TrailStorage

    static var defaultLimit: Int { 50 }

    /// The filters of lists, summaries and exports (SPEC §5).
    static let filters = ["actor", "action", "resource_type", "resource_id", "category", "outcome", "since", "until",
                          "days", "q", "include_access"]
    /// A list's pages.
    static let pages = ["limit", "cursor"]

    func addRoutes(to routes: Routes) {
        routes.get("/api/v1/audit/logs", query: Self.filters + Self.pages) { request, context in
            try await list(try Self.query(request.uri.queryParameters), tenant: try context.tenant(for: .read))
        }
        routes.get("/api/v1/audit/logs/summary", query: Self.filters) { request, context in
            let tenant = try context.tenant(for: .read)
            // The list's filters; `days` defaults to 30.
            let parameters = request.uri.queryParameters
            let query = try Self.query(parameters, defaultDays: 30)
            let days = parameters["days"].flatMap { Int64(String($0)) } ?? 30
            let summary = try await store.summary(tenant: tenant, matching: query)
            return Response.json(AuditSummaryJSON.encode(summary, days: days))
        }
        routes.get("/api/v1/audit/logs/export", query: Self.filters + ["format"]) { request, context in
            try await export(request, tenant: try context.tenant(for: .read), logger: context.logger)
        }
        routes.get("/api/v1/actors/{id}/activity", query: Self.filters.filter { $0 != "actor" } + Self.pages) { request, context in
            let tenant = try context.tenant(for: .read)
            var query = try Self.query(request.uri.queryParameters)
            query.actorId = try context.pathParameter("id")
            return try await list(query, tenant: tenant)
        }
    }

    /// The list's filters, every matching event oldest first, streamed (see ``EventExport``).
    private func export(_ request: Request, tenant: String, logger: Logger) async throws -> Response {
        let parameters = request.uri.queryParameters
        let formatText = parameters["format"].map(String.init) ?? "json"
        guard let format = EventExport.Format(rawValue: formatText.lowercased()) else {
            throw Problem.badRequest("format must be csv, json or ndjson.", path: "format")
        }
        let export = try await EventExport(store: store, tenant: tenant, query: try Self.query(parameters), format: format)
        let body = ResponseBody { writer in
            try await export.run(logger: logger) { bytes in try await writer.write(ByteBuffer(bytes: bytes)) }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [
            .contentType: format.contentType,
            .contentDisposition: "attachment; filename=\"trail-export.\(format.rawValue)\"",
        ], body: body)
    }

    private func list(_ query: EventQuery, tenant: String) async throws -> Response {
        let events = try await store.events(tenant: tenant, matching: query)
        var writer = JSONWriter(capacity: 256 + 1024 * events.count)
        writer.raw("{"); writer.key("data"); StoredEventJSON.writeArray(events, into: &writer)
        writer.raw(","); writer.key("next_cursor"); Page.writeNextCursor(after: events.map(\.sequence), limit: query.limit, .newestFirst, into: &writer)
        writer.raw("}")
        return Response.json(writer.bytes)
    }

    /// The list's filters from the query string; a bad value is a 400 that names its parameter.
    static func query(_ parameters: Parameters, defaultDays: Int64? = nil, now: Timestamp = SystemClock.now()) throws -> EventQuery {
        try query(defaultDays: defaultDays, now: now) { parameters[Substring($0)].map(String.init) }
    }

    /// The list's filters from `value(name)` (the console's forms give them too).
    static func query(defaultDays: Int64? = nil, now: Timestamp = SystemClock.now(), _ value: (String) -> String?) throws -> EventQuery {
        func text(_ name: String) -> String? {
            value(name).flatMap { $0.isEmpty ? nil : $0 }
        }
        func time(_ name: String) throws -> Timestamp? {
            guard let value = text(name) else { return nil }
            guard let time = Timestamp(rfc3339: value) else {
                throw Problem.badRequest("\(name) must be an RFC 3339 date-time, like 2026-02-16T11:31:39Z.", path: name)
            }
            return time
        }
        var search: SearchQuery?
        if let q = text("q") {
            guard q.codePoints <= 1_000, let parsed = SearchQuery(q) else {
                throw Problem.badRequest("q must hold at least one word (letters or digits), in at most 1,000 characters.", path: "q")
            }
            search = parsed
        }
        var query = EventQuery(
            actorId: text("actor"), action: text("action").map(Verb.normalize), resourceType: text("resource_type"),
            resourceId: text("resource_id"), category: text("category"), since: try time("since"), until: try time("until"),
            search: search)
        if let include = text("include_access") {
            guard let value = Bool(include) else {
                throw Problem.badRequest("include_access must be true or false.", path: "include_access")
            }
            query.includesAccess = value
        }
        if let outcome = text("outcome") {
            let value = outcome.lowercased()
            guard ["success", "failure", "partial"].contains(value) else {
                throw Problem.badRequest("outcome must be success, failure or partial.", path: "outcome")
            }
            query.outcome = value
        }
        if let days = text("days") ?? defaultDays.map(String.init) {
            guard let count = Int64(days), (1...36_500).contains(count) else {
                throw Problem.badRequest("days must be a whole number from 1 to 36500.", path: "days")
            }
            let start = Timestamp(microseconds: now.microseconds - count * 86_400_000_000)
            query.since = max(query.since ?? start, start)
        }
        let page = try Page(defaultLimit: defaultLimit, order: .newestFirst, value)
        query.limit = page.limit
        query.beforeSequence = page.cursor
        return query
    }
}
