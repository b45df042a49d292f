import Hummingbird
import HTTPTypes
import TrailCore
import TrailStore

/// `POST /audit/activity-stream/` (compatibility: a bare array of records) and
/// `POST /api/v1/audit/activity-stream/` (an envelope), SPEC §2.
struct ActivityStreamController<Context: RequestContext>: Sendable {
    let ingest: ActivityIngest
    let body: JSONBodyReader
    let gate: QueueGate

    func addRoutes(to router: Router<Context>) {
        router.post("/audit/activity-stream") { request, context in
            try await self.handle(request, context: context, envelope: false)
        }
        router.post("/api/v1/audit/activity-stream") { request, context in
            try await self.handle(request, context: context, envelope: true)
        }
    }

    func handle(_ request: Request, context: Context, envelope: Bool) async throws -> Response {
        let bytes = try await body.read(request)
        if Self.wantsAsync(request) {
            return try await handleAsync(bytes, request: request)
        }
        let result = try await ingest.ingest(body: bytes.readableBytesView,
                                             idempotencyKey: request.headers[.idempotencyKey])
        var writer = JSONWriter(capacity: 512 * max(result.events.count, 1))
        if envelope {
            writer.raw("{")
            writer.key("status"); writer.write(string: "success")
            writer.raw(","); writer.key("data"); ActivityRecord.writeArray(result.events, into: &writer)
            writer.raw(","); writer.key("metadata"); writer.raw("{")
            writer.key("processed_count"); writer.raw(String(result.events.count))
            writer.raw(","); writer.key("timestamp"); writer.write(string: result.recordedAt.formatted())
            writer.raw("}}")
        } else {
            ActivityRecord.writeArray(result.events, into: &writer)
        }
        return Response.json(writer.bytes, status: .created)
    }

    /// `Prefer: respond-async` (RFC 7240), or `?async=true`.
    static func wantsAsync(_ request: Request) -> Bool {
        if request.uri.queryParameters["async"].map({ $0 == "true" || $0 == "1" }) == true { return true }
        return request.headers[values: .prefer].contains { value in
            value.split(separator: ",").contains { $0.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased() == "respond-async" }
        }
    }

    /// Validates now, queues for a worker, answers 202 with the message to poll.
    func handleAsync(_ bytes: ByteBuffer, request: Request) async throws -> Response {
        let prepared = try ingest.prepare(body: bytes.readableBytesView, idempotencyKey: request.headers[.idempotencyKey])
        try await gate.check(ingest.store)
        let result = try await ingest.enqueue(prepared, body: bytes.readableBytesView)
        if !result.replayed {
            gate.queued()
            QueueMetrics.queued.increment()
        }
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

extension Response {
    static func json(_ bytes: [UInt8], status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"],
                 body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
