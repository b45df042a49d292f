public import Hummingbird
public import Logging
public import TrailStore

/// Builds Trail's HTTP application: what `trail serve` runs and what the tests run.
///
/// - Parameters:
///   - store: where events are kept (opened by the caller, e.g. with `StoreLocation.withStore`).
///   - onServerRunning: called with the bound address once the server listens (useful with port 0).
public func buildApplication(
    configuration: ServerConfiguration,
    store: any TrailStorage,
    workers: WorkerConfiguration = WorkerConfiguration(),
    checkpoints: CheckpointConfiguration = CheckpointConfiguration(),
    logger: Logger = Logger(label: "trail"),
    onServerRunning: @escaping @Sendable (String) async -> Void = { _ in }
) -> some ApplicationProtocol {
    let router = buildRouter(configuration: configuration, store: store)
    return Application(
        router: router,
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: nil),
        // A service that returns ends the whole application: with no workers, there is no worker service.
        services: (workers.count > 0 ? [MessageWorkers(store: store, configuration: workers, logger: logger)] : [])
            + [Checkpointer(store: store, configuration: checkpoints, logger: logger)],
        onServerRunning: { channel in
            await onServerRunning(channel.localAddress.map { "\($0.ipAddress ?? configuration.host):\($0.port ?? configuration.port)" } ?? "")
        },
        logger: logger
    )
}

/// The router alone, for in-process tests.
public func buildRouter(configuration: ServerConfiguration, store: any TrailStorage) -> Router<TrailRequestContext> {
    let router = Router(context: TrailRequestContext.self)
    // Outermost, so that every response carries the request id, errors included.
    router.add(middleware: RequestIDMiddleware())
    // Outside the error mapping, so that error responses carry them too.
    router.add(middleware: SecurityHeadersMiddleware())
    if !configuration.allowedOrigins.isEmpty {
        router.add(middleware: AllowedOriginsMiddleware(allowedOrigins: Set(configuration.allowedOrigins)))
    }
    router.add(middleware: ProblemMiddleware())
    HealthController().addRoutes(to: router)
    let integrity = IntegrityController(store: store)
    integrity.addPublicRoutes(to: router)
    // Everything else needs a caller (SPEC §7); each route checks what the caller may do.
    let origin = RequestOrigin(trustedProxies: configuration.trustedProxies)
    let access = AccessLog(store: store, origin: origin)
    let keys = KeyCache(keys: store)
    let api = router.group().add(middleware: AuthenticationMiddleware(
        mode: configuration.authentication, keys: keys, limiter: configuration.rateLimit.map(RateLimiter.init(limit:)),
        tokens: configuration.jwt.map(JWTVerifier.init), access: access))
    // Reads of the log are recorded (meta-audit), once the caller is known.
    api.add(middleware: AccessAuditMiddleware(log: access))
    let body = JSONBodyReader(maximumBytes: configuration.maximumBodyBytes)
    IngestController(
        store: store,
        body: body,
        gate: QueueGate(maximumOpen: configuration.maximumQueuedMessages),
        origin: origin
    ).addRoutes(to: api)
    MessagesController(store: store).addRoutes(to: api)
    ResourcesController(store: store).addRoutes(to: api)
    AuditLogsController(store: store).addRoutes(to: api)
    CompatibilityController(store: store).addRoutes(to: api)
    KeysController(keys: store, cache: keys, body: body, access: access).addRoutes(to: api)
    integrity.addRoutes(to: api)
    return router
}
