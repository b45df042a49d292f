import Metrics
public import Prometheus
import Synchronization

/// Trail's metrics backend (SPEC §10): a Prometheus registry behind swift-metrics. Every layer reports through
/// swift-metrics; `trail serve` makes the registry the process's backend, once, and `GET /metrics` writes it out.
public enum TrailMetrics {
    /// Makes a new Prometheus registry the process's swift-metrics backend and returns it, for
    /// ``ServerConfiguration/metrics``. swift-metrics takes one backend per process: call this once.
    public static func bootstrapPrometheus() -> PrometheusCollectorRegistry {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = latencyBuckets
        factory.valueHistogramBuckets["trail_store_events_per_commit"] = eventsPerCommitBuckets
        MetricsSystem.bootstrap(factory)
        return registry
    }

    /// Buckets of every duration histogram: from a quarter of a millisecond (a read on a warm store) to ten
    /// seconds (an export, a stuck commit).
    static let latencyBuckets: [Duration] = [
        .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
        .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
        .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
    ]

    /// Buckets of `trail_store_events_per_commit`: one event alone up to the largest transaction (10,000 by
    /// default).
    static let eventsPerCommitBuckets: [Double] = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000]

    /// The route label of requests that matched no route: one label for all of them, so that a scanner trying
    /// a million paths adds one series, not a million.
    static let unmatchedRoute = "unmatched"

    /// The request metrics of one router: `trail_http_requests_total{method,route,status}` and
    /// `trail_http_request_duration_seconds{method,route}`. Their handlers are made once per label set and kept
    /// (one lock and a lookup per request, instead of two through the metrics system and the registry); made
    /// with the router, so after the process's bootstrap.
    final class Requests: Sendable {
        private struct Labels: Hashable {
            var method: String
            var route: String
            var status: Int
        }

        private let handlers = Mutex<[Labels: (Metrics.Counter, Metrics.Timer)]>([:])

        /// One answered request.
        func answered(method: String, route: String, status: Int, after elapsed: Duration) {
            let labels = Labels(method: method, route: route, status: status)
            let (counter, timer) = handlers.withLock { handlers in
                if let made = handlers[labels] { return made }
                let made = (
                    Metrics.Counter(label: "trail_http_requests_total",
                            dimensions: [("method", method), ("route", route), ("status", String(status))]),
                    Metrics.Timer(label: "trail_http_request_duration_seconds", dimensions: [("method", method), ("route", route)]))
                handlers[labels] = made
                return made
            }
            counter.increment()
            timer.record(duration: elapsed)
        }
    }

    /// A request refused because its credential was missing, unknown, revoked or invalid
    /// (`trail_auth_failures_total`).
    static func authenticationFailed() {
        Counter(label: "trail_auth_failures_total").increment()
    }

    /// A request refused with 429 (`trail_rate_limited_total{limit}`): `credential` for a key's or token's request
    /// rate, `failed_authentication` for an address that failed to authenticate too often.
    static func rateLimited(_ limit: String) {
        Counter(label: "trail_rate_limited_total", dimensions: [("limit", limit)]).increment()
    }
}
