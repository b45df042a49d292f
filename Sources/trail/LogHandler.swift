import Foundation
import Logging

/// Logs one line per message to standard error, like swift-log's `StreamLogHandler`, but formats metadata only
/// when a message is written: the HTTP server sets a request id on every request's logger, and formatting it
/// each time costs more than answering `/health`.
struct TrailLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?

    init(label: String, level: Logger.Level) {
        self.label = label
        logLevel = level
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        let fields = merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        let time = Date().formatted(.iso8601)
        let line = "\(time) \(event.level) \(label):\(fields.isEmpty ? "" : " " + fields) \(event.message)\n"
        FileHandle.standardError.write(Data(line.utf8))
    }
}
