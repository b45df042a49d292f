public import TrailStore

/// Whether this process can serve the API (SPEC §10, `GET /ready`): its store answers, its schema has every
/// migration this version knows, and its writer is not stuck. A load balancer or orchestrator sends traffic
/// only while every check passes; the answer changes back by itself when the cause goes away.
public struct Readiness: Sendable {
    /// A transaction running longer than this means the writer is stuck (one takes milliseconds; the largest,
    /// 20,000 events, about a second).
    public static let stuckWriter = Duration.seconds(10)

    public struct Check: Sendable, Equatable {
        /// `store`, `migrations`, `writer` or `search_index`.
        public var name: String
        public var passed: Bool
        /// What was found, for people (`ok`, or what is wrong).
        public var detail: String
    }

    public var checks: [Check]

    public var isReady: Bool { checks.allSatisfy(\.passed) }

    public init(checks: [Check]) {
        self.checks = checks
    }

    /// The checks of `store`, each run once.
    public static func of(_ store: any ReadinessProbe) async -> Readiness {
        let found = await store.readiness()
        var checks: [Check] = []
        if let failure = found.failure {
            checks.append(Check(name: "store", passed: false, detail: failure.message))
            checks.append(Check(name: "migrations", passed: false, detail: "unknown: the store did not answer"))
        } else {
            checks.append(Check(name: "store", passed: true, detail: "ok"))
            checks.append(found.pendingMigrations.isEmpty
                ? Check(name: "migrations", passed: true, detail: "ok")
                : Check(name: "migrations", passed: false,
                        detail: "pending: \(found.pendingMigrations.joined(separator: ", ")) (run trail migrate)"))
        }
        if let busy = found.writerBusy, busy > stuckWriter {
            checks.append(Check(name: "writer", passed: false,
                                detail: "one transaction has run for \(busy.components.seconds) s"))
        } else {
            checks.append(Check(name: "writer", passed: true, detail: "ok"))
        }
        // Searches are exact whatever the lag (they find what the index has not reached), so it never fails.
        checks.append(Check(name: "search_index", passed: true, detail: found.searchIndexLag.map { lag in
            lag == 0 ? "ok: up to date" : "ok: \(lag) events not indexed yet (searches still find them)"
        } ?? "ok: lag not known until the migrations are applied"))
        return Readiness(checks: checks)
    }

    /// While the store is being opened (`trail serve` listens first): not ready.
    public static let starting = Readiness(checks: [
        Check(name: "store", passed: false, detail: "starting: the store is being opened"),
    ])
}
