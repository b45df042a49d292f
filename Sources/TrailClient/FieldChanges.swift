extension FieldChange {
    /// The fields that differ between two states, by dotted path (`address.city`): nested objects are walked,
    /// arrays and scalars compared whole (as Trail diffs states, SPEC §2.3). Empty when nothing changed.
    public static func between(_ before: TrailJSON?, _ after: TrailJSON?) -> [String: FieldChange] {
        let old = leaves(of: before), new = leaves(of: after)
        var changes: [String: FieldChange] = [:]
        for (path, value) in new where old[path] != value {
            changes[path] = FieldChange(old: old[path], new: value)
        }
        for (path, value) in old where new[path] == nil {
            changes[path] = FieldChange(old: value, new: nil)
        }
        return changes
    }

    /// The fields that differ between two `Encodable` values (their JSON encodings).
    public static func between<T: Encodable>(_ before: T?, _ after: T?) throws -> [String: FieldChange] {
        between(try before.map { try TrailJSON(encoding: $0) }, try after.map { try TrailJSON(encoding: $0) })
    }

    static func leaves(of value: TrailJSON?, prefix: String = "") -> [String: TrailJSON] {
        guard let value else { return [:] }
        guard case .object(let object) = value, !object.isEmpty || prefix.isEmpty else {
            return prefix.isEmpty ? ["": value] : [prefix: value]
        }
        var leaves: [String: TrailJSON] = [:]
        for (key, member) in object {
            leaves.merge(Self.leaves(of: member, prefix: prefix.isEmpty ? key : "\(prefix).\(key)")) { first, _ in first }
        }
        return leaves
    }
}
