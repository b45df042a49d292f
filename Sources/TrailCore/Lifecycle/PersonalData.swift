public import Crypto

/// Which values of an event are personal, and so stored sealed under their data subjects' keys (SPEC §11):
///
/// - the actor's members other than `id` and `type` (a name, an e-mail): the actor's subject;
/// - `context.ip`, `context.ip_address`, `context.user_agent`: the actor's subject too;
/// - every string that holds an e-mail address, anywhere (data, changes, metadata, error, context, resource name,
///   a client's summary): the subject of each address it holds;
/// - strings under a personal key (``defaultPersonalKeys``, or the installation's list), at any depth: the subject
///   of the value itself (so that erasing that value destroys its key).
///
/// Ids (actor id, resource type and id), member names, numbers and booleans are never sealed: they place events
/// in histories and filters. A string that merely looks sealed is sealed too, so that reads never mistake it.
public struct PersonalDataPolicy: Sendable {
    public static let defaultPersonalKeys = [
        "email", "e_mail", "email_address", "phone", "phone_number", "mobile", "first_name", "last_name",
        "full_name", "display_name", "address", "street", "postal_code", "birth_date", "date_of_birth", "birthday",
        "ip", "ip_address",
    ]
    static let actorContextKeys: Set<String> = ["ip", "ip_address", "user_agent"]

    let personalKeys: Set<String>

    public init(personalKeys: [String] = PersonalDataPolicy.defaultPersonalKeys) {
        self.personalKeys = Set(personalKeys.map { $0.lowercased() })
    }

    func isPersonal(_ key: String) -> Bool {
        // (Most keys are lower-case ASCII already: no lower-cased copy made for them.)
        let folded = key.utf8.allSatisfy { $0 < 0x80 && !(0x41...0x5A).contains($0) } ? key : key.lowercased()
        return personalKeys.contains(folded)
    }

    /// Where a string sits: in the actor's own values, and/or under a personal key.
    struct Place {
        var actor = false
        var personal = false
        /// Whether its words are searchable (``SearchText``: the actor's name, metadata, the resource's name, the
        /// summary and the values of changes, which summaries show): a sealed value there gets search tokens.
        var searchable = false
    }

    /// The subjects a string at `place` concerns; empty for a value that is not personal.
    func subjects(of text: String, at place: Place, actorId: String?) -> [DataSubject] {
        guard !text.isEmpty else { return [] }
        var subjects: [DataSubject] = []
        if place.actor, let actorId { subjects.append(.actor(actorId)) }
        if place.personal || (place.actor && actorId == nil) || text.hasPrefix(SealedValue.prefix) {
            subjects.append(.value(text))
        }
        for address in EmailAddresses.in(text) where !subjects.contains(.value(address)) {
            subjects.append(.value(address))
        }
        return subjects
    }

    /// Every personal string of `activity` with its place, in a fixed order (``seal(_:keys:blindKey:)`` walks the
    /// same way).
    func visit(_ activity: Activity, _ body: (String, Place) -> String) -> Activity {
        var sealed = activity
        // Each returns nil for a value `body` left as it was, so that what holds nothing personal (most of an
        // activity) is shared, not rebuilt.
        func map(_ value: JSONValue, _ place: Place) -> JSONValue? {
            switch value {
            case .string(let text):
                let mapped = body(text, place)
                return mapped == text ? nil : .string(mapped)
            case .array(let items):
                var result = items
                var changed = false
                for index in items.indices {
                    if let mapped = map(items[index], place) {
                        result[index] = mapped
                        changed = true
                    }
                }
                return changed ? .array(result) : nil
            case .object(let object): return mapObject(object, place).map(JSONValue.object)
            case .null, .bool, .number: return nil
            }
        }
        func mapObject(
            _ object: JSONObject, _ place: Place, skipping: Set<String> = [], actorKeys: Set<String> = [],
            searchableKeys: Set<String>? = nil
        ) -> JSONObject? {
            var result: JSONObject?
            for (index, member) in object.members.enumerated() where !skipping.contains(member.key) {
                var inner = place
                if isPersonal(member.key) { inner.personal = true }
                if actorKeys.contains(member.key) { inner.actor = true }
                if let searchableKeys { inner.searchable = searchableKeys.contains(member.key) }
                if let mapped = map(member.value, inner) {
                    if result == nil { result = object }
                    result?.setValue(mapped, at: index)
                }
            }
            return result
        }
        func mapValue(_ value: JSONValue, _ place: Place) -> JSONValue { map(value, place) ?? value }
        let searchable = Place(searchable: true)
        sealed.actor = activity.actor.map {
            mapObject($0, Place(actor: true), skipping: ["id", "type"], searchableKeys: ["name"]) ?? $0
        }
        sealed.context = activity.context.map { mapObject($0, Place(), actorKeys: Self.actorContextKeys) ?? $0 }
        sealed.data = mapObject(activity.data, searchable) ?? activity.data
        sealed.metadata = activity.metadata.map { mapObject($0, searchable) ?? $0 }
        sealed.error = activity.error.map { mapObject($0, Place()) ?? $0 }
        sealed.resourceName = activity.resourceName.map { body($0, searchable) }
        sealed.summary = activity.summary.map { body($0, searchable) }
        sealed.reportedChanges = activity.reportedChanges?.map { change in
            let place = Place(personal: FieldPath.split(change.path).contains(where: isPersonal), searchable: true)
            return Change(path: change.path, old: change.old.map { mapValue($0, place) },
                          new: change.new.map { mapValue($0, place) }, redacted: change.redacted)
        }
        return sealed
    }

    /// The subjects whose keys sealing `activity` needs.
    public func subjects(of activity: Activity) -> Set<DataSubject> {
        var all = Set<DataSubject>()
        _ = visit(activity) { text, place in
            all.formUnion(subjects(of: text, at: place, actorId: activity.actorId))
            return text
        }
        return all
    }

    /// `activity` with its personal values sealed under `keys` (which must hold every subject of
    /// ``subjects(of:)``), and ``Activity/sealedWords`` set: the blind tokens of the words sealed away, so that a
    /// search still finds them (``SealedValue/blindWord(_:key:)``).
    public func seal(_ activity: Activity, keys: [DataSubject: SubjectKey], blindKey: SymmetricKey) -> Activity {
        var plaintexts: [String: String] = [:]
        return seal(activity, blindKey: blindKey, plaintexts: &plaintexts) { subjects in SealingKey(subjects.map { keys[$0]! }) }!
    }

    /// `activity` sealed in one pass, with the key `key` gives for each value's subjects; nil if it gave none
    /// for some (the caller fetches the keys of ``subjects(of:)`` and seals again). Each sealed text is added to
    /// `plaintexts` with the text it stands for, so that what was just sealed can be shown again without
    /// opening it (``KeyRing/init(_:known:)``).
    public func seal(
        _ activity: Activity, blindKey: SymmetricKey, plaintexts: inout [String: String], key: ([DataSubject]) -> SealingKey?
    ) -> Activity? {
        var words: [String] = []
        var seen = Set<String>()
        var complete = true
        var sealed = visit(activity) { text, place in
            guard complete else { return text }
            let subjects = subjects(of: text, at: place, actorId: activity.actorId)
            guard !subjects.isEmpty else { return text }
            guard let sealingKey = key(subjects) else {
                complete = false
                return text
            }
            let sealed: String
            if place.searchable {
                let tokens: [String]
                (sealed, tokens) = SealedValue.sealSearchable(text, with: sealingKey, blindKey: blindKey)
                for token in tokens where seen.insert(token).inserted { words.append(token) }
            } else {
                sealed = SealedValue.seal(text, with: sealingKey)
            }
            plaintexts[sealed] = text
            return sealed
        }
        guard complete else { return nil }
        sealed.sealedWords = words
        return sealed
    }
}

/// E-mail addresses in text: `local@domain.tld`, found without a regular expression.
enum EmailAddresses {
    static func isLocal(_ byte: UInt8) -> Bool {
        isDomain(byte) || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "%") || byte == UInt8(ascii: "+")
    }

    static func isDomain(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "-")
    }

    /// The addresses in `text`, lower-cased, in order.
    static func `in`(_ text: String) -> [String] {
        let bytes = Array(text.utf8)
        guard bytes.contains(UInt8(ascii: "@")) else { return [] }
        var found: [String] = []
        for at in bytes.indices where bytes[at] == UInt8(ascii: "@") {
            var start = at
            while start > 0, isLocal(bytes[start - 1]) { start -= 1 }
            var end = at + 1
            while end < bytes.count, isDomain(bytes[end]) { end += 1 }
            while end > at + 1, bytes[end - 1] == UInt8(ascii: ".") || bytes[end - 1] == UInt8(ascii: "-") { end -= 1 }
            let domain = bytes[(at + 1)..<end]
            guard start < at, let dot = domain.lastIndex(of: UInt8(ascii: ".")), dot > at + 1,
                  end - dot - 1 >= 2, bytes[(dot + 1)..<end].allSatisfy({ $0 > UInt8(ascii: "9") })
            else { continue }
            found.append(String(decoding: bytes[start..<end], as: UTF8.self).lowercased())
        }
        return found
    }
}

// MARK: - Opening

extension JSONValue {
    /// The ids of the keys the sealed strings of this value need, but for the texts of `known` (whose plaintext
    /// is at hand).
    func sealedKeyIDs(besides known: [String: String] = [:]) -> Set<String> {
        switch self {
        case .string(let text): known[text] == nil ? SealedValue.keyIDs(in: text) : []
        case .array(let items): items.reduce(into: Set()) { $0.formUnion($1.sealedKeyIDs(besides: known)) }
        case .object(let object): object.sealedKeyIDs(besides: known)
        case .null, .bool, .number: []
        }
    }

    func opened(keys: KeyRing) -> JSONValue {
        switch self {
        case .string(let text): .string(SealedValue.open(text, keys: keys))
        case .array(let items): .array(items.map { $0.opened(keys: keys) })
        case .object(let object): .object(object.opened(keys: keys))
        case .null, .bool, .number: self
        }
    }
}

extension JSONObject {
    public var sealedKeyIDs: Set<String> { sealedKeyIDs() }

    func sealedKeyIDs(besides known: [String: String] = [:]) -> Set<String> {
        reduce(into: Set()) { $0.formUnion($1.value.sealedKeyIDs(besides: known)) }
    }

    /// This object with its sealed strings opened (``SealedValue/open(_:keys:escape:)``).
    public func opened(keys: [String: SymmetricKey]) -> JSONObject { opened(keys: KeyRing(keys)) }

    public func opened(keys: KeyRing) -> JSONObject {
        JSONObject(members.map { Member(key: $0.key, value: $0.value.opened(keys: keys)) })
    }
}

extension RecordedEvent {
    public var sealedKeyIDs: Set<String> { sealedKeyIDs() }

    /// The ids of the keys its sealed values need, but for the texts of `known` (whose plaintext is at hand).
    public func sealedKeyIDs(besides known: [String: String] = [:]) -> Set<String> {
        var ids = JSONValue.string(summary).sealedKeyIDs(besides: known)
        if let resourceName { ids.formUnion(JSONValue.string(resourceName).sealedKeyIDs(besides: known)) }
        for object in [actor, changes, context, metadata, error] { if let object { ids.formUnion(object.sealedKeyIDs(besides: known)) } }
        return ids
    }

    /// The event as readers see it: its personal values opened, or `[erased]` where a key is gone. Its hash
    /// covers the stored (sealed) form.
    public func opened(keys: [String: SymmetricKey]) -> RecordedEvent { opened(keys: KeyRing(keys)) }

    public func opened(keys: KeyRing) -> RecordedEvent {
        var event = self
        event.actor = actor?.opened(keys: keys)
        event.changes = changes.opened(keys: keys)
        event.context = context?.opened(keys: keys)
        event.metadata = metadata?.opened(keys: keys)
        event.error = error?.opened(keys: keys)
        event.summary = SealedValue.open(summary, keys: keys)
        event.resourceName = resourceName.map { SealedValue.open($0, keys: keys) }
        return event
    }
}

extension StoredEventColumns {
    public var sealedKeyIDs: Set<String> {
        [actor, changes, context, metadata, error, summary, resourceName].reduce(into: Set()) { ids, text in
            if let text { ids.formUnion(SealedValue.keyIDs(in: text)) }
        }
    }

    /// The columns as readers see them (see ``RecordedEvent/opened(keys:)``); JSON columns stay JSON text.
    public func opened(keys: [String: SymmetricKey]) -> StoredEventColumns { opened(keys: KeyRing(keys)) }

    public func opened(keys: KeyRing) -> StoredEventColumns {
        func json(_ text: String) -> String {
            SealedValue.open(text, keys: keys) { plain in
                let quoted = JSONWriter.string(.string(plain))
                return String(quoted.dropFirst().dropLast())
            }
        }
        var columns = self
        columns.actor = actor.map(json)
        columns.changes = json(changes)
        columns.context = context.map(json)
        columns.metadata = metadata.map(json)
        columns.error = error.map(json)
        columns.summary = SealedValue.open(summary, keys: keys)
        columns.resourceName = resourceName.map { SealedValue.open($0, keys: keys) }
        return columns
    }
}

// MARK: - A tenant's personal keys

/// The keys a tenant marks personal, besides the installation's (`PUT /api/v1/personal-data`, SPEC §11): string
/// values under them, at any depth, are sealed under the value's own key from then on.
public enum PersonalKeys {
    public static let maximumKeys = 100
    public static let maximumKeyLength = 100

    /// `{"keys": ["nickname", …]}`: names compared without regard to case, each once.
    public static func parse(_ value: JSONValue) throws(InvalidSubmission) -> [String] {
        var errors: [FieldError] = []
        func fault(_ path: String, _ message: String) { errors.append(FieldError(index: nil, path: path, message: message)) }
        guard let object = value.objectValue else {
            throw InvalidSubmission(errors: [FieldError(index: nil, path: "", message: "expected an object {\"keys\": [names]}")])
        }
        for key in object.keys where key != "keys" { fault(key, "unknown field; give keys") }
        var keys: [String] = []
        switch object["keys"] {
        case .array(let items)? where items.count <= maximumKeys:
            for (index, item) in items.enumerated() {
                guard case .string(let name) = item, !name.isEmpty, name.codePoints <= maximumKeyLength else {
                    fault("keys[\(index)]", "a key name of 1 to \(maximumKeyLength) characters")
                    continue
                }
                if !keys.contains(name.lowercased()) { keys.append(name.lowercased()) }
            }
        case .array?:
            fault("keys", "at most \(maximumKeys) keys")
        default:
            fault("keys", "an array of key names ([] for none)")
        }
        guard errors.isEmpty else { throw InvalidSubmission(errors: errors) }
        return keys
    }

    /// `{"keys": [the tenant's], "installation_keys": [the installation's]}`.
    public static func json(tenant: [String], installation: [String]) -> JSONValue {
        .object(JSONObject([
            .init(key: "keys", value: .array(tenant.map(JSONValue.string))),
            .init(key: "installation_keys", value: .array(installation.map(JSONValue.string))),
        ]))
    }
}

extension PersonalDataPolicy {
    /// Its keys, sorted.
    public var keys: [String] { personalKeys.sorted() }

    /// This policy with `keys` personal too.
    public func adding(_ keys: [String]) -> PersonalDataPolicy {
        keys.isEmpty ? self : PersonalDataPolicy(personalKeys: Array(personalKeys) + keys)
    }
}
