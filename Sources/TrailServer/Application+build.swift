public import Hummingbird
import HummingbirdCore
public import Logging
import NIOCore
import ServiceLifecycle
public import TrailStore
public import TrailService

/// Builds Trail's HTTP application on a store that is already open: what the tests run. (`trail serve` runs
/// ``runServer(configuration:location:storeConfiguration:workers:checkpoints:logger:onListening:onStoreOpened:)``,
/// which listens before it opens its store, and then serves the same router and services.)
///
/// - Parameters:
///   - store: where events are kept (opened by the caller, e.g. with `StoreLocation.withStore`).
///   - logger: the application's logger; by default (nil) one that logs warnings and worse only (a line per
///     request at `info` is for `trail serve`'s operators, not for test runs).
///   - onServerRunning: called with the bound address once the server listens (useful with port 0).
public func buildApplication(
    configuration: ServerConfiguration,
    store: any TrailStorage,
    workers: WorkerConfiguration = WorkerConfiguration(),
    checkpoints: CheckpointConfiguration = CheckpointConfiguration(),
    logger: Logger? = nil,
    onServerRunning: @escaping @Sendable (String) async -> Void = { _ in }
) -> some ApplicationProtocol {
    let logger = logger ?? .quiet
    let checkpointer = Checkpointer(store: store, configuration: checkpoints, logger: logger)
    return Application(
        router: buildRouter(configuration: configuration, store: store, logger: logger, checkpointer: checkpointer),
        server: httpServer(configuration),
        configuration: configuration.application,
        services: backgroundServices(configuration: configuration, store: store, workers: workers, checkpointer: checkpointer, logger: logger),
        onServerRunning: { channel in await onServerRunning(configuration.address(of: channel)) },
        logger: serverLogger(logger)
    )
}

/// HTTP/1.1, with deadlines for receiving requests and problem+json answers to requests that cannot be parsed or
/// do not arrive in time.
func httpServer(_ configuration: ServerConfiguration) -> HTTPServerBuilder {
    let timeout = configuration.requestTimeout
    return .http1(configuration: .init(additionalChannelHandlers: [RequestDeadlineHandler(timeout: timeout), ProtocolErrorHandler()]))
}

/// What runs beside the HTTP server on an open store: queue workers (none when `workers.count` is 0: a service
/// that returns would end the whole application), the checkpoint signer, and the retention schedule if asked for.
func backgroundServices(
    configuration: ServerConfiguration, store: any TrailStorage, workers: WorkerConfiguration, checkpointer: Checkpointer,
    logger: Logger
) -> [any Service] {
    var services: [any Service] = workers.count > 0 ? [MessageWorkers(store: store, configuration: workers, logger: logger)] : []
    services.append(checkpointer)
    services.append(LogFollowers(store: store, configuration: configuration.followers, logger: logger))
    if let interval = configuration.retentionInterval {
        let retention = Retention(store: store, minimumDays: configuration.minimumRetentionDays)
        services.append(RetentionSchedule(retention: retention, interval: interval, logger: logger))
    }
    return services
}

/// The logger Hummingbird's server is given: at `notice` at least, so that its own `info` lines ("Server started
/// and listening", "Shutting down") do not repeat what Trail says. Requests get the configured level back
/// (``RequestIDMiddleware``).
func serverLogger(_ logger: Logger) -> Logger {
    var quieter = logger
    quieter.logLevel = max(logger.logLevel, .notice)
    return quieter
}

extension ServerConfiguration {
    var application: ApplicationConfiguration {
        ApplicationConfiguration(address: .hostname(host, port: port), serverName: nil,
                                 availableConnectionsDelegate: MaximumAvailableConnections(maximumConnections))
    }

    /// `host:port` of a listening channel.
    func address(of channel: any Channel) -> String {
        channel.localAddress.map { "\($0.ipAddress ?? host):\($0.port ?? port)" } ?? "\(host):\(port)"
    }
}

extension Logger {
    /// Warnings and worse, for applications built in tests.
    static var quiet: Logger {
        var logger = Logger(label: "trail")
        logger.logLevel = .warning
        return logger
    }
}

/// The router alone, for in-process tests.
///
/// - Parameters:
///   - routes: filled with every route registered (pass one to look at them).
///   - checkpointer: the signer running beside the router, whose lag `/metrics` reports; nil for none.
public func buildRouter(configuration: ServerConfiguration, store: any TrailStorage,
                        logger: Logger? = nil, routes table: RouteTable = RouteTable(),
                        checkpointer: Checkpointer? = nil) -> Router<TrailRequestContext> {
    let logger = logger ?? .quiet
    // HEAD is answered on every GET route, by it, without the body.
    let router = Router(context: TrailRequestContext.self, options: .autoGenerateHeadEndpoints)
    addOuterMiddleware(to: router, configuration: configuration, logger: logger)
    let open = Routes(router: router, table: table)
    HealthController(store: store).addRoutes(to: open)
    OpenAPIController().addRoutes(to: open)
    let live = LiveEvents(store: store, configuration: configuration.live, logger: logger)
    if let registry = configuration.metrics {
        MetricsController(registry: registry, gauges: ScrapeGauges(store: store, checkpointer: checkpointer, live: live, logger: logger))
            .addRoutes(to: open)
    }
    let integrity = IntegrityController(store: store)
    integrity.addPublicRoutes(to: open)
    // Everything else needs a caller (SPEC §7); each route checks what the caller may do.
    let origin = RequestOrigin(trustedProxies: configuration.trustedProxies)
    let access = AccessLog(recorder: AccessRecorder(store: store), origin: origin, routes: table)
    let keys = KeyCache(keys: store)
    let authentication = AuthenticationMiddleware(
        mode: configuration.authentication, keys: keys, limiter: configuration.rateLimit.map(RateLimiter.init(limit:)),
        failures: configuration.authenticationFailureLimit.map(RateLimiter.init(limit:)),
        tokens: configuration.jwt.map(JWTVerifier.init), access: access)
    // The web console (SPEC §12): its own sessions, signed in with the same credentials under the same limits;
    // its routes are not the API's (no OpenAPI operations), so they have a table of their own.
    ConsoleController(
        store: store, sessions: ConsoleSessions(store: store, keys: keys, configuration: configuration.console), keys: keys,
        authentication: authentication, access: AccessLog(recorder: access.recorder, origin: origin, routes: RouteTable()),
        live: live, minimumRetentionDays: configuration.minimumRetentionDays
    ).addRoutes(to: router)
    let group = router.group().add(middleware: authentication)
    // Reads of the log are recorded (meta-audit), once the caller is known.
    group.add(middleware: AccessAuditMiddleware(log: access))
    let api = Routes(router: group, table: table)
    let body = JSONBodyReader(maximumBytes: configuration.maximumBodyBytes, budget: BodyBudget(limit: configuration.bodyMemory))
    IngestController(
        store: store,
        body: body,
        gate: QueueGate(maximumOpen: configuration.maximumQueuedMessages),
        origin: origin
    ).addRoutes(to: api)
    MessagesController(store: store).addRoutes(to: api)
    ResourcesController(store: store).addRoutes(to: api)
    AuditLogsController(store: store).addRoutes(to: api)
    StreamController(live: live).addRoutes(to: api)
    CompatibilityController(store: store).addRoutes(to: api)
    KeysController(keys: KeyManagement(keys: store, cache: keys), body: body, access: access).addRoutes(to: api)
    integrity.addRoutes(to: api)
    LifecycleController(
        retention: Retention(store: store, minimumDays: configuration.minimumRetentionDays),
        holds: LegalHolds(store: store), erasures: Erasures(store: store), personalData: PersonalDataSettings(store: store),
        body: body, origin: origin
    ).addRoutes(to: api)
    SinksController(sinks: Sinks(store: store, allowPrivate: configuration.followers.allowPrivateSinks), body: body, origin: origin)
        .addRoutes(to: api)
    AlertsController(rules: AlertRules(store: store), body: body, origin: origin).addRoutes(to: api)
    // Last: the methods each path lacks are 405 (with Allow), not 404.
    table.addMethodAnswers(to: router)
    return router
}

/// What every response goes through, the API's and those of a server still opening its store: the request id
/// (outermost, so that every response and log line carries it), the request's log line and metrics, security headers and
/// CORS (outside the error mapping, so that error responses carry them too), problem+json.
func addOuterMiddleware(to router: Router<TrailRequestContext>, configuration: ServerConfiguration, logger: Logger) {
    router.add(middleware: RequestIDMiddleware(logLevel: logger.logLevel))
    router.add(middleware: RequestLogMiddleware(metrics: configuration.metrics.map { _ in TrailMetrics.Requests() }))
    router.add(middleware: SecurityHeadersMiddleware())
    if !configuration.allowedOrigins.isEmpty {
        router.add(middleware: AllowedOriginsMiddleware(allowedOrigins: Set(configuration.allowedOrigins)))
    }
    router.add(middleware: ProblemMiddleware())
}
