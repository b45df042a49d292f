public import TrailCore
public import TrailStore

/// The keys a tenant marks personal (SPEC §11): string values under them are sealed per data subject from then
/// on, besides the installation's keys (`--personal-keys`). Setting them is an `AUDIT_ADMIN` event.
public struct PersonalDataSettings: Sendable {
    let store: any TrailStorage

    public init(store: any TrailStorage) {
        self.store = store
    }

    /// `{"keys": [the tenant's], "installation_keys": [the installation's]}`.
    public func json(tenant: String) async throws(StoreError) -> JSONValue {
        PersonalKeys.json(tenant: try await store.personalKeys(tenant: tenant), installation: store.installationPersonalKeys)
    }

    /// Replaces the tenant's keys with those of `body` (`{"keys": […]}`), and records it.
    public func set(body: some Collection<UInt8>, tenant: String, by who: Operator) async throws -> JSONValue {
        let value = try ServiceError.json(body)
        let keys: [String]
        do { keys = try PersonalKeys.parse(value) } catch { throw ServiceError.invalid(error) }
        try await store.setPersonalKeys(keys, tenant: tenant)
        try await AdminRecord(store: store).record(
            "personal_keys_set", tenant: tenant, by: who,
            summary: "\(who.id) marked \(keys.count) key\(keys.count == 1 ? "" : "s") personal.",
            metadata: JSONObject([.init(key: "keys", value: .array(keys.map(JSONValue.string)))]))
        return try await json(tenant: tenant)
    }
}
