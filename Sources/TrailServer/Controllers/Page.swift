import Foundation
import Hummingbird
import TrailCore

/// A page of events (`limit` and `cursor`): keyset pagination on the sequence, so a cursor stays valid however
/// many events are added meanwhile.
struct Page {
    /// Which way pages go: lists newest first (the next page is before the last sequence), histories oldest
    /// first (after it).
    enum Order: String {
        case newestFirst = "v1"
        case oldestFirst = "a1"
    }

    static let maximumLimit = 1000

    var limit: Int
    /// The sequence the page starts after (in its order); nil for the first page.
    var cursor: Int64?

    /// `limit` (1 to 1000) and `cursor` from the query; a bad value is a 400 naming its parameter.
    init(_ parameters: Parameters, defaultLimit: Int, order: Order) throws(Problem) {
        try self.init(defaultLimit: defaultLimit, order: order) { parameters[Substring($0)].map(String.init) }
    }

    /// `limit` and `cursor` from `value(name)`.
    init(defaultLimit: Int, order: Order, _ value: (String) -> String?) throws(Problem) {
        func text(_ name: String) -> String? { value(name).flatMap { $0.isEmpty ? nil : $0 } }
        limit = defaultLimit
        if let given = text("limit") {
            guard let value = Int(given), (1...Self.maximumLimit).contains(value) else {
                throw Problem.badRequest("limit must be a whole number from 1 to \(Self.maximumLimit).", path: "limit")
            }
            limit = value
        }
        if let given = text("cursor") {
            guard let sequence = Self.decode(given, order: order) else {
                throw Problem.badRequest("cursor is not one this endpoint gave: pass next_cursor from the previous page as it is.", path: "cursor")
            }
            cursor = sequence
        }
    }

    /// `next_cursor`'s value: the cursor after the last of a full page's `sequences`, else `null`.
    static func writeNextCursor(after sequences: [Int64], limit: Int, _ order: Order, into writer: inout JSONWriter) {
        if sequences.count == limit, let last = sequences.last {
            writer.write(string: encode(last, order: order))
        } else {
            writer.raw("null")
        }
    }

    /// The opaque text of a cursor: base64url of `<order>:<sequence>`.
    static func encode(_ sequence: Int64, order: Order) -> String {
        Data("\(order.rawValue):\(sequence)".utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func decode(_ text: String, order: Order) -> Int64? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        let prefix = order.rawValue + ":"
        guard let data = Data(base64Encoded: base64), let decoded = String(data: data, encoding: .utf8),
              decoded.hasPrefix(prefix), let sequence = Int64(decoded.dropFirst(prefix.count)), sequence >= 0
        else { return nil }
        return sequence
    }
}
