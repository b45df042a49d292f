import PostgresNIO
import TrailCore

/// Reading PostgreSQL rows back into core values.
enum PostgresRows {
    static let eventColumns = """
        id::text, sequence, tenant, occurred_at, recorded_at, action, actor::text, resource_type, resource_id, \
        version, changes::text, summary, context::text, metadata::text, category, outcome, resource_name, \
        duration_ms, error
        """

    static func events(_ rows: PostgresRowSequence) async throws -> [RecordedEvent] {
        var events: [RecordedEvent] = []
        for try await row in rows {
            let cells = row.makeRandomAccess()
            events.append(RecordedEvent(
                id: try cells[0].decode(String.self), sequence: try cells[1].decode(Int64.self),
                tenant: try cells[2].decode(String.self),
                occurredAt: Timestamp(microseconds: try cells[3].decode(Int64.self)),
                recordedAt: Timestamp(microseconds: try cells[4].decode(Int64.self)),
                action: try cells[5].decode(String.self), actor: try StoredJSON.object(cells[6].decode(String?.self)),
                resourceType: try cells[7].decode(String?.self), resourceId: try cells[8].decode(String?.self),
                version: try cells[9].decode(Int64?.self),
                changes: try StoredJSON.object(cells[10].decode(String.self)) ?? JSONObject(),
                summary: try cells[11].decode(String.self),
                context: try StoredJSON.object(cells[12].decode(String?.self)),
                metadata: try StoredJSON.object(cells[13].decode(String?.self)),
                category: try cells[14].decode(String?.self),
                outcome: try StoredJSON.outcome(cells[15].decode(String.self)),
                resourceName: try cells[16].decode(String?.self), durationMs: try cells[17].decode(Int64?.self),
                error: try StoredJSON.object(cells[18].decode(String?.self))))
        }
        return events
    }

    /// Rows of `resource_type, resource_id, version, state::text, secret_digests::text`.
    static func heads(_ rows: PostgresRowSequence) async throws -> [(type: String, id: String, value: ResourceHead)] {
        var heads: [(type: String, id: String, value: ResourceHead)] = []
        for try await (type, id, version, state, digests) in rows.decode((String, String, Int64, String?, String?).self) {
            heads.append((type, id, ResourceHead(
                version: version, state: try StoredJSON.object(state), digests: try StoredJSON.digests(digests))))
        }
        return heads
    }
}
