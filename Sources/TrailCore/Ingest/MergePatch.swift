/// JSON Merge Patch (RFC 7386) over ordered objects.
///
/// Members of the target keep their places; members the patch adds are appended in the patch's order;
/// `null` in the patch removes a member. Nulls never survive into the result, at any depth.
public enum MergePatch {
    public static func apply(_ patch: JSONValue, to target: JSONValue?) -> JSONValue {
        guard case .object(let patchObject) = patch else { return patch }
        var result = target?.objectValue ?? JSONObject()
        apply(patchObject, to: &result)
        return .object(result)
    }

    /// Applies an object patch to an object in place.
    public static func apply(_ patch: JSONObject, to target: inout JSONObject) {
        for member in patch {
            switch member.value {
            case .null:
                target[member.key] = nil
            case .object:
                target[member.key] = apply(member.value, to: target[member.key])
            default:
                // An equal value (1 and 1.0) keeps the stored one: the state did not change.
                if target[member.key] != member.value { target[member.key] = member.value }
            }
        }
    }

    /// The object with every null member removed, recursively (what a create or a replace stores).
    public static func withoutNulls(_ object: JSONObject) -> JSONObject {
        var result = JSONObject()
        apply(object, to: &result)
        return result
    }

    /// The value with every null member of its objects removed, recursively.
    public static func withoutNulls(_ value: JSONValue) -> JSONValue {
        guard case .object(let object) = value else { return value }
        return .object(withoutNulls(object))
    }
}
