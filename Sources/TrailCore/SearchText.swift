/// Full-text search over events (SPEC §5 `q`), the same in every store: Trail splits text into words itself and
/// gives the stores only words, so that what matches never depends on a database's tokenizer or locale.
///
/// A word is a run of letters and digits (any script), lower-cased; everything else separates words. An event's
/// searchable words come from its summary, its resource's name, its actor's name and the string and number
/// values of its metadata (at any depth): the first ``maximumWords`` distinct ones, each cut to
/// ``maximumWordLength`` characters.
public enum SearchText {
    public static let maximumWords = 1_000
    public static let maximumWordLength = 100

    /// The words of `text`, in order, repeats included.
    public static func words(in text: String) -> [String] {
        var words: [String] = []
        var current = ""
        for character in text {
            if character.isLetter || character.isNumber {
                current.append(character)
            } else if !current.isEmpty {
                words.append(normalized(current))
                current = ""
            }
        }
        if !current.isEmpty { words.append(normalized(current)) }
        return words
    }

    static func normalized(_ word: String) -> String {
        let lower = word.lowercased()
        return lower.count > maximumWordLength ? String(lower.prefix(maximumWordLength)) : lower
    }

    /// The distinct searchable words of an event, joined by single spaces (what the stores index).
    public static func document(for event: RecordedEvent) -> String {
        var seen = Set<String>()
        var result: [String] = []
        func add(_ text: String) {
            for word in words(in: text) where result.count < maximumWords && seen.insert(word).inserted {
                result.append(word)
            }
        }
        add(event.summary)
        if let name = event.resourceName { add(name) }
        if case .string(let name)? = event.actor?["name"] { add(name) }
        if let metadata = event.metadata { addValues(of: .object(metadata), add) }
        return result.joined(separator: " ")
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

        public init(word: String, prefix: Bool) {
            self.word = word
            self.prefix = prefix
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
