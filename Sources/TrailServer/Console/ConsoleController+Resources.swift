import Foundation
import Hummingbird
import TrailCore
import TrailService
import TrailStore

/// The console's resource, actor and summary pages.
extension ConsoleController {
    /// Versions a resource's timeline shows a page at a time.
    static let timelineLimit = 100

    func addResourceRoutes(to pages: Routes) {
        pages.get("/ui/resources/{type}/{id}", query: ["version", "at", "from", "to", "cursor"]) { request, context in
            let tenant = try context.tenant(for: .read)
            let (type, id) = (try context.pathParameter("type"), try context.pathParameter("id"))
            let parameters = request.uri.queryParameters
            let selfHref = "/ui/resources/\(ConsoleFormat.segment(type))/\(ConsoleFormat.segment(id))"
            var view = View()
            view["type"] = type
            view["id"] = id
            view["selfHref"] = selfHref
            view["typeHref"] = "/ui/events" + ConsoleFormat.query([("resource_type", type)])

            // An empty field of the forms is no value; a time as `datetime-local` gives it is taken as UTC.
            func given(_ name: String) -> String? { parameters[Substring(name)].flatMap { $0.isEmpty ? nil : String($0) } }
            let point = try ResourcesController.point(version: given("version"), at: given("at").map(ConsoleFormat.rfc3339(fromLocal:)))
            view["version"] = parameters["version"].map(String.init)
            view["at"] = parameters["at"].map(String.init)
            view["stateLabel"] = switch point {
            case .latest: "now"
            case .version(let version): "at version \(version)"
            case .time(let time): "at \(ConsoleFormat.short(time)) UTC"
            }
            let snapshot = try await store.snapshot(tenant: tenant, resourceType: type, resourceId: id, at: point)
            if snapshot == nil, case .latest = point {
                throw Problem(.notFound, "resource-not-found", title: "No such resource", detail: "Trail has no \(type) \(id) in this tenant.")
            }
            if let snapshot {
                var state = View()
                state["version"] = String(snapshot.version)
                state["eventId"] = snapshot.eventId
                state["eventHref"] = "/ui/events/" + ConsoleFormat.segment(snapshot.eventId)
                state["asOf"] = snapshot.asOf.formatted()
                state["deleted"] = snapshot.state == nil && !snapshot.removed
                state["removed"] = snapshot.removed
                state["state"] = snapshot.state.map { ConsoleFormat.pretty(.object($0)) }
                view["snapshot"] = state
            } else {
                view["missing"] = "\(type) \(id) did not exist \(view["stateLabel"] as? String ?? "then")."
            }

            let from = parameters["from"].map(String.init), to = parameters["to"].map(String.init)
            view["from"] = from
            view["to"] = to
            if from?.isEmpty == false || to?.isEmpty == false {
                try await compare(type: type, id: id, tenant: tenant, from: from, to: to, into: &view)
            }

            let page = try Page(parameters, defaultLimit: Self.timelineLimit, order: .oldestFirst)
            let events = try await store.events(
                tenant: tenant, matching: .history(resourceType: type, resourceId: id, after: page.cursor, limit: page.limit))
            view["timeline"] = events.map(ConsoleFormat.row)
            if events.count == page.limit, let last = events.last {
                view["nextHref"] = selfHref + ConsoleFormat.query([("cursor", Page.encode(last.sequence, order: .oldestFirst))])
            }
            return renderer.page("resource", title: "\(type) \(id)", view: view, context: context)
        }
        pages.get("/ui/actors/{id}", query: ["days", "cursor"]) { request, context in
            let tenant = try context.tenant(for: .read)
            let actor = try context.pathParameter("id")
            let parameters = request.uri.queryParameters
            var query = try Self.query(parameters, defaultDays: 30)
            query.actorId = actor
            let summary = try await store.summary(tenant: tenant, matching: query)
            let events = try await store.events(tenant: tenant, matching: query)
            let days = Int64(parameters["days"].map(String.init) ?? "") ?? 30
            var view = Self.summaryView(summary, days: days, actorLinks: false)
            view["actorId"] = actor
            Self.table(events, limit: query.limit, next: "/ui/actors/" + ConsoleFormat.segment(actor),
                       pairs: [("days", parameters["days"].map(String.init))], into: &view)
            return renderer.page("actor", title: "Actor \(actor)", view: view, context: context)
        }
        pages.get("/ui/summary", query: ["days", "resource_type"]) { request, context in
            let tenant = try context.tenant(for: .read)
            let parameters = request.uri.queryParameters
            let query = try Self.query(parameters, defaultDays: 30)
            let summary = try await store.summary(tenant: tenant, matching: query)
            let days = Int64(parameters["days"].map(String.init) ?? "") ?? 30
            var view = Self.summaryView(summary, days: days, actorLinks: true)
            view["resourceType"] = query.resourceType
            return renderer.page("summary", title: "Summary", view: view, context: context, current: "/ui/summary")
        }
    }

    /// The fields that changed from version `from` to version `to` of a resource.
    private func compare(type: String, id: String, tenant: String, from: String?, to: String?, into view: inout View) async throws {
        guard let from = from.flatMap({ Int64($0) }), let to = to.flatMap({ Int64($0) }), from >= 1, to >= 1 else {
            view["diffMessage"] = "Give two versions, whole numbers from 1."
            return
        }
        let before = try await store.snapshot(tenant: tenant, resourceType: type, resourceId: id, at: .version(from))
        let after = try await store.snapshot(tenant: tenant, resourceType: type, resourceId: id, at: .version(to))
        guard let before, let after else {
            view["diffMessage"] = "\(type) \(id) has no version \(before == nil ? from : to)."
            return
        }
        guard !before.removed, !after.removed else {
            view["diffMessage"] = "Retention removed the state of version \(before.removed ? from : to): it cannot be compared."
            return
        }
        let changes = Diff.changes(from: before.state, to: after.state)
        var diff = View()
        diff["from"] = String(from)
        diff["to"] = String(to)
        diff["count"] = String(changes.count)
        diff["plural"] = changes.count == 1 ? "" : "s"
        diff["changes"] = ConsoleFormat.changes(changes)
        view["diff"] = diff
    }

    /// A summary's totals, its chart of events per day (every day of the period when it is at most a year) and
    /// its counts by action, resource type, actor and outcome, each linking to the events it counts.
    static func summaryView(_ summary: EventSummary, days: Int64, actorLinks: Bool, now: Timestamp = SystemClock.now()) -> View {
        var view = View()
        view["total"] = String(summary.total)
        view["plural"] = summary.total == 1 ? "" : "s"
        view["days"] = String(days)
        var byDay = summary.byDay
        if days <= 366 {
            let counts = Dictionary(summary.byDay, uniquingKeysWith: +)
            byDay = (0..<Int(days)).reversed().map { back in
                let day = Timestamp(microseconds: now.microseconds - Int64(back) * 86_400_000_000).day
                return (day, counts[day] ?? 0)
            }
        }
        view["chart"] = ConsoleChart.days(byDay, title: "Events per day, the last \(days) days")
        func facet(_ title: String, _ counts: [(String, Int)], link: (String) -> String?) -> View {
            var facet = View()
            facet["title"] = title
            let largest = max(counts.map(\.1).max() ?? 1, 1)
            facet["rows"] = counts.prefix(20).map { label, count -> View in
                var row = View()
                row["label"] = label
                row["count"] = String(count)
                row["width"] = String(max(1, 120 * count / largest))
                row["href"] = link(label)
                return row
            }
            return facet
        }
        let since = [("days", String(days))]
        view["facets"] = [
            facet("By action", summary.byAction) { "/ui/events" + ConsoleFormat.query([("action", $0)]) },
            facet("By resource type", summary.byResourceType) { "/ui/events" + ConsoleFormat.query([("resource_type", $0)]) },
            facet("By actor", summary.byActor) { actorLinks ? "/ui/actors/" + ConsoleFormat.segment($0) + ConsoleFormat.query(since) : nil },
            facet("By outcome", summary.byOutcome) { "/ui/events" + ConsoleFormat.query([("outcome", $0)]) },
        ]
        return view
    }
}
