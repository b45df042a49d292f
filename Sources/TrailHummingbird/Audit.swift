public import TrailClient

/// Records what an application does, attributed to the request being served (``AuditContext/current``):
/// `audit.change(type:id:before:after:)` sends the fields that changed between two `Encodable` values,
/// `audit.record(…)` any event. Sends through a ``TrailEventBuffer`` (in the background, the usual choice in a
/// server) or a ``TrailClient`` (each call waits for Trail).
public struct Audit: Sendable {
    enum Sink: Sendable {
        case buffer(TrailEventBuffer)
        case client(TrailClient)
    }

    let sink: Sink

    public init(buffer: TrailEventBuffer) { sink = .buffer(buffer) }
    public init(client: TrailClient) { sink = .client(client) }

    /// Records the change of a resource from `before` to `after` — created when `before` is nil, deleted when
    /// `after` is nil, updated otherwise — with the fields that changed; an update that changed nothing is not
    /// recorded. Returns whether an event was sent (or buffered).
    @discardableResult
    public func change<T: Encodable & Sendable>(type: String, id: String, before: T?, after: T?, name: String? = nil,
                                                metadata: [String: TrailJSON]? = nil) async throws -> Bool {
        let changes = try FieldChange.between(before, after)
        let action = before == nil ? "created" : after == nil ? "deleted" : "updated"
        guard !changes.isEmpty || action != "updated" else { return false }
        return try await record(AuditEvent(action: action, resource: ResourceReference(type: type, id: id, name: name),
                                           changes: changes, metadata: metadata))
    }

    /// Records `event`, with the request's actor and context where the event names none.
    @discardableResult
    public func record(_ event: AuditEvent) async throws -> Bool {
        var event = event
        if let current = AuditContext.current {
            if event.actor == nil { event.actor = current.actor }
            event.context = current.json.merging(event.context ?? [:]) { _, given in given }
        }
        switch sink {
        case .buffer(let buffer):
            return buffer.enqueue(event)
        case .client(let client):
            try await client.record(event)
            return true
        }
    }
}
