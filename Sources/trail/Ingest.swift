import ArgumentParser
import Foundation
import TrailCore
import TrailServer
import TrailStore

struct Ingest: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Record payloads from a JSON file, as the activity-stream endpoint would, and print the records.",
        discussion: """
            The file holds one payload, an array of payloads, or an "audit_logs" wrapper, in any of the accepted \
            formats (object, resource, flat). It is processed at once through the same core and store as the \
            HTTP service, atomically; the records are printed as a JSON array.
            """)

    @Option(name: .long, help: "The JSON file to read; - for standard input.")
    var file: String

    @Option(name: .long, help: "An idempotency key for this submission (like the Idempotency-Key header).")
    var idempotencyKey: String?

    @Flag(name: .long, help: "Validate now and queue the submission for the workers; print the message id.")
    var async = false

    @OptionGroup var store: StoreOptions

    func run() async throws {
        guard let handle = file == "-" ? FileHandle.standardInput : FileHandle(forReadingAtPath: file) else {
            throw ValidationError("cannot read \(file): no such file, or not readable")
        }
        let body = handle.readDataToEndOfFile()
        let (idempotencyKey, async) = (self.idempotencyKey, self.async)
        try await store.withStore { eventStore in
            do {
                let ingest = ActivityIngest(store: eventStore)
                if async {
                    let result = try await ingest.enqueue(body: body, idempotencyKey: idempotencyKey)
                    print(result.message.id)
                } else {
                    let result = try await ingest.ingest(body: body, idempotencyKey: idempotencyKey)
                    print(String(decoding: ActivityRecord.encodeArray(result.events), as: UTF8.self))
                }
            } catch let problem as Problem {
                throw fail(problem)
            }
        }
    }
}
