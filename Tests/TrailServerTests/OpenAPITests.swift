import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import TrailCore
@testable import TrailServer
import TrailService
import TrailStore
import TrailTestSupport

/// The OpenAPI document (SPEC §13): served without a key, the same as `openapi/trail.json`, and describing
/// exactly the router's routes — a route added without its operation, or an operation without its route, fails.
@Suite struct OpenAPITests {
    /// `openapi/trail.json` of the repository this test was built from.
    static var repositoryDocument: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("openapi/trail.json")
    }

    /// The router as `trail serve` runs it by default (metrics on: `/metrics` is a route too), with its routes.
    static func withRouter(_ body: @escaping @Sendable (any TestClientProtocol, RouteTable) async throws -> Void) async throws {
        try await withFreshLocation(.sqlite) { location, _ in
            try await location.withStore { store in
                let table = RouteTable()
                let router = buildRouter(configuration: ServerConfiguration(metrics: TestMetrics.registry), store: store, routes: table)
                try await Application(router: router).test(.router) { client in try await body(client, table) }
            }
        }
    }

    @Test func theDocumentDescribesExactlyTheRoutes() async throws {
        try await Self.withRouter { client, table in
            let response = try await client.execute(uri: "/openapi.json", method: .get)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "application/json")
            let document = try JSONParser.parse(response.body.readableBytesView)
            // The version Trail names itself by elsewhere (OCSF records, CEF headers, webhook user agents).
            #expect(document["info"]?["version"]?.stringValue == Product.version)
            #expect(document == (try JSONParser.parse(Array(try Data(contentsOf: Self.repositoryDocument)))),
                    "the served document is openapi/trail.json: run scripts/openapi/make_openapi.py")
            #expect(document["openapi"] == "3.1.0")
            var operations = Set<String>()
            for path in document["paths"]?.objectValue ?? JSONObject() {
                for method in path.value.objectValue ?? JSONObject() { operations.insert("\(method.key.uppercased()) \(path.key)") }
            }
            let routes = Set(table.all.map(\.description))
            #expect(routes.subtracting(operations).isEmpty, "routes the document lacks: \(routes.subtracting(operations).sorted())")
            #expect(operations.subtracting(routes).isEmpty, "operations no route serves: \(operations.subtracting(routes).sorted())")
            #expect(routes.count >= 28)
        }
    }

    /// `/docs`: the document as a page to read, without a key, naming every operation, with a policy that allows
    /// its style sheet and no script.
    @Test func theReferencePageNamesEveryOperation() async throws {
        try await Self.withRouter { client, table in
            let response = try await client.execute(uri: "/docs", method: .get)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "text/html; charset=utf-8")
            let policy = try #require(response.headers[.contentSecurityPolicy])
            #expect(policy.contains("default-src 'none'") && policy.contains("style-src 'sha256-") && !policy.contains("script"))
            let page = String(buffer: response.body)
            #expect(page.hasPrefix("<!doctype html>") && !page.contains("<script"))
            for route in table.all {
                let escaped = route.path.replacingOccurrences(of: "&", with: "&amp;")
                #expect(page.contains("<span class=m>\(route.method.rawValue)</span><code>\(escaped)</code>"), "\(route)")
            }
        }
    }

    /// Each route's query parameters (those it accepts; any other is refused with 400) are the document's.
    @Test func queryParametersMatch() async throws {
        try await Self.withRouter { _, table in
            let document = try JSONParser.parse(Array(try Data(contentsOf: Self.repositoryDocument)))
            for route in table.all {
                let operation = document["paths"]?[route.path]?[route.method.rawValue.lowercased()]
                let documented = Set((operation?["parameters"]?.arrayValue ?? []).compactMap { parameter -> String? in
                    parameter["in"] == "query" ? parameter["name"]?.stringValue : nil
                })
                #expect(documented == Set(route.query), "\(route): documented \(documented.sorted()), accepted \(route.query.sorted())")
            }
        }
    }
}
