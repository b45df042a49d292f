/// Detection and normalisation of activity-stream payloads (SPEC §2.1): wrapped, object, resource and flat
/// styles, alone or in a batch. Every item is checked and every fault reported before anything is stored.
public enum ActivityStream {
    public static let reservedKeys: Set<String> = [
        "verb", "actor", "actor_id", "id", "type", "resource_type", "object_type", "resource_id", "object",
        "resource", "occurred_at", "timestamp", "context", "metadata", "update_mode", "tenant",
    ]
    public static let maximumTypeLength = 100
    public static let maximumIdLength = 255
    public static let maximumVerbLength = 100

    /// Reads a whole request body: one payload, an array of payloads, or a wrapper holding either.
    public static func submission(from body: JSONValue) -> Result<Submission, InvalidSubmission> {
        var wrapperId: String? = nil
        var items: [JSONValue]
        var errors: [FieldError] = []
        switch body {
        case .array(let elements):
            items = elements
        case .object(let object) where object["type"] == .string("audit_logs") && object["payload"] != nil:
            switch object["id"] {
            case nil, .null?: break
            case .string(let id)? where !id.isEmpty && id.codePoints <= maximumIdLength: wrapperId = id
            case .number(let number)? where number.isIntegerLiteral: wrapperId = number.literal
            default:
                errors.append(FieldError(index: nil, path: "id", message: "the wrapper id must be a non-empty string of at most \(maximumIdLength) characters"))
            }
            switch object["payload"]! {
            case .array(let elements): items = elements
            case .object: items = [object["payload"]!]
            default:
                errors.append(FieldError(index: nil, path: "payload", message: "payload must be an object or an array of objects"))
                items = []
            }
        case .object:
            items = [body]
        default:
            return .failure(InvalidSubmission(errors: [
                FieldError(index: nil, path: "", message: "the body must be a JSON object (one payload or a wrapper) or an array of payloads, not \(body.kindName)")
            ]))
        }
        var activities: [Activity] = []
        activities.reserveCapacity(items.count)
        for (index, item) in items.enumerated() {
            switch activity(from: item, index: index) {
            case .success(let activity): activities.append(activity)
            case .failure(let failure): errors.append(contentsOf: failure.errors)
            }
        }
        guard errors.isEmpty else { return .failure(InvalidSubmission(errors: errors)) }
        return .success(Submission(activities: activities, wrapperId: wrapperId))
    }

    /// Normalises one payload; `index` is its place in the submission, for error reports.
    public static func activity(from item: JSONValue, index: Int) -> Result<Activity, InvalidSubmission> {
        var errors: [FieldError] = []
        func fault(_ path: String, _ message: String) { errors.append(FieldError(index: index, path: path, message: message)) }

        guard case .object(let payload) = item else {
            return .failure(InvalidSubmission(errors: [FieldError(index: index, path: "", message: "each payload must be a JSON object, not \(item.kindName)")]))
        }

        // Actor: an object with id, a string id, else actor_id.
        var actor = JSONObject()
        var actorId = ""
        switch payload["actor"] {
        case .object(let given)?:
            actor = given
            if let id = identifier(given["id"]) {
                actorId = id
                actor["id"] = .string(id)
            } else {
                fault("actor.id", given["id"] == nil ? "the actor needs an \"id\"" : "actor.id must be a non-empty string or an integer, of at most \(maximumIdLength) characters")
            }
        case .string?, .number?:
            if let id = identifier(payload["actor"]) {
                actorId = id
                actor.append("id", .string(id))
            } else {
                fault("actor", "actor must be an object with an \"id\", or a non-empty string id")
            }
        case nil, .null?:
            if let given = payload["actor_id"], !given.isNull {
                if let id = identifier(given) {
                    actorId = id
                    actor.append("id", .string(id))
                } else {
                    fault("actor_id", "actor_id must be a non-empty string or an integer")
                }
            } else {
                fault("actor", "actor is required: an object with an \"id\", a string id, or \"actor_id\"")
            }
        default:
            fault("actor", "actor must be an object with an \"id\", or a string id")
        }

        // Verb.
        var action = ""
        switch payload["verb"] {
        case .string(let verb)?:
            action = Verb.normalize(verb)
            if action.isEmpty {
                fault("verb", "verb must not be empty")
            } else if action.codePoints > maximumVerbLength {
                fault("verb", "verb must be at most \(maximumVerbLength) characters")
            }
        case nil, .null?:
            fault("verb", "verb is required: \"create\", \"update\", \"delete\" or a custom action such as \"approved\"")
        default:
            fault("verb", "verb must be a string")
        }

        // Resource and data, by style.
        var typeValue: JSONValue?
        var idValue: JSONValue?
        var typePath: String
        var idPath: String
        var data: JSONObject
        if case .object(let object) = payload["object"] {
            typeValue = object["type"] ?? payload["object_type"]
            if object["type"] == nil, payload["object_type"] != nil { typePath = "object_type" } else { typePath = "object.type" }
            idValue = object["id"]
            idPath = "object.id"
            data = object.removing(["id", "type"])
        } else if case .object(let resource) = payload["resource"] {
            typeValue = resource["type"]
            typePath = "resource.type"
            idValue = resource["id"]
            idPath = "resource.id"
            if case .object(let nested) = resource["data"] {
                data = nested
            } else {
                data = resource.removing(["id", "type"])
            }
        } else {
            (typeValue, typePath) = first(in: payload, ["type", "resource_type", "object_type"])
            (idValue, idPath) = first(in: payload, ["id", "resource_id"])
            data = payload.removing(reservedKeys)
        }
        var resourceType = ""
        switch typeValue {
        case .string(let type)? where !type.isEmpty && type.codePoints <= maximumTypeLength:
            resourceType = type
        case nil, .null?:
            fault(typePath, "the resource type is required")
        default:
            fault(typePath, "the resource type must be a non-empty string of at most \(maximumTypeLength) characters")
        }
        var resourceId = ""
        if let id = identifier(idValue) {
            resourceId = id
        } else if idValue == nil || idValue == .null {
            fault(idPath, "the resource id is required")
        } else {
            fault(idPath, "the resource id must be a non-empty string or an integer, of at most \(maximumIdLength) characters")
        }

        // Options.
        var replace = false
        switch payload["update_mode"] {
        case nil, .null?, .string("merge")?: break
        case .string("replace")?: replace = true
        default: fault("update_mode", "update_mode must be \"merge\" or \"replace\"")
        }
        var occurredAt: Timestamp? = nil
        let (timeValue, timePath) = first(in: payload, ["occurred_at", "timestamp"])
        switch timeValue {
        case nil, .null?: break
        case .string(let text)?:
            if let time = Timestamp(rfc3339: text) { occurredAt = time } else {
                fault(timePath, "\(timePath) must be an RFC 3339 date-time such as 2026-02-16T11:31:39Z")
            }
        default:
            fault(timePath, "\(timePath) must be an RFC 3339 date-time string")
        }
        let context = optionalObject(payload, "context", fault)
        let metadata = optionalObject(payload, "metadata", fault)

        guard errors.isEmpty else { return .failure(InvalidSubmission(errors: errors)) }
        return .success(Activity(
            action: action, actor: actor, actorId: actorId, resourceType: resourceType, resourceId: resourceId,
            data: data, replace: replace, occurredAt: occurredAt, context: context, metadata: metadata))
    }

    /// An id: a non-empty string, or a JSON integer taken as its decimal string.
    static func identifier(_ value: JSONValue?) -> String? {
        switch value {
        case .string(let text)? where !text.isEmpty && text.codePoints <= maximumIdLength: text
        case .number(let number)? where number.isIntegerLiteral: number.literal
        default: nil
        }
    }

    /// The first of `keys` present (and not null), with its name for error paths; the first key otherwise.
    static func first(in object: JSONObject, _ keys: [String]) -> (JSONValue?, String) {
        for key in keys {
            if let value = object[key], !value.isNull { return (value, key) }
        }
        return (nil, keys[0])
    }

    static func optionalObject(_ payload: JSONObject, _ key: String, _ fault: (String, String) -> Void) -> JSONObject? {
        switch payload[key] {
        case nil, .null?: return nil
        case .object(let object)?: return object
        case let other?:
            fault(key, "\(key) must be an object, not \(other.kindName)")
            return nil
        }
    }
}
