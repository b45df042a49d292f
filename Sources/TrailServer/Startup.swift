import Hummingbird
public import Logging
import ServiceLifecycle
import Synchronization
public import TrailStore
public import TrailService

/// `trail serve`: listens first, and only then opens (and creates or migrates) the store at `location` and
/// serves the API on it, with the queue workers and the checkpoint signer; runs until `SIGTERM` or `SIGINT`.
///
/// Listening first means that a port already in use fails the start at once, before any store file, schema or
/// key is made. Until the store is open, `/health` answers and everything else gets `503` with `Retry-After`.
/// On shutdown the server stops taking requests and finishes those it has, then the workers and the signer
/// stop, then the store closes.
///
/// - Parameters:
///   - onListening: called with `host:port` once the server listens, before the store is opened.
///   - onStoreOpened: called with the open store before the API is served on it (the first admin key).
public func runServer(
    configuration: ServerConfiguration,
    location: StoreLocation,
    storeConfiguration: StoreConfiguration = StoreConfiguration(),
    workers: WorkerConfiguration = WorkerConfiguration(),
    checkpoints: CheckpointConfiguration = CheckpointConfiguration(),
    logger: Logger,
    onListening: @escaping @Sendable (String) -> Void = { _ in },
    onStoreOpened: @escaping @Sendable (any TrailStorage) async throws -> Void = { _ in }
) async throws {
    let responder = SwitchingResponder(startingRouter(configuration: configuration, logger: logger).buildResponder())
    let (listening, listened) = AsyncStream<String>.makeStream()
    let app = Application(
        responder: responder,
        server: httpServer(configuration),
        configuration: configuration.application,
        onServerRunning: { channel in
            listened.yield(configuration.address(of: channel))
            listened.finish()
        },
        logger: serverLogger(logger))
    let store = StoreOpening(listening: listening) { address in
        onListening(address)
        try await location.withStore(configuration: storeConfiguration, logger: logger) { store in
            try await onStoreOpened(store)
            let checkpointer = Checkpointer(store: store, configuration: checkpoints, logger: logger)
            responder.switchTo(buildRouter(configuration: configuration, store: store, logger: logger,
                                           checkpointer: checkpointer).buildResponder())
            logger.info("Trail ready: the store is open and the API served")
            // Until graceful shutdown: the signer always runs, and the workers' loops end with it too.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for service in backgroundServices(configuration: configuration, store: store, workers: workers, checkpointer: checkpointer, logger: logger) {
                    group.addTask { try await service.run() }
                }
                try await group.waitForAll()
            }
        }
    }
    // Shut down in reverse order: the server first, the store's users after it. A store that fails to open
    // stops the server gracefully (it has nothing to serve), and its error is what the start reports.
    let group = ServiceGroup(configuration: .init(
        services: [.init(service: store, failureTerminationBehavior: .gracefullyShutdownGroup), .init(service: app)],
        gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
    try await group.run()
}

/// Opens the store once the server listens; not at all if the server never does (its port is taken).
private struct StoreOpening: Service {
    let listening: AsyncStream<String>
    let body: @Sendable (String) async throws -> Void

    func run() async throws {
        var addresses = listening.makeAsyncIterator()
        // Nil when the group was cancelled: the server failed to listen.
        guard let address = await addresses.next() else { return }
        try await body(address)
    }
}

/// The responder of a server that starts before its store opens: the starting router, then the API's.
final class SwitchingResponder: HTTPResponder, Sendable {
    typealias Context = TrailRequestContext
    private let current: Mutex<RouterResponder<TrailRequestContext>>

    init(_ starting: RouterResponder<TrailRequestContext>) {
        current = Mutex(starting)
    }

    func switchTo(_ responder: RouterResponder<TrailRequestContext>) {
        current.withLock { $0 = responder }
    }

    func respond(to request: Request, context: Context) async throws -> Response {
        try await current.withLock { $0 }.respond(to: request, context: context)
    }
}

/// What a server answers while its store opens: `/health`, `/ready` (not ready yet), `/metrics` (those known
/// without a store) and `503` for anything else.
func startingRouter(configuration: ServerConfiguration, logger: Logger) -> Router<TrailRequestContext> {
    let router = Router(context: TrailRequestContext.self, options: .autoGenerateHeadEndpoints)
    addOuterMiddleware(to: router, configuration: configuration, logger: logger)
    router.add(middleware: StartingMiddleware())
    let routes = Routes(router: router, table: RouteTable())
    HealthController(store: nil).addRoutes(to: routes)
    if let registry = configuration.metrics { MetricsController(registry: registry, gauges: nil).addRoutes(to: routes) }
    return router
}

private struct StartingMiddleware: RouterMiddleware {
    typealias Context = TrailRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard ["/health", "/ready", "/metrics"].contains(context.endpointPath) else {
            throw Problem(.serviceUnavailable, "starting", title: "Starting",
                          detail: "Trail is starting: its store is being opened. Retry shortly.",
                          headers: [.retryAfter: "1"])
        }
        return try await next(request, context)
    }
}
