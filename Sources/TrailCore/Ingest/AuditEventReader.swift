/// The steps of reading one generic audit event (SPEC §3): each reads one field, by its first alias present,
/// and records a fault for a bad value instead of stopping, so that every fault is reported at once.
final class AuditEventReader {
    let payload: JSONObject
    let index: Int?
    private(set) var errors: [FieldError] = []

    init(_ payload: JSONObject, index: Int?) {
        self.payload = payload
        self.index = index
    }

    func fault(_ path: String, _ message: String) {
        errors.append(FieldError(index: index, path: path, message: message))
    }

    /// The first of `keys` present: a non-empty string of at most `limit` characters, else a fault.
    func text(_ keys: [String], limit: Int, what: String) -> String? {
        let (value, path) = ActivityStream.first(in: payload, keys)
        switch value {
        case nil: return nil
        case .string(let text)? where !text.isEmpty && text.codePoints <= limit: return text
        default:
            fault(path, "\(path) must be \(what): a non-empty string of at most \(limit) characters")
            return nil
        }
    }

    /// `action` (or `event_type`, `action_type`, `verb`), normalised; required.
    func action() -> String {
        var action = ""
        let (actionValue, actionPath) = ActivityStream.first(in: payload, ["action", "event_type", "action_type", "verb"])
        switch actionValue {
        case .string(let given)?:
            action = Verb.normalize(given)
            if action.isEmpty || action.codePoints > ActivityStream.maximumVerbLength {
                fault(actionPath, "\(actionPath) must be 1 to \(ActivityStream.maximumVerbLength) characters")
            }
        case nil:
            fault("action", "action is required (also accepted as event_type, action_type or verb), e.g. \"user_login\" or \"update\"")
        default:
            fault(actionPath, "\(actionPath) must be a string")
        }
        return action
    }

    /// `outcome` (or `status`): success (the default), failure or partial.
    func outcome() -> Outcome {
        var outcome = Outcome.success
        let (outcomeValue, outcomePath) = ActivityStream.first(in: payload, ["outcome", "status"])
        switch outcomeValue {
        case nil: break
        case .string(let given)?:
            if let known = Outcome(rawValue: given.trimmingWhitespace().lowercased()) { outcome = known } else {
                fault(outcomePath, "\(outcomePath) must be \"success\", \"failure\" or \"partial\"")
            }
        default:
            fault(outcomePath, "\(outcomePath) must be \"success\", \"failure\" or \"partial\"")
        }
        return outcome
    }

    /// The actor: an object with id or a string id; else user_id/user, username, user_email. Required unless
    /// the outcome is failure.
    func actor(outcome: Outcome) -> (JSONObject?, String?) {
        var actor: JSONObject?
        var actorId: String?
        switch payload["actor"] {
        case .object(let given)?:
            if let id = ActivityStream.identifier(given["id"]) {
                var object = given
                object["id"] = .string(id)
                actor = object
                actorId = id
            } else {
                fault("actor.id", "the actor needs an \"id\": a non-empty string or an integer")
            }
        case .string?, .number?:
            if let id = ActivityStream.identifier(payload["actor"]) {
                actor = JSONObject([.init(key: "id", value: .string(id))])
                actorId = id
            } else {
                fault("actor", "actor must be an object with an \"id\", or a non-empty string id")
            }
        case nil, .null?:
            let (idValue, idPath) = ActivityStream.first(in: payload, ["user_id", "user"])
            var id: String?
            if let idValue {
                id = ActivityStream.identifier(idValue)
                if id == nil { fault(idPath, "\(idPath) must be a non-empty string or an integer") }
            }
            let name = text(["username"], limit: ActivityStream.maximumIdLength, what: "a user name")
            let email = text(["user_email"], limit: ActivityStream.maximumIdLength, what: "an email address")
            if let id = id ?? name {
                var object = JSONObject([.init(key: "id", value: .string(id))])
                if let name { object.append("name", .string(name)) }
                if let email { object.append("email", .string(email)) }
                actor = object
                actorId = id
            } else if idValue == nil && outcome != .failure {
                fault("actor", "actor is required (an object with an \"id\", a string id, user_id, user or username) unless the outcome is failure")
            }
        default:
            fault("actor", "actor must be an object with an \"id\", or a string id")
        }
        return (actor, actorId)
    }

    /// The resource: an object `{"type", "id", "name"}`, or the dialects' top-level keys; all optional.
    func resource() -> (type: String?, id: String?, name: String?) {
        var resourceType: String?
        var resourceId: String?
        var resourceName: String?
        switch payload["resource"] {
        case .object(let given)?:
            switch given["type"] {
            case nil, .null?: break
            case .string(let type)? where !type.isEmpty && type.codePoints <= ActivityStream.maximumTypeLength: resourceType = type
            default: fault("resource.type", "resource.type must be a non-empty string of at most \(ActivityStream.maximumTypeLength) characters, or null")
            }
            if let idValue = given["id"], !idValue.isNull {
                resourceId = ActivityStream.identifier(idValue)
                if resourceId == nil { fault("resource.id", "resource.id must be a non-empty string or an integer, of at most \(ActivityStream.maximumIdLength) characters") }
            }
            switch given["name"] {
            case nil, .null?: break
            case .string(let name)? where name.codePoints <= AuditEvents.maximumNameLength: resourceName = name
            default: fault("resource.name", "resource.name must be a string of at most \(AuditEvents.maximumNameLength) characters")
            }
        case nil, .null?:
            resourceType = text(["entity_type", "model_name", "resource_type"], limit: ActivityStream.maximumTypeLength, what: "a resource type")
            let (idValue, idPath) = ActivityStream.first(in: payload, ["entity_id", "object_id", "resource_id"])
            if let idValue {
                resourceId = ActivityStream.identifier(idValue)
                if resourceId == nil { fault(idPath, "\(idPath) must be a non-empty string or an integer, of at most \(ActivityStream.maximumIdLength) characters") }
            }
            resourceName = text(["entity_name", "object_repr"], limit: AuditEvents.maximumNameLength, what: "a resource name")
        default:
            fault("resource", "resource must be an object {\"type\", \"id\", \"name\"}")
        }
        return (resourceType, resourceId, resourceName)
    }

    /// `occurred_at` (or `timestamp`): an RFC 3339 date-time.
    func occurredAt() -> Timestamp? {
        var occurredAt: Timestamp?
        let (timeValue, timePath) = ActivityStream.first(in: payload, ["occurred_at", "timestamp"])
        switch timeValue {
        case nil: break
        case .string(let given)?:
            occurredAt = Timestamp(rfc3339: given)
            if occurredAt == nil { fault(timePath, "\(timePath) must be an RFC 3339 date-time such as 2026-02-16T11:31:39Z") }
        default:
            fault(timePath, "\(timePath) must be an RFC 3339 date-time string")
        }
        return occurredAt
    }

    /// `duration_ms`: a whole number of milliseconds, 0 or more.
    func durationMs() -> Int64? {
        var durationMs: Int64?
        switch payload["duration_ms"] {
        case nil, .null?: break
        case .number(let number)?:
            if number.isIntegerLiteral, let value = Int64(number.literal), value >= 0 { durationMs = value } else {
                fault("duration_ms", "duration_ms must be a whole number of milliseconds, 0 or more")
            }
        default:
            fault("duration_ms", "duration_ms must be a whole number of milliseconds, 0 or more")
        }
        return durationMs
    }

    /// `error`: an object or a message; else `error_message` and `error_traceback`.
    func error() -> JSONObject? {
        var error: JSONObject?
        switch payload["error"] {
        case .object(let given)?: error = given
        case .string(let message)?: error = JSONObject([.init(key: "message", value: .string(message))])
        case nil, .null?:
            var object = JSONObject()
            for (key, name) in [("error_message", "message"), ("error_traceback", "detail")] {
                switch payload[key] {
                case nil, .null?: break
                case .string(let text)?: object.append(name, .string(text))
                default: fault(key, "\(key) must be a string")
                }
            }
            if !object.isEmpty { error = object }
        default:
            fault("error", "error must be an object {\"message\", \"detail\"} or a string")
        }
        return error
    }

    /// The context: the payload's own object, completed by the top-level aliases.
    func context() -> JSONObject? {
        var context = ActivityStream.optionalObject(payload, "context", fault)
        for (key, name) in [("ip_address", "ip"), ("user_agent", "user_agent"), ("request_id", "request_id")] {
            guard let value = payload[key], !value.isNull else { continue }
            guard case .string = value else {
                fault(key, "\(key) must be a string")
                continue
            }
            var object = context ?? JSONObject()
            if object[name] == nil { object.append(name, value) }
            context = object
        }
        return context
    }

    /// The changes the client reports: `{field: [old, new]}` or `{field: {"old", "new"}}`, or one
    /// `field_name` with `old_value` and `new_value`.
    func changes() -> [Change] {
        var changes: [Change] = []
        switch payload["changes"] {
        case .object(let given)?:
            for member in given {
                let path = "changes." + FieldPath.escape(member.key)
                switch member.value {
                case .array(let pair) where pair.count == 2:
                    changes.append(Change(path: member.key, old: pair[0].nonNull, new: pair[1].nonNull))
                case .object(let pair) where pair.keys.allSatisfy({ $0 == "old" || $0 == "new" }) && !pair.isEmpty:
                    changes.append(Change(path: member.key, old: pair["old"]?.nonNull, new: pair["new"]?.nonNull))
                default:
                    fault(path, "each change must be [old, new] or {\"old\": …, \"new\": …}")
                }
            }
        case nil, .null?:
            switch payload["field_name"] {
            case nil, .null?: break
            case .string(let field)? where !field.isEmpty:
                changes.append(Change(path: field, old: payload["old_value"]?.nonNull, new: payload["new_value"]?.nonNull))
            default:
                fault("field_name", "field_name must be a non-empty string")
            }
        default:
            fault("changes", "changes must be an object {field: [old, new]} or {field: {\"old\", \"new\"}}")
        }
        if changes.contains(where: { $0.path.isEmpty }) {
            fault("changes", "a changed field's name must not be empty")
        }
        return changes
    }

    /// Metadata: the payload's own object (or extra_data), and every unknown top-level key.
    func metadata() -> JSONObject? {
        let (metadataValue, metadataPath) = ActivityStream.first(in: payload, ["metadata", "extra_data"])
        var metadata: JSONObject?
        switch metadataValue {
        case nil: break
        case .object(let given)?: metadata = given
        default: fault(metadataPath, "\(metadataPath) must be an object")
        }
        for member in payload where !AuditEvents.knownKeys.contains(member.key) {
            var object = metadata ?? JSONObject()
            if object[member.key] == nil { object.append(member.key, member.value) }
            metadata = object
        }
        return metadata
    }
}
