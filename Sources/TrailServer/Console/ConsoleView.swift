import Foundation
import TrailCore
import TrailStore

/// What the console's templates are given: dictionaries of strings, flags and lists. A value that is absent is
/// left out (never an empty string), so that `{{#name}}…{{/name}}` shows only what is there.
struct View {
    private(set) var fields: [String: Any] = [:]

    subscript(key: String) -> Any? {
        get { fields[key] }
        set {
            switch newValue {
            case nil: fields[key] = nil
            case let text as String where text.isEmpty: fields[key] = nil
            case let view as View: fields[key] = view.fields
            case let views as [View]: fields[key] = views.map(\.fields)
            case let value?: fields[key] = value
            }
        }
    }
}

/// How the console shows events and values.
enum ConsoleFormat {
    /// The badge of an action: create, update, delete, access (Trail's records of reads), failure, or other.
    static func kind(of event: RecordedEvent) -> String {
        if event.outcome == .failure { return "failure" }
        if event.category == EventQuery.accessCategory { return "access" }
        switch event.action {
        case "created": return "create"
        case "updated": return "update"
        case "deleted": return "delete"
        default: return event.outcome == .partial ? "failure" : "other"
        }
    }

    static let kindLabels = ["create": "a creation", "update": "an update", "delete": "a deletion",
                             "access": "a read of the log", "failure": "a failure", "other": "another action"]

    /// One event as lists and timelines show it.
    static func row(_ event: RecordedEvent) -> View {
        var row = View()
        let kind = kind(of: event)
        row["id"] = event.id
        row["href"] = "/ui/events/" + segment(event.id)
        row["action"] = event.action
        row["kind"] = kind
        row["kindLabel"] = kindLabels[kind]
        row["summary"] = event.summary.isEmpty ? event.action : event.summary
        row["recordedAt"] = event.recordedAt.formatted()
        row["recordedShort"] = short(event.recordedAt)
        row["occurredAt"] = event.occurredAt.formatted()
        row["outcome"] = event.outcome.rawValue
        row["category"] = event.category
        row["sequence"] = String(event.sequence)
        row["hash"] = EventHash.hex(event.hash)
        row["prevHash"] = EventHash.hex(event.prevHash)
        row["duration"] = event.durationMs.map(String.init)
        row["removed"] = event.removedAt.map(short)
        row["erased"] = event.erasedAt.map(short)
        if let actor = event.actorId {
            row["hasActor"] = true
            row["actorId"] = actor
            row["actorHref"] = "/ui/actors/" + segment(actor)
        }
        if let type = event.resourceType, let id = event.resourceId {
            row["hasResource"] = true
            row["resourceLabel"] = "\(type) \(event.resourceName.map { "\(id) (\($0))" } ?? id)"
            let href = "/ui/resources/\(segment(type))/\(segment(id))"
            row["resourceHref"] = href
            if let version = event.version {
                row["version"] = String(version)
                row["versionHref"] = href + "?version=\(version)"
            }
        }
        return row
    }

    /// Field changes as the change tables show them: each value as compact JSON.
    static func changes(_ changes: [Change]) -> [View] {
        changes.map { change in
            var row = View()
            row["path"] = change.path
            if let old = change.old { row["hasOld"] = true; row["old"] = JSONWriter.string(old) }
            if let new = change.new { row["hasNew"] = true; row["new"] = JSONWriter.string(new) }
            return row
        }
    }

    /// A stored `changes` object (`{path: [old, new]}`) as changes.
    static func changes(of event: RecordedEvent) -> [Change] {
        event.changes.map { member in
            let pair = member.value.arrayValue ?? []
            let old = pair.count > 0 && !pair[0].isNull ? pair[0] : nil
            let new = pair.count > 1 && !pair[1].isNull ? pair[1] : nil
            return Change(path: member.key, old: old, new: new)
        }
    }

    /// `2026-12-03 17:20:05`.
    static func short(_ time: Timestamp) -> String {
        let text = time.formatted()
        return String(text.prefix(10)) + " " + String(text.dropFirst(11).prefix(8))
    }

    /// A time as a `datetime-local` field holds it (UTC): `2026-12-03T17:20:05`.
    static func local(_ time: Timestamp?) -> String? {
        time.map { String($0.formatted().prefix(19)) }
    }

    /// A `datetime-local` value (`2026-12-03T17:20` or with seconds), taken as UTC, as RFC 3339; any other text
    /// is left as it is (and refused, by name, by the query's parser if it is not RFC 3339 either).
    static func rfc3339(fromLocal text: String) -> String {
        let pattern = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/
        guard text.wholeMatch(of: pattern) != nil else { return text }
        return text.count == 16 ? text + ":00Z" : text + "Z"
    }

    /// A path segment, percent-encoded (RFC 3986 unreserved characters kept).
    static func segment(_ text: String) -> String {
        func unreserved(_ byte: UInt8) -> Bool {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"): true
            default: false
            }
        }
        guard !text.utf8.allSatisfy(unreserved) else { return text }
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count * 3)
        for byte in text.utf8 {
            if unreserved(byte) { out.append(byte) } else { out += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0xF)]] }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// `?name=value&…` of the pairs with a value, percent-encoded; "" for none.
    static func query(_ pairs: [(String, String?)]) -> String {
        let given = pairs.compactMap { name, value in value.flatMap { $0.isEmpty ? nil : "\(name)=\(segment($0))" } }
        return given.isEmpty ? "" : "?" + given.joined(separator: "&")
    }

    /// JSON indented by two spaces, keys in their stored order.
    static func pretty(_ value: JSONValue) -> String {
        var out = ""
        write(value, indent: "", into: &out)
        return out
    }

    private static func write(_ value: JSONValue, indent: String, into out: inout String) {
        let inner = indent + "  "
        switch value {
        case .object(let object) where !object.isEmpty:
            out += "{\n"
            for (i, member) in object.enumerated() {
                out += inner + JSONWriter.string(.string(member.key)) + ": "
                write(member.value, indent: inner, into: &out)
                out += i < object.count - 1 ? ",\n" : "\n"
            }
            out += indent + "}"
        case .array(let array) where !array.isEmpty:
            out += "[\n"
            for (i, element) in array.enumerated() {
                out += inner
                write(element, indent: inner, into: &out)
                out += i < array.count - 1 ? ",\n" : "\n"
            }
            out += indent + "]"
        default:
            out += JSONWriter.string(value)
        }
    }
}
