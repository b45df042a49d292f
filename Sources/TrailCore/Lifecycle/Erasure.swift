import Foundation

/// Whose data an erasure forgets (SPEC §11, GDPR art. 17).
public enum ErasureSubject: Sendable, Equatable {
    /// The events an actor made lose who made them: the actor (name, e-mail, everything but an `[erased]` id),
    /// its id, and the address and user agent of the requests (`context.ip`, `context.user_agent`).
    case actor(String)
    /// Every occurrence of an identifying value (an e-mail, a phone number, a name), compared without regard to
    /// case, in the events' content: string values holding it, numbers written as it, member names holding it.
    case value(String)

    public var kind: String {
        switch self {
        case .actor: "actor"
        case .value: "value"
        }
    }
}

/// Erasure's pure part: what an event's content becomes once a subject is forgotten.
public enum Erasure {
    public static let replacement = "[erased]"
    /// The shortest value an erasure takes: a shorter one would match too much that is not the person's.
    public static let minimumValueLength = 3
    public static let maximumValueLength = 1000

    /// `{"actor": "…"}` or `{"value": "…"}` (exactly one), and optionally `"reason"`.
    public static func parse(_ value: JSONValue) throws(InvalidSubmission) -> (subject: ErasureSubject, reason: String) {
        var errors: [FieldError] = []
        func fault(_ path: String, _ message: String) { errors.append(FieldError(index: nil, path: path, message: message)) }
        guard let object = value.objectValue else {
            throw InvalidSubmission(errors: [FieldError(index: nil, path: "", message: "expected an object {\"actor\": id} or {\"value\": text}")])
        }
        for key in object.keys where !["actor", "value", "reason"].contains(key) {
            fault(key, "unknown field; an erasure has actor or value, and reason")
        }
        var subject: ErasureSubject?
        switch (object["actor"], object["value"]) {
        case (nil, nil), (.null?, nil), (nil, .null?), (.null?, .null?):
            fault("", "give actor (an actor's id) or value (an identifying value such as an e-mail)")
        case (let actor?, nil), (let actor?, .null?):
            if let id = Self.text(actor), !id.isEmpty, id.codePoints <= maximumValueLength { subject = .actor(id) } else {
                fault("actor", "an actor's id: 1 to \(maximumValueLength) characters")
            }
        case (nil, let given?), (.null?, let given?):
            if let text = Self.text(given), text.codePoints >= minimumValueLength, text.codePoints <= maximumValueLength,
               text != replacement {
                subject = .value(text)
            } else {
                fault("value", "a value of \(minimumValueLength) to \(maximumValueLength) characters")
            }
        default:
            fault("", "give actor or value, not both: erase each on its own")
        }
        var reason = ""
        switch object["reason"] {
        case nil, .null?: break
        case .string(let given)? where given.codePoints <= LegalHold.maximumTextLength: reason = given
        default: fault("reason", "a string of at most \(LegalHold.maximumTextLength) characters")
        }
        guard errors.isEmpty, let subject else { throw InvalidSubmission(errors: errors) }
        return (subject, reason)
    }

    /// A string, or a number's literal (ids may be numbers).
    static func text(_ value: JSONValue) -> String? {
        switch value {
        case .string(let text): text
        case .number(let number): number.literal
        default: nil
        }
    }

    /// `object` with every occurrence of `value` replaced; nil when it holds none.
    public static func erase(_ value: String, in object: JSONObject) -> JSONObject? {
        guard case .object(let erased)? = erase(value, in: .object(object)) else { return nil }
        return erased
    }

    /// `json` with every occurrence of `value` replaced; nil when it holds none.
    public static func erase(_ value: String, in json: JSONValue) -> JSONValue? {
        switch json {
        case .string(let text):
            return erase(value, in: text).map(JSONValue.string)
        case .number(let number):
            return number.literal.caseInsensitiveCompare(value) == .orderedSame ? .string(replacement) : nil
        case .array(let items):
            var changed = false
            let erased = items.map { item in
                if let new = erase(value, in: item) { changed = true; return new }
                return item
            }
            return changed ? .array(erased) : nil
        case .object(let object):
            var changed = false
            var erased = JSONObject()
            for member in object {
                let key = erase(value, in: member.key)
                let new = erase(value, in: member.value)
                if key != nil || new != nil { changed = true }
                // Two names that become the same keep the first value.
                if erased[key ?? member.key] == nil { erased.append(key ?? member.key, new ?? member.value) }
            }
            return changed ? .object(erased) : nil
        case .null, .bool:
            return nil
        }
    }

    /// `text` with every occurrence of `value` (any case) replaced; nil when it holds none.
    public static func erase(_ value: String, in text: String) -> String? {
        guard text.range(of: value, options: .caseInsensitive) != nil else { return nil }
        return text.replacingOccurrences(of: value, with: replacement, options: .caseInsensitive)
    }
}
