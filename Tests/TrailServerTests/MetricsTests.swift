import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Prometheus
import Testing
import TrailCore
@testable import TrailServer
import TrailService
import TrailStore
import TrailTestSupport

/// The process's metrics backend for the tests: bootstrapped once (swift-metrics takes one per process), as
/// `trail serve` does.
enum TestMetrics {
    static let registry = TrailMetrics.bootstrapPrometheus()
}

/// One scrape of `/metrics`: each series (name and labels as written) and its value.
struct Scrape {
    let text: String
    let series: [String: Double]

    init(_ text: String) {
        self.text = text
        var series: [String: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            series[String(line[..<space])] = value
        }
        self.series = series
    }

    subscript(_ name: String) -> Double { series[name] ?? 0 }

    /// The label values of every series.
    var labelValues: [String] {
        series.keys.flatMap { key -> [String] in
            guard let open = key.firstIndex(of: "{") else { return [] }
            return key[key.index(after: open)...].dropLast().split(separator: ",").compactMap { pair in
                pair.split(separator: "=", maxSplits: 1).last.map { String($0.dropFirst().dropLast()) }
            }
        }
    }

    /// The distinct values of `label` among the series of `name`.
    func values(of label: String, in name: String) -> Set<String> {
        Set(series.keys.filter { $0.hasPrefix(name + "{") }.compactMap { key in
            key.firstMatch(of: try! Regex("\(label)=\"([^\"]*)\""))?.output[1].substring.map(String.init)
        })
    }
}

/// `GET /metrics` (SPEC §10): Prometheus text, no key; values move as requests are made; routes labelled by
/// template, unknown paths under one label; no tenant, actor or resource value in any label. Serialized: the
/// registry is the process's, and the queue gauges are those of the store scraped last.
@Suite(.serialized) struct MetricsTests {
    static func scrape(_ client: some TestClientProtocol) async throws -> Scrape {
        let response = try await client.execute(uri: "/metrics", method: .get)
        #expect(response.status == .ok)
        #expect(response.headers[.contentType] == "text/plain; version=0.0.4; charset=utf-8")
        return Scrape(String(buffer: response.body))
    }

    @Test(arguments: StoreKind.available)
    func metricsMoveAsRequestsAreMade(kind: StoreKind) async throws {
        let configuration = ServerConfiguration(rateLimit: RateLimit(perSecond: 1, burst: 5), metrics: TestMetrics.registry)
        try await withFreshLocation(kind) { location, _ in
            try await location.withStore { store in
                let key = try await store.createKey(tenant: "tenant-acme-7", role: .admin, name: "metrics test").text
                let headers: HTTPFields = [.contentType: "application/json", .authorization: "ApiKey \(key)"]
                let app = buildApplication(configuration: configuration, store: store,
                                           workers: WorkerConfiguration(count: 0),
                                           checkpoints: CheckpointConfiguration(pollInterval: .milliseconds(50)))
                try await app.test(.router) { client in
                    let before = try await Self.scrape(client)
                    let created = try await client.execute(
                        uri: "/api/v1/audit/activity-stream", method: .post, headers: headers,
                        body: ByteBuffer(string: #"{"verb":"created","actor":{"id":"actor-4711"},"object":{"type":"invoice","id":"resource-0815","total":3}}"#))
                    #expect(created.status == .created)
                    let id = try #require(try parseJSON(created.body)["data"]?[0]?["id"]?.stringValue, "\(String(buffer: created.body))")
                    #expect(try await client.execute(uri: "/api/v1/audit/logs/\(id)", method: .get, headers: headers).status == .ok)
                    let queued = try await client.execute(
                        uri: "/api/v1/audit/activity-stream?async=true", method: .post, headers: headers,
                        body: ByteBuffer(string: #"{"verb":"created","actor":{"id":"actor-4711"},"object":{"type":"invoice","id":"resource-0816"}}"#))
                    #expect(queued.status == .accepted)
                    #expect(try await client.execute(uri: "/no/such/path-31337", method: .get).status == .notFound)
                    #expect(try await client.execute(uri: "/api/v1/audit/logs", method: .get,
                                                     headers: [.authorization: "ApiKey trail_0000000000000000_wrong"]).status == .unauthorized)
                    var limited = false
                    // Burst 5, one more a second: on a loaded machine a slow request lets a token back in, so
                    // more than six tries may be needed.
                    for _ in 0..<40 where !limited {
                        limited = try await client.execute(uri: "/api/v1/messages", method: .get, headers: headers).status == .tooManyRequests
                    }
                    #expect(limited)
                    // The signer covers the first event (a tenant's first checkpoint is due at once).
                    try await Task.sleep(for: .milliseconds(300))
                    let after = try await Self.scrape(client)

                    let read = #"trail_http_requests_total{method="GET",route="/api/v1/audit/logs/{id}",status="200"}"#
                    #expect(after[read] - before[read] == 1, "only this test counts requests: \(after.text)")
                    #expect(after[#"trail_http_requests_total{method="POST",route="/api/v1/audit/activity-stream",status="201"}"#] >= 1)
                    #expect(after[#"trail_http_requests_total{method="GET",route="unmatched",status="404"}"#] >= 1)
                    #expect(after[#"trail_http_requests_total{method="GET",route="/api/v1/audit/logs",status="401"}"#] >= 1)
                    #expect(after[#"trail_http_request_duration_seconds_count{method="GET",route="/api/v1/audit/logs/{id}"}"#] >= 1)
                    #expect(after.series.keys.contains { $0.hasPrefix(#"trail_http_request_duration_seconds_bucket{method="GET",route="/api/v1/audit/logs/{id}",le="0.00025"}"#) })
                    // Counted wherever they happen (other tests' servers add to them too): at least ours.
                    let ingested = #"trail_events_ingested_total{source="http",format="activity-stream"}"#
                    #expect(after[ingested] - before[ingested] >= 1)
                    #expect(after["trail_store_commit_duration_seconds_count"] - before["trail_store_commit_duration_seconds_count"] >= 1)
                    #expect(after["trail_store_events_per_commit_count"] - before["trail_store_events_per_commit_count"] >= 1)
                    #expect(after["trail_auth_failures_total"] - before["trail_auth_failures_total"] >= 1)
                    #expect(after[#"trail_rate_limited_total{limit="credential"}"#] >= 1)
                    #expect(after["trail_messages_queued_total"] >= 1)
                    // Read at the scrape from this store: exactly its queue.
                    #expect(after[#"trail_async_messages{state="pending"}"#] == 1)
                    #expect(after[#"trail_async_messages{state="failed"}"#] == 0)
                    #expect(after.series["trail_checkpoint_age_seconds"] != nil)
                    #expect(after["process_resident_memory_bytes"] > 0)
                    #expect(after["process_cpu_seconds_total"] > 0)
                    #expect(after["process_start_time_seconds"] > 1_700_000_000)

                    // No tenant, actor, resource, id or raw path in any label.
                    for secret in ["tenant-acme-7", "actor-4711", "resource-0815", "invoice", id, "/no/such", key] {
                        #expect(!after.labelValues.contains { $0.contains(secret) }, "\(secret) in a label")
                    }
                    #expect(!after.text.contains("tenant-acme-7") && !after.text.contains("actor-4711"))
                }
            }
        }
    }

    /// A scanner trying many paths adds one series, not one per path; every route label is a template.
    @Test func unknownPathsShareOneLabel() async throws {
        let configuration = ServerConfiguration(authentication: .disabled, metrics: TestMetrics.registry)
        try await withFreshLocation(.sqlite) { location, _ in
            try await location.withStore { store in
                let table = RouteTable()
                let router = buildRouter(configuration: configuration, store: store, routes: table)
                try await Application(router: router).test(.router) { client in
                    for i in 0..<200 {
                        _ = try await client.execute(uri: "/scan/\(i)/wp-admin.php?x=\(i)", method: .get)
                        _ = try await client.execute(uri: "/api/v1/audit/logs/\(i)", method: .get)
                    }
                    let scrape = try await Self.scrape(client)
                    let routes = scrape.values(of: "route", in: "trail_http_requests_total")
                    let templates = Set(table.all.map(\.path)).union([TrailMetrics.unmatchedRoute])
                    #expect(routes.isSubset(of: templates), "\(routes.subtracting(templates))")
                    #expect(!scrape.text.contains("wp-admin"))
                    #expect(scrape.values(of: "status", in: "trail_http_requests_total").allSatisfy { Int($0) != nil })
                }
            }
        }
    }

    /// Metrics off (`trail serve --no-metrics`): no route, and requests are not counted.
    @Test func metricsOffServesNoMetrics() async throws {
        try await withRouter(.sqlite) { client in
            let response = try await client.execute(uri: "/metrics", method: .get)
            #expect(response.status == .notFound)
            #expect(response.headers[.contentType] == "application/problem+json")
        }
    }
}
