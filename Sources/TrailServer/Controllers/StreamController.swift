import Foundation
import Hummingbird
import HTTPTypes
import Logging
import NIOCore
import ServiceLifecycle
import TrailCore
import TrailService
import TrailStore

/// `GET /api/v1/audit/stream` (SPEC §14): a tenant's events as they are recorded, as Server-Sent Events.
struct StreamController: Sendable {
    typealias Context = TrailRequestContext
    let live: LiveEvents

    /// The list's filters (but pages), and where to begin.
    static let parameters = AuditLogsController.filters + ["after"]

    func addRoutes(to routes: Routes) {
        routes.get("/api/v1/audit/stream", query: Self.parameters) { request, context in
            let tenant = try context.tenant(for: .read)
            let parameters = request.uri.queryParameters
            let query = try AuditLogsController.query(parameters)
            let after = try Self.start(lastEventID: request.headers[.lastEventID], after: parameters["after"].map(String.init))
            return Self.response(live: live, tenant: tenant, query: query, after: after, head: request.method == .head,
                                 logger: context.logger)
        }
    }

    /// The events of `tenant` matching `query` after sequence `after` (nil: from now), as Server-Sent Events
    /// until the client leaves, the server shuts down or the client falls too far behind; `head`: the headers
    /// alone. (The console's live tail is this stream too.)
    static func response(live: LiveEvents, tenant: String, query: EventQuery, after: Int64?, head: Bool, logger: Logger) -> Response {
        let headers: HTTPFields = [
            .contentType: "text/event-stream; charset=utf-8",
            .cacheControl: "no-cache",
            // Proxies such as nginx would otherwise hold events back in their buffers.
            .xAccelBuffering: "no",
        ]
        guard !head else { return Response(status: .ok, headers: headers) }
        let body = ResponseBody { writer in
            // A reconnecting EventSource waits this long first.
            try await writer.write(ByteBuffer(string: "retry: 2000\n: following the log of this tenant\n\n"))
            do {
                // Ends at graceful shutdown, which would otherwise wait for the stream.
                let end = try await withGracefulShutdownHandler {
                    try await live.follow(tenant: tenant, query: query, after: after) { events in
                        try await writer.write(Self.frames(events))
                    } idle: {
                        try await writer.write(ByteBuffer(string: ": heartbeat\n\n"))
                    }
                } onGracefulShutdown: {
                    live.close()
                }
                try await writer.write(Self.closing(end))
            } catch let error as StoreError {
                logger.warning("live tail ended", metadata: ["error": "\(error.message)"])
                try await writer.write(Self.closing(detail: "The log cannot be read now (\(error.code)); reconnect later with Last-Event-ID.", reason: "unavailable"))
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: headers, body: body)
    }

    /// Where the stream begins: after `Last-Event-ID` (an `EventSource` reconnecting), else after `?after=`, else
    /// now.
    static func start(lastEventID: String?, after: String?) throws -> Int64? {
        if let lastEventID, !lastEventID.isEmpty {
            guard let sequence = Int64(lastEventID.trimmingCharacters(in: .whitespaces)), sequence >= 0 else {
                throw Problem.badRequest("Last-Event-ID must be the id (sequence) of an event of this stream, a whole number.", path: "Last-Event-ID")
            }
            return sequence
        }
        guard let after, !after.isEmpty else { return nil }
        guard let sequence = Int64(after), sequence >= 0 else {
            throw Problem.badRequest("after must be the sequence of an event, a whole number from 0 (0: from the first event).", path: "after")
        }
        return sequence
    }

    /// The events' frames, in one buffer: one write.
    static func frames(_ events: [LiveEvent]) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(events.reduce(0) { $0 + $1.frame.count })
        for event in events { buffer.writeBytes(event.frame) }
        return buffer
    }

    static func closing(_ end: LiveEvents.End) -> ByteBuffer {
        switch end {
        case .shutdown:
            closing(detail: "The server is shutting down; reconnect with Last-Event-ID to resume.", reason: "shutdown")
        case .tooSlow:
            closing(detail: "This client fell too far behind the log; reconnect with Last-Event-ID to resume from the store.", reason: "too_slow")
        }
    }

    /// The last frame of a stream Trail ends: `event: close`, with why and what to do.
    static func closing(detail: String, reason: String) -> ByteBuffer {
        var writer = JSONWriter(capacity: 160)
        writer.raw("{"); writer.key("reason"); writer.write(string: reason)
        writer.raw(","); writer.key("detail"); writer.write(string: detail); writer.raw("}")
        var buffer = ByteBuffer(string: "event: close\ndata: ")
        buffer.writeBytes(writer.bytes)
        buffer.writeString("\n\n")
        return buffer
    }
}

extension HTTPField.Name {
    static let lastEventID = HTTPField.Name("Last-Event-ID")!
    static let xAccelBuffering = HTTPField.Name("X-Accel-Buffering")!
}
