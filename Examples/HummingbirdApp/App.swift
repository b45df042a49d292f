import Foundation
import Hummingbird
import ServiceLifecycle
import TrailClient
import TrailHummingbird

/// An invoice service that audits every change with Trail: `AuditMiddleware` attributes events to the user the
/// request names (`X-User`, standing in for real authentication), `audit.change` sends the fields that changed,
/// and a `TrailEventBuffer` sends them in the background and flushes at shutdown.
///
///     TRAIL_URL=http://127.0.0.1:9002 TRAIL_API_KEY=trail_… swift run trail-example   # listens on 127.0.0.1:8080
///     curl -X POST -H 'X-User: 12' -H 'Content-Type: application/json' localhost:8080/invoices/i-1 -d '{"customer":"ACME","total":10}'
///     curl -X PUT -H 'X-User: 12' -H 'Content-Type: application/json' localhost:8080/invoices/i-1 -d '{"customer":"ACME","total":12}'
///     curl -X DELETE -H 'X-User: 12' localhost:8080/invoices/i-1
@main
struct InvoiceApp {
    struct Invoice: Codable, Sendable, Equatable, ResponseCodable {
        var customer: String
        var total: Double
        var lines: [String]?
    }

    /// The application's own data (in memory, for the example).
    actor Invoices {
        var byId: [String: Invoice] = [:]
        func put(_ id: String, _ invoice: Invoice?) -> Invoice? {
            defer { byId[id] = invoice }
            return byId[id]
        }
    }

    static func main() async throws {
        let buffer = TrailEventBuffer(client: TrailClient())
        let audit = Audit(buffer: buffer)
        let app = buildApplication(audit: audit, port: Int(ProcessInfo.processInfo.environment["EXAMPLE_PORT"] ?? "") ?? 8080,
                                   services: [buffer])
        try await app.runService()
    }

    /// The example's application: its routes record every change through `audit`.
    static func buildApplication(audit: Audit, port: Int, services: [any Service] = []) -> some ApplicationProtocol {
        let invoices = Invoices()
        let router = Router()
        router.add(middleware: AuditMiddleware { request, _ in
            request.headers[.init("X-User")!].map { Actor(id: $0) }
        })
        // Creating and replacing are one operation here: audit.change tells created from updated.
        let save: @Sendable (Request, BasicRequestContext) async throws -> Invoice = { request, context in
            let id = try context.parameters.require("id")
            let invoice = try await request.decode(as: Invoice.self, context: context)
            let before = await invoices.put(id, invoice)
            try await audit.change(type: "invoice", id: id, before: before, after: invoice)
            return invoice
        }
        router.post("/invoices/{id}", use: save)
        router.put("/invoices/{id}", use: save)
        router.delete("/invoices/{id}") { _, context -> HTTPResponse.Status in
            let id = try context.parameters.require("id")
            guard let before = await invoices.put(id, nil) else { return .notFound }
            try await audit.change(type: "invoice", id: id, before: before, after: nil as Invoice?)
            return .noContent
        }
        return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)), services: services)
    }
}
