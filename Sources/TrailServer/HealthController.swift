import Hummingbird

/// `GET /health`: the process is alive and answering.
struct HealthController<Context: RequestContext>: Sendable {
    func addRoutes(to router: some RouterMethods<Context>) {
        router.get("/health") { _, _ in
            Response.json(Array(#"{"status":"ok"}"#.utf8))
        }
    }
}
