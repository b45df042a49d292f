/// The stored event as every read returns it (SPEC §4): `{"id", "sequence", "tenant", "occurred_at",
/// "recorded_at", "action", "category", "outcome", "actor", "resource": {"type", "id", "name"}, "version",
/// "changes", "summary", "context", "metadata", "duration_ms", "error", "prev_hash", "hash"}`; absent values are `null`; the hashes in lower-case hex
/// (SPEC §8, ``EventHash``).
///
/// Activity-stream events have no category, resource name, duration or error, and always succeed.
///
/// An event whose content retention removed (SPEC §11) has the same members, its content empty (`actor`,
/// `context`, `metadata`, `error`, `duration_ms` and the resource's name null, `changes` `{}`, `summary` `""`), and
/// two more, `"removed": true` and `removed_at`, before `prev_hash`: its `hash` is the one it was stored with, which no longer matches
/// what is shown (verifiers take it as stored, ``ChainVerifier``). An event an erasure rewrote (its data subject's
/// values replaced by `"[erased]"`) has `"erased": true` and `erased_at` there instead, and likewise keeps its hash.
public enum StoredEventJSON {
    public static func write(_ event: RecordedEvent, into writer: inout JSONWriter) {
        write(StoredEventColumns(event), into: &writer)
    }

    public static func write(_ event: StoredEventColumns, into writer: inout JSONWriter) {
        writer.raw("{\"id\":"); writer.write(string: event.id)
        writer.raw(",\"sequence\":"); writer.raw(String(event.sequence))
        writer.raw(",\"tenant\":"); writer.write(string: event.tenant)
        writer.raw(",\"occurred_at\":"); writer.write(timestamp: event.occurredAt)
        writer.raw(",\"recorded_at\":"); writer.write(timestamp: event.recordedAt)
        writer.raw(",\"action\":"); writer.write(string: event.action)
        writer.raw(",\"category\":"); writer.write(optional: event.category)
        writer.raw(",\"outcome\":"); writer.write(string: event.outcome)
        writer.raw(",\"actor\":"); writer.writeStored(event.actor)
        writer.raw(",\"resource\":"); writer.writeResource(event)
        writer.raw(",\"version\":"); writer.raw(event.version.map(String.init) ?? "null")
        writer.raw(",\"changes\":"); writer.raw(event.changes)
        writer.raw(",\"summary\":"); writer.write(string: event.summary)
        writer.raw(",\"context\":"); writer.writeStored(event.context)
        writer.raw(",\"metadata\":"); writer.writeStored(event.metadata)
        writer.raw(",\"duration_ms\":"); writer.raw(event.durationMs.map(String.init) ?? "null")
        writer.raw(",\"error\":"); writer.writeStored(event.error)
        if let removedAt = event.removedAt {
            writer.raw(",\"removed\":true,\"removed_at\":"); writer.write(timestamp: removedAt)
        } else if let erasedAt = event.erasedAt {
            writer.raw(",\"erased\":true,\"erased_at\":"); writer.write(timestamp: erasedAt)
        }
        writer.raw(",\"prev_hash\":"); writer.write(hex: event.prevHash)
        writer.raw(",\"hash\":"); writer.write(hex: event.hash)
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
