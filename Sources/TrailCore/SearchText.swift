/// Full-text search over events (SPEC §5 `q`), the same in every store: Trail splits text into words itself and
/// gives the stores only words, so that what matches never depends on a database's tokenizer or locale.
///
/// A word is a run of letters, digits and combining marks (any script), lower-cased; everything else separates
/// words. An event's searchable words come from its summary, its resource's name, its actor's name and the
/// string and number values of its metadata (at any depth): the first ``maximumWords``, each cut to
/// ``maximumWordLength`` Unicode scalars.
public enum SearchText {
    public static let maximumWords = 1_000
    public static let maximumWordLength = 100

    /// The words of `text`, in order, repeats included.
    public static func words(in text: String) -> [String] {
        var writer = Writer(limit: Int.max)
        writer.add(text)
        return writer.bytes.isEmpty ? [] : String(decoding: writer.bytes, as: UTF8.self).split(separator: " ").map(String.init)
    }

    /// Letters, numbers, marks and private-use characters: the characters SQLite's `unicode61` tokenizer keeps
    /// in tokens when told `categories 'L* N* Co M*'`, so that both split text alike.
    static func isWordScalar(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
             .decimalNumber, .letterNumber, .otherNumber, .privateUse,
             .nonspacingMark, .spacingMark, .enclosingMark:
            return true
        default:
            return false
        }
    }

    /// The searchable words of an event, joined by single spaces (what the stores index).
    /// - Parameter sealedWords: the tokens it was indexed with for its sealed values, space-separated.
    public static func document(for event: RecordedEvent, sealedWords: String? = nil) -> String {
        document(summary: event.summary, resourceName: event.resourceName, actor: event.actor, metadata: event.metadata,
                 sealedWords: tokens(stored: sealedWords))
    }

    /// Sealed words' tokens as the stores keep them beside an event: space-separated, nil for none.
    public static func stored(tokens: [String]) -> String? {
        tokens.isEmpty ? nil : tokens.joined(separator: " ")
    }

    /// The tokens of ``stored(tokens:)``.
    public static func tokens(stored: String?) -> [String] {
        stored.map { $0.split(separator: " ").map(String.init) } ?? []
    }

    /// - Parameter sealedWords: the tokens standing for the words of the event's sealed personal values
    ///   (``Activity/sealedWords``); the sealed values themselves are left out.
    public static func document(
        summary: String, resourceName: String?, actor: JSONObject?, metadata: JSONObject?, sealedWords: [String] = []
    ) -> String {
        var writer = Writer(limit: maximumWords)
        writer.add(withoutSealed(summary))
        if let resourceName { writer.add(withoutSealed(resourceName)) }
        if case .string(let name)? = actor?["name"] { writer.add(withoutSealed(name)) }
        if let metadata { addValues(of: .object(metadata)) { writer.add(withoutSealed($0)) } }
        for token in sealedWords where writer.words < maximumWords {
            if !writer.bytes.isEmpty { writer.bytes.append(UInt8(ascii: " ")) }
            writer.bytes.append(contentsOf: token.utf8)
            writer.words += 1
        }
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    /// `text` without its sealed values (their words are indexed as tokens, not as themselves).
    static func withoutSealed(_ text: String) -> String {
        guard SealedValue.mayHold(text) else { return text }
        return SealedValue.open(text, keys: [:]) { _ in " " }
    }

    /// Writes words as UTF-8, lower-cased, separated by single spaces; ASCII without any allocation per word.
    struct Writer {
        var bytes: [UInt8] = []
        var words = 0
        /// Unicode scalars in the word being written.
        var length = 0
        let limit: Int

        init(limit: Int) { self.limit = limit }

        mutating func add(_ text: String) {
            for scalar in text.unicodeScalars {
                guard words < limit else { return }
                if scalar.isASCII {
                    let byte = UInt8(scalar.value)
                    switch byte {
                    case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "z"): append(byte)
                    case UInt8(ascii: "A")...UInt8(ascii: "Z"): append(byte | 0x20)
                    default: finishWord()
                    }
                } else if SearchText.isWordScalar(scalar) {
                    guard startScalar() else { continue }
                    for lower in scalar.properties.lowercaseMapping.unicodeScalars {
                        bytes.append(contentsOf: UTF8.encode(lower)!)
                    }
                } else {
                    finishWord()
                }
            }
            finishWord()
        }

        private mutating func append(_ byte: UInt8) {
            if startScalar() { bytes.append(byte) }
        }

        /// Begins one more scalar of the current word; false once the word is at its maximum length.
        private mutating func startScalar() -> Bool {
            if length == 0 && !bytes.isEmpty { bytes.append(UInt8(ascii: " ")) }
            guard length < SearchText.maximumWordLength else { return false }
            length += 1
            return true
        }

        private mutating func finishWord() {
            if length > 0 {
                words += 1
                length = 0
            }
        }
    }

    private static func addValues(of value: JSONValue, _ add: (String) -> Void) {
        switch value {
        case .string(let text): add(text)
        case .number(let number): add(number.literal)
        case .object(let object): for member in object { addValues(of: member.value, add) }
        case .array(let elements): for element in elements { addValues(of: element, add) }
        case .bool, .null: break
        }
    }
}

/// A parsed `q`: every term must match a word of the event; a term written with a trailing `*` matches any
/// word it begins (`inv*` finds `invoice`).
public struct SearchQuery: Sendable, Equatable {
    public struct Term: Sendable, Equatable {
        public var word: String
        public var prefix: Bool
        /// The token that stands for the word where it was sealed as part of a personal value
        /// (``SealedValue/blindWord(_:key:)``); a term matches either. Set by the store, which holds the key.
        public var blind: String?

        public init(word: String, prefix: Bool, blind: String? = nil) {
            self.word = word
            self.prefix = prefix
            self.blind = blind
        }
    }

    public var terms: [Term]

    /// Nil when `text` holds no word at all.
    public init?(_ text: String) {
        var terms: [Term] = []
        for chunk in text.split(whereSeparator: { $0.isWhitespace }) {
            let words = SearchText.words(in: String(chunk))
            for (index, word) in words.enumerated() {
                let prefix = index == words.count - 1 && chunk.hasSuffix("*")
                let term = Term(word: word, prefix: prefix)
                if !terms.contains(term) { terms.append(term) }
            }
        }
        guard !terms.isEmpty else { return nil }
        self.terms = terms
    }
}
