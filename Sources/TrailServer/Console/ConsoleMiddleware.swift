import Foundation
import Hummingbird
import HTTPTypes
import TrailCore
import TrailService
import TrailStore

/// The console's cookies: the session's, and the sign-in form's anti-forgery token (double submit: a page of
/// another site can neither read the cookie nor set it, so it cannot send a form that matches it).
enum ConsoleCookies {
    static let session = "trail_session"
    static let signIn = "trail_sign_in"

    /// A cookie of the console: for `/ui` only, out of scripts' reach, never sent with a request another site
    /// starts, and `Secure` when the browser reached Trail over HTTPS.
    static func make(_ name: String, value: String, secure: Bool, maxAge: Int? = nil) -> Cookie {
        Cookie(name: name, value: value, maxAge: maxAge, path: "/ui", secure: secure, httpOnly: true, sameSite: .strict)
    }

    /// A cookie that tells the browser to forget `name`.
    static func expired(_ name: String, secure: Bool) -> Cookie {
        make(name, value: "", secure: secure, maxAge: 0)
    }
}

/// Console pages answer errors as pages, not problem+json: the same problem (status, title, detail, headers),
/// for a person to read.
struct ConsoleErrorMiddleware: RouterMiddleware {
    typealias Context = TrailRequestContext
    let renderer: ConsoleRenderer

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let problem = ProblemMiddleware<Context>.problem(for: error, request: request, logger: context.logger)
            return renderer.page(for: problem, context: context)
        }
    }
}

/// Finds the console session of a request by its cookie and makes its caller the request's (tenant, roles):
/// every page checks what that caller may do, like the API. Without a live session, a page is redirected to
/// sign-in (and back after it); a form gets 401. With authentication switched off there is no session: every
/// caller is the anonymous admin, as on the API.
struct ConsoleSessionMiddleware: RouterMiddleware {
    typealias Context = TrailRequestContext
    let sessions: ConsoleSessions
    let mode: AuthenticationMode

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        guard mode == .required else {
            context.principal = AuthenticationMiddleware.anonymous
            return try await next(request, context)
        }
        guard let cookie = request.cookies[ConsoleCookies.session]?.value,
              let session = try await sessions.session(cookie: cookie) else {
            if request.method == .get || request.method == .head {
                var target = request.uri.path
                if let query = request.uri.query, !query.isEmpty { target += "?" + query }
                return ConsoleRenderer.redirect(to: "/ui/sign-in" + ConsoleFormat.query([("next", target)]))
            }
            throw Problem(.unauthorized, "session-ended", title: "Signed out",
                          detail: "Your console session has ended (signed out, idle too long, or its key was revoked); sign in again.")
        }
        context.principal = session.principal
        context.consoleSession = session
        context.notes?.tenant = session.tenant
        return try await next(request, context)
    }
}

/// A console form: `application/x-www-form-urlencoded` (read by Hummingbird's decoder: a name given twice is
/// refused), at most 16 KiB.
struct ConsoleForm {
    static let maximumBytes = 16 * 1024
    let fields: [String: String]

    subscript(name: String) -> String? { fields[name] }

    static func read(_ request: Request) async throws -> ConsoleForm {
        let type = request.headers[.contentType]?.lowercased() ?? ""
        guard type.hasPrefix("application/x-www-form-urlencoded") else {
            throw Problem(.unsupportedMediaType, "unsupported-media-type", title: "Not a form",
                          detail: "Console forms are sent as application/x-www-form-urlencoded.")
        }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: maximumBytes)
        } catch {
            throw Problem(.contentTooLarge, "body-too-large", title: "Form too large",
                          detail: "A console form is at most \(maximumBytes) bytes.")
        }
        do {
            return ConsoleForm(fields: try URLEncodedFormDecoder().decode([String: String].self, from: String(buffer: buffer)))
        } catch {
            throw Problem.badRequest("The form could not be read (\(error)); send it again from its page.", path: "")
        }
    }

    /// Refuses a form that does not carry `expected` back in its `csrf` field, or that the browser says another
    /// site sent (`Sec-Fetch-Site`).
    func checkOrigin(_ request: Request, expected: String) throws(Problem) {
        let site = request.headers[.secFetchSite]?.lowercased()
        guard site == nil || site == "same-origin" || site == "none",
              ConsoleSessions.sameToken(self["csrf"] ?? "", expected) else {
            throw Problem(.forbidden, "form-refused", title: "Form refused",
                          detail: "This form did not come from this console session (its anti-forgery token is missing or out of date); reload the page and send it again.")
        }
    }
}

extension HTTPField.Name {
    static let secFetchSite = HTTPField.Name("Sec-Fetch-Site")!
}
