import Foundation
import TrailCore
import TrailStore

/// Which events a sink forwards or a rule counts: the list's filters (SPEC §5) as an object, `{"actor",
/// "action", "resource_type", "resource_id", "category", "outcome", "q", "include_access"}`; every one optional.
struct StreamMatch: Sendable, Equatable {
    static let fields = ["actor", "action", "resource_type", "resource_id", "category", "outcome", "q", "include_access"]

    var query: EventQuery
    /// The search as given (`q`), if any.
    var searchText: String?

    /// `value` checked: known fields only, each a non-empty string (`include_access` a boolean); faults at `path`.
    static func parse(_ value: JSONValue?, path: String, errors: inout [FieldError]) -> StreamMatch {
        var query = EventQuery()
        var searchText: String?
        guard let value, value != .null else { return StreamMatch(query: query) }
        guard case .object(let object) = value else {
            errors.append(FieldError(index: nil, path: path, message: "expected an object of filters: \(fields.joined(separator: ", "))"))
            return StreamMatch(query: query)
        }
        for (key, given) in object.map({ ($0.key, $0.value) }) {
            let at = "\(path).\(key)"
            guard fields.contains(key) else {
                errors.append(FieldError(index: nil, path: at, message: "unknown filter; filters are \(fields.joined(separator: ", "))"))
                continue
            }
            if key == "include_access" {
                guard case .bool(let include) = given else {
                    errors.append(FieldError(index: nil, path: at, message: "must be true or false"))
                    continue
                }
                query.includesAccess = include
                continue
            }
            guard case .string(let text) = given, !text.isEmpty, text.codePoints <= 1000 else {
                errors.append(FieldError(index: nil, path: at, message: "must be a non-empty string of at most 1,000 characters"))
                continue
            }
            switch key {
            case "actor": query.actorId = text
            case "action": query.action = Verb.normalize(text)
            case "resource_type": query.resourceType = text
            case "resource_id": query.resourceId = text
            case "category": query.category = text
            case "outcome":
                guard Outcome(rawValue: text.lowercased()) != nil else {
                    errors.append(FieldError(index: nil, path: at, message: "must be success, failure or partial"))
                    continue
                }
                query.outcome = text.lowercased()
            default:
                guard let search = SearchQuery(text) else {
                    errors.append(FieldError(index: nil, path: at, message: "must hold at least one word (letters or digits)"))
                    continue
                }
                query.search = search
                searchText = text
            }
        }
        var match = StreamMatch(query: query)
        match.searchText = searchText
        return match
    }

    /// The filters as given (normalised), for the API and the store.
    var json: JSONValue {
        var object = JSONObject()
        if let value = query.actorId { object.append("actor", .string(value)) }
        if let value = query.action { object.append("action", .string(value)) }
        if let value = query.resourceType { object.append("resource_type", .string(value)) }
        if let value = query.resourceId { object.append("resource_id", .string(value)) }
        if let value = query.category { object.append("category", .string(value)) }
        if let value = query.outcome { object.append("outcome", .string(value)) }
        if let value = searchText { object.append("q", .string(value)) }
        if query.includesAccess { object.append("include_access", .bool(true)) }
        return .object(object)
    }

    /// The match a stored definition holds (checked when it was stored).
    init(stored value: JSONValue?) {
        var errors: [FieldError] = []
        self = Self.parse(value, path: "match", errors: &errors)
    }

    init(query: EventQuery) {
        self.query = query
    }
}

/// Where and how a sink delivers (SPEC §14), as checked from `POST /api/v1/sinks`.
struct SinkDefinition: Sendable, Equatable {
    enum Target: Sendable, Equatable {
        case webhook(url: URL)
        case syslog(transport: SyslogTransportKind, host: String, port: Int)
    }

    enum SyslogTransportKind: String, Sendable {
        case tcp, udp
    }

    enum Format: String, Sendable, CaseIterable {
        /// Webhooks: a JSON array of §4 events. Syslog: RFC 5424 with the event's JSON as message.
        case trail
        /// Syslog only: RFC 5424 (the syslog default; the same as `trail` there).
        case rfc5424
        /// Syslog only: a CEF line as message.
        case cef
        /// OCSF API Activity records (a JSON array for webhooks, one record per syslog message).
        case ocsf
    }

    static let maximumNameLength = 200

    var name: String
    var target: Target
    var format: Format
    var match: StreamMatch
    /// A webhook's signing secret.
    var secret: String?
    /// A webhook's extra request headers (an `Authorization` for Splunk's HTTP Event Collector, say); kept as
    /// secret as the secret.
    var headers: [(String, String)]
    /// Where delivery begins: after this sequence; nil for the tenant's last event now.
    var after: Int64?

    static func == (a: SinkDefinition, b: SinkDefinition) -> Bool {
        a.name == b.name && a.target == b.target && a.format == b.format && a.match == b.match && a.secret == b.secret
            && a.headers.map { "\($0.0): \($0.1)" } == b.headers.map { "\($0.0): \($0.1)" } && a.after == b.after
    }

    static let fields = ["type", "name", "url", "secret", "headers", "address", "format", "match", "after"]
    /// Headers Trail sets itself.
    static let reservedHeaders: Set<String> = ["content-type", "content-length", "host", "x-trail-signature", "x-trail-sink",
                                               "transfer-encoding", "connection", "user-agent"]

    /// `{"type": "webhook", "url", "secret", "format"?, "headers"?, "match"?, "name"?, "after"?}` or
    /// `{"type": "syslog", "address": "tcp://host:port" | "udp://host:port", "format"?, "match"?, "name"?, "after"?}`,
    /// checked; every fault at its path.
    static func parse(_ value: JSONValue) throws(InvalidSubmission) -> SinkDefinition {
        var errors: [FieldError] = []
        func fault(_ path: String, _ message: String) { errors.append(FieldError(index: nil, path: path, message: message)) }
        guard case .object(let object) = value else {
            throw InvalidSubmission(errors: [FieldError(index: nil, path: "", message: "expected an object with type and its target")])
        }
        for key in object.keys where !fields.contains(key) {
            fault(key, "unknown field; a sink has \(fields.joined(separator: ", "))")
        }
        func string(_ key: String, required: Bool, maximum: Int = 2048) -> String? {
            switch object[key] {
            case nil, .null?:
                if required { fault(key, "required") }
                return nil
            case .string(let text)? where !text.isEmpty && text.codePoints <= maximum:
                return text
            default:
                fault(key, "must be a non-empty string of at most \(maximum) characters")
                return nil
            }
        }
        let type = string("type", required: true)
        var target: Target?
        var secret: String?
        var headers: [(String, String)] = []
        switch type {
        case "webhook"?:
            if let text = string("url", required: true) {
                if let url = URL(string: text), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme),
                   let host = url.host, !host.isEmpty, url.user == nil {
                    target = .webhook(url: url)
                } else {
                    fault("url", "must be an http:// or https:// URL with a host (and no user or password in it)")
                }
            }
            secret = string("secret", required: true, maximum: 1024)
            if let given = secret, given.codePoints < 16 {
                fault("secret", "must be at least 16 characters: receivers check signatures with it")
            }
            switch object["headers"] {
            case nil, .null?: break
            case .object(let given)?:
                for member in given {
                    let name = member.key
                    guard name.utf8.allSatisfy({ $0 > 32 && $0 < 127 && $0 != UInt8(ascii: ":") }), !name.isEmpty else {
                        fault("headers.\(name)", "is not a header name")
                        continue
                    }
                    guard !reservedHeaders.contains(name.lowercased()) else {
                        fault("headers.\(name)", "is set by Trail itself")
                        continue
                    }
                    guard case .string(let text) = member.value, !text.isEmpty, text.codePoints <= 4096,
                          !text.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "\0" }) else {
                        fault("headers.\(name)", "must be a one-line string of at most 4,096 characters")
                        continue
                    }
                    headers.append((name, text))
                }
            default:
                fault("headers", "must be an object of header names and values")
            }
            for key in ["address"] where object[key] != nil { fault(key, "is for syslog sinks; a webhook has url") }
        case "syslog"?:
            if let text = string("address", required: true) {
                target = parseAddress(text)
                if target == nil { fault("address", "must be tcp://host:port or udp://host:port") }
            }
            for key in ["url", "secret", "headers"] where object[key] != nil { fault(key, "is for webhook sinks") }
        case let other?:
            fault("type", "must be webhook or syslog, not \(other)")
        case nil:
            break
        }
        var format: Format = .trail
        if let text = string("format", required: false, maximum: 16) {
            let allowed: [Format] = type == "syslog" ? [.rfc5424, .cef, .ocsf] : [.trail, .ocsf]
            if let given = Format(rawValue: text.lowercased()), allowed.contains(given) {
                format = given
            } else {
                fault("format", "must be \(allowed.map(\.rawValue).joined(separator: ", ")) for a \(type ?? "sink")")
            }
        } else if type == "syslog" {
            format = .rfc5424
        }
        let name = string("name", required: false, maximum: maximumNameLength)
        let match = StreamMatch.parse(object["match"], path: "match", errors: &errors)
        var after: Int64?
        switch object["after"] {
        case nil, .null?: break
        case .number(let number)? where number.isIntegerLiteral && (Int64(number.literal) ?? -1) >= 0: after = Int64(number.literal)
        default: fault("after", "must be a sequence, a whole number from 0 (0: from the first event)")
        }
        guard errors.isEmpty, let target else { throw InvalidSubmission(errors: errors) }
        return SinkDefinition(name: name ?? target.description, target: target, format: format, match: match,
                              secret: secret, headers: headers, after: after)
    }

    /// `tcp://host:port` or `udp://host:port` (an IPv6 host in brackets).
    static func parseAddress(_ text: String) -> Target? {
        guard let url = URLComponents(string: text), let scheme = url.scheme.flatMap({ SyslogTransportKind(rawValue: $0.lowercased()) }),
              let host = url.host, !host.isEmpty, let port = url.port, (1...65535).contains(port),
              url.path.isEmpty, url.query == nil, url.user == nil else { return nil }
        return .syslog(transport: scheme, host: host.trimmingCharacters(in: CharacterSet(charactersIn: "[]")), port: port)
    }

    /// What is stored as the follower's definition (secrets apart).
    var definition: JSONObject {
        var object = JSONObject()
        switch target {
        case .webhook(let url):
            object.append("type", "webhook")
            object.append("url", .string(url.absoluteString))
            object.append("headers", .array(headers.map { .string($0.0) }))
        case .syslog(let transport, let host, let port):
            object.append("type", "syslog")
            object.append("address", .string(Target.address(transport, host, port)))
        }
        object.append("format", .string(format.rawValue))
        object.append("match", match.json)
        return object
    }

    var secrets: JSONObject? {
        guard let secret else { return nil }
        var object = JSONObject()
        object.append("secret", .string(secret))
        object.append("headers", .object(JSONObject(headers.map { JSONObject.Member(key: $0.0, value: .string($0.1)) })))
        return object
    }

    /// The definition of a stored sink.
    init?(_ follower: Follower) {
        let definition = follower.definition
        switch definition["type"] {
        case "webhook"?:
            guard case .string(let text)? = definition["url"], let url = URL(string: text) else { return nil }
            target = .webhook(url: url)
        case "syslog"?:
            guard case .string(let text)? = definition["address"], let parsed = Self.parseAddress(text) else { return nil }
            target = parsed
        default:
            return nil
        }
        name = follower.name
        guard case .string(let format)? = definition["format"], let known = Format(rawValue: format) else { return nil }
        self.format = known
        match = StreamMatch(stored: definition["match"])
        if case .string(let text)? = follower.secret?["secret"] { secret = text }
        headers = follower.secret?["headers"]?.objectValue?.compactMap { member in
            if case .string(let value) = member.value { (member.key, value) } else { nil }
        } ?? []
        after = nil
    }

    init(name: String, target: Target, format: Format, match: StreamMatch, secret: String?, headers: [(String, String)], after: Int64?) {
        self.name = name
        self.target = target
        self.format = format
        self.match = match
        self.secret = secret
        self.headers = headers
        self.after = after
    }
}

extension SinkDefinition.Target: CustomStringConvertible {
    var description: String {
        switch self {
        case .webhook(let url): url.host.map { "webhook to \($0)" } ?? "webhook"
        case .syslog(let transport, let host, let port): "syslog to \(Self.address(transport, host, port))"
        }
    }

    static func address(_ transport: SinkDefinition.SyslogTransportKind, _ host: String, _ port: Int) -> String {
        "\(transport.rawValue)://\(host.contains(":") ? "[\(host)]" : host):\(port)"
    }

    /// The host a delivery connects to.
    var host: String {
        switch self {
        case .webhook(let url): url.host ?? ""
        case .syslog(_, let host, _): host
        }
    }
}
