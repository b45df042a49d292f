import Hummingbird
import HTTPTypes
import Mustache
import TrailCore
import TrailService
import TrailStore

/// Renders the console's pages: a page's template, inside the layout, as a response with the console's
/// security policy.
struct ConsoleRenderer: Sendable {
    let library: MustacheLibrary
    /// The forms' anti-forgery token when nobody signs in (`--insecure-no-auth`): one per process.
    let anonymousFormToken = ConsoleSessions.randomToken()

    /// Scripts and styles from Trail only (no inline script, no CDN), forms posting to Trail only, no framing.
    static let contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        + "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

    /// The pages in the header, each for the callers allowed what it shows.
    static let navigation: [(href: String, label: String, permission: Permission)] = [
        ("/ui/events", "Events", .read), ("/ui/summary", "Summary", .read), ("/ui/tail", "Live", .read),
        ("/ui/integrity", "Integrity", .read), ("/ui/admin/keys", "Keys", .manageKeys), ("/ui/admin/data", "Data", .manageData),
    ]

    init() {
        MustacheContentTypes.register(ConsoleHTML(), named: ConsoleHTML.name)
        var library = MustacheLibrary()
        for (name, text) in ConsoleTemplates.all {
            // The templates are part of the binary, checked by the tests: one that does not parse is a build error.
            try! library.register("{{% CONTENT_TYPE: \(ConsoleHTML.name)}}" + text, named: name)
        }
        self.library = library
    }

    /// The form token of the request's session.
    func formToken(_ context: TrailRequestContext) -> String {
        context.consoleSession?.formToken ?? anonymousFormToken
    }

    /// `template` rendered with `view`, in the layout, titled `title`.
    func page(_ template: String, title: String, view: View, context: TrailRequestContext, current: String? = nil,
              status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var layout = View()
        layout["title"] = title
        layout["main"] = library.render(view.fields, withTemplate: template) ?? ""
        if let principal = context.principal {
            layout["signedIn"] = true
            layout["tenant"] = principal.tenant
            layout["roles"] = principal.roles.sorted().map(\.rawValue).joined(separator: ", ")
            layout["canSignOut"] = context.consoleSession != nil
            layout["formToken"] = formToken(context)
            layout["nav"] = Self.navigation.filter { principal.allows($0.permission) }.map { item -> View in
                var view = View()
                view["href"] = item.href
                view["label"] = item.label
                view["current"] = item.href == current
                return view
            }
        }
        let html = library.render(layout.fields, withTemplate: "layout") ?? ""
        var fields = headers
        fields[.contentType] = "text/html; charset=utf-8"
        fields[.contentSecurityPolicy] = Self.contentSecurityPolicy
        return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
    }

    /// A problem as a page: its title and detail, with its status and headers (`Retry-After`…).
    func page(for problem: Problem, context: TrailRequestContext) -> Response {
        var view = View()
        view["title"] = problem.title
        view["detail"] = problem.detail
        var headers = problem.headers
        headers[.contentType] = nil
        return page("error", title: problem.title, view: view, context: context, status: problem.status, headers: headers)
    }

    /// A redirect after a form (`303 See Other`), or to sign-in.
    static func redirect(to location: String, cookies: [Cookie] = []) -> Response {
        var response = Response(status: .seeOther, headers: [.location: location])
        for cookie in cookies { response.setCookie(cookie) }
        return response
    }
}

/// HTML escaping as Mustache's own (`&`, `<`, `>`, `"`, `'`), over UTF-8 bytes, and no copy of a value that
/// needs none (most do not): Mustache's escaper looked each character up in a dictionary, a fifth of a list
/// page's time.
struct ConsoleHTML: MustacheContentType {
    static let name = "TRAIL_HTML"

    func escapeText(_ text: String) -> String {
        Self.escape(text)
    }

    static func escape(_ text: String) -> String {
        let utf8 = text.utf8
        guard utf8.contains(where: { $0 == 0x26 || $0 == 0x3C || $0 == 0x3E || $0 == 0x22 || $0 == 0x27 }) else { return text }
        var out: [UInt8] = []
        out.reserveCapacity(utf8.count + 32)
        for byte in utf8 {
            switch byte {
            case 0x26: out.append(contentsOf: "&amp;".utf8)
            case 0x3C: out.append(contentsOf: "&lt;".utf8)
            case 0x3E: out.append(contentsOf: "&gt;".utf8)
            case 0x22: out.append(contentsOf: "&quot;".utf8)
            case 0x27: out.append(contentsOf: "&#39;".utf8)
            default: out.append(byte)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
