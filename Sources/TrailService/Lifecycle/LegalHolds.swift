import Foundation
public import TrailCore
public import TrailStore

/// Legal holds (SPEC §11): placed and released by admins, each time recorded in the tenant's log.
public struct LegalHolds: Sendable {
    let store: any TrailStorage
    let clock: @Sendable () -> Timestamp

    public init(store: any TrailStorage, clock: @escaping @Sendable () -> Timestamp = SystemClock.now) {
        self.store = store
        self.clock = clock
    }

    /// Places the hold `body` describes (`{"name", "reason", "match"}`).
    public func create(body: some Collection<UInt8>, tenant: String, by who: Operator) async throws -> LegalHold {
        let value = try ServiceError.json(body)
        let given: (name: String, reason: String, match: HoldMatch)
        do { given = try LegalHold.parse(value) } catch { throw ServiceError.invalid(error) }
        let hold = LegalHold(id: UUID().uuidString.lowercased(), tenant: tenant, name: given.name, reason: given.reason,
                             match: given.match, createdAt: clock(), createdBy: who.id)
        try await store.insertHold(hold)
        try await AdminRecord(store: store).record(
            "legal_hold_created", tenant: tenant, by: who,
            summary: "\(who.id) placed the legal hold \(hold.name).", metadata: Self.details(hold))
        return hold
    }

    public func list(tenant: String) async throws(StoreError) -> [LegalHold] {
        try await store.holds(tenant: tenant)
    }

    /// Releases a hold (404 when the tenant has none with this id; releasing a released hold changes nothing and
    /// records nothing).
    public func release(id: String, tenant: String, by who: Operator) async throws -> LegalHold {
        let now = clock()
        guard let hold = try await store.releaseHold(tenant: tenant, id: id, at: now, by: who.id) else {
            throw ServiceError.noSuchHold(id)
        }
        // Released earlier: the store kept that release.
        guard hold.releasedAt == now && hold.releasedBy == who.id else { return hold }
        try await AdminRecord(store: store).record(
            "legal_hold_released", tenant: tenant, by: who,
            summary: "\(who.id) released the legal hold \(hold.name).", metadata: Self.details(hold))
        return hold
    }

    static func details(_ hold: LegalHold) -> JSONObject {
        var details = JSONObject()
        details.append("hold_id", .string(hold.id))
        details.append("name", .string(hold.name))
        details.append("reason", .string(hold.reason))
        details.append("match", hold.match.json)
        return details
    }
}

extension ServiceError {
    static func noSuchHold(_ id: String) -> ServiceError {
        ServiceError(.notFound, "not-found", title: "Not found", detail: "There is no legal hold \(id) in this tenant.")
    }
}

extension LegalHold {
    /// `{"id", "name", "reason", "match", "created_at", "created_by", "released_at", "released_by", "active"}`.
    public var json: JSONValue {
        var object = JSONObject()
        object.append("id", .string(id))
        object.append("name", .string(name))
        object.append("reason", .string(reason))
        object.append("match", match.json)
        object.append("active", .bool(isActive))
        object.append("created_at", .string(createdAt.formatted()))
        object.append("created_by", .string(createdBy))
        object.append("released_at", releasedAt.map { .string($0.formatted()) } ?? .null)
        object.append("released_by", releasedBy.map(JSONValue.string) ?? .null)
        return .object(object)
    }
}
