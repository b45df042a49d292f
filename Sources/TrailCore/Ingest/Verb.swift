/// Activity verbs: synonyms collapse to the canonical `created`, `updated`, `deleted`; any other verb is a custom
/// action, kept lower-cased (SPEC §2.1).
public enum Verb {
    public static let created = "created"
    public static let updated = "updated"
    public static let deleted = "deleted"

    static let synonyms: [String: String] = [
        "create": created, "created": created, "add": created, "added": created, "insert": created,
        "update": updated, "updated": updated, "edit": updated, "edited": updated, "change": updated,
        "changed": updated, "modify": updated, "patch": updated,
        "delete": deleted, "deleted": deleted, "remove": deleted, "removed": deleted, "destroy": deleted,
    ]

    /// The canonical action for a verb as sent: trimmed, lower-cased, synonyms mapped. Empty when nothing is left.
    public static func normalize(_ verb: String) -> String {
        let trimmed = verb.trimmingWhitespace().lowercased()
        return synonyms[trimmed] ?? trimmed
    }
}

extension String {
    func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })!
        return String(scalars[first...last])
    }

    /// The string with its first character upper-cased and nothing else changed.
    func capitalizingFirst() -> String {
        guard let first else { return self }
        return first.uppercased() + dropFirst()
    }
}
