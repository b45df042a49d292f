/// Events fetched a page at a time as they are iterated (keyset pages: `next_cursor`), until the last page.
public struct EventPages: AsyncSequence, Sendable {
    public typealias Element = StoredEvent
    let client: TrailClient
    let path: String
    let parameters: [(String, String)]

    public struct AsyncIterator: AsyncIteratorProtocol {
        let pages: EventPages
        var buffer: [StoredEvent] = []
        var cursor: String?
        var finished = false

        public mutating func next() async throws -> StoredEvent? {
            while buffer.isEmpty {
                guard !finished else { return nil }
                struct Page: Decodable {
                    var data: [StoredEvent]
                    var next_cursor: String?
                }
                var query = pages.parameters
                if let cursor { query.append(("cursor", cursor)) }
                let text = query.map { "\($0.0)=\(TrailClient.segment($0.1))" }.joined(separator: "&")
                let page = try await pages.client.send(.GET, pages.path + (text.isEmpty ? "" : "?" + text), as: Page.self)
                buffer = page.data.reversed()
                cursor = page.next_cursor
                finished = page.next_cursor == nil
            }
            return buffer.popLast()
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(pages: self)
    }

    /// Every event, in one array.
    public func collect() async throws -> [StoredEvent] {
        var events: [StoredEvent] = []
        for try await event in self { events.append(event) }
        return events
    }
}
