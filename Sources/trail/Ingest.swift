import ArgumentParser
import Foundation
import TrailCore
import TrailService
import TrailStore

struct Ingest: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Record payloads from a JSON file, as the ingest endpoints would, and print the records.",
        discussion: """
            With --format activity-stream (the default) the file holds one payload, an array of payloads, or an \
            "audit_logs" wrapper, in any of the accepted formats (object, resource, flat); the records are printed \
            as a JSON array of activity records. With audit-event it holds one generic audit event, with \
            audit-event-batch {"logs": [...]}; the stored events are printed as a JSON array. Processed at once \
            through the same core and store as the HTTP service, atomically.
            """)

    @Option(name: .long, help: "activity-stream, audit-event or audit-event-batch.")
    var format: String = ActivityIngest.Format.activityStream.rawValue

    @Option(name: .long, help: "The JSON file to read; - for standard input.")
    var file: String

    @Option(name: .long, help: "An idempotency key for this submission (like the Idempotency-Key header).")
    var idempotencyKey: String?

    @Flag(name: .long, help: "Validate now and queue the submission for the workers; print the message id.")
    var async = false

    @OptionGroup var store: StoreOptions

    func validate() throws {
        guard ActivityIngest.Format(rawValue: format) != nil else {
            throw ValidationError("--format must be activity-stream, audit-event or audit-event-batch")
        }
    }

    func run() async throws {
        guard let handle = file == "-" ? FileHandle.standardInput : FileHandle(forReadingAtPath: file) else {
            throw ValidationError("cannot read \(file): no such file, or not readable")
        }
        let body = handle.readDataToEndOfFile()
        let format = ActivityIngest.Format(rawValue: self.format)!  // checked by validate()
        let (idempotencyKey, async) = (self.idempotencyKey, self.async)
        try await store.withStore(creating: false) { eventStore in
            do {
                let ingest = ActivityIngest(store: eventStore, source: .cli)
                if async {
                    let result = try await ingest.enqueue(body: body, format: format, idempotencyKey: idempotencyKey)
                    print(result.message.id)
                } else {
                    let result = try await ingest.ingest(body: body, format: format, idempotencyKey: idempotencyKey)
                    if format == .activityStream {
                        print(String(decoding: ActivityRecord.encodeArray(result.events), as: UTF8.self))
                    } else {
                        var writer = JSONWriter(capacity: 1024 * result.events.count)
                        StoredEventJSON.writeArray(result.events, into: &writer)
                        print(String(decoding: writer.bytes, as: UTF8.self))
                    }
                }
            } catch let refusal as ServiceError {
                throw fail(refusal)
            }
        }
    }
}
