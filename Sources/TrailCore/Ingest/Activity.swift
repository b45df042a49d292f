/// One activity-stream payload, normalised: whatever format it came in (SPEC §2.1), this is what Trail records.
public struct Activity: Sendable, Equatable {
    /// The canonical verb (`created`, `updated`, `deleted`) or a lower-cased custom action.
    public var action: String
    /// The actor as given, with `id` as a string.
    public var actor: JSONObject
    public var actorId: String
    public var resourceType: String
    public var resourceId: String
    /// The state data the payload carries (may be empty), not yet redacted.
    public var data: JSONObject
    /// `"update_mode": "replace"`: data is the whole new state rather than a merge patch.
    public var replace: Bool
    /// When it happened, if the payload said; Trail uses the time it received the event otherwise.
    public var occurredAt: Timestamp?
    public var context: JSONObject?
    public var metadata: JSONObject?

    public init(
        action: String, actor: JSONObject, actorId: String, resourceType: String, resourceId: String,
        data: JSONObject = JSONObject(), replace: Bool = false, occurredAt: Timestamp? = nil,
        context: JSONObject? = nil, metadata: JSONObject? = nil
    ) {
        self.action = action
        self.actor = actor
        self.actorId = actorId
        self.resourceType = resourceType
        self.resourceId = resourceId
        self.data = data
        self.replace = replace
        self.occurredAt = occurredAt
        self.context = context
        self.metadata = metadata
    }

    public var isLifecycle: Bool { action == Verb.created || action == Verb.updated || action == Verb.deleted }
}

/// One reason a payload was refused: which item of the submission (`index`), which field (`path`, dotted like
/// change paths; empty for the item itself) and what to do about it.
public struct FieldError: Sendable, Equatable, CustomStringConvertible {
    public var index: Int?
    public var path: String
    public var message: String

    public init(index: Int?, path: String, message: String) {
        self.index = index
        self.path = path
        self.message = message
    }

    public var description: String {
        let location = [index.map { "item \($0)" }, path.isEmpty ? nil : path].compactMap { $0 }
        return location.isEmpty ? message : location.joined(separator: ", ") + ": " + message
    }
}

/// A submission with at least one invalid item; nothing of it may be stored.
public struct InvalidSubmission: Error, Sendable, Equatable {
    public var errors: [FieldError]
    public init(errors: [FieldError]) { self.errors = errors }
}

/// What one request to the activity-stream endpoint asks Trail to record.
public struct Submission: Sendable, Equatable {
    public var activities: [Activity]
    /// The wrapper's `id`, which identifies the submission for idempotency (SPEC §2.7).
    public var wrapperId: String?

    public init(activities: [Activity], wrapperId: String? = nil) {
        self.activities = activities
        self.wrapperId = wrapperId
    }
}
