/// A legal hold (SPEC §11): while it is not released, no event it matches is removed or erased.
public struct LegalHold: Sendable, Equatable {
    public static let maximumTextLength = 1000

    public var id: String
    public var tenant: String
    public var name: String
    public var reason: String
    public var match: HoldMatch
    public var createdAt: Timestamp
    /// Who created it (the caller's subject: an API key id or a token's subject).
    public var createdBy: String
    public var releasedAt: Timestamp?
    public var releasedBy: String?

    public init(id: String, tenant: String, name: String, reason: String, match: HoldMatch, createdAt: Timestamp,
                createdBy: String, releasedAt: Timestamp? = nil, releasedBy: String? = nil) {
        self.id = id
        self.tenant = tenant
        self.name = name
        self.reason = reason
        self.match = match
        self.createdAt = createdAt
        self.createdBy = createdBy
        self.releasedAt = releasedAt
        self.releasedBy = releasedBy
    }

    public var isActive: Bool { releasedAt == nil }

    /// `{"name", "reason", "match": {…}}`, checked: known fields only, a name, a match that names something.
    public static func parse(_ value: JSONValue) throws(InvalidSubmission) -> (name: String, reason: String, match: HoldMatch) {
        var errors: [FieldError] = []
        func fault(_ path: String, _ message: String) { errors.append(FieldError(index: nil, path: path, message: message)) }
        guard let object = value.objectValue else {
            throw InvalidSubmission(errors: [FieldError(index: nil, path: "", message: "expected an object with name, reason and match")])
        }
        for key in object.keys where !["name", "reason", "match"].contains(key) {
            fault(key, "unknown field; a hold has name, reason and match")
        }
        let name = object["name"]?.stringValue ?? ""
        if name.isEmpty || name.codePoints > maximumTextLength { fault("name", "required: 1 to \(maximumTextLength) characters") }
        var reason = ""
        switch object["reason"] {
        case nil, .null?: break
        case .string(let given)? where given.codePoints <= maximumTextLength: reason = given
        default: fault("reason", "a string of at most \(maximumTextLength) characters")
        }
        var match = HoldMatch()
        if let given = object["match"]?.objectValue {
            do { match = try HoldMatch.parse(given) } catch { errors += error.errors }
            if match.isEmpty && errors.isEmpty {
                fault("match", "names nothing: give resource_type, resource_id, actor, since or until (a hold on everything is a hold with since only)")
            }
        } else {
            fault("match", "required: an object with resource_type, resource_id, actor, since and/or until")
        }
        guard errors.isEmpty else { throw InvalidSubmission(errors: errors) }
        return (name, reason, match)
    }
}

/// What a hold keeps: events matching every condition given. Times are the events' `occurred_at`, inclusive.
public struct HoldMatch: Sendable, Equatable {
    public var resourceType: String?
    public var resourceId: String?
    /// The actor's id.
    public var actor: String?
    public var since: Timestamp?
    public var until: Timestamp?

    public init(resourceType: String? = nil, resourceId: String? = nil, actor: String? = nil, since: Timestamp? = nil,
                until: Timestamp? = nil) {
        self.resourceType = resourceType
        self.resourceId = resourceId
        self.actor = actor
        self.since = since
        self.until = until
    }

    public var isEmpty: Bool { resourceType == nil && resourceId == nil && actor == nil && since == nil && until == nil }

    /// Whether an event with these values is held.
    public func holds(resourceType: String?, resourceId: String?, actorId: String?, occurredAt: Timestamp) -> Bool {
        if let expected = self.resourceType, expected != resourceType { return false }
        if let expected = self.resourceId, expected != resourceId { return false }
        if let expected = actor, expected != actorId { return false }
        if let since, occurredAt < since { return false }
        if let until, occurredAt > until { return false }
        return true
    }

    static func parse(_ object: JSONObject) throws(InvalidSubmission) -> HoldMatch {
        var errors: [FieldError] = []
        func fault(_ path: String, _ message: String) { errors.append(FieldError(index: nil, path: "match.\(path)", message: message)) }
        var match = HoldMatch()
        for key in object.keys where !["resource_type", "resource_id", "actor", "since", "until"].contains(key) {
            fault(key, "unknown field; a match has resource_type, resource_id, actor, since and until")
        }
        func text(_ key: String) -> String? {
            switch object[key] {
            case nil, .null?: return nil
            case .string(let given)? where !given.isEmpty && given.codePoints <= RetentionRule.maximumNameLength: return given
            default:
                fault(key, "a string of 1 to \(RetentionRule.maximumNameLength) characters")
                return nil
            }
        }
        func time(_ key: String) -> Timestamp? {
            switch object[key] {
            case nil, .null?: return nil
            case .string(let given)?:
                if let time = Timestamp(rfc3339: given) { return time }
                fallthrough
            default:
                fault(key, "an RFC 3339 date-time such as 2026-01-31T00:00:00Z")
                return nil
            }
        }
        match.resourceType = text("resource_type")
        match.resourceId = text("resource_id")
        match.actor = text("actor")
        match.since = time("since")
        match.until = time("until")
        if let since = match.since, let until = match.until, until < since { fault("until", "must not be before since") }
        guard errors.isEmpty else { throw InvalidSubmission(errors: errors) }
        return match
    }

    public var json: JSONValue {
        var object = JSONObject()
        object.append("resource_type", resourceType.map(JSONValue.string) ?? .null)
        object.append("resource_id", resourceId.map(JSONValue.string) ?? .null)
        object.append("actor", actor.map(JSONValue.string) ?? .null)
        object.append("since", since.map { .string($0.formatted()) } ?? .null)
        object.append("until", until.map { .string($0.formatted()) } ?? .null)
        return .object(object)
    }
}
