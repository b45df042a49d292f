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

    /// The keys a path names, outermost first: the inverse of ``join(_:_:)`` (`a\.b.c` → `["a.b", "c"]`).
    public static func split(_ path: String) -> [String] {
        var keys: [String] = []
        var current = ""
        var escaped = false
        for character in path {
            if escaped {
                current.append(character)
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else if character == "." {
                keys.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        keys.append(current)
        return keys
    }
}

extension JSONObject {
    /// Sets `value` at the nested `path` (intermediate objects are created, and a non-object in the way is
    /// replaced by one); `nil` removes the member at the path, if there is one.
    public mutating func set(_ value: JSONValue?, at path: [String]) {
        guard let key = path.first else { return }
        if path.count == 1 {
            self[key] = value
            return
        }
        var nested = self[key]?.objectValue ?? JSONObject()
        if value == nil && self[key]?.objectValue == nil { return }
        nested.set(value, at: Array(path.dropFirst()))
        self[key] = .object(nested)
    }
}
