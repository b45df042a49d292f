/// Events as syslog messages (SPEC §14): RFC 5424 with Trail's structured data and the event's JSON as message,
/// or an ArcSight CEF line as message; framed for TCP by octet counting (RFC 6587 §3.4.1).
public enum SyslogFormat {
    /// RFC 5424's facility 13, "log audit".
    public static let facility = 13
    /// The enterprise number of Trail's structured-data id (`trail@32473`): 32473 is the number RFC 5612 reserves
    /// for documentation and examples; an installation that owns a number can configure its own.
    public static let enterpriseNumber = 32473

    /// Informational for events that succeeded, warning for the others.
    static func severity(_ event: RecordedEvent) -> Int {
        event.outcome == .success ? 6 : 4
    }

    /// `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [SD] MSG`: the event's JSON as MSG (UTF-8, with the BOM
    /// RFC 5424 §6.4 asks for), its tenant, sequence, action, category, outcome, actor and resource as structured
    /// data. `json` is the event's §4 JSON (encoded once by the caller); MSGID is the action.
    public static func rfc5424(_ event: RecordedEvent, json: [UInt8], hostname: String, appName: String = "trail") -> [UInt8] {
        var out = header(event, hostname: hostname, appName: appName, messageId: event.action)
        out += Array(" [trail@\(enterpriseNumber)".utf8)
        func parameter(_ name: String, _ value: String?) {
            guard let value else { return }
            out += Array(" \(name)=\"".utf8)
            for byte in value.utf8 {
                // RFC 5424 §6.3.3: '"', '\' and ']' are escaped with a backslash.
                if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte == UInt8(ascii: "]") { out.append(UInt8(ascii: "\\")) }
                out.append(byte)
            }
            out.append(UInt8(ascii: "\""))
        }
        parameter("tenant", event.tenant)
        parameter("sequence", String(event.sequence))
        parameter("id", event.id)
        parameter("action", event.action)
        parameter("category", event.category)
        parameter("outcome", event.outcome.rawValue)
        parameter("actor", event.actorId)
        parameter("resource_type", event.resourceType)
        parameter("resource_id", event.resourceId)
        out += Array("] ".utf8)
        out += [0xEF, 0xBB, 0xBF]
        out += json
        return out
    }

    /// An RFC 5424 header with no structured data (`-`) and a CEF line as message.
    public static func cefMessage(_ event: RecordedEvent, hostname: String, appName: String = "trail", version: String) -> [UInt8] {
        header(event, hostname: hostname, appName: appName, messageId: "CEF") + Array(" - ".utf8)
            + Array(CEF.line(event, version: version).utf8)
    }

    /// RFC 6587 octet counting: `<length> <message>`.
    public static func octetCounted(_ message: [UInt8]) -> [UInt8] {
        Array("\(message.count) ".utf8) + message
    }

    private static func header(_ event: RecordedEvent, hostname: String, appName: String, messageId: String) -> [UInt8] {
        let priority = facility * 8 + severity(event)
        return Array("<\(priority)>1 \(event.recordedAt.formatted()) \(field(hostname, 255)) \(field(appName, 48)) - \(field(messageId, 32))".utf8)
    }

    /// A header field: printable US-ASCII without spaces, at most `length` characters, `-` when empty.
    static func field(_ text: String, _ length: Int) -> String {
        let printable = text.unicodeScalars.filter { $0.value >= 33 && $0.value <= 126 }.prefix(length)
        return printable.isEmpty ? "-" : String(String.UnicodeScalarView(printable))
    }
}

/// ArcSight Common Event Format: `CEF:0|Vendor|Product|Version|Signature ID|Name|Severity|Extension`.
public enum CEF {
    /// The line of one event: signature id is the action, name the summary (or the action), severity 3 for
    /// success and 7 otherwise; the extension carries the event's fields under CEF's keys (`rt`, `suser`, `act`,
    /// `outcome`, `src`, `externalId`, `cat`, and labelled custom strings for tenant, resource and sequence).
    public static func line(_ event: RecordedEvent, version: String) -> String {
        let header = ["Trail", "Trail", version, event.action, event.summary.isEmpty ? event.action : event.summary,
                      event.outcome == .success ? "3" : "7"].map(escapeHeader)
        var extensions: [(String, String)] = [
            ("rt", String(event.recordedAt.microseconds / 1000)),
            ("externalId", event.id),
            ("act", event.action),
            ("outcome", event.outcome.rawValue),
            ("cs1Label", "tenant"), ("cs1", event.tenant),
            ("cn1Label", "sequence"), ("cn1", String(event.sequence)),
        ]
        if let actor = event.actorId { extensions.append(("suser", actor)) }
        if let category = event.category { extensions.append(("cat", category)) }
        if let type = event.resourceType { extensions += [("cs2Label", "resource_type"), ("cs2", type)] }
        if let id = event.resourceId { extensions += [("cs3Label", "resource_id"), ("cs3", id)] }
        if case .string(let ip)? = event.context?["ip"] { extensions.append(("src", ip)) }
        if let message = event.error?["message"], case .string(let text) = message { extensions.append(("reason", text)) }
        let body = extensions.map { "\($0.0)=\(escapeExtension($0.1))" }.joined(separator: " ")
        return "CEF:0|" + header.joined(separator: "|") + "|" + body
    }

    /// In header fields, `\` and `|` are escaped with a backslash; line breaks become spaces.
    public static func escapeHeader(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "\\": out += "\\\\"
            case "|": out += "\\|"
            case "\n", "\r", "\r\n": out += " "
            default: out.append(character)
            }
        }
        return out
    }

    /// In extension values, `\` and `=` are escaped with a backslash, line breaks written `\n` and `\r`.
    public static func escapeExtension(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "\\": out += "\\\\"
            case "=": out += "\\="
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\r\n": out += "\\r\\n"
            default: out.append(character)
            }
        }
        return out
    }
}
