import Foundation
import Hummingbird
import HTTPTypes
import TrailCore
import TrailService
import TrailStore

/// The web console (SPEC §12) at `/ui`: pages rendered on the server from the same store reads as the API, for
/// the caller of a console session (signed in with an API key or a JWT), confined to its tenant and checked
/// against its role like every API request. Each page view of the log is recorded like an API read (SPEC §7).
struct ConsoleController: Sendable {
    typealias Context = TrailRequestContext
    let store: any TrailStorage
    let sessions: ConsoleSessions
    /// The API's key cache: a key revoked here is refused at once there too.
    let keys: KeyCache
    /// How API callers are authenticated: the sign-in form checks keys and tokens the same way, under the same
    /// limit of failures per address.
    let authentication: AuthenticationMiddleware
    /// Records page views, sign-ins and sign-outs, with the console's routes.
    let access: AccessLog
    let live: LiveEvents
    /// The fewest days a retention rule may keep events (``ServerConfiguration/minimumRetentionDays``).
    let minimumRetentionDays: Double
    let renderer = ConsoleRenderer()

    /// The console's routes: the assets and the sign-in form for anybody, every other page for a session.
    func addRoutes(to router: Router<Context>) {
        let table = access.routes
        let open = Routes(router: router.group().add(middleware: ConsoleErrorMiddleware(renderer: renderer)), table: table)
        open.get("/ui/assets/console.css") { request, _ in Self.asset(ConsoleAssets.css, type: "text/css; charset=utf-8", tag: ConsoleAssets.cssTag, request: request) }
        open.get("/ui/assets/console.js") { request, _ in Self.asset(ConsoleAssets.js, type: "text/javascript; charset=utf-8", tag: ConsoleAssets.jsTag, request: request) }
        open.get("/ui/assets/icon.svg") { request, _ in Self.asset(ConsoleAssets.icon, type: "image/svg+xml", tag: ConsoleAssets.iconTag, request: request) }
        open.get("/ui/sign-in", query: ["next"]) { request, context in
            signInPage(next: request.uri.queryParameters["next"].map(String.init), message: nil, request: request, context: context)
        }
        open.post("/ui/sign-in") { request, context in try await signIn(request, context: context) }

        let group = router.group()
            .add(middleware: ConsoleErrorMiddleware(renderer: renderer))
            .add(middleware: ConsoleSessionMiddleware(sessions: sessions, mode: authentication.mode))
            .add(middleware: AccessAuditMiddleware(log: access))
        let pages = Routes(router: group, table: table)
        pages.get("/ui") { _, _ in ConsoleRenderer.redirect(to: "/ui/events") }
        pages.post("/ui/sign-out") { request, context in try await signOut(request, context: context) }
        addReadRoutes(to: pages)
        addIntegrityRoutes(to: pages)
        addAdminRoutes(to: pages)
        table.addMethodAnswers(to: router)
    }

    /// A file of the console's, cached by the browser (revalidated by its `ETag` once an hour).
    static func asset(_ body: ByteBuffer, type: String, tag: String, request: Request) -> Response {
        var headers: HTTPFields = [.contentType: type, .cacheControl: "max-age=3600", .eTag: tag]
        if request.headers[.ifNoneMatch] == tag {
            headers[.contentType] = nil
            return Response(status: .notModified, headers: headers)
        }
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: body))
    }

    // MARK: Signing in and out

    /// Where to go after sign-in: a console page, never another site (`//host`, `/\host`).
    static func safeNext(_ next: String?) -> String {
        guard let next, next.hasPrefix("/ui"), !next.hasPrefix("//"), !next.contains("\\"),
              !next.unicodeScalars.contains(where: { $0.value < 0x20 }) else { return "/ui/events" }
        return next
    }

    private func secure(_ request: Request, _ context: Context) -> Bool {
        access.origin.isHTTPS(request, peer: context.remoteAddress?.ipAddress)
    }

    /// The sign-in form, with a fresh anti-forgery token in a cookie and in the form.
    func signInPage(next: String?, message: String?, request: Request, context: Context,
                    status: HTTPResponse.Status = .ok) -> Response {
        if authentication.mode == .disabled { return ConsoleRenderer.redirect(to: Self.safeNext(next)) }
        let token = ConsoleSessions.randomToken()
        var view = View()
        view["csrf"] = token
        view["next"] = Self.safeNext(next)
        view["message"] = message
        var response = renderer.page("signIn", title: "Sign in", view: view, context: context, status: status)
        response.setCookie(ConsoleCookies.make(ConsoleCookies.signIn, value: token, secure: secure(request, context)))
        return response
    }

    /// Checks the key or token of the form like an API credential (a failure counts toward the address's limit
    /// and, for a known key, is recorded in its tenant's log); opens a session for a caller who may read the log.
    func signIn(_ request: Request, context: Context) async throws -> Response {
        let form = try await ConsoleForm.read(request)
        let next = form["next"]
        try form.checkOrigin(request, expected: request.cookies[ConsoleCookies.signIn]?.value ?? "")
        let credential = (form["key"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard !credential.isEmpty else {
            return signInPage(next: next, message: "Enter an API key.", request: request, context: context, status: .unprocessableContent)
        }
        let signedIn: (principal: Principal, expiresAt: Timestamp?)
        do {
            signedIn = try await authentication.limitingFailures(of: request, context: context) {
                try await authentication.principal(presenting: credential, tokenAllowed: true, request: request, context: context)
            }
        } catch let problem as Problem where problem.status == .unauthorized {
            return signInPage(next: next, message: problem.detail, request: request, context: context, status: .unauthorized)
        }
        let principal = signedIn.principal
        guard principal.allows(.read) else {
            let roles = principal.roles.sorted().map(\.rawValue).joined(separator: ", ")
            return signInPage(next: next, message: "This credential's role (\(roles.isEmpty ? "none" : roles)) cannot read the log; the console needs reader, auditor or admin.",
                              request: request, context: context, status: .forbidden)
        }
        let (cookie, _) = try await sessions.open(for: principal, credentialExpiresAt: signedIn.expiresAt)
        try await access.record(.signedIn, by: principal, request: request, context: context, status: 303)
        let secure = secure(request, context)
        return ConsoleRenderer.redirect(to: Self.safeNext(next), cookies: [
            ConsoleCookies.make(ConsoleCookies.session, value: cookie, secure: secure),
            ConsoleCookies.expired(ConsoleCookies.signIn, secure: secure),
        ])
    }

    func signOut(_ request: Request, context: Context) async throws -> Response {
        let form = try await ConsoleForm.read(request)
        try form.checkOrigin(request, expected: renderer.formToken(context))
        if let cookie = request.cookies[ConsoleCookies.session]?.value {
            try await sessions.close(cookie: cookie)
        }
        if let principal = context.principal {
            try await access.record(.signedOut, by: principal, request: request, context: context, status: 303)
        }
        return ConsoleRenderer.redirect(to: "/ui/sign-in", cookies: [ConsoleCookies.expired(ConsoleCookies.session, secure: secure(request, context))])
    }
}
