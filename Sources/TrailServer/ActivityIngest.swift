import TrailCore
public import TrailStore

/// The activity-stream ingest path shared by the HTTP endpoints and `trail ingest`: strict parse, normalise,
/// one atomic append.
public struct ActivityIngest: Sendable {
    public let store: any TrailStorage
    public let tenant: String

    /// The kind of queued message this path makes (SPEC §9).
    public static let messageKind = "activity-stream"

    public init(store: any TrailStorage, tenant: String = ServerConfiguration.defaultTenant) {
        self.store = store
        self.tenant = tenant
    }

    public static let maximumIdempotencyKeyLength = 255

    /// Turns a body into the request to append; nothing is stored yet.
    /// - Parameter idempotencyKey: the `Idempotency-Key` header, which wins over a wrapper's `id`.
    public func prepare(body: some Collection<UInt8>, idempotencyKey: String?) throws(Problem) -> AppendRequest {
        let json: JSONValue
        do {
            json = try JSONParser.parse(body)
        } catch {
            throw Problem.badJSON(error)
        }
        let submission: Submission
        switch ActivityStream.submission(from: json) {
        case .success(let value): submission = value
        case .failure(let failure): throw Problem.invalid(failure)
        }
        if let idempotencyKey {
            guard !idempotencyKey.isEmpty, idempotencyKey.count <= ActivityIngest.maximumIdempotencyKeyLength else {
                throw Problem.badRequest(
                    "The Idempotency-Key header must be 1 to \(ActivityIngest.maximumIdempotencyKeyLength) characters.",
                    path: "Idempotency-Key")
            }
        }
        let claim = (idempotencyKey ?? submission.wrapperId).map {
            IdempotencyClaim(key: $0, requestDigest: RequestDigest.of(json))
        }
        return AppendRequest(tenant: tenant, activities: submission.activities, idempotency: claim)
    }

    /// Prepares and stores one submission. Throws a ``Problem`` for a refused body, a `StoreError` when the
    /// store fails (mapped and logged by ``ProblemMiddleware`` over HTTP).
    public func ingest(body: some Collection<UInt8>, idempotencyKey: String?) async throws -> AppendResult {
        let request = try prepare(body: body, idempotencyKey: idempotencyKey)
        return try await store.append(request)
    }

    /// Validates one submission now and queues it for a worker (`Prefer: respond-async`): a refused body throws
    /// a ``Problem`` and nothing is queued.
    public func enqueue(body: some Collection<UInt8>, idempotencyKey: String?) async throws -> EnqueueResult {
        try await enqueue(try prepare(body: body, idempotencyKey: idempotencyKey), body: body)
    }

    /// Queues a submission already prepared from `body`.
    public func enqueue(_ request: AppendRequest, body: some Collection<UInt8>) async throws -> EnqueueResult {
        var seen = Set<ResourceKey>()
        let resources = request.activities.map { ResourceKey(type: $0.resourceType, id: $0.resourceId) }
            .filter { seen.insert($0).inserted }
        return try await store.enqueue(NewMessage(
            tenant: tenant, kind: ActivityIngest.messageKind, body: Array(body), idempotency: request.idempotency,
            resources: resources))
    }
}
