public import TrailCore
public import TrailStore

/// What became of async submissions (SPEC §9), as their submitter may ask: always within one tenant.
public struct MessageStatus: Sendable {
    let store: any TrailStorage

    public init(store: any TrailStorage) {
        self.store = store
    }

    /// Message `id` of the tenant, with its events once it is completed (nil before); not found if there is no
    /// such message.
    public func message(tenant: String, id: String) async throws -> (message: QueuedMessage, records: [RecordedEvent]?) {
        guard let message = try await store.message(tenant: tenant, id: id) else {
            throw ServiceError(.notFound, "message-not-found", title: "No such message", detail: "There is no message \(id).")
        }
        return (message, message.status == .completed ? try await store.events(of: message) : nil)
    }

    /// The tenant's newest messages, of one status or any.
    public func messages(tenant: String, status: QueuedMessage.Status?, limit: Int) async throws -> [QueuedMessage] {
        try await store.messages(tenant: tenant, status: status, limit: limit)
    }
}
