import Hummingbird
import TrailCore
import TrailService
import TrailStore

/// `GET /health`: the process is alive and answering (always 200). `GET /ready` (SPEC §10): 200
/// `{"status": "ready", "checks": {…}}` while the process can serve the API, else 503 `{"status": "not_ready",
/// …}` with each check's `status` (`pass` or `fail`) and `detail`. Neither needs a key.
struct HealthController: Sendable {
    /// The store `/ready` checks; nil while it is being opened.
    let store: (any TrailStorage)?

    func addRoutes(to routes: Routes) {
        routes.get("/health") { _, _ in
            Response.json(Array(#"{"status":"ok"}"#.utf8))
        }
        routes.get("/ready") { _, _ in
            let readiness = if let store { await Readiness.of(store) } else { Readiness.starting }
            return Response.json(Self.json(readiness), status: readiness.isReady ? .ok : .serviceUnavailable)
        }
    }

    static func json(_ readiness: Readiness) -> [UInt8] {
        var writer = JSONWriter(capacity: 256)
        writer.raw("{"); writer.key("status"); writer.write(string: readiness.isReady ? "ready" : "not_ready")
        writer.raw(","); writer.key("checks"); writer.raw("{")
        for (i, check) in readiness.checks.enumerated() {
            if i > 0 { writer.raw(",") }
            writer.key(check.name); writer.raw("{")
            writer.key("status"); writer.write(string: check.passed ? "pass" : "fail")
            writer.raw(","); writer.key("detail"); writer.write(string: check.detail)
            writer.raw("}")
        }
        writer.raw("}}")
        return writer.bytes
    }
}
