public import Prometheus
public import TrailService

/// Everything the HTTP service can be told. Defaults are those documented in the README. (Where the data lives
/// is the store's business: see `StoreLocation`.)
public struct ServerConfiguration: Sendable {
    /// Address to listen on. Default `127.0.0.1`: reachable only from this machine until you say otherwise.
    public var host: String
    /// Port to listen on. Default 9002; 0 picks a free port (logged on start).
    public var port: Int
    /// Largest accepted request body, in bytes. Default 10 MiB.
    public var maximumBodyBytes: Int
    /// Async submissions are refused (503) while the queue holds this many open messages. Default 100,000.
    public var maximumQueuedMessages: Int
    /// Peers whose `X-Forwarded-For` is believed (SPEC §7): the client address of a request from one of them is
    /// taken from that header. Default none: the socket peer is the client.
    public var trustedProxies: [IPNetwork]
    /// Whether callers must present credentials. Default `.required`; `.disabled` only for local experiments.
    public var authentication: AuthenticationMode
    /// JWT bearer tokens accepted besides API keys; nil (the default) for none.
    public var jwt: JWTConfiguration?
    /// Requests per second each API key may make; nil for no limit. Default ``RateLimit/default``.
    public var rateLimit: RateLimit?
    /// Failed authentications each client address may make; nil for no limit. Default
    /// ``RateLimit/authenticationFailures``.
    public var authenticationFailureLimit: RateLimit?
    /// Origins (`https://console.example.com`) whose pages may call Trail from a browser (CORS). Default none.
    public var allowedOrigins: [String]
    /// The registry `GET /metrics` writes out, the process's metrics backend
    /// (``TrailMetrics/bootstrapPrometheus()``); nil (the default) for no `/metrics` and no request metrics.
    public var metrics: PrometheusCollectorRegistry?
    /// How long a client may take to send a request's head (counted from when its connection opens or goes idle)
    /// and then its body; a connection that misses either is answered 408 and closed. Default 30 seconds.
    public var requestTimeout: Duration
    /// Bytes of request bodies held at once over all connections; a body that would go over is refused 503 with
    /// `Retry-After`. At least ``maximumBodyBytes``. Default 256 MiB.
    public var bodyMemory: Int
    /// Connections open at once; more wait in the listen backlog until one closes. Default 1024.
    public var maximumConnections: Int
    /// The fewest days a retention rule may keep events (SPEC §11); rules below are refused. Default 0.
    public var minimumRetentionDays: Double
    /// How often `trail serve` runs every tenant's retention rules; nil (the default) never: `trail cleanup` or
    /// `POST /api/v1/retention/run` then do.
    public var retentionInterval: Duration?
    /// How live tails (`GET /api/v1/audit/stream`) are served.
    public var live: LiveConfiguration
    /// How sinks and alert rules are run, and whether sinks may reach private networks.
    public var followers: FollowerConfiguration
    /// How long web console sessions last (idle and absolute).
    public var console: ConsoleSessionConfiguration

    public init(host: String = "127.0.0.1", port: Int = 9002, maximumBodyBytes: Int = 10 * 1024 * 1024,
                maximumQueuedMessages: Int = 100_000, trustedProxies: [IPNetwork] = [],
                authentication: AuthenticationMode = .required, jwt: JWTConfiguration? = nil, rateLimit: RateLimit? = .default,
                authenticationFailureLimit: RateLimit? = .authenticationFailures, allowedOrigins: [String] = [],
                metrics: PrometheusCollectorRegistry? = nil, requestTimeout: Duration = .seconds(30),
                bodyMemory: Int = 256 * 1024 * 1024, maximumConnections: Int = 1024,
                minimumRetentionDays: Double = 0, retentionInterval: Duration? = nil,
                live: LiveConfiguration = LiveConfiguration(), followers: FollowerConfiguration = FollowerConfiguration(),
                console: ConsoleSessionConfiguration = ConsoleSessionConfiguration()) {
        self.host = host
        self.port = port
        self.maximumBodyBytes = maximumBodyBytes
        self.maximumQueuedMessages = maximumQueuedMessages
        self.trustedProxies = trustedProxies
        self.authentication = authentication
        self.allowedOrigins = allowedOrigins
        self.rateLimit = rateLimit
        self.authenticationFailureLimit = authenticationFailureLimit
        self.jwt = jwt
        self.metrics = metrics
        self.requestTimeout = requestTimeout
        self.bodyMemory = max(bodyMemory, maximumBodyBytes)
        self.maximumConnections = maximumConnections
        self.minimumRetentionDays = minimumRetentionDays
        self.retentionInterval = retentionInterval
        self.live = live
        self.followers = followers
        self.console = console
    }
}
