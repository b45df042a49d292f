/// The stored event as every read returns it (SPEC §4): `{"id", "sequence", "tenant", "occurred_at",
/// "recorded_at", "action", "category", "outcome", "actor", "resource": {"type", "id", "name"}, "version",
/// "changes", "summary", "context", "metadata", "duration_ms", "error", "prev_hash", "hash"}`; absent values are `null`; the hashes in lower-case hex
/// (SPEC §8, ``EventHash``).
///
/// Activity-stream events have no category, resource name, duration or error, and always succeed.
public enum StoredEventJSON {
    public static func write(_ event: RecordedEvent, into writer: inout JSONWriter) {
        write(StoredEventColumns(event), into: &writer)
    }

    public static func write(_ event: StoredEventColumns, into writer: inout JSONWriter) {
        writer.raw("{")
        writer.key("id"); writer.write(string: event.id)
        writer.raw(","); writer.key("sequence"); writer.raw(String(event.sequence))
        writer.raw(","); writer.key("tenant"); writer.write(string: event.tenant)
        writer.raw(","); writer.key("occurred_at"); writer.write(string: event.occurredAt.formatted())
        writer.raw(","); writer.key("recorded_at"); writer.write(string: event.recordedAt.formatted())
        writer.raw(","); writer.key("action"); writer.write(string: event.action)
        writer.raw(","); writer.key("category"); writer.write(optional: event.category)
        writer.raw(","); writer.key("outcome"); writer.write(string: event.outcome)
        writer.raw(","); writer.key("actor"); writer.writeStored(event.actor)
        writer.raw(","); writer.key("resource"); writer.writeResource(event)
        writer.raw(","); writer.key("version"); writer.raw(event.version.map(String.init) ?? "null")
        writer.raw(","); writer.key("changes"); writer.raw(event.changes)
        writer.raw(","); writer.key("summary"); writer.write(string: event.summary)
        writer.raw(","); writer.key("context"); writer.writeStored(event.context)
        writer.raw(","); writer.key("metadata"); writer.writeStored(event.metadata)
        writer.raw(","); writer.key("duration_ms"); writer.raw(event.durationMs.map(String.init) ?? "null")
        writer.raw(","); writer.key("error"); writer.writeStored(event.error)
        writer.raw(","); writer.key("prev_hash"); writer.write(string: EventHash.hex(event.prevHash))
        writer.raw(","); writer.key("hash"); writer.write(string: EventHash.hex(event.hash))
        writer.raw("}")
    }

    /// `{"data": [events]}`.
    public static func writeList(_ events: [RecordedEvent], into writer: inout JSONWriter) {
        writeList(events.map(StoredEventColumns.init), into: &writer)
    }

    /// `{"data": [events]}`.
    public static func writeList(_ events: [StoredEventColumns], into writer: inout JSONWriter) {
        writer.raw("{"); writer.key("data")
        writeArray(events, into: &writer)
        writer.raw("}")
    }

    /// `[events]`.
    public static func writeArray(_ events: [RecordedEvent], into writer: inout JSONWriter) {
        writeArray(events.map(StoredEventColumns.init), into: &writer)
    }

    /// `[events]`.
    public static func writeArray(_ events: [StoredEventColumns], into writer: inout JSONWriter) {
        writer.raw("[")
        for (i, event) in events.enumerated() {
            if i > 0 { writer.raw(",") }
            write(event, into: &writer)
        }
        writer.raw("]")
    }
}
