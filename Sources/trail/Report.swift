import ArgumentParser
import Foundation
import TrailCore
import TrailService
import TrailStore

struct Report: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Summarise recent events: counts by action, resource type, actor, day and outcome (the Django trail's audit_report).")

    @Option(name: .long, help: "The last N days.")
    var days: Int64 = 30

    @Option(name: .long, help: "Only this actor's events (actor id).")
    var actor: String?

    @Option(name: .long, help: "Only this resource type.")
    var resourceType: String?

    @Option(name: .long, help: "table, csv or json (json is the same as GET /api/v1/audit/logs/summary).")
    var format: String = "table"

    @Option(name: .long, help: "The tenant to report on.")
    var tenant: String = TenantName.default

    @OptionGroup var store: DatabaseOption

    func validate() throws {
        guard ["table", "csv", "json"].contains(format) else { throw ValidationError("--format must be table, csv or json") }
        guard (1...36_500).contains(days) else { throw ValidationError("--days must be from 1 to 36500") }
    }

    func run() async throws {
        let query = EventQuery(actorId: actor, resourceType: resourceType,
                               since: Timestamp(microseconds: SystemClock.now().microseconds - days * 86_400_000_000))
        let tenant = self.tenant
        let summary = try await store.withStore { store in try await store.summary(tenant: tenant, matching: query) }
        let facets: [(String, [(String, Int)])] = [
            ("action", summary.byAction), ("resource_type", summary.byResourceType), ("actor", summary.byActor),
            ("day", summary.byDay), ("outcome", summary.byOutcome),
        ]
        switch format {
        case "json":
            print(String(decoding: AuditSummaryJSON.encode(summary, days: days), as: UTF8.self))
        case "csv":
            var writer = JSONWriter()
            StoredEventCSV.row(["facet", "value", "events"], into: &writer)
            for (facet, pairs) in facets {
                for (value, count) in pairs { StoredEventCSV.row([facet, value, String(count)], into: &writer) }
            }
            FileHandle.standardOutput.write(Data(writer.bytes))
        default:
            var filters = "last \(days) day\(days == 1 ? "" : "s")"
            if let actor { filters += ", actor \(actor)" }
            if let resourceType { filters += ", resource type \(resourceType)" }
            print("Audit report (\(filters)): \(summary.total) event\(summary.total == 1 ? "" : "s")")
            for (facet, pairs) in facets where !pairs.isEmpty {
                print("")
                print("By \(facet.replacingOccurrences(of: "_", with: " ")):")
                let width = pairs.map(\.0.count).max() ?? 0
                for (value, count) in pairs {
                    print("  " + value.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + String(count))
                }
            }
        }
    }
}
