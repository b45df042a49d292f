import Metrics

/// What the stores tell the metrics system (SPEC §10) through swift-metrics: whichever backend the executable
/// bootstrapped gets them (`trail serve`: Prometheus), none if it bootstrapped none. Handlers are made at each
/// use, never kept in a static, so a store opened before the bootstrap still reports.
enum StoreMetrics {
    /// One transaction of the event writer: how long it took (commit included) and how many new events it stored
    /// (a transaction that only queued messages or replayed idempotent submissions stored none, and is left out
    /// of the events-per-commit histogram).
    static func committed(events: Int, since start: ContinuousClock.Instant) {
        Timer(label: "trail_store_commit_duration_seconds").record(duration: ContinuousClock.now - start)
        if events > 0 { Recorder(label: "trail_store_events_per_commit").record(events) }
    }

    /// How many events the SQLite store's search index has not reached yet (``SQLiteSearchIndexer``).
    static func searchIndexLag(_ events: Int) {
        Gauge(label: "trail_search_index_lag_events").record(events)
    }

    /// New events among the submissions one transaction stored (replayed ones stored nothing).
    static func newEvents(_ stored: some Sequence<AppendResult>) -> Int {
        stored.reduce(0) { $0 + ($1.replayed ? 0 : $1.events.count) }
    }
}
