import Hummingbird

/// `GET /openapi.json` (SPEC §13): the OpenAPI 3.1 document of every route, built into the binary from
/// `openapi/trail.json`; and `GET /docs`: the same document as a page to read. `scripts/openapi/make_openapi.py`
/// writes all three. No key: they describe the API, they hold no data.
struct OpenAPIController: Sendable {
    static let document = ByteBuffer(string: OpenAPIDocument.json)
    static let page = ByteBuffer(string: APIReferencePage.html)

    func addRoutes(to routes: Routes) {
        routes.get("/openapi.json") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: Self.document))
        }
        routes.get("/docs") { _, _ in
            // The page's own policy: its one inline style sheet, by hash; nothing else (no script at all).
            Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8",
                                            .contentSecurityPolicy: APIReferencePage.contentSecurityPolicy],
                     body: ResponseBody(byteBuffer: Self.page))
        }
    }
}
