/// The record the activity-stream endpoints answer with, one per event (SPEC §2.8):
/// `{"id", "actor", "verb", "object": {"id", "type", "fields"}, "description", "version", "sequence",
/// "created_at", "updated_at"}`.
public enum ActivityRecord {
    public static func write(_ event: RecordedEvent, into writer: inout JSONWriter) {
        writer.raw("{")
        writer.key("id"); writer.write(string: event.id)
        writer.raw(","); writer.key("actor"); writer.write(event.actor.map(JSONValue.object) ?? .null)
        writer.raw(","); writer.key("verb"); writer.write(string: event.action)
        writer.raw(","); writer.key("object"); writer.raw("{")
        writer.key("id"); writer.write(event.resourceId.map(JSONValue.string) ?? .null)
        writer.raw(","); writer.key("type"); writer.write(event.resourceType.map(JSONValue.string) ?? .null)
        writer.raw(","); writer.key("fields"); writer.write(object: event.changes)
        writer.raw("}")
        writer.raw(","); writer.key("description"); writer.write(string: event.summary)
        writer.raw(","); writer.key("version"); writer.raw(event.version.map(String.init) ?? "null")
        writer.raw(","); writer.key("sequence"); writer.raw(String(event.sequence))
        writer.raw(","); writer.key("created_at"); writer.write(timestamp: event.recordedAt)
        writer.raw(","); writer.key("updated_at"); writer.write(timestamp: event.recordedAt)
        writer.raw("}")
    }

    /// A JSON array of records, in order.
    public static func writeArray(_ events: [RecordedEvent], into writer: inout JSONWriter) {
        writer.raw("[")
        for (i, event) in events.enumerated() {
            if i > 0 { writer.raw(",") }
            write(event, into: &writer)
        }
        writer.raw("]")
    }

    public static func encodeArray(_ events: [RecordedEvent]) -> [UInt8] {
        var writer = JSONWriter(capacity: 512 * max(events.count, 1))
        writeArray(events, into: &writer)
        return writer.bytes
    }
}
