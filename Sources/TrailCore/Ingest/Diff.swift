/// One field-level change between two states: `old` or `new` is nil when the field was absent.
public struct Change: Sendable, Equatable {
    public var path: String
    public var old: JSONValue?
    public var new: JSONValue?
    /// The field is redacted: its values are the marker and the summary must not show them.
    public var redacted: Bool

    public init(path: String, old: JSONValue?, new: JSONValue?, redacted: Bool = false) {
        self.path = path
        self.old = old
        self.new = new
        self.redacted = redacted
    }
}

/// Field-level differences between two states (SPEC §2.3).
///
/// States are flattened to leaves: nested objects are walked (an empty object is itself a leaf), arrays and
/// scalars are leaves. Changed and added leaves come in the order they stand in the new state, removed leaves
/// after them in their old order.
public enum Diff {
    public static func changes(
        from old: JSONObject?, digests oldDigests: Redactor.Digests = [:],
        to new: JSONObject?, digests newDigests: Redactor.Digests = [:]
    ) -> [Change] {
        let oldLeaves = old.map { leaves(of: $0) } ?? []
        let newLeaves = new.map { leaves(of: $0) } ?? []
        var oldByPath: [String: JSONValue] = [:]
        oldByPath.reserveCapacity(oldLeaves.count)
        for leaf in oldLeaves { oldByPath[leaf.path] = leaf.value }

        var changes: [Change] = []
        var newPaths = Set<String>()
        newPaths.reserveCapacity(newLeaves.count)
        for leaf in newLeaves {
            newPaths.insert(leaf.path)
            let before = oldByPath[leaf.path]
            let oldDigest = oldDigests[leaf.path]
            let newDigest = newDigests[leaf.path]
            if oldDigest != nil || newDigest != nil {
                if before == nil || oldDigest != newDigest {
                    changes.append(Change(path: leaf.path, old: before, new: leaf.value, redacted: true))
                }
            } else if before != leaf.value {
                changes.append(Change(path: leaf.path, old: before, new: leaf.value))
            }
        }
        for leaf in oldLeaves where !newPaths.contains(leaf.path) {
            changes.append(Change(path: leaf.path, old: leaf.value, new: nil, redacted: oldDigests[leaf.path] != nil))
        }
        return changes
    }

    public struct Leaf: Sendable, Equatable {
        public var path: String
        public var value: JSONValue
    }

    public static func leaves(of object: JSONObject, prefix: String = "") -> [Leaf] {
        var result: [Leaf] = []
        collect(object, prefix: prefix, into: &result)
        return result
    }

    private static func collect(_ object: JSONObject, prefix: String, into result: inout [Leaf]) {
        for member in object {
            let path = FieldPath.join(prefix, member.key)
            if case .object(let nested) = member.value, !nested.isEmpty {
                collect(nested, prefix: path, into: &result)
            } else {
                result.append(Leaf(path: path, value: member.value))
            }
        }
    }

    /// The stored and returned form: `{path: [old, new]}` with `null` for an absent side.
    public static func encode(_ changes: [Change]) -> JSONObject {
        JSONObject(changes.map { .init(key: $0.path, value: .array([$0.old ?? .null, $0.new ?? .null])) })
    }
}
