import Hummingbird
import Logging
import TrailCore
import TrailService
import TrailStore

/// Meta-audit over HTTP: an ``AccessRecorder`` record of a request, with the route it matched, the query
/// parameters that route reads (never others) and the request's origin.
struct AccessLog: Sendable {
    let recorder: AccessRecorder
    let origin: RequestOrigin
    /// The routes, whose query parameters are the only ones recorded.
    let routes: RouteTable

    /// Records `action` by `caller` on `request` (nothing for a caller without credentials).
    func record(_ action: AccessRecorder.Action, by caller: Principal, request: Request, context: TrailRequestContext,
                status: Int, details: JSONObject = JSONObject()) async throws(StoreError) {
        guard caller.credential != .none else { return }
        var query: [(name: String, value: String)] = []
        if let route = routes.route(method: request.method, path: context.endpointPath) {
            let given = request.uri.queryParameters
            for name in route.query {
                if let value = given[Substring(name)] { query.append((name, String(value))) }
            }
        }
        let access = AccessRecorder.Access(
            method: request.method.rawValue, route: context.endpointPath, path: request.uri.path, query: query,
            requestContext: origin.context(of: request, in: context))
        try await recorder.record(action, by: caller, access: access, status: status, details: details)
    }
}

/// Records every read of the log (`GET` and `HEAD` but `/api/v1/messages`, `/api/v1/admin` and `/ui/admin`, and
/// `POST /api/v1/integrity/verify` or `/ui/integrity/verify`, which read all of it) by an authenticated caller, answered or refused, with
/// its status.
struct AccessAuditMiddleware: RouterMiddleware {
    typealias Context = TrailRequestContext
    let log: AccessLog

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        // (The API's and the console's verify.)
        let verifies = request.method == .post && request.uri.path.hasSuffix("/integrity/verify")
        guard request.method == .get || request.method == .head || verifies, let caller = context.principal, caller.credential != .none,
              Self.readsTheLog(request.uri.path) else {
            return try await next(request, context)
        }
        let action: AccessRecorder.Action = verifies ? .verified : request.uri.path.hasSuffix("/export") ? .exported : .read
        let response: Response
        do {
            response = try await next(request, context)
        } catch {
            let status = Problem.status(of: error).code
            do {
                try await log.record(action, by: caller, request: request, context: context, status: status)
            } catch {
                context.logger.error("a refused read could not be recorded", metadata: ["error": "\(error)"])
            }
            throw error
        }
        try await log.record(action, by: caller, request: request, context: context, status: response.status.code)
        return response
    }

    /// (The console's admin pages are about keys and rules, like `/api/v1/admin`; `/ui` only redirects.)
    static func readsTheLog(_ path: String) -> Bool {
        !(path.hasPrefix("/api/v1/messages") || path.hasPrefix("/api/v1/admin") || path.hasPrefix("/ui/admin") || path == "/ui")
    }
}
