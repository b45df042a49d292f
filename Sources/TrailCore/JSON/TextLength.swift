extension StringProtocol {
    /// A text's length as the API's limits count it: in Unicode code points, as JSON Schema's `maxLength`
    /// does (and as every client language can check). Swift's `count` counts grapheme clusters instead, so a
    /// letter followed by any number of combining marks or emoji modifiers would pass as one character.
    public var codePoints: Int { unicodeScalars.count }
}
