import ArgumentParser
import Foundation
import Synchronization
import TrailCore
import TrailStore

/// Fills a fresh store with a realistic history for the read benchmarks (`scripts/bench/reads.sh`).
struct BenchPopulate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "populate",
        abstract: "Fill a fresh store with --events events over --resources resources, for read benchmarks.",
        discussion: """
            Tenant "default". Event n concerns resource n mod --resources (ten resource types): each resource \
            gets a create, then, mixed evenly through the history, updates of its status, amount and note (88%), \
            custom actions approved and exported (5% each), deletes and re-creates (1% each); 1,000 actors with \
            names; metadata with a source and a region. Recorded times are spread evenly over the --days before \
            now. Written in 1,000-event appends through the normal write path (versions, diffs, summaries, search \
            index). Bounded by --events.
            """)

    @Option(help: "Events to write.")
    var events: Int = 10_000_000

    @Option(help: "Distinct resources.")
    var resources: Int = 100_000

    @Option(help: "Recorded times are spread over this many days before now.")
    var days: Int = 90

    @OptionGroup var store: FreshDatabase

    func validate() throws {
        guard events > 0, resources > 0, days > 0 else { throw ValidationError("--events, --resources and --days must be positive") }
    }

    static let types = ["invoice", "user", "order", "document", "ticket", "payment", "project", "account", "contract", "shipment"]
    static let statuses = ["draft", "open", "pending", "approved", "paid", "late", "closed", "archived"]
    static let notes = ["call the customer", "payment received late", "zebra logistics delivery", "discount agreed",
                        "address corrected", "duplicate of another request", "escalated to finance", "waiting for signature"]
    static let names = ["Ann", "Bob", "Chen", "Dana", "Émile", "Farah", "Goran", "Hana", "Ivan", "Jun"]
    static let sources = ["api", "web", "batch", "import"]
    static let regions = ["eu-west", "us-east", "ap-south"]

    func run() async throws {
        let location = try TrailBench.location(store.database)
        let total = events
        let progress = Progress()
        let end = SystemClock.now().microseconds
        let span = Int64(days) * 86_400_000_000
        // Recorded time follows progress, so the history spreads over --days.
        let configuration = StoreConfiguration(clock: {
            Timestamp(microseconds: end - span
                + Int64(Double(span) * Double(progress.written.load(ordering: .relaxed)) / Double(total)))
        })
        let perAppend = 1_000
        let appends = (total + perAppend - 1) / perAppend
        let resources = self.resources
        let started = ContinuousClock.now
        // A few appends in flight keep the writer busy; each resource's events stay in order as long as two
        // appends in flight never hold the same resource (resources ≥ appends in flight × 1,000).
        let inFlight = resources >= 4 * perAppend ? 4 : 1
        let next = Counter()
        try await location.withStore(configuration: configuration) { store in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<inFlight {
                    group.addTask {
                        while let a = next.take(below: appends) {
                            let range = (a * perAppend)..<min(total, (a + 1) * perAppend)
                            let activities = range.map { BenchPopulate.activity($0, resources: resources) }
                            _ = try await store.append(AppendRequest(tenant: "default", activities: activities))
                            progress.add(range.count)
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
        let seconds = Double((ContinuousClock.now - started).components.seconds)
        var line = "populated \(total) events over \(min(resources, total)) resources in \(Int(seconds)) s"
        if case .sqlite(let path, _) = location {
            let bytes = ["", "-wal"].compactMap { try? FileManager.default.attributesOfItem(atPath: path + $0)[.size] as? Int }.reduce(0, +)
            line += "; \(bytes / 1_000_000) MB on disk = \(bytes / total) bytes per event"
        }
        print(line)
    }

    final class Progress: Sendable {
        let written = Atomic<Int>(0)
        private let reported = Atomic<Int>(0)

        /// Counts written events, and says so every 500,000.
        func add(_ count: Int) {
            let done = written.add(count, ordering: .relaxed).newValue
            if reported.exchange(done / 500_000, ordering: .relaxed) < done / 500_000 { print("\(done) events …") }
        }
    }

    /// A 64-bit mix (splitmix64's finaliser), so the action does not follow the resource type (both depend on n).
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Event n: deterministic, so two runs populate the same history.
    static func activity(_ n: Int, resources: Int) -> Activity {
        let r = n % resources
        let round = n / resources
        let type = types[r % types.count]
        let actorNumber = (n &* 7919) % 1_000
        let actor = JSONObject([
            .init(key: "id", value: .string("user-\(actorNumber)")),
            .init(key: "name", value: .string("\(names[actorNumber % names.count]) \(actorNumber)")),
        ])
        let metadata = JSONObject([
            .init(key: "source", value: .string(sources[n % sources.count])),
            .init(key: "region", value: .string(regions[(n / 7) % regions.count])),
        ])
        var action = Verb.updated
        var data = JSONObject()
        // Each resource's first event creates it; after that, actions are mixed evenly through the history:
        // 5% approved, 5% exported, 1% deleted, 1% created again, the rest updates.
        let roll = round == 0 ? -1 : Int(BenchPopulate.mix(UInt64(n)) % 100)
        switch roll {
        case -1, 11:
            action = Verb.created
            data = JSONObject([
                .init(key: "title", value: .string("\(type.capitalized) \(r)")),
                .init(key: "status", value: "draft"),
                .init(key: "amount", value: .number(JSONNumber(100 + r % 900))),
                .init(key: "owner", value: .string("user-\(r % 1_000)")),
            ])
        case 0..<5: action = "approved"
        case 5..<10: action = "exported"
        case 10: action = Verb.deleted
        default:
            data = JSONObject([
                .init(key: "status", value: .string(statuses[(n / 3) % statuses.count])),
                .init(key: "amount", value: .number(JSONNumber(100 + (n / 11) % 900))),
            ])
            if roll % 3 == 0 { data["note"] = .string(notes[(n / 13) % notes.count]) }
        }
        return Activity(action: action, actor: actor, actorId: "user-\(actorNumber)", resourceType: type,
                        resourceId: "\(type)-\(r)", data: data, metadata: metadata)
    }
}
