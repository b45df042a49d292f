import Hummingbird
import Prometheus
import TrailService

/// `GET /metrics` (SPEC §10): every metric in Prometheus's text format, no key (like `/health`: put it behind
/// the network's own access rules). No label holds a tenant, actor or resource.
struct MetricsController: Sendable {
    let registry: PrometheusCollectorRegistry
    /// The gauges read at each scrape; nil while the store is being opened.
    let gauges: ScrapeGauges?

    func addRoutes(to routes: Routes) {
        routes.get("/metrics") { _, _ in
            await gauges?.record()
            var text: [UInt8] = []
            text.reserveCapacity(32 * 1024)
            registry.emit(into: &text)
            text.append(contentsOf: ProcessMetrics.text().utf8)
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                            body: ResponseBody(byteBuffer: ByteBuffer(bytes: text)))
        }
    }
}
