import PostgresNIO
import TrailCore

/// Reading PostgreSQL rows back into core values.
enum PostgresRows {
    static let eventColumns = """
        id::text, sequence, tenant, occurred_at, recorded_at, action, actor::text, resource_type, resource_id, \
        version, changes::text, summary, context::text, metadata::text, category, outcome, resource_name, \
        duration_ms, error, prev_hash, hash, removed_at, erased_at
        """

    static func events(_ rows: PostgresRowSequence) async throws -> [RecordedEvent] {
        try await columns(rows).map { columns throws(StoreError) in try RecordedEvent(columns) }
    }

    /// Rows of ``eventColumns`` as they are stored, JSON as text.
    static func columns(_ rows: PostgresRowSequence) async throws -> [StoredEventColumns] {
        var columns: [StoredEventColumns] = []
        for try await row in rows {
            let cells = row.makeRandomAccess()
            columns.append(StoredEventColumns(
                id: try cells[0].decode(String.self), sequence: try cells[1].decode(Int64.self),
                tenant: try cells[2].decode(String.self),
                occurredAt: Timestamp(microseconds: try cells[3].decode(Int64.self)),
                recordedAt: Timestamp(microseconds: try cells[4].decode(Int64.self)),
                action: try cells[5].decode(String.self), category: try cells[14].decode(String?.self),
                outcome: try cells[15].decode(String.self), actor: try cells[6].decode(String?.self),
                resourceType: try cells[7].decode(String?.self), resourceId: try cells[8].decode(String?.self),
                resourceName: try cells[16].decode(String?.self), version: try cells[9].decode(Int64?.self),
                changes: try cells[10].decode(String.self), summary: try cells[11].decode(String.self),
                context: try cells[12].decode(String?.self), metadata: try cells[13].decode(String?.self),
                durationMs: try cells[17].decode(Int64?.self), error: try cells[18].decode(String?.self),
                prevHash: try cells[19].decode(ByteBuffer?.self).map { Array(buffer: $0) } ?? [],
                hash: try cells[20].decode(ByteBuffer?.self).map { Array(buffer: $0) } ?? [],
                // (Migration 0008 reads the 21 columns events had then.)
                removedAt: cells.count > 21 ? try cells[21].decode(Int64?.self).map(Timestamp.init(microseconds:)) : nil,
                erasedAt: cells.count > 22 ? try cells[22].decode(Int64?.self).map(Timestamp.init(microseconds:)) : nil))
        }
        return columns
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
