import Hummingbird
import HTTPTypes
import TrailCore
import TrailStore

/// `POST /audit/activity-stream/` (compatibility: a bare array of records) and
/// `POST /api/v1/audit/activity-stream/` (an envelope), SPEC §2.
struct ActivityStreamController<Context: RequestContext>: Sendable {
    let ingest: ActivityIngest
    let body: JSONBodyReader

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
}

extension HTTPField.Name {
    static let idempotencyKey = HTTPField.Name("Idempotency-Key")!
}

extension Response {
    static func json(_ bytes: [UInt8], status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"],
                 body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
