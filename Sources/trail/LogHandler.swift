import Foundation
import Logging
import TrailCore
import TrailStore

/// Logs one line per message to standard error: `time level message key=value…`. Metadata is formatted only
/// when a message is written: the HTTP server sets a request id on every request's logger, and formatting it
/// each time costs more than answering `/health`. The request id, kept under Hummingbird's key, is shown as
/// `request_id`.
struct TrailLogHandler: LogHandler {
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?

    init(level: Logger.Level) {
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
        var line = "\(SystemClock.now().formatted()) \(event.level) \(event.message)"
        for (key, value) in merged.sorted(by: { $0.key < $1.key }) {
            line += " \(key == "hb.request.id" ? "request_id" : key)=\(value)"
        }
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}
