import ArgumentParser
import Foundation
import TrailCore
import TrailStore
import Synchronization

struct BenchWrite: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "write",
        abstract: "Measure the store alone, without HTTP: concurrent appends to a fresh SQLite file or a PostgreSQL database.",
        discussion: """
            Complements scripts/bench/writes.sh (which measures through HTTP with wrk): this shows what the write path \
            itself sustains. Bounded: it stops after --events events.
            """)

    enum Scenario: String, ExpressibleByArgument, CaseIterable {
        case creates, updates, batches
    }

    @Option(help: "creates (one event per append, new resources), updates (over 1,000 resources), batches (1,000 creates per append).")
    var scenario: Scenario = .creates

    @Option(help: "Events to write in all.")
    var events: Int = 100_000

    @Option(help: "Concurrent writers.")
    var concurrency: Int = 32

    @OptionGroup var store: FreshDatabase

    func validate() throws {
        guard events > 0, concurrency > 0 else { throw ValidationError("--events and --concurrency must be positive") }
    }

    func run() async throws {
        try await TrailBench.location(store.database).withStore { store in try await measure(store) }
    }

    private func measure(_ store: any EventStore) async throws {
        let perAppend = scenario == .batches ? 1000 : 1
        let appends = max(1, events / perAppend)
        let next = Counter()
        let scenario = self.scenario
        let started = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<concurrency {
                group.addTask {
                    while let n = next.take(below: appends) {
                        let activities = (0..<perAppend).map { i in BenchWrite.activity(scenario, n * perAppend + i) }
                        _ = try await store.append(AppendRequest(tenant: "bench", activities: activities))
                    }
                }
            }
            try await group.waitForAll()
        }
        let elapsed = (ContinuousClock.now - started).components
        let seconds = Double(elapsed.seconds) + Double(elapsed.attoseconds) / 1e18
        let written = appends * perAppend
        print("\(scenario.rawValue): \(written) events in \(String(format: "%.2f", seconds)) s = \(Int(Double(written) / seconds)) events/s (concurrency \(concurrency))")
    }

    static func activity(_ scenario: Scenario, _ n: Int) -> Activity {
        let actor = JSONObject([.init(key: "id", value: "12")])
        switch scenario {
        case .creates, .batches:
            return Activity(action: Verb.created, actor: actor, actorId: "12", resourceType: "user", resourceId: "u-\(n)",
                            data: JSONObject([.init(key: "username", value: "johndoe"), .init(key: "email", value: "john@example.com"),
                                              .init(key: "age", value: 21)]))
        case .updates:
            return Activity(action: Verb.updated, actor: actor, actorId: "12", resourceType: "account", resourceId: "acct-\(n % 1000)",
                            data: JSONObject([.init(key: "balance", value: .number(JSONNumber(n))), .init(key: "status", value: "active")]))
        }
    }
}

/// Hands out 0, 1, 2 … to concurrent tasks.
final class Counter: Sendable {
    private let value = Mutex(0)
    func take(below limit: Int) -> Int? {
        value.withLock { current in
            guard current < limit else { return nil }
            defer { current += 1 }
            return current
        }
    }
}
