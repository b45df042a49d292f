import TrailCore

/// The stored text of JSON columns, the same in every store: Trail's own encoding, which keeps key order
/// (SPEC §2.3), read back with Trail's strict parser.
enum StoredJSON {
    static func object(_ text: String?) throws(StoreError) -> JSONObject? {
        guard let text else { return nil }
        let value: JSONValue
        do {
            value = try JSONParser.parse(text)
        } catch {
            throw StoreError(.corrupt, "a stored JSON column cannot be read: \(error)")
        }
        guard case .object(let object) = value else {
            throw StoreError(.corrupt, "a stored JSON column holds something other than an object")
        }
        return object
    }

    static func outcome(_ text: String) throws(StoreError) -> Outcome {
        guard let outcome = Outcome(rawValue: text) else {
            throw StoreError(.corrupt, "a stored outcome is not success, failure or partial: \(text)")
        }
        return outcome
    }

    static func digests(_ text: String?) throws(StoreError) -> Redactor.Digests {
        guard let object = try object(text) else { return [:] }
        var result: Redactor.Digests = [:]
        for member in object {
            guard case .string(let digest) = member.value else {
                throw StoreError(.corrupt, "a stored digest is not a string")
            }
            result[member.key] = digest
        }
        return result
    }

    static func text(_ object: JSONObject?) -> String? {
        object.map { JSONWriter.string($0) }
    }

    static func text(_ digests: Redactor.Digests) -> String? {
        guard !digests.isEmpty else { return nil }
        return JSONWriter.string(JSONObject(digests.sorted { $0.key < $1.key }.map { .init(key: $0.key, value: .string($0.value)) }))
    }
}

extension RecordedEvent {
    /// The event whose stored columns these are.
    init(_ columns: StoredEventColumns) throws(StoreError) {
        self.init(
            id: columns.id, sequence: columns.sequence, tenant: columns.tenant, occurredAt: columns.occurredAt,
            recordedAt: columns.recordedAt, action: columns.action, actor: try StoredJSON.object(columns.actor),
            resourceType: columns.resourceType, resourceId: columns.resourceId, version: columns.version,
            changes: try StoredJSON.object(columns.changes) ?? JSONObject(), summary: columns.summary,
            context: try StoredJSON.object(columns.context), metadata: try StoredJSON.object(columns.metadata),
            category: columns.category, outcome: try StoredJSON.outcome(columns.outcome),
            resourceName: columns.resourceName, durationMs: columns.durationMs,
            error: try StoredJSON.object(columns.error), prevHash: columns.prevHash, hash: columns.hash,
            removedAt: columns.removedAt, erasedAt: columns.erasedAt)
    }
}
