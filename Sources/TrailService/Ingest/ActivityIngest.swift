public import TrailCore
public import TrailStore

/// The ingest path shared by the HTTP endpoints, the queue workers and `trail ingest`: strict parse, normalise
/// (activity-stream payloads or generic audit events), one atomic append, or one queued message.
public struct ActivityIngest: Sendable {
    public let store: any TrailStorage
    public let tenant: String
    /// Refuses queued submissions while the queue is full; nil for no limit.
    public let gate: QueueGate?
    /// Where the submissions come from (the label of the events in `trail_events_ingested_total`).
    public let source: IngestSource

    /// What a body holds; also the kind of the queued message it makes (SPEC §9), so a worker parses it again
    /// the same way.
    public enum Format: String, Sendable, CaseIterable {
        /// One payload, a batch or a wrapper (SPEC §2).
        case activityStream = "activity-stream"
        /// One generic audit event (SPEC §3).
        case auditEvent = "audit-event"
        /// `{"logs": [...]}` (SPEC §3).
        case auditEventBatch = "audit-event-batch"
    }

    public init(store: any TrailStorage, tenant: String = TenantName.default, gate: QueueGate? = nil,
                source: IngestSource = .http) {
        self.store = store
        self.tenant = tenant
        self.gate = gate
        self.source = source
    }

    public static let maximumIdempotencyKeyLength = 255

    /// Turns a body into the request to append; nothing is stored yet.
    /// - Parameters:
    ///   - idempotencyKey: the `Idempotency-Key` header, which wins over a wrapper's `id`.
    ///   - requestContext: `ip`, `user_agent`, `request_id` of the HTTP request, added to each event's context
    ///     where the payload does not say otherwise.
    public func prepare(
        body: some Collection<UInt8>, format: Format = .activityStream, idempotencyKey: String?,
        requestContext: JSONObject? = nil
    ) throws(ServiceError) -> AppendRequest {
        let json: JSONValue
        do {
            json = try JSONParser.parse(body)
        } catch {
            throw ServiceError.badJSON(error)
        }
        if let (path, literal) = CanonicalJSON.unrepresentableNumber(in: json) {
            // Such a number has no canonical form, so the event could not be hashed (SPEC §8).
            throw ServiceError.invalid(InvalidSubmission(errors: [FieldError(
                index: nil, path: path,
                message: "the number \(literal) is beyond the range of IEEE 754 doubles, which the hash chain requires (RFC 8785)")]))
        }
        func accepted<T>(_ result: Result<T, InvalidSubmission>) throws(ServiceError) -> T {
            switch result {
            case .success(let value): return value
            case .failure(let failure): throw ServiceError.invalid(failure)
            }
        }
        var activities: [Activity]
        var wrapperId: String? = nil
        switch format {
        case .activityStream:
            let submission = try accepted(ActivityStream.submission(from: json))
            (activities, wrapperId) = (submission.activities, submission.wrapperId)
        case .auditEvent:
            activities = [try accepted(AuditEvents.single(from: json))]
        case .auditEventBatch:
            activities = try accepted(AuditEvents.batch(from: json))
        }
        if let idempotencyKey {
            guard !idempotencyKey.isEmpty, idempotencyKey.codePoints <= ActivityIngest.maximumIdempotencyKeyLength else {
                throw ServiceError.badRequest(
                    "The Idempotency-Key header must be 1 to \(ActivityIngest.maximumIdempotencyKeyLength) characters.",
                    path: "Idempotency-Key")
            }
        }
        if let requestContext, !requestContext.isEmpty {
            for index in activities.indices { activities[index].addRequestContext(requestContext) }
        }
        let claim = (idempotencyKey ?? wrapperId).map {
            IdempotencyClaim(key: $0, requestDigest: RequestDigest.of(json, kind: format == .activityStream ? nil : format.rawValue))
        }
        return AppendRequest(tenant: tenant, activities: activities, idempotency: claim)
    }

    /// Prepares and stores one submission. Throws a ``ServiceError`` for a refused body, a `StoreError` when the
    /// store fails.
    public func ingest(
        body: some Collection<UInt8>, format: Format = .activityStream, idempotencyKey: String?,
        requestContext: JSONObject? = nil
    ) async throws -> AppendResult {
        let request = try prepare(body: body, format: format, idempotencyKey: idempotencyKey, requestContext: requestContext)
        let result = try await store.append(request)
        if !result.replayed { ServiceMetrics.ingested(result.events.count, source: source, format: format) }
        return result
    }

    /// Validates one submission now and queues it for a worker (`Prefer: respond-async`): a refused body throws
    /// a ``ServiceError`` and nothing is queued.
    public func enqueue(
        body: some Collection<UInt8>, format: Format = .activityStream, idempotencyKey: String?,
        requestContext: JSONObject? = nil
    ) async throws -> EnqueueResult {
        let request = try prepare(body: body, format: format, idempotencyKey: idempotencyKey, requestContext: requestContext)
        return try await enqueue(request, format: format, body: body, requestContext: requestContext)
    }

    /// Queues a submission already prepared from `body` (unless the ``gate`` says the queue is full); the worker
    /// prepares the body again with the same request context.
    private func enqueue(
        _ request: AppendRequest, format: Format, body: some Collection<UInt8>, requestContext: JSONObject?
    ) async throws -> EnqueueResult {
        try await gate?.check(store)
        var seen = Set<ResourceKey>()
        let resources = request.activities.compactMap { $0.resource.map { ResourceKey(type: $0.type, id: $0.id) } }
            .filter { seen.insert($0).inserted }
        let result = try await store.enqueue(NewMessage(
            tenant: tenant, kind: format.rawValue, body: Array(body), idempotency: request.idempotency,
            resources: resources, requestContext: requestContext.flatMap { $0.isEmpty ? nil : $0 }))
        if !result.replayed {
            gate?.queued()
            ServiceMetrics.messageQueued()
        }
        return result
    }
}
