import Hummingbird
import HTTPTypes
import TrailCore
import TrailService
import TrailStore

/// `GET /api/v1/messages/{id}` and `GET /api/v1/messages?status=…` (SPEC §9): what became of async submissions.
struct MessagesController: Sendable {
    typealias Context = TrailRequestContext
    let store: any TrailStorage

    static var maximumLimit: Int { 1000 }

    func addRoutes(to routes: Routes) {
        routes.get("/api/v1/messages/{id}") { request, context in
            let tenant = try context.tenant(for: .messages)
            let id = try context.pathParameter("id")
            let (message, records) = try await MessageStatus(store: store).message(tenant: tenant, id: id)
            var writer = JSONWriter(capacity: 512 + 512 * (records?.count ?? 0))
            MessageJSON.write(message, records: records, into: &writer)
            return Response.json(writer.bytes)
        }
        routes.get("/api/v1/messages", query: ["status", "limit"]) { request, context in
            let tenant = try context.tenant(for: .messages)
            let query = request.uri.queryParameters
            var status: QueuedMessage.Status?
            if let text = query["status"].map(String.init) {
                guard let value = QueuedMessage.Status(rawValue: text) else {
                    throw Problem.badRequest(
                        "status must be one of \(QueuedMessage.Status.allCases.map(\.rawValue).joined(separator: ", ")).",
                        path: "status")
                }
                status = value
            }
            var limit = 100
            if let text = query["limit"].map(String.init) {
                guard let value = Int(text), (1...Self.maximumLimit).contains(value) else {
                    throw Problem.badRequest("limit must be a whole number from 1 to \(Self.maximumLimit).", path: "limit")
                }
                limit = value
            }
            let messages = try await MessageStatus(store: store).messages(tenant: tenant, status: status, limit: limit)
            return Response.dataList(messages, bytesPerItem: 256) { message, writer in
                MessageJSON.write(message, records: nil, into: &writer)
            }
        }
    }
}

/// The wire form of a queued message.
enum MessageJSON {
    /// - Parameter records: the events of a completed message, or nil to leave them out (lists, and messages not
    ///   completed). They are written as the synchronous endpoint would have: activity records for the activity
    ///   stream, stored events (SPEC §4) for generic audit events.
    static func write(_ message: QueuedMessage, records: [RecordedEvent]?, into writer: inout JSONWriter) {
        writer.raw("{")
        writer.key("message_id"); writer.write(string: message.id)
        writer.raw(","); writer.key("status"); writer.write(string: message.status.rawValue)
        writer.raw(","); writer.key("kind"); writer.write(string: message.kind)
        writer.raw(","); writer.key("attempts"); writer.raw(String(message.attempts))
        writer.raw(","); writer.key("error")
        if let error = message.error { writer.write(string: error) } else { writer.raw("null") }
        writer.raw(","); writer.key("created_at"); writer.write(timestamp: message.createdAt)
        writer.raw(","); writer.key("updated_at"); writer.write(timestamp: message.updatedAt)
        writer.raw(","); writer.key("processed_count"); writer.raw(String(message.eventCount))
        if let records {
            writer.raw(","); writer.key("records")
            if message.kind == ActivityIngest.Format.activityStream.rawValue {
                ActivityRecord.writeArray(records, into: &writer)
            } else {
                StoredEventJSON.writeArray(records, into: &writer)
            }
        }
        writer.raw("}")
    }
}
