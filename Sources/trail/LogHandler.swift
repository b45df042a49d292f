import ArgumentParser
import Foundation
import Logging
import TrailCore
import TrailStore

/// `--log-level` and `--log-format` of the long-running commands (SPEC §10).
struct LogOptions: ParsableArguments {
    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical (env TRAIL_LOG_LEVEL).")
    var logLevel: String = Env.string("TRAIL_LOG_LEVEL") ?? "info"

    @Option(name: .long, help: "Log lines as json (one object per line) or text (env TRAIL_LOG_FORMAT).")
    var logFormat: String = Env.string("TRAIL_LOG_FORMAT") ?? "text"

    func validate() throws {
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level \(logLevel)") }
        guard TrailLogHandler.Format(rawValue: logFormat) != nil else {
            throw ValidationError("--log-format must be json or text, not \(logFormat)")
        }
    }

    /// Makes Trail's handler the process's, once; `metadataProvider` adds metadata to every line (the request
    /// being served, in `trail serve`).
    func bootstrap(metadataProvider: Logger.MetadataProvider? = nil) {
        let (level, format) = (Logger.Level(rawValue: logLevel)!, TrailLogHandler.Format(rawValue: logFormat)!)
        LoggingSystem.bootstrap({ _, provider in
            TrailLogHandler(level: level, format: format, metadataProvider: provider)
        }, metadataProvider: metadataProvider)
    }
}

/// Logs one line per message to standard error, as text (`time level message key=value…`) or as one JSON
/// object (`{"ts", "level", "msg", key: value…}`). Metadata is formatted only when a line is written: the HTTP
/// server sets a request id on every request's logger, and formatting it each time costs more than answering
/// `/health`. The request id, kept under Hummingbird's key, is written as `request_id`.
struct TrailLogHandler: LogHandler {
    enum Format: String { case json, text }

    var logLevel: Logger.Level
    let format: Format
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?

    init(level: Logger.Level, format: Format = .text, metadataProvider: Logger.MetadataProvider? = nil) {
        logLevel = level
        self.format = format
        self.metadataProvider = metadataProvider
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// Keys written first, in this order (an access line reads as request, method, route, status…); the others
    /// follow sorted by name.
    static let leadingKeys = ["request_id", "trace_id", "method", "route", "status", "duration_ms", "tenant"]

    func log(event: LogEvent) {
        var merged: Logger.Metadata = [:]
        for (key, value) in metadata { merged[key == "hb.request.id" ? "request_id" : key] = value }
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        let ordered = Self.leadingKeys.compactMap { key in merged[key].map { (key, $0) } }
            + merged.filter { !Self.leadingKeys.contains($0.key) }.sorted { $0.key < $1.key }
        let line = switch format {
        case .text: Self.text(event, ordered)
        case .json: Self.json(event, ordered)
        }
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    static func text(_ event: LogEvent, _ metadata: [(String, Logger.Metadata.Value)]) -> String {
        var line = "\(SystemClock.now().formatted()) \(event.level) \(event.message)"
        for (key, value) in metadata { line += " \(key)=\(value)" }
        return line
    }

    static func json(_ event: LogEvent, _ metadata: [(String, Logger.Metadata.Value)]) -> String {
        var object = JSONObject()
        object.append("ts", .string(SystemClock.now().formatted()))
        object.append("level", .string(event.level.rawValue))
        object.append("msg", .string(event.message.description))
        for (key, value) in metadata where !["ts", "level", "msg"].contains(key) { object.append(key, json(value)) }
        return JSONWriter.string(object)
    }

    /// Numbers stay numbers (`status`, `duration_ms`), nested metadata becomes arrays and objects.
    static func json(_ value: Logger.Metadata.Value) -> JSONValue {
        switch value {
        case .string(let text): return .string(text)
        case .stringConvertible(let convertible):
            if let number = convertible as? Int { return .number(JSONNumber(number)) }
            if let number = convertible as? Double, number.isFinite, let literal = JSONNumber(literal: "\(number)") {
                return .number(literal)
            }
            if let flag = convertible as? Bool { return .bool(flag) }
            return .string(convertible.description)
        case .array(let values): return .array(values.map(json))
        case .dictionary(let values):
            var object = JSONObject()
            for (key, value) in values.sorted(by: { $0.key < $1.key }) { object.append(key, json(value)) }
            return .object(object)
        }
    }
}
