import Foundation
import Hummingbird
public import HTTPTypes
import Synchronization
import TrailCore

/// One route of Trail's API: the method and path template the router matches, and the query parameters its
/// handler reads.
public struct Route: Sendable, Hashable, CustomStringConvertible {
    public let method: HTTPRequest.Method
    /// The path template as the router names a matched route (`/api/v1/audit/logs/{id}`).
    public let path: String
    /// The query parameters the route reads; a request with any other is refused (400), so that a misspelt
    /// filter never silently widens a read to every event.
    public let query: [String]

    public var description: String { "\(method.rawValue) \(path)" }

    /// Refuses a query that names a parameter this route does not read, names one twice, or holds NUL.
    func check(_ parameters: Parameters) throws(Problem) {
        guard !parameters.isEmpty else { return }
        var seen = Set<Substring>()
        for (name, value) in parameters {
            guard query.contains(where: { $0 == name }) else { throw unknown(String(name)) }
            guard seen.insert(name).inserted else {
                throw Problem(.badRequest, "repeated-parameter", title: "Repeated query parameter",
                              detail: "The query parameter \(name) is given more than once; give it once.",
                              errors: [FieldError(index: nil, path: String(name), message: "given more than once")])
            }
            try Route.refuseNUL(value, name: String(name))
        }
    }

    /// Refuses a parameter holding NUL (`%00`): no stored text holds it (Trail's JSON parser refuses it), so it
    /// could match nothing, and PostgreSQL refuses it in text outright.
    static func refuseNUL(_ value: some StringProtocol, name: String) throws(Problem) {
        guard value.utf8.contains(0) else { return }
        throw Problem.badRequest("\(name) holds the NUL character (%00), which no value in Trail can hold.", path: name)
    }

    private func unknown(_ name: String) -> Problem {
        let shown = name.count > 64 ? String(name.prefix(63)) + "…" : name
        var detail = "\(path) has no query parameter \(shown)"
        if let suggestion = Route.suggestion(for: name, among: query) { detail += "; did you mean \(suggestion)?" } else { detail += "." }
        detail += query.isEmpty ? " It takes no query parameters." : " It takes \(query.joined(separator: ", "))."
        return Problem(.badRequest, "unknown-parameter", title: "Unknown query parameter", detail: detail,
                       errors: [FieldError(index: nil, path: shown, message: "unknown query parameter")])
    }

    /// The names other audit APIs use for Trail's parameters.
    static let aliases: [String: String] = [
        "user": "actor", "user_id": "actor", "actor_id": "actor", "username": "actor",
        "verb": "action", "event_type": "action", "action_type": "action",
        "type": "resource_type", "model": "resource_type", "model_name": "resource_type", "object_type": "resource_type",
        "entity_type": "resource_type", "object_id": "resource_id", "entity_id": "resource_id", "id": "resource_id",
        "from": "since", "start": "since", "after": "since", "to": "until", "end": "until", "before": "until",
        "search": "q", "query": "q", "text": "q", "page_size": "limit", "per_page": "limit", "size": "limit",
        "count": "limit", "page": "cursor", "offset": "cursor", "status": "outcome",
    ]

    /// A parameter of `names` that `name` probably meant: a known alias, or a name at most two edits away.
    static func suggestion(for name: String, among names: [String]) -> String? {
        let lowered = name.lowercased()
        if names.contains(lowered) { return lowered }
        if let alias = aliases[lowered], names.contains(alias) { return alias }
        let scored = names.map { ($0, editDistance(lowered, $0)) }.filter { $0.1 <= 2 && $0.1 < $0.0.count }
        return scored.min { $0.1 < $1.1 }?.0
    }

    /// Levenshtein distance (short names only; a long name is far from every parameter anyway).
    static func editDistance(_ a: String, _ b: String) -> Int {
        let (a, b) = (Array(a.utf8.prefix(64)), Array(b.utf8))
        var previous = Array(0...b.count)
        for i in 1...max(a.count, 1) where !a.isEmpty {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...max(b.count, 1) where !b.isEmpty {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return a.isEmpty ? b.count : previous[b.count]
    }
}

/// Every route of the API, as registered: the source of `405` answers with `Allow`, of the query check, and of
/// the route template that access records and logs name instead of a raw path and query.
public final class RouteTable: Sendable {
    private let routes = Mutex<[String: Route]>([:])

    public init() {}

    func add(_ route: Route) {
        routes.withLock { $0[route.description] = route }
    }

    /// The route a request matched, by the template the router set (`HEAD` is answered by `GET`'s route).
    func route(method: HTTPRequest.Method, path: String?) -> Route? {
        guard let path else { return nil }
        let method = method == .head ? .get : method
        return routes.withLock { $0["\(method.rawValue) \(path)"] }
    }

    /// Every route, by path then method.
    public var all: [Route] {
        routes.withLock { Array($0.values) }.sorted { ($0.path, $0.method.rawValue) < ($1.path, $1.method.rawValue) }
    }

    /// The methods each path answers: its routes', `HEAD` wherever there is `GET`, and `OPTIONS`.
    func allowedMethods() -> [String: [HTTPRequest.Method]] {
        var byPath: [String: Set<String>] = [:]
        for route in all {
            byPath[route.path, default: ["OPTIONS"]].insert(route.method.rawValue)
            if route.method == .get { byPath[route.path]!.insert("HEAD") }
        }
        return byPath.mapValues { $0.sorted().compactMap { HTTPRequest.Method($0) } }
    }

    /// Methods a client may send that no route of a path takes: they get `405` with `Allow`, not `404`. (Those
    /// of RFC 9110 and PATCH, and the WebDAV ones the HTTP parser knows; it refuses any other method itself.)
    static let otherMethods: [HTTPRequest.Method] = [.get, .head, .post, .put, .patch, .delete, .trace]
        + ["PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK", "SEARCH", "REPORT", "PURGE", "QUERY"]
            .compactMap { HTTPRequest.Method($0) }

    /// Answers, on every path of the table, the methods it lacks with `405` and `Allow` (RFC 9110 §15.5.6), and
    /// `OPTIONS` with `204` and `Allow`. Call once every route is added; `router` is where they get the
    /// outermost middleware (request id, security headers, problem+json).
    func addMethodAnswers(to router: some RouterMethods<TrailRequestContext>) {
        for (path, allowed) in allowedMethods() {
            let allow = allowed.map(\.rawValue).joined(separator: ", ")
            for method in Self.otherMethods where !allowed.contains(method) {
                router.on(RouterPath(path), method: method) { request, _ -> Response in
                    throw Problem(.methodNotAllowed, "method-not-allowed", title: "Method not allowed",
                                  detail: "\(path) takes \(allow), not \(request.method.rawValue).",
                                  headers: [.allow: allow])
                }
            }
            router.on(RouterPath(path), method: .options) { _, _ -> Response in
                Response(status: .noContent, headers: [.allow: allow])
            }
        }
    }
}

/// Registers routes on a router or group and in the ``RouteTable``; every handler first checks the request's
/// query against the parameters its route declares.
struct Routes {
    let router: any RouterMethods<TrailRequestContext>
    let table: RouteTable

    typealias Handler = @Sendable (Request, TrailRequestContext) async throws -> Response

    func on(_ method: HTTPRequest.Method, _ path: String, query: [String] = [], use handler: @escaping Handler) {
        let route = Route(method: method, path: RouterPath(path).description, query: query)
        table.add(route)
        router.on(RouterPath(path), method: method) { request, context in
            try route.check(request.uri.queryParameters)
            return try await handler(request, context)
        }
    }

    func get(_ path: String, query: [String] = [], use handler: @escaping Handler) { on(.get, path, query: query, use: handler) }
    func post(_ path: String, query: [String] = [], use handler: @escaping Handler) { on(.post, path, query: query, use: handler) }
    func put(_ path: String, query: [String] = [], use handler: @escaping Handler) { on(.put, path, query: query, use: handler) }
    func delete(_ path: String, query: [String] = [], use handler: @escaping Handler) { on(.delete, path, query: query, use: handler) }
}

extension TrailRequestContext {
    /// A parameter of the matched path, percent-decoded (RFC 3986): `my%20doc` is `my doc`, `a%2Fb` is `a/b`, as
    /// `encodeURIComponent` and every HTTP client encode ids.
    func pathParameter(_ name: String) throws(Problem) -> String {
        guard let raw = parameters[Substring(name)] else {
            // Every caller names a parameter of its own route: a mismatch is a wiring mistake.
            throw Problem.internal
        }
        guard let decoded = raw.removingPercentEncoding else {
            throw Problem.badRequest("The \(name) in the path is not valid percent-encoded UTF-8 (RFC 3986).", path: name)
        }
        try Route.refuseNUL(decoded, name: name)
        return decoded
    }
}

extension HTTPField.Name {
    static let allow = HTTPField.Name("Allow")!
}
