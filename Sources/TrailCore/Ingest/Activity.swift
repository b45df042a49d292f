/// One event to record, normalised: an activity-stream payload in any of its formats (SPEC §2.1), or a generic
/// audit event in any of its dialects (SPEC §3). This is what Trail records.
public struct Activity: Sendable, Equatable {
    /// The canonical verb (`created`, `updated`, `deleted`) or a lower-cased custom action.
    public var action: String
    /// The actor as given, with `id` as a string; nil only for a generic event that failed with no known actor.
    public var actor: JSONObject?
    public var actorId: String?
    /// Always present for activity-stream events; a generic event may name only one, or neither.
    public var resourceType: String?
    public var resourceId: String?
    public var resourceName: String?
    /// The state data the payload carries (may be empty), not yet redacted.
    public var data: JSONObject
    /// `"update_mode": "replace"`: data is the whole new state rather than a merge patch.
    public var replace: Bool
    /// When it happened, if the payload said; Trail uses the time it received the event otherwise.
    public var occurredAt: Timestamp?
    public var context: JSONObject?
    public var metadata: JSONObject?
    public var category: String?
    public var outcome: Outcome
    public var durationMs: Int64?
    /// `{"message", "detail"}` of a failed action.
    public var error: JSONObject?
    /// The changes as the client reported them (generic events): stored as given, and each `new` value set at
    /// its path in the resource's state. Nil for activity-stream events, whose changes Trail computes.
    public var reportedChanges: [Change]?
    /// The summary the client wrote (generic events); Trail writes one otherwise.
    public var summary: String?
    /// The search index's tokens for the words of the personal values sealed in this activity
    /// (``PersonalDataPolicy/seal(_:keys:blindKey:)``), added to its searchable words.
    public var sealedWords: [String] = []

    public init(
        action: String, actor: JSONObject?, actorId: String?, resourceType: String?, resourceId: String?,
        data: JSONObject = JSONObject(), replace: Bool = false, occurredAt: Timestamp? = nil,
        context: JSONObject? = nil, metadata: JSONObject? = nil, resourceName: String? = nil,
        category: String? = nil, outcome: Outcome = .success, durationMs: Int64? = nil, error: JSONObject? = nil,
        reportedChanges: [Change]? = nil, summary: String? = nil
    ) {
        self.action = action
        self.actor = actor
        self.actorId = actorId
        self.resourceType = resourceType
        self.resourceId = resourceId
        self.resourceName = resourceName
        self.data = data
        self.replace = replace
        self.occurredAt = occurredAt
        self.context = context
        self.metadata = metadata
        self.category = category
        self.outcome = outcome
        self.durationMs = durationMs
        self.error = error
        self.reportedChanges = reportedChanges
        self.summary = summary
    }

    public var isLifecycle: Bool { action == Verb.created || action == Verb.updated || action == Verb.deleted }

    /// The resource whose state and versions this event concerns: only an event naming both a type and an id
    /// has one.
    public var resource: (type: String, id: String)? {
        guard let resourceType, let resourceId else { return nil }
        return (resourceType, resourceId)
    }

    /// Fills `ip`, `user_agent` and `request_id` from the request the event came in (SPEC §3: "unless the
    /// payload's own `context` says otherwise"): a key the payload's context has is kept as given.
    public mutating func addRequestContext(_ request: JSONObject) {
        guard !request.isEmpty else { return }
        var merged = context ?? JSONObject()
        for member in request where merged[member.key] == nil {
            merged.append(member.key, member.value)
        }
        context = merged
    }
}

/// Whether the recorded action succeeded (SPEC §3).
public enum Outcome: String, Sendable, CaseIterable {
    case success, failure, partial
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
