import Foundation
import Hummingbird
import TrailCore
import TrailService
import TrailStore

/// The console's integrity page (the latest signed checkpoint, and verifying the log with its progress shown)
/// and its live tail.
extension ConsoleController {
    /// The live tail starts with this many of the latest events of the log (those its filters match).
    static let tailBacklog: Int64 = 25
    static let tailFilters = ["actor", "action", "resource_type"]

    func addIntegrityRoutes(to pages: Routes) {
        pages.get("/ui/integrity") { _, context in
            let principal = try context.principal(for: .read)
            var view = View()
            if let checkpoint = try await store.latestCheckpoint(tenant: principal.tenant) {
                view["checkpoint"] = Self.checkpoint(checkpoint)
            }
            view["events"] = String(try await latestSequence(principal.tenant))
            view["canVerify"] = principal.allows(.verify)
            view["roles"] = principal.roles.sorted().map(\.rawValue).joined(separator: ", ")
            view["formToken"] = renderer.formToken(context)
            return renderer.page("integrity", title: "Integrity", view: view, context: context, current: "/ui/integrity")
        }
        pages.post("/ui/integrity/verify") { request, context in
            let tenant = try context.tenant(for: .verify)
            try await ConsoleForm.read(request).checkOrigin(request, expected: renderer.formToken(context))
            let verifier = try await Verification.verifier(for: store, tenant: tenant)
            guard request.headers[.accept]?.contains("application/x-ndjson") == true else {
                let report = try await Verification.check(store, tenant: tenant, with: verifier)
                var view = View()
                view["status"] = report.status.rawValue
                view["summary"] = Verification.summary(report)
                return renderer.page("verified", title: "Verification", view: view, context: context, current: "/ui/integrity")
            }
            return progressResponse(tenant: tenant, verifier: verifier, total: try await latestSequence(tenant))
        }
        pages.get("/ui/tail", query: Self.tailFilters) { request, context in
            let tenant = try context.tenant(for: .read)
            let parameters = request.uri.queryParameters
            var view = View()
            var filters = View()
            var pairs: [(String, String?)] = []
            for name in Self.tailFilters {
                let value = parameters[Substring(name)].map(String.init)
                filters[name] = value
                pairs.append((name, value))
            }
            view["filters"] = filters
            let after = max(0, try await latestSequence(tenant) - Self.tailBacklog)
            view["streamHref"] = "/ui/tail/stream" + ConsoleFormat.query(pairs + [("after", String(after))])
            return renderer.page("tail", title: "Live", view: view, context: context, current: "/ui/tail")
        }
        pages.get("/ui/tail/stream", query: Self.tailFilters + ["after"]) { request, context in
            let tenant = try context.tenant(for: .read)
            let parameters = request.uri.queryParameters
            let query = try AuditLogsController.query(parameters)
            let after = try StreamController.start(lastEventID: request.headers[.lastEventID], after: parameters["after"].map(String.init))
            return StreamController.response(live: live, tenant: tenant, query: query, after: after,
                                             head: request.method == .head, logger: context.logger)
        }
    }

    /// The tenant's newest sequence (its events, Trail's access records included), 0 before its first.
    func latestSequence(_ tenant: String) async throws -> Int64 {
        try await store.events(tenant: tenant, matching: EventQuery(includesAccess: true, limit: 1)).first?.sequence ?? 0
    }

    /// Verification as NDJSON lines: `{"total": N}` first, `{"checked": n}` after each batch, then the outcome
    /// (`{"status", "valid", "summary"}`): what the page's progress bar follows.
    private func progressResponse(tenant: String, verifier: ChainVerifier, total: Int64) -> Response {
        let store = store
        let (lines, continuation) = AsyncStream.makeStream(of: String.self, bufferingPolicy: .bufferingNewest(256))
        let body = ResponseBody { writer in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    defer { continuation.finish() }
                    continuation.yield("{\"total\":\(total),\"checked\":0}\n")
                    var writer = JSONWriter(capacity: 512)
                    do {
                        let report = try await Verification.check(store, tenant: tenant, with: verifier) { checked in
                            continuation.yield("{\"checked\":\(checked)}\n")
                        }
                        writer.raw("{"); writer.key("status"); writer.write(string: report.status.rawValue)
                        writer.raw(","); writer.key("valid"); writer.raw(report.failure == nil ? "true" : "false")
                        writer.raw(","); writer.key("summary"); writer.write(string: Verification.summary(report))
                    } catch {
                        let detail = (error as? StoreError).map { "the store could not be read (\($0.code))" } ?? "it was interrupted"
                        writer.raw("{"); writer.key("status"); writer.write(string: "error")
                        writer.raw(","); writer.key("summary"); writer.write(string: "Verification could not finish: \(detail). Try again.")
                    }
                    writer.raw("}\n")
                    continuation.yield(String(decoding: writer.bytes, as: UTF8.self))
                }
                for await line in lines { try await writer.write(ByteBuffer(string: line)) }
                try await group.waitForAll()
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "application/x-ndjson", .cacheControl: "no-store"], body: body)
    }
}
