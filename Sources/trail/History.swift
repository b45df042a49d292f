import ArgumentParser
import TrailCore
import TrailServer
import TrailStore

struct History: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show every version of one resource, with its changes and summary.")

    @Option(name: .long, help: "The resource type, e.g. user.")
    var resourceType: String

    @Option(name: .long, help: "The resource id, e.g. user-1.")
    var resourceId: String

    @Option(name: .long, help: "The tenant whose history to read.")
    var tenant: String = ServerConfiguration.defaultTenant

    @Flag(name: .long, help: "Print the records as a JSON array instead of text.")
    var json = false

    @OptionGroup var store: DatabaseOption

    func run() async throws {
        let (tenant, resourceType, resourceId) = (self.tenant, self.resourceType, self.resourceId)
        let events = try await store.withStore { store in
            try await store.history(tenant: tenant, resourceType: resourceType, resourceId: resourceId)
        }
        if json {
            print(String(decoding: ActivityRecord.encodeArray(events), as: UTF8.self))
            return
        }
        guard !events.isEmpty else {
            print("No history for \(resourceType) \(resourceId).")
            throw ExitCode(1)
        }
        print("\(resourceType) \(resourceId): \(events.count) event\(events.count == 1 ? "" : "s"), version \(events.last?.version ?? 0)")
        for event in events {
            let actor = event.actor?["id"]?.stringValue ?? "-"
            print("")
            print("v\(event.version ?? 0)  #\(event.sequence)  \(event.recordedAt.formatted())  \(event.action) by \(actor)")
            print("    \(event.summary)")
            for change in event.changes {
                guard case .array(let pair) = change.value, pair.count == 2 else { continue }
                print("    \(change.key): \(JSONWriter.string(pair[0])) -> \(JSONWriter.string(pair[1]))")
            }
        }
    }
}
