/// The stored event as a CSV row (RFC 4180): the SPEC §4 field names as the header, objects as JSON text,
/// absent values empty, fields quoted when they hold a comma, a quote or a line break, rows ended by CRLF.
///
/// Safe to open in a spreadsheet (OWASP's "CSV injection"): a field that begins with `=`, `+`, `-`, `@`, a tab or
/// a carriage return — which a spreadsheet would take for a formula — begins with `'` instead, unless it is a
/// plain number. Exports meant to be exact are NDJSON or JSON.
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
        for (i, text) in fields.enumerated() {
            if i > 0 { writer.raw(",") }
            let field = neutralized(text)
            if field.utf8.contains(where: { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == 0x0A || $0 == 0x0D }) {
                writer.raw("\"" + field.replacingAll("\"", with: "\"\"") + "\"")
            } else {
                writer.raw(field)
            }
        }
        writer.raw("\r\n")
    }

    /// The field with `'` in front if a spreadsheet would take it for a formula.
    static func neutralized(_ field: String) -> String {
        guard let first = field.utf8.first, formulaStarts.contains(first), !isPlainNumber(field) else { return field }
        return "'" + field
    }

    /// `=`, `+`, `-`, `@`, tab, carriage return.
    static let formulaStarts: Set<UInt8> = [0x3D, 0x2B, 0x2D, 0x40, 0x09, 0x0D]

    /// A decimal number such as `-12` or `-0.5`, which no spreadsheet runs.
    static func isPlainNumber(_ field: String) -> Bool {
        var digits = field.utf8.dropFirst()[...]
        guard field.utf8.first == 0x2D, let head = digits.first, (0x30...0x39).contains(head) else { return false }
        var seenPoint = false
        while let byte = digits.popFirst() {
            if byte == 0x2E, !seenPoint, !digits.isEmpty { seenPoint = true; continue }
            guard (0x30...0x39).contains(byte) else { return false }
        }
        return true
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
