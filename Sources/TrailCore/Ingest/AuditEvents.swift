/// Normalisation of generic audit events (SPEC §3): Trail's own shape and the dialects of the audit systems it
/// replaces (a FastAPI audit framework, a Django audit trail, a Hive audit library). For each field the first
/// alias present (and not `null`) wins. Every item is checked and every fault reported before anything is stored.
public enum AuditEvents {
    public static let maximumCategoryLength = 100
    public static let maximumNameLength = 500
    public static let maximumSummaryLength = 2_000

    /// The keys Trail reads; any other top-level key goes into `metadata`.
    public static let knownKeys: Set<String> = [
        "action", "event_type", "action_type", "verb", "category", "action_category",
        "actor", "user_id", "user", "username", "user_email",
        "resource", "entity_type", "model_name", "resource_type", "entity_id", "object_id", "resource_id",
        "entity_name", "object_repr", "outcome", "status", "occurred_at", "timestamp", "duration_ms",
        "error", "error_message", "error_traceback", "context", "ip_address", "user_agent", "request_id",
        "changes", "field_name", "old_value", "new_value", "summary", "description", "action_description",
        "metadata", "extra_data", "tenant",
    ]

    /// `{"logs": [...]}` (the batch endpoint).
    public static func batch(from body: JSONValue) -> Result<[Activity], InvalidSubmission> {
        guard case .object(let object) = body, case .array(let items)? = object["logs"] else {
            return .failure(InvalidSubmission(errors: [
                FieldError(index: nil, path: "logs", message: "the body must be an object with \"logs\": an array of audit events")
            ]))
        }
        return events(items, indexed: true)
    }

    /// One event (the single-event endpoint): errors carry no index.
    public static func single(from body: JSONValue) -> Result<Activity, InvalidSubmission> {
        events([body], indexed: false).map { $0[0] }
    }

    static func events(_ items: [JSONValue], indexed: Bool) -> Result<[Activity], InvalidSubmission> {
        var events: [Activity] = []
        var errors: [FieldError] = []
        events.reserveCapacity(items.count)
        for (index, item) in items.enumerated() {
            switch event(from: item, index: indexed ? index : nil) {
            case .success(let event): events.append(event)
            case .failure(let failure): errors.append(contentsOf: failure.errors)
            }
        }
        guard errors.isEmpty else { return .failure(InvalidSubmission(errors: errors)) }
        return .success(events)
    }

    /// Normalises one event; `index` is its place in a batch, for error reports. Each field is read by a step
    /// of its own (``AuditEventReader``), in this order, and every fault of every step is reported.
    public static func event(from item: JSONValue, index: Int?) -> Result<Activity, InvalidSubmission> {
        guard case .object(let payload) = item else {
            return .failure(InvalidSubmission(errors: [FieldError(index: index, path: "", message: "an audit event must be a JSON object, not \(item.kindName)")]))
        }
        let reader = AuditEventReader(payload, index: index)
        let action = reader.action()
        let category = reader.text(["category", "action_category"], limit: maximumCategoryLength, what: "a category")
        let outcome = reader.outcome()
        let (actor, actorId) = reader.actor(outcome: outcome)
        let (resourceType, resourceId, resourceName) = reader.resource()
        let occurredAt = reader.occurredAt()
        let durationMs = reader.durationMs()
        let error = reader.error()
        let context = reader.context()
        let changes = reader.changes()
        let summary = reader.text(["summary", "description", "action_description"], limit: maximumSummaryLength, what: "a summary")
        let metadata = reader.metadata()
        guard reader.errors.isEmpty else { return .failure(InvalidSubmission(errors: reader.errors)) }
        return .success(Activity(
            action: action, actor: actor, actorId: actorId, resourceType: resourceType, resourceId: resourceId,
            occurredAt: occurredAt, context: context, metadata: metadata, resourceName: resourceName,
            category: category, outcome: outcome, durationMs: durationMs, error: error,
            reportedChanges: changes, summary: summary))
    }
}

extension JSONValue {
    /// The value, or nil for JSON `null`.
    var nonNull: JSONValue? {
        if isNull { return Optional.none }
        return self
    }
}
