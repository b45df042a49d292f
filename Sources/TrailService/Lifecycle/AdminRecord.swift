public import TrailCore
import TrailStore

/// Who made Trail keep or forget something (SPEC §11): a caller of the API, an operator at the command line, or
/// the schedule of `trail serve`.
public struct Operator: Sendable, Equatable {
    public var id: String
    /// `api_key`, `jwt`, `operator` (the command line), `system` (the schedule).
    public var type: String
    /// `ip`, `user_agent`, `request_id` of the request, when there was one.
    public var requestContext: JSONObject

    public init(id: String, type: String, requestContext: JSONObject = JSONObject()) {
        self.id = id
        self.type = type
        self.requestContext = requestContext
    }

    public init(_ principal: Principal, requestContext: JSONObject = JSONObject()) {
        self.init(id: principal.subject, type: principal.credential.rawValue, requestContext: requestContext)
    }

    /// `trail cleanup`, `trail retention set` and the other commands.
    public static let commandLine = Operator(id: "trail", type: "operator")
    /// `trail serve --retention-interval`.
    public static let schedule = Operator(id: "retention-schedule", type: "system")
}

/// The audit events of data lifecycle decisions: category `AUDIT_ADMIN`, in the tenant's log like any other
/// event, so that the log records who made it forget, and what.
struct AdminRecord: Sendable {
    static let category = RemovalClaims.category

    let store: any EventStore

    func record(_ action: String, tenant: String, by who: Operator, summary: String, metadata: JSONObject) async throws(StoreError) {
        var actor = JSONObject()
        actor.append("id", .string(who.id))
        actor.append("type", .string(who.type))
        var activity = Activity(
            action: action, actor: actor, actorId: who.id, resourceType: nil, resourceId: nil, metadata: metadata,
            category: Self.category, outcome: .success, reportedChanges: [], summary: summary)
        if !who.requestContext.isEmpty { activity.addRequestContext(who.requestContext) }
        _ = try await store.append(AppendRequest(tenant: tenant, activities: [activity]))
    }
}
