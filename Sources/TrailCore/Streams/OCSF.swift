/// Events as OCSF API Activity (class 6003, category 6 "Application Activity"), OCSF 1.1.0; the mapping is
/// documented in docs/streams.md.
public enum OCSF {
    public static let version = "1.1.0"
    public static let classUID = 6003
    public static let categoryUID = 6

    /// OCSF's activity of an action: 1 Create, 2 Read, 3 Update, 4 Delete, 99 Other (with the action in
    /// `api.operation`).
    public static func activity(_ action: String) -> (id: Int, name: String) {
        switch action {
        case "created": (1, "Create")
        case "read", "viewed", "accessed", "exported", "downloaded": (2, "Read")
        case "updated": (3, "Update")
        case "deleted": (4, "Delete")
        default: (99, "Other")
        }
    }

    /// The API Activity record of `event`, in `productVersion` of Trail.
    public static func apiActivity(_ event: RecordedEvent, productVersion: String) -> JSONValue {
        let activity = activity(event.action)
        let status: (Int, String) = switch event.outcome {
        case .success: (1, "Success")
        case .failure: (2, "Failure")
        case .partial: (99, "Other")
        }
        var user: [(String, JSONValue)] = []
        if let actor = event.actor {
            if let id = actor["id"] { user.append(("uid", id)) }
            if let name = actor["name"] { user.append(("name", name)) }
            if let type = actor["type"] { user.append(("type", type)) }
        }
        var resource: [(String, JSONValue)] = []
        if let id = event.resourceId { resource.append(("uid", .string(id))) }
        if let type = event.resourceType { resource.append(("type", .string(type))) }
        if let name = event.resourceName { resource.append(("name", .string(name))) }
        if !event.changes.isEmpty { resource.append(("data", .object(JSONObject([.init(key: "changes", value: .object(event.changes))])))) }
        var record: [(String, JSONValue)] = [
            ("class_uid", number(classUID)), ("class_name", "API Activity"),
            ("category_uid", number(categoryUID)), ("category_name", "Application Activity"),
            ("activity_id", number(activity.id)), ("activity_name", .string(activity.name)),
            ("type_uid", number(classUID * 100 + activity.id)), ("type_name", .string("API Activity: \(activity.name)")),
            ("severity_id", number(event.outcome == .success ? 1 : 3)), ("severity", event.outcome == .success ? "Informational" : "Medium"),
            ("status_id", number(status.0)), ("status", .string(status.1)),
            ("time", .number(JSONNumber(Int(event.occurredAt.microseconds / 1000)))),
            ("message", .string(event.summary)),
            ("metadata", object([
                ("version", .string(version)),
                ("product", object([("name", "Trail"), ("vendor_name", "Trail"), ("version", .string(productVersion))])),
                ("uid", .string(event.id)),
                ("tenant_uid", .string(event.tenant)),
                ("sequence", .number(JSONNumber(Int(event.sequence)))),
                ("logged_time", .number(JSONNumber(Int(event.recordedAt.microseconds / 1000)))),
                ("original_time", .string(event.occurredAt.formatted())),
            ])),
            ("actor", object(user.isEmpty ? [] : [("user", object(user))])),
            ("api", object([("operation", .string(event.action))]
                + (event.context?["request_id"].map { [("request", object([("uid", $0)]))] } ?? []))),
            ("resources", .array(resource.isEmpty ? [] : [object(resource)])),
        ]
        var endpoint: [(String, JSONValue)] = []
        if let ip = event.context?["ip"] { endpoint.append(("ip", ip)) }
        record.append(("src_endpoint", object(endpoint)))
        if let agent = event.context?["user_agent"] { record.append(("http_request", object([("user_agent", agent)]))) }
        if let category = event.category { record.append(("unmapped", object([("category", .string(category))]))) }
        if let message = event.error?["message"] { record.append(("status_detail", message)) }
        return object(record)
    }

    private static func number(_ value: Int) -> JSONValue { .number(JSONNumber(value)) }

    private static func object(_ members: [(String, JSONValue)]) -> JSONValue {
        .object(JSONObject(members.map { JSONObject.Member(key: $0.0, value: $0.1) }))
    }
}
