import Hummingbird
import Logging
import TrailService

/// Observes every answered request: one access line at `info` (SPEC §10: `request_id`, `method`, `route`,
/// `status`, `duration_ms`, `tenant`) and, when metrics are on, `trail_http_requests_total` and
/// `trail_http_request_duration_seconds`. The route is the matched template (`/api/v1/audit/logs/{id}`), as
/// access records name it; a request no route matched is `unmatched` (its path, cut short, is logged as `path`).
struct RequestLogMiddleware: RouterMiddleware {
    typealias Context = TrailRequestContext
    /// Where requests are counted; nil when metrics are off.
    let metrics: TrailMetrics.Requests?

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let logs = context.logger.logLevel <= .info
        guard logs || metrics != nil else { return try await next(request, context) }
        var context = context
        // Only the access line names the tenant.
        let notes = logs ? RequestNotes() : nil
        context.notes = notes
        let start = ContinuousClock.now
        do {
            let response = try await next(request, context)
            observe(request, context, notes, status: response.status.code, since: start, logs: logs)
            return response
        } catch {
            // Only what escapes the problem mapping inside: a failure to write the answer.
            observe(request, context, notes, status: (error as? any HTTPResponseError)?.status.code ?? 500, since: start, logs: logs)
            throw error
        }
    }

    private func observe(_ request: Request, _ context: Context, _ notes: RequestNotes?, status: Int,
                         since start: ContinuousClock.Instant, logs: Bool) {
        let elapsed = ContinuousClock.now - start
        let template = context.endpointPath.flatMap { $0 == "NotFound" ? nil : $0 }
        let route = template ?? TrailMetrics.unmatchedRoute
        metrics?.answered(method: request.method.rawValue, route: route, status: status, after: elapsed)
        guard logs else { return }
        let milliseconds = Double(elapsed.components.seconds) * 1e3 + Double(elapsed.components.attoseconds) / 1e15
        var metadata: Logger.Metadata = [
            "method": .string(request.method.rawValue), "route": .string(route), "status": .stringConvertible(status),
            "duration_ms": .stringConvertible((milliseconds * 1000).rounded() / 1000),
        ]
        if template == nil { metadata["path"] = .string(AccessRecorder.bounded(request.uri.path)) }
        if let tenant = notes?.tenant { metadata["tenant"] = .string(tenant) }
        context.logger.info("request", metadata: metadata)
    }
}
