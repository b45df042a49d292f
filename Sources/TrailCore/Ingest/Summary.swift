/// The one-sentence English summary of an event (SPEC §2.4).
public enum Summary {
    public static let noChanges = "No changes detected."
    static let maximumValueLength = 64

    /// The sentence for a list of changes: parts joined as `A, B and C`, first character upper-cased.
    public static func sentence(for changes: [Change]) -> String {
        guard !changes.isEmpty else { return noChanges }
        return sentence(parts: changes.map(part))
    }

    /// `"{Type} {id} deleted."`, `"{Type} {id} created."`.
    public static func lifecycle(_ action: String, type: String, id: String) -> String {
        "\(type.capitalizingFirst()) \(id) \(action)."
    }

    /// `"{Verb} {type} {id}."` (parts that are nil are left out).
    public static func action(_ action: String, type: String?, id: String?) -> String {
        ([action.capitalizingFirst()] + [type, id].compactMap { $0 }).joined(separator: " ") + "."
    }

    static func sentence(parts: [String]) -> String {
        let joined: String
        if parts.count == 1 {
            joined = parts[0]
        } else {
            joined = parts.dropLast().joined(separator: ", ") + " and " + parts[parts.count - 1]
        }
        return joined.capitalizingFirst() + "."
    }

    static func part(_ change: Change) -> String {
        switch (change.old, change.new) {
        case (nil, nil): return "\(change.path) unchanged"
        case (nil, let new?):
            return change.redacted ? "\(change.path) set" : "\(change.path) set to \(render(new))"
        case (let old?, nil):
            return change.redacted ? "\(change.path) removed" : "\(change.path) removed (was \(render(old)))"
        case (let old?, let new?):
            if change.redacted { return "\(change.path) changed" }
            var before = render(old)
            var after = render(new)
            if before == after {
                // "3" and 3 would read alike: show both as JSON so the difference is visible.
                before = truncate(JSONWriter.string(old))
                after = truncate(JSONWriter.string(new))
            }
            return "\(change.path) changed from \(before) to \(after)"
        }
    }

    /// Strings unquoted (the empty string as `""`), everything else as compact JSON; long values cut.
    static func render(_ value: JSONValue) -> String {
        // A sealed value is shown whole: readers see it opened (and cut, if long, when they render it).
        if case .string(let text) = value, text.hasPrefix(SealedValue.prefix) { return text }
        if case .string(let text) = value, !text.isEmpty { return truncate(text) }
        return truncate(JSONWriter.string(value))
    }

    static func truncate(_ text: String) -> String {
        guard text.utf8.count > maximumValueLength, text.count > maximumValueLength else { return text }
        return String(text.prefix(maximumValueLength - 1)) + "…"
    }
}
