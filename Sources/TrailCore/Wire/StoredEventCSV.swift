/// The stored event as a CSV row (RFC 4180): the SPEC §4 field names as the header, objects as JSON text,
/// absent values empty, fields quoted when they hold a comma, a quote or a line break, rows ended by CRLF.
public enum StoredEventCSV {
    public static let header = [
        "id", "sequence", "tenant", "occurred_at", "recorded_at", "action", "category", "outcome", "actor",
        "resource", "version", "changes", "summary", "context", "metadata", "duration_ms", "error",
        "prev_hash", "hash",
    ]

    public static func writeHeader(into writer: inout JSONWriter) {
        row(header, into: &writer)
    }

    public static func write(_ event: StoredEventColumns, into writer: inout JSONWriter) {
        row([
            event.id, String(event.sequence), event.tenant, event.occurredAt.formatted(), event.recordedAt.formatted(),
            event.action, event.category ?? "", event.outcome, event.actor ?? "", event.resource ?? "",
            event.version.map(String.init) ?? "", event.changes, event.summary, event.context ?? "",
            event.metadata ?? "", event.durationMs.map(String.init) ?? "", event.error ?? "",
            EventHash.hex(event.prevHash), EventHash.hex(event.hash),
        ], into: &writer)
    }

    public static func row(_ fields: [String], into writer: inout JSONWriter) {
        for (i, field) in fields.enumerated() {
            if i > 0 { writer.raw(",") }
            if field.utf8.contains(where: { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == 0x0A || $0 == 0x0D }) {
                writer.raw("\"" + field.replacingAll("\"", with: "\"\"") + "\"")
            } else {
                writer.raw(field)
            }
        }
        writer.raw("\r\n")
    }
}

extension String {
    func replacingAll(_ target: Character, with replacement: String) -> String {
        var result = ""
        result.reserveCapacity(utf8.count)
        for character in self {
            if character == target { result += replacement } else { result.append(character) }
        }
        return result
    }
}
