public import Logging
import Metrics
public import TrailCore
public import TrailStore

/// The gauges read when metrics are scraped rather than kept up to date: the queue's depth by state
/// (`trail_async_messages{state}`, from the store, which every process working on it shares) and how long
/// events have waited for a checkpoint (`trail_checkpoint_age_seconds`, from this process's signer), and the
/// live tails this process serves (`trail_stream_subscribers`).
public struct ScrapeGauges: Sendable {
    let store: any TrailStorage
    /// The signer running in this process; nil for none (no checkpoint age then).
    let checkpointer: Checkpointer?
    /// The live tails this process serves; nil for none.
    let live: LiveEvents?
    let logger: Logger
    let clock: @Sendable () -> Timestamp

    public init(store: any TrailStorage, checkpointer: Checkpointer?, live: LiveEvents? = nil, logger: Logger,
                clock: @escaping @Sendable () -> Timestamp = SystemClock.now) {
        self.store = store
        self.checkpointer = checkpointer
        self.live = live
        self.logger = logger
        self.clock = clock
    }

    /// Records the gauges' current values. A store that does not answer leaves the queue's gauges as they were
    /// (and `/ready` says why); the scrape itself still succeeds.
    public func record() async {
        if let checkpointer {
            Gauge(label: "trail_checkpoint_age_seconds").record(checkpointer.checkpointAge(at: clock()) / .seconds(1))
        }
        if let live {
            Gauge(label: "trail_stream_subscribers").record(live.subscriberCount)
        }
        do {
            for (status, count) in try await store.messageCounts() {
                Gauge(label: "trail_async_messages", dimensions: [("state", status.rawValue)]).record(count)
            }
        } catch {
            logger.warning("counting queued messages for the metrics failed", metadata: ["error": "\(error)"])
        }
    }
}

