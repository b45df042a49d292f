import Hummingbird
import HTTPTypes
import TrailCore
import TrailService
import TrailStore

/// The ingest endpoints: `POST /audit/activity-stream/` (compatibility: a bare array of records) and
/// `POST /api/v1/audit/activity-stream/` (an envelope), SPEC §2; `POST /api/v1/audit/logs` (one generic event →
/// the stored event) and `POST /api/v1/audit/logs/batch` (`{"logs": [...]}` → `{"data": [...]}`), SPEC §3.
/// Each answers synchronously, or with `202` and a queued message under `Prefer: respond-async`.
struct IngestController: Sendable {
    typealias Context = TrailRequestContext
    let store: any TrailStorage
    let body: JSONBodyReader
    let gate: QueueGate
    let origin: RequestOrigin

    func addRoutes(to routes: Routes) {
        // `async=true` is `Prefer: respond-async` for clients that cannot set headers.
        routes.post("/audit/activity-stream", query: ["async"]) { request, context in
            try await self.handle(request, context: context, format: .activityStream) { result, writer in
                ActivityRecord.writeArray(result.events, into: &writer)
            }
        }
        routes.post("/api/v1/audit/activity-stream", query: ["async"]) { request, context in
            try await self.handle(request, context: context, format: .activityStream) { result, writer in
                writer.raw("{")
                writer.key("status"); writer.write(string: "success")
                writer.raw(","); writer.key("data"); ActivityRecord.writeArray(result.events, into: &writer)
                writer.raw(","); writer.key("metadata"); writer.raw("{")
                writer.key("processed_count"); writer.raw(String(result.events.count))
                writer.raw(","); writer.key("timestamp"); writer.write(timestamp: result.recordedAt)
                writer.raw("}}")
            }
        }
        routes.post("/api/v1/audit/logs", query: ["async"]) { request, context in
            try await self.handle(request, context: context, format: .auditEvent) { result, writer in
                // One event (a key's digest includes the endpoint, so a repeat answers the same one event).
                if let event = result.events.first { StoredEventJSON.write(event, into: &writer) } else { writer.raw("null") }
            }
        }
        routes.post("/api/v1/audit/logs/batch", query: ["async"]) { request, context in
            try await self.handle(request, context: context, format: .auditEventBatch) { result, writer in
                StoredEventJSON.writeList(result.events, into: &writer)
            }
        }
    }

    func handle(
        _ request: Request, context: Context, format: ActivityIngest.Format,
        respond: (AppendResult, inout JSONWriter) -> Void
    ) async throws -> Response {
        let ingest = ActivityIngest(store: store, tenant: try context.tenant(for: .ingest), gate: gate)
        let requestContext = origin.context(of: request, in: context)
        return try await body.withBody(request) { bytes in
            if Self.wantsAsync(request) {
                return try await handleAsync(bytes, request: request, format: format, requestContext: requestContext, ingest: ingest)
            }
            let result = try await ingest.ingest(body: bytes.readableBytesView, format: format,
                                                 idempotencyKey: request.headers[.idempotencyKey],
                                                 requestContext: requestContext)
            var writer = JSONWriter(capacity: 512 * max(result.events.count, 1))
            respond(result, &writer)
            return Response.json(writer.bytes, status: .created)
        }
    }

    /// `Prefer: respond-async` (RFC 7240), or `?async=true`.
    static func wantsAsync(_ request: Request) -> Bool {
        if request.uri.queryParameters["async"].map({ $0 == "true" || $0 == "1" }) == true { return true }
        return request.headers[values: .prefer].contains { value in
            value.split(separator: ",").contains { $0.split(separator: ";").first?.trimmingHeaderWhitespace.lowercased() == "respond-async" }
        }
    }

    /// Validates now, queues for a worker (unless the queue is full), answers 202 with the message to poll.
    func handleAsync(
        _ bytes: ByteBuffer, request: Request, format: ActivityIngest.Format, requestContext: JSONObject,
        ingest: ActivityIngest
    ) async throws -> Response {
        let result = try await ingest.enqueue(body: bytes.readableBytesView, format: format,
                                              idempotencyKey: request.headers[.idempotencyKey],
                                              requestContext: requestContext)
        var writer = JSONWriter(capacity: 128)
        writer.raw("{"); writer.key("message_id"); writer.write(string: result.message.id)
        writer.raw(","); writer.key("status"); writer.write(string: result.message.status.rawValue)
        writer.raw("}")
        var response = Response.json(writer.bytes, status: .accepted)
        response.headers[.location] = "/api/v1/messages/\(result.message.id)"
        response.headers[.preferenceApplied] = "respond-async"
        return response
    }
}

extension HTTPField.Name {
    static let idempotencyKey = HTTPField.Name("Idempotency-Key")!
    static let prefer = HTTPField.Name("Prefer")!
    static let preferenceApplied = HTTPField.Name("Preference-Applied")!
}
