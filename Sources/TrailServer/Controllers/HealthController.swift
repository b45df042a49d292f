import Hummingbird

/// `GET /health`: the process is alive and answering.
struct HealthController: Sendable {
    func addRoutes(to routes: Routes) {
        routes.get("/health") { _, _ in
            Response.json(Array(#"{"status":"ok"}"#.utf8))
        }
    }
}
