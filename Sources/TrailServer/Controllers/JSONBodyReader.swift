import Foundation
import Hummingbird

/// Reads a request body that must be JSON: checks the media type (415) and the size limit (413) before
/// anything is parsed.
struct JSONBodyReader: Sendable {
    let maximumBytes: Int

    func read(_ request: Request) async throws -> ByteBuffer {
        if let contentType = request.headers[.contentType], !JSONBodyReader.isJSON(contentType) {
            throw Problem.unsupportedMediaType(contentType)
        }
        if let length = request.headers[.contentLength].flatMap(Int.init), length > maximumBytes {
            throw Problem.tooLarge(limit: maximumBytes)
        }
        var request = request
        do {
            return try await request.collectBody(upTo: maximumBytes)
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            // Hummingbird reports NIO's "too many bytes" as an HTTP error with this status.
            throw Problem.tooLarge(limit: maximumBytes)
        }
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
