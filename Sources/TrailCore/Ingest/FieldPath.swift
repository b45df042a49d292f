/// Dotted field paths of changes (SPEC §2.3): nested keys joined with `.`, and a `.` or `\` inside a key
/// escaped with `\`, so every path names exactly one field.
public enum FieldPath {
    public static func escape(_ key: String) -> String {
        guard key.utf8.contains(where: { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "\\") }) else { return key }
        var result = ""
        for character in key {
            if character == "." || character == "\\" { result.append("\\") }
            result.append(character)
        }
        return result
    }

    public static func join(_ prefix: String, _ key: String) -> String {
        prefix.isEmpty ? escape(key) : prefix + "." + escape(key)
    }
}
