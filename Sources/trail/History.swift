import ArgumentParser
import TrailCore
import TrailService
import TrailStore

struct History: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show every version of one resource, with its changes and summary.")

    @Option(name: .long, help: "The resource type, e.g. user.")
    var resourceType: String

    @Option(name: .long, help: "The resource id, e.g. user-1.")
    var resourceId: String

    @Option(name: .long, help: "The tenant whose history to read.")
    var tenant: String = TenantName.default

    @Flag(name: .long, help: "Print the records as a JSON array instead of text.")
    var json = false

    @OptionGroup var store: DatabaseOption

    func run() async throws {
        let (tenant, resourceType, resourceId, json) = (self.tenant, self.resourceType, self.resourceId, self.json)
        // A page at a time, written as it comes: a history of any length in constant memory.
        let (count, version) = try await store.withStore { store in
            var (count, version, after): (Int, Int64, Int64?) = (0, 0, nil)
            if json { print("[", terminator: "") }
            while true {
                let page = try await store.events(tenant: tenant, matching: .history(
                    resourceType: resourceType, resourceId: resourceId, after: after, limit: History.pageSize))
                for event in page {
                    if json {
                        var writer = JSONWriter(capacity: 1024)
                        ActivityRecord.write(event, into: &writer)
                        print((count > 0 ? "," : "") + String(decoding: writer.bytes, as: UTF8.self), terminator: "")
                    } else {
                        History.printEvent(event)
                    }
                    count += 1
                    version = event.version ?? version
                }
                guard page.count == History.pageSize, let last = page.last else { break }
                after = last.sequence
            }
            if json { print("]") }
            return (count, version)
        }
        guard !json else { return }
        guard count > 0 else {
            print("No history for \(resourceType) \(resourceId).")
            throw ExitCode(1)
        }
        print("\(resourceType) \(resourceId): \(count) event\(count == 1 ? "" : "s"), version \(version)")
    }

    static let pageSize = 1000

    static func printEvent(_ event: RecordedEvent) {
        let actor = event.actor?["id"]?.stringValue ?? "-"
        Swift.print("v\(event.version ?? 0)  #\(event.sequence)  \(event.recordedAt.formatted())  \(event.action) by \(actor)")
        Swift.print("    \(event.summary)")
        for change in event.changes {
            guard case .array(let pair) = change.value, pair.count == 2 else { continue }
            Swift.print("    \(change.key): \(JSONWriter.string(pair[0])) -> \(JSONWriter.string(pair[1]))")
        }
        Swift.print("")
    }
}
