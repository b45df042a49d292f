import Foundation
import Hummingbird
import Synchronization

/// Reads a request body that must be JSON: checks the media type (415) and the size limit (413) before
/// anything is parsed, and holds the bytes only within the server's ``BodyBudget`` (503 when it is spent).
struct JSONBodyReader: Sendable {
    let maximumBytes: Int
    let budget: BodyBudget

    /// Calls `use` with the whole body; its bytes count against the budget until `use` returns.
    func withBody<T>(_ request: Request, _ use: (ByteBuffer) async throws -> T) async throws -> T {
        if let contentType = request.headers[.contentType], !JSONBodyReader.isJSON(contentType) {
            throw Problem.unsupportedMediaType(contentType)
        }
        let declared = request.headers[.contentLength].flatMap(Int.init)
        if let declared, declared > maximumBytes { throw Problem.tooLarge(limit: maximumBytes) }
        // A declared length is taken at once, so that a request that cannot fit is refused before it is read.
        var held = 0
        defer { budget.release(held) }
        func hold(_ bytes: Int) throws {
            guard budget.reserve(bytes) else { throw Problem.busy(budget: budget.limit) }
            held += bytes
        }
        if let declared { try hold(declared) }
        var body = ByteBuffer()
        for try await chunk in request.body {
            guard body.readableBytes + chunk.readableBytes <= maximumBytes else { throw Problem.tooLarge(limit: maximumBytes) }
            if body.readableBytes + chunk.readableBytes > held { try hold(body.readableBytes + chunk.readableBytes - held) }
            var chunk = chunk
            body.writeBuffer(&chunk)
        }
        return try await use(body)
    }

    /// `application/json` or any `+json` type; a charset, if given, must be UTF-8 (RFC 8259 §8.1).
    static func isJSON(_ contentType: String) -> Bool {
        if contentType == "application/json" { return true }  // the common case, without parsing
        let parts = contentType.lowercased().split(separator: ";").map(\.trimmingHeaderWhitespace)
        guard let type = parts.first, type == "application/json" || (type.hasPrefix("application/") && type.hasSuffix("+json"))
        else { return false }
        for parameter in parts.dropFirst() where parameter.hasPrefix("charset=") {
            let charset = parameter.dropFirst("charset=".count).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            if charset != "utf-8" && charset != "utf8" { return false }
        }
        return true
    }
}

/// How many bytes of request bodies the server holds at once, over all connections: with the per-request limit
/// and the connection limit, what bounds the memory clients can make it use. A body that would go over waits for
/// no one: its request is refused `503` with `Retry-After`.
final class BodyBudget: Sendable {
    let limit: Int
    private let used = Atomic<Int>(0)

    init(limit: Int) {
        self.limit = limit
    }

    /// Takes `bytes` if they fit.
    func reserve(_ bytes: Int) -> Bool {
        var current = used.load(ordering: .relaxed)
        while true {
            guard current + bytes <= limit else { return false }
            let (exchanged, original) = used.compareExchange(expected: current, desired: current + bytes, ordering: .relaxed)
            if exchanged { return true }
            current = original
        }
    }

    func release(_ bytes: Int) {
        if bytes > 0 { used.subtract(bytes, ordering: .relaxed) }
    }
}

extension Problem {
    static func busy(budget: Int) -> Problem {
        Problem(.serviceUnavailable, "server-busy", title: "Server busy",
                detail: "Trail is holding as many request bodies as it may (\(budget) bytes in all); retry in a moment.",
                headers: [.retryAfter: "1"])
    }
}
