import Hummingbird

/// `GET /openapi.json` (SPEC §13): the OpenAPI 3.1 document of every route, built into the binary from
/// `openapi/trail.json` (`scripts/openapi/make_openapi.py` writes both). No key: it describes the API, it holds
/// no data.
struct OpenAPIController: Sendable {
    static let body = ByteBuffer(string: OpenAPIDocument.json)

    func addRoutes(to routes: Routes) {
        routes.get("/openapi.json") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: Self.body))
        }
    }
}
