import Metrics

/// Where new events came from, as `trail_events_ingested_total` labels them.
public enum IngestSource: String, Sendable {
    /// A synchronous `POST` (its events are stored when the answer is sent).
    case http
    /// A queue worker, from a message accepted earlier (`Prefer: respond-async`).
    case queue
    /// `trail ingest`.
    case cli
}

/// What the use cases tell the metrics system (SPEC §10) through swift-metrics: the executable bootstraps the
/// backend (`trail serve`: Prometheus). Handlers are made at each use, never kept in a static, so that a use case
/// run before the bootstrap (in a test process) does not keep a no-op handler.
enum ServiceMetrics {
    /// New events stored (a replayed idempotent submission stores none).
    static func ingested(_ count: Int, source: IngestSource, format: ActivityIngest.Format) {
        guard count > 0 else { return }
        Counter(label: "trail_events_ingested_total", dimensions: [("source", source.rawValue), ("format", format.rawValue)])
            .increment(by: count)
    }

    /// A message accepted for later processing.
    static func messageQueued() { Counter(label: "trail_messages_queued_total").increment() }
    /// A message processed into its events.
    static func messageCompleted() { Counter(label: "trail_messages_completed_total").increment() }
    /// A message given back to be tried again later.
    static func messageRetried() { Counter(label: "trail_messages_retried_total").increment() }
    /// A message that failed for good (`trail messages retry` makes it pending again).
    static func messageFailed() { Counter(label: "trail_messages_failed_total").increment() }

    /// Events a sink's receiver accepted (labelled by the sink's id, never by tenant).
    static func sinkDelivered(_ count: Int, sink: String) {
        guard count > 0 else { return }
        Counter(label: "trail_sink_events_delivered_total", dimensions: [("sink", sink)]).increment(by: count)
    }

    /// A delivery attempt that failed (it is tried again after a backoff).
    static func sinkFailed(sink: String) {
        Counter(label: "trail_sink_delivery_failures_total", dimensions: [("sink", sink)]).increment()
    }

    /// How many sequences of its tenant's log a sink has not dealt with yet.
    static func sinkLag(_ lag: Int64, sink: String) {
        Gauge(label: "trail_sink_lag_events", dimensions: [("sink", sink)]).record(lag)
    }

    /// An alert rule that fired.
    static func alertFired() { Counter(label: "trail_alerts_fired_total").increment() }
}
