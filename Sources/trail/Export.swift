import ArgumentParser
import Foundation
import Logging
import TrailCore
import TrailService
import TrailStore

struct Export: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Export events, oldest first, as CSV, JSON or NDJSON (the same export as GET /api/v1/audit/logs/export).")

    @Option(name: .long, help: "csv, json or ndjson.")
    var format: String = "json"

    @Option(name: .long, help: "Write to this file instead of standard output.")
    var output: String?

    @Option(name: .long, help: "The tenant whose events to export.")
    var tenant: String = TenantName.default

    @Option(name: .long, help: "Only this actor's events (actor id).")
    var actor: String?

    @Option(name: .long, help: "Only this action (normalised like verbs: update finds updated).")
    var action: String?

    @Option(name: .long, help: "Only this resource type.")
    var resourceType: String?

    @Option(name: .long, help: "Only this resource id.")
    var resourceId: String?

    @Option(name: .long, help: "Recorded at or after this RFC 3339 time.")
    var since: String?

    @Option(name: .long, help: "Recorded at or before this RFC 3339 time.")
    var until: String?

    @Option(name: .long, help: "Recorded in the last N days.")
    var days: Int64?

    @Flag(name: .long, help: "Include Trail's records of who read the log (category AUDIT_ACCESS): with no filter, the tenant's whole hash chain, as trail verify wants it.")
    var includeAccess = false

    @OptionGroup var store: DatabaseOption

    func validate() throws {
        guard EventExport.Format(rawValue: format) != nil else { throw ValidationError("--format must be csv, json or ndjson") }
        for (name, value) in [("--since", since), ("--until", until)] {
            if let value, Timestamp(rfc3339: value) == nil {
                throw ValidationError("\(name) must be an RFC 3339 date-time, like 2026-02-16T11:31:39Z")
            }
        }
        if let days, !(1...36_500).contains(days) { throw ValidationError("--days must be from 1 to 36500") }
    }

    func run() async throws {
        var query = EventQuery(
            actorId: actor, action: action.map(Verb.normalize), resourceType: resourceType, resourceId: resourceId,
            since: since.flatMap { Timestamp(rfc3339: $0) }, until: until.flatMap { Timestamp(rfc3339: $0) },
            includesAccess: includeAccess)
        if let days {
            let start = Timestamp(microseconds: SystemClock.now().microseconds - days * 86_400_000_000)
            query.since = max(query.since ?? start, start)
        }
        let handle: FileHandle
        if let output {
            guard FileManager.default.createFile(atPath: output, contents: nil),
                  let file = FileHandle(forWritingAtPath: output) else {
                throw ValidationError("cannot write \(output)")
            }
            handle = file
        } else {
            handle = FileHandle.standardOutput
        }
        let (tenant, format) = (self.tenant, EventExport.Format(rawValue: self.format)!)
        try await store.withStore { eventStore in
            let export = try await EventExport(store: eventStore, tenant: tenant, query: query, format: format)
            try await export.run(logger: Logger(label: "trail")) { bytes in handle.write(Data(bytes)) }
        }
        if output != nil { try handle.close() }
    }
}
