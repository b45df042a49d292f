public import Crypto
import Synchronization

/// A person whose values Trail seals under a key of their own, so that destroying the key forgets them
/// everywhere at once, backups included (crypto-shredding, SPEC §11): an actor (by id) or an identifying value
/// (an e-mail, a phone number; compared without regard to case).
public struct DataSubject: Hashable, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable { case actor, value }
    public let kind: Kind
    /// The actor's id as given, or the value lower-cased.
    public let name: String

    public static func actor(_ id: String) -> DataSubject { DataSubject(kind: .actor, name: id) }
    public static func value(_ text: String) -> DataSubject { DataSubject(kind: .value, name: text.lowercased()) }

    public init(_ subject: ErasureSubject) {
        switch subject {
        case .actor(let id): self = .actor(id)
        case .value(let text): self = .value(text)
        }
    }

    private init(kind: Kind, name: String) {
        self.kind = kind
        self.name = name
    }

    public var description: String { "\(kind.rawValue):\(name)" }
}

/// One subject's key: a random 256-bit AES key, named by a random id (32 hex digits) that says nothing of whose
/// it is.
public struct SubjectKey: Sendable {
    public let id: String
    public let key: SymmetricKey

    public init(id: String, key: SymmetricKey) {
        self.id = id
        self.key = key
    }

    /// A new random key.
    public static func make() -> SubjectKey {
        let id = Hex.encode(Array(SymmetricKey(size: .bits128).withUnsafeBytes { Array($0) }))
        return SubjectKey(id: id, key: SymmetricKey(size: .bits256))
    }

    public var bytes: [UInt8] { key.withUnsafeBytes { Array($0) } }
}

/// A personal value as Trail stores it: `trail:sealed:1:` + the ids of the keys it is sealed under (joined by
/// `.`) + `:` + base64url of nonce ‖ AES-256-GCM ciphertext ‖ tag. Plain JSON-safe text, so it can stand for a
/// string value anywhere (and inside a summary's sentence); it ends at the first character that is not base64url.
///
/// Sealing is deterministic (the nonce is a keyed hash of the plaintext, as in SIV modes): the same value under
/// the same key is always the same text, so diffs, merges and redaction digests work on stored states exactly as
/// on plain ones, and reveal only that two values are equal. A value that concerns several subjects (an actor's
/// e-mail) is sealed under a key derived from all of theirs: destroying any one makes it unreadable.
public enum SealedValue {
    public static let prefix = "trail:sealed:1:"
    static let prefixBytes = Array(prefix.utf8)
    static let keyIDLength = 32

    /// `plaintext` sealed under `keys` (at least one).
    public static func seal(_ plaintext: String, under keys: [SubjectKey]) -> String {
        seal(plaintext, with: SealingKey(keys))
    }

    /// `plaintext` sealed with a key made for its subjects once (``SealingKey``).
    public static func seal(_ plaintext: String, with key: SealingKey) -> String {
        guard let memo = key.memo else { return encrypt(plaintext, with: key) }
        if let known = memo.sealed(plaintext, header: key.header) { return known.sealed }
        let sealed = encrypt(plaintext, with: key)
        memo.remember(SealedMemo.Entry(sealed: sealed, tokens: nil), of: plaintext, header: key.header)
        return sealed
    }

    /// `plaintext` sealed with `key`, and the search tokens of its words under `blindKey` (``blindWord(_:key:)``),
    /// in the order the words come. Remembered together in the key's memo: a value sealed again is neither
    /// encrypted nor hashed word by word again. (One memo entry serves one blind key: the keys of a sealing key's
    /// subjects belong to one tenant, and so does the blind key its values are searched by.)
    public static func sealSearchable(_ plaintext: String, with key: SealingKey, blindKey: SymmetricKey) -> (sealed: String, tokens: [String]) {
        let known = key.memo?.sealed(plaintext, header: key.header)
        if let known, let tokens = known.tokens { return (known.sealed, tokens) }
        let sealed = known?.sealed ?? encrypt(plaintext, with: key)
        let tokens = SearchText.words(in: plaintext).map { blindWord($0, key: blindKey) }
        key.memo?.remember(SealedMemo.Entry(sealed: sealed, tokens: tokens), of: plaintext, header: key.header)
        return (sealed, tokens)
    }

    private static func encrypt(_ plaintext: String, with key: SealingKey) -> String {
        let bytes = Array(plaintext.utf8)
        let nonce = Array(HMAC<SHA256>.authenticationCode(for: bytes, using: key.nonceKey)).prefix(12)
        // A 12-byte nonce and a valid key: sealing cannot fail.
        let box = try! AES.GCM.seal(bytes, using: key.key, nonce: AES.GCM.Nonce(data: nonce))
        return key.header + Base64URL.encode(Array(nonce) + Array(box.ciphertext) + Array(box.tag))
    }

    /// The key a value concerning these subjects (in key id order) is sealed under: the subject's own, or one
    /// derived from all.
    static func combined(_ keys: [SymmetricKey]) -> SymmetricKey {
        guard keys.count > 1 else { return keys[0] }
        var material: [UInt8] = []
        for key in keys { key.withUnsafeBytes { material.append(contentsOf: $0) } }
        return HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: material), info: Array("trail sealed value".utf8), outputByteCount: 32)
    }

    /// Whether `text` may hold a sealed value (a quick test before looking closer).
    public static func mayHold(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { find(in: $0, from: 0) != nil }
    }

    /// Where a sealed value starts in `bytes` at or after `start`.
    static func find(in bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        guard bytes.count >= prefixBytes.count else { return nil }
        var i = start
        let last = bytes.count - prefixBytes.count
        while i <= last {
            if bytes[i] == UInt8(ascii: "t") {
                var j = 1
                while j < prefixBytes.count && bytes[i + j] == prefixBytes[j] { j += 1 }
                if j == prefixBytes.count { return i }
            }
            i += 1
        }
        return nil
    }

    /// One sealed value found in a text: its byte range, key ids and sealed bytes.
    struct Found {
        var range: Range<Int>
        var keyIDs: [String]
        var sealed: [UInt8]
    }

    /// The sealed values of `text`, in order (text that only looks like one is skipped).
    static func found(in text: String) -> [Found] {
        var text = text
        return text.withUTF8 { bytes in
            var result: [Found] = []
            var start = 0
            while let at = find(in: bytes, from: start) {
                var i = at + prefixBytes.count
                var ids: [String] = []
                var idStart = i
                var valid = true
                while i < bytes.count, bytes[i] != UInt8(ascii: ":") {
                    if bytes[i] == UInt8(ascii: ".") {
                        ids.append(String(decoding: bytes[idStart..<i], as: UTF8.self))
                        idStart = i + 1
                    } else if !Hex.isLowerDigit(bytes[i]) {
                        valid = false
                        break
                    }
                    i += 1
                }
                ids.append(String(decoding: bytes[idStart..<min(i, bytes.count)], as: UTF8.self))
                valid = valid && i < bytes.count && ids.allSatisfy { $0.utf8.count == keyIDLength }
                guard valid else {
                    start = at + 1
                    continue
                }
                let dataStart = i + 1
                var end = dataStart
                while end < bytes.count, Base64URL.isDigit(bytes[end]) { end += 1 }
                if let sealed = Base64URL.decode(UnsafeBufferPointer(rebasing: bytes[dataStart..<end])), sealed.count >= 28 {
                    result.append(Found(range: at..<end, keyIDs: ids, sealed: sealed))
                }
                start = max(end, at + 1)
            }
            return result
        }
    }

    /// The ids of the keys the sealed values in `text` need.
    public static func keyIDs(in text: String) -> Set<String> {
        guard mayHold(text) else { return [] }
        return Set(found(in: text).flatMap(\.keyIDs))
    }

    /// `text` with each sealed value replaced by its plaintext, or by ``Erasure/replacement`` when a key it needs
    /// is gone (destroyed by an erasure). `escape` writes a plaintext where it goes (JSON text needs it escaped).
    public static func open(
        _ text: String, keys: [String: SymmetricKey], escape: (String) -> String = { $0 }
    ) -> String {
        open(text, keys: KeyRing(keys), escape: escape)
    }

    /// ``open(_:keys:escape:)`` with a ring that keeps the keys derived for several subjects.
    public static func open(_ text: String, keys: KeyRing, escape: (String) -> String = { $0 }) -> String {
        if !keys.known.isEmpty, let known = keys.known[text] { return escape(known) }
        guard mayHold(text) else { return text }
        let values = found(in: text)
        guard !values.isEmpty else { return text }
        let bytes = Array(text.utf8)
        var result: [UInt8] = []
        result.reserveCapacity(bytes.count)
        var at = 0
        for value in values {
            result.append(contentsOf: bytes[at..<value.range.lowerBound])
            result.append(contentsOf: escape(Self.plaintext(of: value, in: bytes, keys: keys) ?? Erasure.replacement).utf8)
            at = value.range.upperBound
        }
        result.append(contentsOf: bytes[at...])
        return String(decoding: result, as: UTF8.self)
    }

    /// The plaintext of the sealed value `value` found in `bytes`: known already (``KeyRing/known``), opened
    /// lately (the ring's memo), or opened now; nil if a key it needs is gone. The memo is asked only once the
    /// ring holds the value's keys, so a value whose key was destroyed (here or, once the ring's keys are fetched
    /// again, by another process) is never shown from it.
    static func plaintext(of value: Found, in bytes: [UInt8], keys: KeyRing) -> String? {
        let text = keys.known.isEmpty && keys.memo == nil ? "" : String(decoding: bytes[value.range], as: UTF8.self)
        if !keys.known.isEmpty, let known = keys.known[text] { return known }
        guard let key = keys.key(for: value.keyIDs) else { return nil }
        if let known = keys.memo?.opened(text) { return known }
        let sealed = value.sealed
        guard let box = try? AES.GCM.SealedBox(
            nonce: AES.GCM.Nonce(data: sealed[0..<12]), ciphertext: sealed[12..<(sealed.count - 16)],
            tag: sealed[(sealed.count - 16)...]),
            let plain = try? AES.GCM.open(box, using: key)
        else { return nil }
        let plaintext = String(decoding: plain, as: UTF8.self)
        keys.memo?.remember(opened: plaintext, of: text)
        return plaintext
    }

    /// The token that stands for a personal word in the search index: `_p` and 20 hex digits of a keyed hash
    /// (the key is kept with the subjects' keys, outside the store and its backups). `_` never occurs in a word
    /// Trail splits, so a token never matches one.
    public static func blindWord(_ word: String, key: SymmetricKey) -> String {
        "_p" + Hex.encode(Array(HMAC<SHA256>.authenticationCode(for: Array(word.utf8), using: key).prefix(10)))
    }
}

/// The key a value concerning a set of subjects is sealed with, made once for the set: the combined key, the key
/// its nonces are derived with, and the text every value sealed with it begins with.
public struct SealingKey: Sendable {
    let key: SymmetricKey
    let nonceKey: SymmetricKey
    let header: String
    /// Where values sealed with it are remembered, if anywhere.
    let memo: SealedMemo?

    public init(_ keys: [SubjectKey], memo: SealedMemo? = nil) {
        let ordered = keys.sorted { $0.id < $1.id }
        key = SealedValue.combined(ordered.map(\.key))
        nonceKey = SymmetricKey(data: HMAC<SHA256>.authenticationCode(for: Array("trail nonce".utf8), using: key))
        header = SealedValue.prefix + ordered.map(\.id).joined(separator: ".") + ":"
        self.memo = memo
    }
}

/// Values sealed lately, by key and plaintext, and sealed texts opened lately. Sealing is deterministic, so a
/// value sealed again under the same key (an actor's name, a user agent, an address: most of what is personal in
/// a stream of events) is taken from here instead of being encrypted again, and a sealed text read again is not
/// decrypted again (only while its keys are at hand: ``SealedValue/plaintext(of:in:keys:)``). Bounded: each part
/// is emptied when full. Its owner empties it when a key is destroyed, so that an erased subject's values do not
/// stay in memory.
public final class SealedMemo: Sendable {
    public static let capacity = 16_384
    private let entries = Mutex<[String: Entry]>([:])
    /// Sealed texts opened lately, with their plaintext (a page of events shows the same actors' values again and
    /// again; an AES-GCM opening was 9% of a history read's CPU).
    private let openings = Mutex<[String: String]>([:])

    /// A value as sealed, with the search tokens of its words once a searchable place sealed it (nil before).
    struct Entry: Sendable, Equatable {
        var sealed: String
        var tokens: [String]?
    }

    public init() {}

    func sealed(_ plaintext: String, header: String) -> Entry? {
        let name = header + plaintext
        return entries.withLock { $0[name] }
    }

    func remember(_ entry: Entry, of plaintext: String, header: String) {
        let name = header + plaintext
        entries.withLock { Self.insert(entry, at: name, in: &$0) }
    }

    func opened(_ sealed: String) -> String? {
        openings.withLock { $0[sealed] }
    }

    func remember(opened plaintext: String, of sealed: String) {
        openings.withLock { Self.insert(plaintext, at: sealed, in: &$0) }
    }

    /// Bounded: a full part is emptied, not grown.
    private static func insert<Value>(_ value: Value, at name: String, in part: inout [String: Value]) {
        if part.count >= capacity { part.removeAll(keepingCapacity: true) }
        part[name] = value
    }

    public func forgetAll() {
        entries.withLock { $0.removeAll() }
        openings.withLock { $0.removeAll() }
    }
}

/// The subjects' keys a read has (by id), and the keys derived from them for values of several subjects, kept
/// for the read's duration (a page of one actor's events derives each once).
public final class KeyRing {
    let keys: [String: SymmetricKey]
    /// Sealed texts whose plaintext is known already (what an append has just sealed), shown without opening.
    let known: [String: String]
    /// Where values opened lately are remembered, if anywhere (``SealedMemo``).
    let memo: SealedMemo?
    private var combined: [[String]: SymmetricKey] = [:]

    public init(_ keys: [String: SymmetricKey], known: [String: String] = [:], memo: SealedMemo? = nil) {
        self.keys = keys
        self.known = known
        self.memo = memo
    }

    /// The key of a value sealed under `ids` (as written), nil if one of them is gone.
    func key(for ids: [String]) -> SymmetricKey? {
        if ids.count == 1 { return keys[ids[0]] }
        let ordered = ids.sorted()
        if let known = combined[ordered] { return known }
        var subjectKeys: [SymmetricKey] = []
        for id in ordered {
            guard let key = keys[id] else { return nil }
            subjectKeys.append(key)
        }
        let key = SealedValue.combined(subjectKeys)
        combined[ordered] = key
        return key
    }
}
