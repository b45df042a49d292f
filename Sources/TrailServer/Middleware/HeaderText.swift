extension Substring {
    /// The text without spaces and tabs at either end: header values' optional whitespace (RFC 9110 §5.6.3).
    /// (Foundation's `trimmingCharacters(in:)` bridges through `NSString`: about 4% of the request handlers' CPU
    /// in a profile of single-event ingest.)
    var trimmingHeaderWhitespace: String {
        let utf8 = self.utf8
        guard let first = utf8.firstIndex(where: { $0 != 0x20 && $0 != 0x09 }) else { return "" }
        let last = utf8.lastIndex(where: { $0 != 0x20 && $0 != 0x09 })!
        return String(self[first...last])
    }
}
