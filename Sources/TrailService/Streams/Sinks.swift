import Foundation
public import TrailCore
public import TrailStore

/// Sinks (SPEC §14): created, listed and deleted by admins, each time recorded in the tenant's log
/// (`AUDIT_ADMIN`); delivered by ``LogFollowers``.
public struct Sinks: Sendable {
    let store: any TrailStorage
    let allowPrivate: Bool
    let clock: @Sendable () -> Timestamp

    public init(store: any TrailStorage, allowPrivate: Bool, clock: @escaping @Sendable () -> Timestamp = SystemClock.now) {
        self.store = store
        self.allowPrivate = allowPrivate
        self.clock = clock
    }

    /// Creates the sink `body` describes; its secrets are never answered again.
    public func create(body: some Collection<UInt8>, tenant: String, by who: Operator) async throws -> Follower {
        let definition: SinkDefinition
        do { definition = try SinkDefinition.parse(try ServiceError.json(body)) } catch let error as InvalidSubmission {
            throw ServiceError.invalid(error)
        }
        let path = if case .webhook = definition.target { "url" } else { "address" }
        do {
            try await SinkAddresses(allowPrivate: allowPrivate).check(host: definition.target.host)
        } catch {
            throw ServiceError.invalid(InvalidSubmission(errors: [FieldError(index: nil, path: path, message: error.message)]))
        }
        let head = try await store.chainHead(tenant: tenant).sequence
        let sink = Follower(
            id: UUID().uuidString.lowercased(), tenant: tenant, kind: .sink, name: definition.name,
            definition: definition.definition, secret: definition.secrets, cursor: min(definition.after ?? head, head),
            createdAt: clock(), createdBy: who.id)
        try await store.insertFollower(sink)
        try await AdminRecord(store: store).record(
            "sink_created", tenant: tenant, by: who, summary: "\(who.id) created the sink \(sink.name).",
            metadata: Self.details(sink))
        return sink
    }

    public func list(tenant: String) async throws(StoreError) -> [Follower] {
        try await store.followers(tenant: tenant, kind: .sink)
    }

    public func get(id: String, tenant: String) async throws -> Follower {
        guard let sink = try await store.follower(tenant: tenant, id: id), sink.kind == .sink else { throw ServiceError.noSuchSink(id) }
        return sink
    }

    public func delete(id: String, tenant: String, by who: Operator) async throws {
        let sink = try await get(id: id, tenant: tenant)
        guard try await store.deleteFollower(tenant: tenant, id: id) else { throw ServiceError.noSuchSink(id) }
        try await AdminRecord(store: store).record(
            "sink_deleted", tenant: tenant, by: who, summary: "\(who.id) deleted the sink \(sink.name).",
            metadata: Self.details(sink))
    }

    /// The tenant's last sequence, for a sink's lag.
    public func head(tenant: String) async throws(StoreError) -> Int64 {
        try await store.chainHead(tenant: tenant).sequence
    }

    static func details(_ sink: Follower) -> JSONObject {
        var details = JSONObject()
        details.append("sink_id", .string(sink.id))
        details.append("name", .string(sink.name))
        for member in sink.definition { details.append(member.key, member.value) }
        return details
    }
}

extension ServiceError {
    static func noSuchSink(_ id: String) -> ServiceError {
        ServiceError(.notFound, "not-found", title: "Not found", detail: "There is no sink \(id) in this tenant.")
    }
}

extension Follower {
    /// A sink or rule as the API shows it: its definition (never its secrets), where it is in the log and how it
    /// fares. `head`: the tenant's last sequence, for `lag`.
    public func json(head: Int64?) -> JSONValue {
        var object = JSONObject()
        object.append("id", .string(id))
        object.append("name", .string(name))
        for member in definition { object.append(member.key, member.value) }
        object.append("cursor", .number(JSONNumber(Int(cursor))))
        if let head { object.append("lag", .number(JSONNumber(Int(max(head - cursor, 0))))) }
        object.append(kind == .sink ? "delivered" : "counted", .number(JSONNumber(Int(handled))))
        object.append("last_success_at", lastSuccessAt.map { .string($0.formatted()) } ?? .null)
        object.append("last_error", lastError.map(JSONValue.string) ?? .null)
        object.append("last_error_at", lastErrorAt.map { .string($0.formatted()) } ?? .null)
        object.append("failures", .number(JSONNumber(failures)))
        object.append("retry_at", retryAt.map { .string($0.formatted()) } ?? .null)
        object.append("created_at", .string(createdAt.formatted()))
        object.append("created_by", .string(createdBy))
        return .object(object)
    }
}
