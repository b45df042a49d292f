import Hummingbird
import Logging
import TrailService

/// One line per request at `info`, once it is answered: method, route (its template, as metrics and access
/// records name it; the path, cut short, when no route matched), status and duration, with the request id the
/// client got in `X-Request-ID`.
struct RequestLogMiddleware: RouterMiddleware {
    typealias Context = TrailRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard context.logger.logLevel <= .info else { return try await next(request, context) }
        let start = ContinuousClock.now
        do {
            let response = try await next(request, context)
            log(request, context, status: response.status.code, since: start)
            return response
        } catch {
            // Only what escapes the problem mapping inside: a failure to write the answer.
            log(request, context, status: (error as? any HTTPResponseError)?.status.code ?? 500, since: start)
            throw error
        }
    }

    private func log(_ request: Request, _ context: Context, status: Int, since start: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - start
        let milliseconds = Double(elapsed.components.seconds) * 1e3 + Double(elapsed.components.attoseconds) / 1e15
        let route = context.endpointPath.flatMap { $0 == "NotFound" ? nil : $0 } ?? AccessRecorder.bounded(request.uri.path)
        context.logger.info("\(request.method.rawValue) \(route) \(status) \((milliseconds * 100).rounded() / 100) ms")
    }
}
