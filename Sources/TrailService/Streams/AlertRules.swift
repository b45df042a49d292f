import Foundation
public import TrailCore
public import TrailStore

/// A threshold rule over a sliding window (SPEC §14): it fires when `threshold` events it matches, of one
/// group (actor, resource type, or all), were recorded within `windowSeconds`.
struct AlertRuleDefinition: Sendable, Equatable {
    enum Grouping: String, Sendable {
        case actor
        case resourceType = "resource_type"
    }

    static let fields = ["name", "match", "group_by", "threshold", "window_seconds", "sink"]
    static let maximumThreshold = 1_000_000
    static let maximumWindow: Int64 = 7 * 86_400

    var name: String
    var match: StreamMatch
    var groupBy: Grouping?
    var threshold: Int
    var windowSeconds: Int64
    var sink: String?

    /// `{"name", "match", "group_by"?, "threshold", "window_seconds", "sink"?}`, checked; every fault at its path.
    static func parse(_ value: JSONValue) throws(InvalidSubmission) -> AlertRuleDefinition {
        var errors: [FieldError] = []
        func fault(_ path: String, _ message: String) { errors.append(FieldError(index: nil, path: path, message: message)) }
        guard case .object(let object) = value else {
            throw InvalidSubmission(errors: [FieldError(index: nil, path: "", message: "expected an object with name, match, threshold and window_seconds")])
        }
        for key in object.keys where !fields.contains(key) {
            fault(key, "unknown field; a rule has \(fields.joined(separator: ", "))")
        }
        var name = ""
        if case .string(let text)? = object["name"], !text.isEmpty, text.codePoints <= 200 { name = text } else {
            fault("name", "required: a non-empty string of at most 200 characters")
        }
        let match = StreamMatch.parse(object["match"], path: "match", errors: &errors)
        var groupBy: Grouping?
        switch object["group_by"] {
        case nil, .null?: break
        case .string(let text)? where Grouping(rawValue: text) != nil: groupBy = Grouping(rawValue: text)
        default: fault("group_by", "must be actor, resource_type or null")
        }
        func whole(_ key: String, _ range: ClosedRange<Int64>) -> Int64? {
            if case .number(let number)? = object[key], number.isIntegerLiteral, let value = Int64(number.literal), range.contains(value) {
                return value
            }
            fault(key, "required: a whole number from \(range.lowerBound) to \(range.upperBound)")
            return nil
        }
        let threshold = whole("threshold", 1...Int64(maximumThreshold))
        let window = whole("window_seconds", 1...maximumWindow)
        var sink: String?
        switch object["sink"] {
        case nil, .null?: break
        case .string(let text)? where !text.isEmpty && text.codePoints <= 100: sink = text
        default: fault("sink", "must be the id of one of the tenant's sinks")
        }
        guard errors.isEmpty, let threshold, let window else { throw InvalidSubmission(errors: errors) }
        return AlertRuleDefinition(name: name, match: match, groupBy: groupBy, threshold: Int(threshold), windowSeconds: window, sink: sink)
    }

    var definition: JSONObject {
        var object = JSONObject()
        object.append("match", match.json)
        object.append("group_by", groupBy.map { .string($0.rawValue) } ?? .null)
        object.append("threshold", .number(JSONNumber(threshold)))
        object.append("window_seconds", .number(JSONNumber(Int(windowSeconds))))
        object.append("sink", sink.map(JSONValue.string) ?? .null)
        return object
    }

    /// The definition of a stored rule.
    init?(_ follower: Follower) {
        let definition = follower.definition
        guard let threshold = definition["threshold"]?.intValue, let window = definition["window_seconds"]?.intValue else { return nil }
        name = follower.name
        match = StreamMatch(stored: definition["match"])
        groupBy = definition["group_by"]?.stringValue.flatMap(Grouping.init(rawValue:))
        self.threshold = Int(threshold)
        windowSeconds = window
        sink = definition["sink"]?.stringValue
    }

    init(name: String, match: StreamMatch, groupBy: Grouping?, threshold: Int, windowSeconds: Int64, sink: String?) {
        self.name = name
        self.match = match
        self.groupBy = groupBy
        self.threshold = threshold
        self.windowSeconds = windowSeconds
        self.sink = sink
    }

    /// The group an event counts in.
    func group(of event: RecordedEvent) -> String? {
        switch groupBy {
        case .actor?: event.actorId ?? "-"
        case .resourceType?: event.resourceType ?? "-"
        case nil: nil
        }
    }
}

/// Alert rules and fired alerts (SPEC §14): rules created and deleted by admins (each an `AUDIT_ADMIN` event),
/// evaluated by ``LogFollowers`` as events arrive.
public struct AlertRules: Sendable {
    /// The action of the `SECURITY` event a fired alert is recorded as; rules never count such events.
    public static let firedAction = "alert_fired"
    public static let category = "SECURITY"

    let store: any TrailStorage
    let clock: @Sendable () -> Timestamp

    public init(store: any TrailStorage, clock: @escaping @Sendable () -> Timestamp = SystemClock.now) {
        self.store = store
        self.clock = clock
    }

    public func create(body: some Collection<UInt8>, tenant: String, by who: Operator) async throws -> Follower {
        let definition: AlertRuleDefinition
        do { definition = try AlertRuleDefinition.parse(try ServiceError.json(body)) } catch let error as InvalidSubmission {
            throw ServiceError.invalid(error)
        }
        if let sink = definition.sink {
            guard try await store.follower(tenant: tenant, id: sink)?.kind == .sink else {
                throw ServiceError.invalid(InvalidSubmission(errors: [FieldError(index: nil, path: "sink", message: "there is no sink \(sink) in this tenant")]))
            }
        }
        // From now: a new rule counts the events recorded after it.
        let rule = Follower(
            id: UUID().uuidString.lowercased(), tenant: tenant, kind: .rule, name: definition.name,
            definition: definition.definition, secret: nil, cursor: try await store.chainHead(tenant: tenant).sequence,
            createdAt: clock(), createdBy: who.id)
        try await store.insertFollower(rule)
        try await AdminRecord(store: store).record(
            "alert_rule_created", tenant: tenant, by: who, summary: "\(who.id) created the alert rule \(rule.name).",
            metadata: Self.details(rule))
        return rule
    }

    public func list(tenant: String) async throws(StoreError) -> [Follower] {
        try await store.followers(tenant: tenant, kind: .rule)
    }

    public func get(id: String, tenant: String) async throws -> Follower {
        guard let rule = try await store.follower(tenant: tenant, id: id), rule.kind == .rule else { throw ServiceError.noSuchRule(id) }
        return rule
    }

    public func delete(id: String, tenant: String, by who: Operator) async throws {
        let rule = try await get(id: id, tenant: tenant)
        guard try await store.deleteFollower(tenant: tenant, id: id) else { throw ServiceError.noSuchRule(id) }
        try await AdminRecord(store: store).record(
            "alert_rule_deleted", tenant: tenant, by: who, summary: "\(who.id) deleted the alert rule \(rule.name).",
            metadata: Self.details(rule))
    }

    public func alerts(tenant: String, limit: Int) async throws(StoreError) -> [FiredAlert] {
        try await store.alerts(tenant: tenant, limit: limit)
    }

    static func details(_ rule: Follower) -> JSONObject {
        var details = JSONObject()
        details.append("rule_id", .string(rule.id))
        details.append("name", .string(rule.name))
        for member in rule.definition { details.append(member.key, member.value) }
        return details
    }
}

extension ServiceError {
    static func noSuchRule(_ id: String) -> ServiceError {
        ServiceError(.notFound, "not-found", title: "Not found", detail: "There is no alert rule \(id) in this tenant.")
    }
}

extension FiredAlert {
    /// A fired alert as the API shows it.
    public var json: JSONValue {
        var object = JSONObject()
        object.append("id", .string(id))
        object.append("rule_id", .string(ruleId))
        object.append("rule_name", .string(ruleName))
        object.append("group", group.map(JSONValue.string) ?? .null)
        object.append("count", .number(JSONNumber(count)))
        object.append("threshold", .number(JSONNumber(threshold)))
        object.append("window_seconds", .number(JSONNumber(Int(windowSeconds))))
        object.append("first_at", .string(firstAt.formatted()))
        object.append("last_at", .string(lastAt.formatted()))
        object.append("first_sequence", .number(JSONNumber(Int(firstSequence))))
        object.append("last_sequence", .number(JSONNumber(Int(lastSequence))))
        object.append("fired_at", .string(firedAt.formatted()))
        object.append("event_sequence", eventSequence.map { .number(JSONNumber(Int($0))) } ?? .null)
        object.append("sink", sinkId.map(JSONValue.string) ?? .null)
        object.append("delivered_at", deliveredAt.map { .string($0.formatted()) } ?? .null)
        return .object(object)
    }
}
