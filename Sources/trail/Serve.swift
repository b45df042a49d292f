import ArgumentParser
import Foundation
import Logging
import NIOCore
import TrailCore
import TrailServer
import TrailService
import TrailStore

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the Trail HTTP service.")

    @Option(name: .long, help: "Address to listen on (env TRAIL_HOST).")
    var host: String = Env.string("TRAIL_HOST") ?? "127.0.0.1"

    @Option(name: .long, help: "Port to listen on; 0 picks a free one (env TRAIL_PORT).")
    var port: Int = Env.string("TRAIL_PORT").flatMap(Int.init) ?? 9002

    @Option(name: .long, help: "Largest accepted request body in bytes (env TRAIL_MAX_BODY_BYTES).")
    var maxBodyBytes: Int = Env.string("TRAIL_MAX_BODY_BYTES").flatMap(Int.init) ?? 10 * 1024 * 1024

    @Option(name: .long, help: "Seconds a client may take to send a request's head, and then its body, before it is answered 408 and disconnected (env TRAIL_REQUEST_TIMEOUT).")
    var requestTimeout: Double = Env.string("TRAIL_REQUEST_TIMEOUT").flatMap(Double.init) ?? 30

    @Option(name: .long, help: "Bytes of request bodies held at once over all connections; more is refused 503 (env TRAIL_BODY_MEMORY). At least --max-body-bytes.")
    var bodyMemory: Int = Env.string("TRAIL_BODY_MEMORY").flatMap(Int.init) ?? 256 * 1024 * 1024

    @Option(name: .long, help: "Connections open at once; more wait until one closes (env TRAIL_MAX_CONNECTIONS).")
    var maxConnections: Int = Env.string("TRAIL_MAX_CONNECTIONS").flatMap(Int.init) ?? 1024

    @Option(name: .long, help: "Run every tenant's retention rules this often, in seconds, as trail cleanup does (env TRAIL_RETENTION_INTERVAL). Default: never.")
    var retentionInterval: Double?

    @Option(name: .long, help: "The fewest days a retention rule may keep events; rules below are refused (env TRAIL_MIN_RETENTION_DAYS).")
    var minRetentionDays: Double = Env.string("TRAIL_MIN_RETENTION_DAYS").flatMap(Double.init) ?? 0

    @OptionGroup var log: LogOptions

    @Flag(name: .customLong("no-metrics"),
          help: "Serve no /metrics and count nothing for it (env TRAIL_METRICS=off). Default: metrics on.")
    var noMetrics: Bool = Env.string("TRAIL_METRICS").map { ["off", "0", "false", "no"].contains($0.lowercased()) } ?? false

    @Option(name: .long, help: "Async submissions get 503 while this many messages wait (env TRAIL_MAX_QUEUED).")
    var maxQueued: Int = Env.string("TRAIL_MAX_QUEUED").flatMap(Int.init) ?? 100_000

    @Option(name: .customLong("trusted-proxy"), parsing: .singleValue,
            help: "A proxy (address or CIDR network) whose X-Forwarded-For is believed; repeatable (env TRAIL_TRUSTED_PROXIES, comma-separated).")
    var trustedProxies: [String] = Env.list("TRAIL_TRUSTED_PROXIES")

    @Flag(name: .customLong("insecure-no-auth"),
          help: "Ask no credentials: every caller is an admin of tenant default. Local experiments only (env TRAIL_INSECURE_NO_AUTH=1).")
    var insecureNoAuth: Bool = Env.flag("TRAIL_INSECURE_NO_AUTH")

    @Flag(name: .customLong("allow-private-sinks"),
          help: "Let sinks deliver to loopback and private addresses (env TRAIL_ALLOW_PRIVATE_SINKS=1). Default: refused, since a sink makes Trail connect where an admin says.")
    var allowPrivateSinks: Bool = Env.flag("TRAIL_ALLOW_PRIVATE_SINKS")

    @Option(name: .long, help: ArgumentHelp(
        "A file holding the HS256 secret (32 bytes or more) of accepted JWT bearer tokens (env TRAIL_JWT_HS256_SECRET: the secret itself).",
        valueName: "file"))
    var jwtHs256SecretFile: String?

    @Option(name: .long, help: ArgumentHelp("A PEM file with the P-256 public key of accepted ES256 tokens (env TRAIL_JWT_ES256_PUBLIC_KEY).", valueName: "file"))
    var jwtEs256PublicKey: String?

    @Option(name: .long, help: ArgumentHelp("A PEM file with the Ed25519 public key of accepted EdDSA tokens (env TRAIL_JWT_EDDSA_PUBLIC_KEY).", valueName: "file"))
    var jwtEddsaPublicKey: String?

    @Option(name: .long, help: "Accept only tokens whose aud includes this (env TRAIL_JWT_AUDIENCE).")
    var jwtAudience: String?

    @Option(name: .long, help: "Requests per second each API key may make, 0 for no limit (env TRAIL_RATE_LIMIT).")
    var rateLimit: Double = Env.string("TRAIL_RATE_LIMIT").flatMap(Double.init) ?? RateLimit.default.perSecond

    @Option(name: .long, help: "Requests a key may make at once above its rate (env TRAIL_RATE_BURST; default twice the rate).")
    var rateBurst: Double?

    @Option(name: .long, help: "Failed authentications per second each client address may make once its burst is spent, 0 for no limit (env TRAIL_AUTH_FAILURE_RATE).")
    var authFailureRate: Double = Env.string("TRAIL_AUTH_FAILURE_RATE").flatMap(Double.init) ?? RateLimit.authenticationFailures.perSecond

    @Option(name: .long, help: "Failed authentications a client address may make at once (env TRAIL_AUTH_FAILURE_BURST).")
    var authFailureBurst: Double = Env.string("TRAIL_AUTH_FAILURE_BURST").flatMap(Double.init) ?? RateLimit.authenticationFailures.burst

    @Option(name: .customLong("cors-origin"), parsing: .singleValue,
            help: "An origin (https://console.example.com) whose pages may call Trail from a browser; repeatable (env TRAIL_CORS_ORIGINS, comma-separated). Default none.")
    var corsOrigins: [String] = Env.list("TRAIL_CORS_ORIGINS")

    @Option(name: .long, help: "Sign a tenant's checkpoint once this many events were added since its last (env TRAIL_CHECKPOINT_EVERY).")
    var checkpointEvery: Int64 = Env.string("TRAIL_CHECKPOINT_EVERY").flatMap(Int64.init) ?? CheckpointConfiguration().everyEvents

    @Option(name: .long, help: "…or once this many seconds passed since its last, if it has new events (env TRAIL_CHECKPOINT_SECONDS).")
    var checkpointSeconds: Double = Env.string("TRAIL_CHECKPOINT_SECONDS").flatMap(Double.init) ?? 60

    @Option(name: .long, help: ArgumentHelp("Append every checkpoint to this file as a line of JSON, a witness outside the database (env TRAIL_WITNESS_FILE).", valueName: "file"))
    var witnessFile: String?

    @Option(name: .long, help: "Minutes a web console session may stay unused before it ends (env TRAIL_CONSOLE_IDLE_MINUTES).")
    var consoleIdleMinutes: Double = Env.string("TRAIL_CONSOLE_IDLE_MINUTES").flatMap(Double.init) ?? 30

    @Option(name: .long, help: "Hours a web console session lasts however active it is (env TRAIL_CONSOLE_SESSION_HOURS).")
    var consoleSessionHours: Double = Env.string("TRAIL_CONSOLE_SESSION_HOURS").flatMap(Double.init) ?? 12

    @OptionGroup var store: StoreOptions
    @OptionGroup var worker: WorkerOptions

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be between 0 and 65535") }
        guard maxBodyBytes > 0 else { throw ValidationError("--max-body-bytes must be positive") }
        guard requestTimeout > 0, requestTimeout.isFinite else { throw ValidationError("--request-timeout must be positive") }
        guard bodyMemory >= maxBodyBytes else { throw ValidationError("--body-memory must be at least --max-body-bytes") }
        if let interval = retentionInterval ?? Env.string("TRAIL_RETENTION_INTERVAL").flatMap(Double.init) {
            guard interval > 0, interval.isFinite else { throw ValidationError("--retention-interval must be positive") }
        }
        guard minRetentionDays >= 0, minRetentionDays.isFinite else { throw ValidationError("--min-retention-days must be 0 or more") }
        guard maxConnections > 0 else { throw ValidationError("--max-connections must be positive") }
        guard maxQueued > 0 else { throw ValidationError("--max-queued must be positive") }
        for proxy in trustedProxies where IPNetwork(proxy) == nil {
            throw ValidationError("--trusted-proxy \(proxy) is not an IP address or a CIDR network such as 10.0.0.0/8")
        }
        guard consoleIdleMinutes > 0, consoleIdleMinutes.isFinite else { throw ValidationError("--console-idle-minutes must be positive") }
        guard consoleSessionHours > 0, consoleSessionHours.isFinite else { throw ValidationError("--console-session-hours must be positive") }
        guard checkpointEvery >= 1 else { throw ValidationError("--checkpoint-every must be at least 1") }
        guard checkpointSeconds > 0, checkpointSeconds.isFinite else { throw ValidationError("--checkpoint-seconds must be positive") }
        guard rateLimit >= 0, rateLimit.isFinite else { throw ValidationError("--rate-limit must be 0 or more") }
        if let rateBurst = burst { guard rateBurst >= 1, rateBurst.isFinite else { throw ValidationError("--rate-burst must be at least 1") } }
        guard authFailureRate >= 0, authFailureRate.isFinite else { throw ValidationError("--auth-failure-rate must be 0 or more") }
        guard authFailureBurst >= 1, authFailureBurst.isFinite else { throw ValidationError("--auth-failure-burst must be at least 1") }
        _ = try jwtConfiguration()
        for origin in corsOrigins where !(origin.hasPrefix("http://") || origin.hasPrefix("https://")) || origin.hasSuffix("/") {
            throw ValidationError("--cors-origin \(origin) is not an origin such as https://console.example.com")
        }
    }

    func run() async throws {
        log.bootstrap(metadataProvider: RequestScope.metadataProvider)
        let logger = Logger(label: "trail")
        let jwt = try jwtConfiguration()
        let configuration = ServerConfiguration(host: host, port: port, maximumBodyBytes: maxBodyBytes,
                                                maximumQueuedMessages: maxQueued,
                                                trustedProxies: trustedProxies.compactMap(IPNetwork.init),
                                                authentication: insecureNoAuth ? .disabled : .required, jwt: jwt,
                                                rateLimit: rateLimit == 0 ? nil : RateLimit(perSecond: rateLimit, burst: burst ?? max(1, 2 * rateLimit)),
                                                authenticationFailureLimit: authFailureRate == 0 ? nil : RateLimit(perSecond: authFailureRate, burst: authFailureBurst),
                                                allowedOrigins: corsOrigins,
                                                metrics: noMetrics ? nil : TrailMetrics.bootstrapPrometheus(),
                                                requestTimeout: .milliseconds(Int64(requestTimeout * 1000)),
                                                bodyMemory: bodyMemory, maximumConnections: maxConnections,
                                                minimumRetentionDays: minRetentionDays,
                                                retentionInterval: (retentionInterval ?? Env.string("TRAIL_RETENTION_INTERVAL").flatMap(Double.init))
                                                    .map { .milliseconds(Int64($0 * 1000)) },
                                                followers: FollowerConfiguration(allowPrivateSinks: allowPrivateSinks),
                                                console: ConsoleSessionConfiguration(
                                                    idleTimeout: .milliseconds(Int64(consoleIdleMinutes * 60_000)),
                                                    lifetime: .milliseconds(Int64(consoleSessionHours * 3_600_000))))
        let workers = worker.configuration
        let location = try store.location()
        var metadata: Logger.Metadata = ["database": "\(location)", "workers": "\(workers.count)"]
        if case .sqlite = location { metadata["durability"] = "\(store.durability)" }
        let checkpoints = CheckpointConfiguration(
            everyEvents: checkpointEvery, interval: .milliseconds(Int64(checkpointSeconds * 1000)),
            pollInterval: .milliseconds(Int64(min(1, checkpointSeconds) * 1000)), witnessFile: witnessFile ?? Env.string("TRAIL_WITNESS_FILE"))
        let insecureNoAuth = self.insecureNoAuth
        do {
            try await runServer(
                configuration: configuration, location: location, storeConfiguration: store.storeConfiguration,
                workers: workers, checkpoints: checkpoints, logger: logger,
                onListening: { [metadata] address in
                    logger.info("Trail listening on http://\(address)", metadata: metadata)
                },
                onStoreOpened: { eventStore in
                    if insecureNoAuth {
                        logger.warning("Authentication is OFF (--insecure-no-auth): anyone who can reach this port reads and writes tenant default as an admin. Use it only for local experiments.")
                    } else {
                        try await Self.createFirstKey(in: eventStore, logger: logger)
                    }
                })
        } catch let error as IOError {
            throw fail(Self.listenFailure(error, host: host, port: port))
        } catch let error as StoreError {
            throw fail(error)
        }
    }

    /// What a failure to listen means, in one line.
    static func listenFailure(_ error: IOError, host: String, port: Int) -> String {
        switch error.errnoCode {
        case EADDRINUSE: "port \(port) on \(host) is in use: stop what holds it, or choose another port with --port"
        case EACCES: "not allowed to listen on port \(port) (ports below 1024 need privileges): choose another with --port"
        case EADDRNOTAVAIL: "\(host) is not an address of this machine: choose another with --host"
        default: "cannot listen on \(host):\(port): \(error.description)"
        }
    }

    /// `--rate-burst`, else `TRAIL_RATE_BURST`.
    var burst: Double? { rateBurst ?? Env.string("TRAIL_RATE_BURST").flatMap(Double.init) }

    /// The JWT keys given, read from their files; nil when none are.
    func jwtConfiguration() throws -> JWTConfiguration? {
        func read(_ path: String, _ option: String) throws -> String {
            do { return try String(contentsOfFile: path, encoding: .utf8) } catch {
                throw ValidationError("\(option) \(path) cannot be read: \(error.localizedDescription)")
            }
        }
        var keys: [JWTConfiguration.Key] = []
        if let path = jwtHs256SecretFile {
            var secret = try read(path, "--jwt-hs256-secret-file")
            while secret.last?.isNewline == true { secret.removeLast() }
            keys.append(.hs256(secret: Array(secret.utf8)))
        } else if let secret = Env.string("TRAIL_JWT_HS256_SECRET") {
            keys.append(.hs256(secret: Array(secret.utf8)))
        }
        if let path = jwtEs256PublicKey ?? Env.string("TRAIL_JWT_ES256_PUBLIC_KEY") { keys.append(.es256(publicKeyPEM: try read(path, "--jwt-es256-public-key"))) }
        if let path = jwtEddsaPublicKey ?? Env.string("TRAIL_JWT_EDDSA_PUBLIC_KEY") { keys.append(.eddsa(publicKeyPEM: try read(path, "--jwt-eddsa-public-key"))) }
        let audience = jwtAudience ?? Env.string("TRAIL_JWT_AUDIENCE")
        guard !keys.isEmpty else {
            if audience != nil { throw ValidationError("--jwt-audience needs a JWT key (--jwt-hs256-secret-file, --jwt-es256-public-key or --jwt-eddsa-public-key)") }
            return nil
        }
        do {
            return try JWTConfiguration(keys: keys, audience: audience)
        } catch {
            throw ValidationError("JWT configuration: \(error.description)")
        }
    }

    /// First start (SPEC §7): a store without any key gets an admin key for tenant `default`, printed once, alone
    /// on a line of standard output (logs go to standard error). A store whose keys were all revoked gets none:
    /// `trail keys create` makes one.
    static func createFirstKey(in store: any KeyStore, logger: Logger) async throws {
        guard let (key, text) = try await store.createFirstKey(tenant: TenantName.default, role: .admin,
                                                                name: "first admin key") else { return }
        logger.notice("No API key existed: created admin key \(key.id) for tenant \(key.tenant). It is printed once, on standard output; keep it now (trail keys create makes others).")
        FileHandle.standardOutput.write(Data((text + "\n").utf8))  // unbuffered: seen at once by whoever reads it
    }
}
