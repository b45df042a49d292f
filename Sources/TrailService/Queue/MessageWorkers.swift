public import Logging
public import ServiceLifecycle
import TrailCore
public import TrailStore

/// How queued messages are processed. Defaults are those documented in the README.
public struct WorkerConfiguration: Sendable {
    /// Worker loops in this process; 0 leaves the queue to other processes (`trail worker`).
    public var count: Int
    /// Messages one claim takes at most; they are appended together (one group commit).
    public var batchSize: Int
    /// How long a claim holds a message before another worker may take it again.
    public var leaseSeconds: Int64
    /// Attempts before a message that keeps failing for a reason that may pass ends `failed`.
    public var maximumAttempts: Int
    /// How often an idle worker looks for messages when nothing woke it.
    public var pollInterval: Duration

    public init(count: Int = 2, batchSize: Int = 64, leaseSeconds: Int64 = 30, maximumAttempts: Int = 8,
                pollInterval: Duration = .milliseconds(500)) {
        self.count = count
        self.batchSize = batchSize
        self.leaseSeconds = leaseSeconds
        self.maximumAttempts = maximumAttempts
        self.pollInterval = pollInterval
    }

    /// The wait before attempt `attempts + 1`: 1 s, 2 s, 4 s … capped at 5 minutes.
    public static func backoff(afterAttempt attempts: Int) -> Duration {
        .seconds(min(300, 1 << min(max(attempts - 1, 0), 9)))
    }
}

/// The workers that turn queued messages into events: `trail serve` runs them in-process, `trail worker` alone.
///
/// Each loop claims a batch (no two messages of one resource), prepares every message, and appends them together,
/// in queue order; each message is completed in the transaction that stores its events. A failure that may pass
/// (storage unavailable) puts the message back with exponential backoff; anything else, or too many attempts,
/// ends it `failed` with its error.
public struct MessageWorkers: Service {
    let store: any TrailStorage
    let configuration: WorkerConfiguration
    let logger: Logger

    public init(store: any TrailStorage, configuration: WorkerConfiguration, logger: Logger) {
        self.store = store
        self.configuration = configuration
        self.logger = logger
    }

    public func run() async throws {
        guard configuration.count > 0 else {
            try await gracefulShutdown()  // nothing to do, but a service must not end before the others
            return
        }
        // On shutdown the loops stop claiming; a batch already claimed is finished first.
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                for _ in 0..<configuration.count {
                    group.addTask { await loop() }
                }
            }
        }
    }

    private func loop() async {
        while !Task.isCancelled {
            do {
                let claimed = try await store.claim(limit: configuration.batchSize, leaseSeconds: configuration.leaseSeconds)
                if claimed.isEmpty {
                    await store.waitForMessages(timeout: configuration.pollInterval)
                } else {
                    await process(claimed)
                }
            } catch where !Task.isCancelled {  // (an interrupted claim at shutdown is no failure)
                logger.warning("claiming queued messages failed", metadata: ["error": "\(error)"])
                await store.waitForMessages(timeout: configuration.pollInterval)
            } catch {}
        }
    }

    /// Processes one claimed batch; returns when every message is completed or given back.
    func process(_ batch: [ClaimedMessage]) async {
        var requests: [AppendRequest] = []
        var sent: [ClaimedMessage] = []
        for message in batch {
            do {
                requests.append(try prepare(message))
                sent.append(message)
            } catch {
                await release(message, error: "\(error)", permanent: true)
            }
        }
        let results = await store.append(requests)
        for (message, result) in zip(sent, results) {
            switch result {
            case .success(let appended):
                ServiceMetrics.messageCompleted()
                if !appended.replayed, let format = ActivityIngest.Format(rawValue: message.kind) {
                    ServiceMetrics.ingested(appended.events.count, source: .queue, format: format)
                }
            case .failure(let error) where error.code == .claimLost:
                logger.info("a message's claim was lost; another worker has it", metadata: ["message": "\(message.claim.id)"])
            case .failure(let error):
                // A commit whose outcome is unknown is retried too: the message completes in the transaction that
                // stores its events, so a retry finds it done if it was.
                await release(message, error: error.message, permanent: error.code != .unavailable && error.code != .indeterminate)
            }
        }
    }

    private func prepare(_ message: ClaimedMessage) throws -> AppendRequest {
        guard let format = ActivityIngest.Format(rawValue: message.kind) else {
            throw ServiceError.badRequest("Trail cannot process messages of kind \(message.kind).", path: "kind")
        }
        var request = try ActivityIngest(store: store, tenant: message.tenant, source: .queue)
            .prepare(body: message.body, format: format, idempotencyKey: message.idempotency?.key,
                     requestContext: message.requestContext)
        request.completes = message.claim
        return request
    }

    private func release(_ message: ClaimedMessage, error: String, permanent: Bool) async {
        let retry = !permanent && message.attempts < configuration.maximumAttempts
        do {
            try await store.release(message.claim, error: error,
                                    retryAfter: retry ? WorkerConfiguration.backoff(afterAttempt: message.attempts) : nil)
            if retry {
                ServiceMetrics.messageRetried()
            } else {
                ServiceMetrics.messageFailed()
                logger.warning("a queued message failed", metadata: ["message": "\(message.claim.id)", "error": "\(error)"])
            }
        } catch {
            // The claim expires and another attempt follows: nothing is lost.
            logger.warning("giving a message back failed", metadata: ["message": "\(message.claim.id)", "error": "\(error)"])
        }
    }
}
