import Foundation
import Hummingbird
import TrailCore
import TrailService
import TrailStore

/// The console's pages of the log: the event list, an event, its inclusion proof, a resource, an actor, the
/// summary. Each reads the store as the API's route of the same name does.
extension ConsoleController {
    /// The event list's filters (the API's, but `days`; times as a `datetime-local` field gives them, in UTC).
    static let listFilters = ["q", "actor", "action", "resource_type", "resource_id", "category", "outcome", "since",
                              "until", "include_access"]

    func addReadRoutes(to pages: Routes) {
        pages.get("/ui/events", query: Self.listFilters + ["cursor"]) { request, context in
            let tenant = try context.tenant(for: .read)
            let parameters = request.uri.queryParameters
            let query = try Self.query(parameters)
            let events = try await store.events(tenant: tenant, matching: query)
            var view = View()
            var filters = View()
            for name in Self.listFilters { filters[name] = parameters[Substring(name)].map(String.init) }
            view["filters"] = filters
            let outcome = parameters["outcome"].map(String.init) ?? ""
            view["outcomes"] = ["", "success", "failure", "partial"].map { value -> View in
                var option = View()
                option["value"] = value
                option["label"] = value.isEmpty ? "any" : value
                option["selected"] = value == outcome
                return option
            }
            let pairs = Self.listFilters.map { ($0, parameters[Substring($0)].map(String.init)) }
            Self.table(events, limit: query.limit, next: "/ui/events", pairs: pairs, into: &view)
            return renderer.page("events", title: "Events", view: view, context: context, current: "/ui/events")
        }
        pages.get("/ui/events/{id}") { _, context in
            let tenant = try context.tenant(for: .read)
            let id = try context.pathParameter("id")
            guard let event = try await store.event(tenant: tenant, id: id) else {
                throw Problem(.notFound, "event-not-found", title: "No such event", detail: "There is no event \(id) in this tenant.")
            }
            var view = View()
            view["event"] = ConsoleFormat.row(event)
            let changes = ConsoleFormat.changes(of: event)
            view["hasChanges"] = !changes.isEmpty
            view["changes"] = ConsoleFormat.changes(changes)
            view["context"] = event.context.map { ConsoleFormat.pretty(.object($0)) }
            view["metadata"] = event.metadata.map { ConsoleFormat.pretty(.object($0)) }
            view["error"] = event.error.map { ConsoleFormat.pretty(.object($0)) }
            if let actor = event.actor, actor.count > 1 { view["actorJSON"] = ConsoleFormat.pretty(.object(actor)) }
            view["proofHref"] = "/ui/events/\(ConsoleFormat.segment(id))/proof"
            return renderer.page("event", title: event.summary.isEmpty ? event.action : event.summary, view: view, context: context)
        }
        pages.get("/ui/events/{id}/proof") { _, context in
            let tenant = try context.tenant(for: .read)
            let id = try context.pathParameter("id")
            var view = View()
            view["eventId"] = id
            view["eventHref"] = "/ui/events/" + ConsoleFormat.segment(id)
            do {
                let answer = try await IntegrityProofs(store: store, tenant: tenant).inclusion(eventID: id, size: nil)
                var proof = View()
                proof["sequence"] = String(answer.event.sequence)
                proof["leafIndex"] = String(answer.event.sequence - 1)
                proof["treeSize"] = String(answer.treeSize)
                proof["hash"] = EventHash.hex(answer.event.hash)
                proof["leafHash"] = EventHash.hex(MerkleTree.leafHash(answer.event.hash))
                proof["root"] = EventHash.hex(answer.root)
                proof["path"] = answer.proof.map(EventHash.hex)
                proof["pathCount"] = String(answer.proof.count)
                proof["checkpoint"] = answer.checkpoint.map(Self.checkpoint)
                view["proof"] = proof
            } catch let error as ServiceError where error.kind == .notFound || error.kind == .badRequest {
                view["message"] = error.detail
            }
            return renderer.page("proof", title: "Inclusion proof", view: view, context: context)
        }
        addResourceRoutes(to: pages)
    }

    /// The event list's query; `since` and `until` as `datetime-local` gives them are taken as UTC.
    static func query(_ parameters: Parameters, defaultDays: Int64? = nil) throws -> EventQuery {
        try AuditLogsController.query(defaultDays: defaultDays) { name in
            let value = parameters[Substring(name)].map(String.init)
            return name == "since" || name == "until" ? value.map(ConsoleFormat.rfc3339(fromLocal:)) : value
        }
    }

    /// The events' table and, after a full page, the link to the next one (`next` with `pairs` and the cursor).
    static func table(_ events: [RecordedEvent], limit: Int, next: String, pairs: [(String, String?)], into view: inout View) {
        view["hasEvents"] = !events.isEmpty
        view["events"] = events.map(ConsoleFormat.row)
        if events.count == limit, let last = events.last {
            view["nextHref"] = next + ConsoleFormat.query(pairs + [("cursor", Page.encode(last.sequence, order: .newestFirst))])
        }
    }

    static func checkpoint(_ checkpoint: Checkpoint) -> View {
        var view = View()
        view["size"] = String(checkpoint.size)
        view["time"] = checkpoint.time.formatted()
        view["root"] = EventHash.hex(checkpoint.root)
        view["keyId"] = checkpoint.keyId
        view["signature"] = Data(checkpoint.signature).base64EncodedString()
        return view
    }
}
