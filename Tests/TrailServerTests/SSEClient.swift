import Foundation
import TrailTestSupport

/// A Server-Sent Events client over a raw loopback connection: reads the response as it comes (chunked), without
/// blocking a thread of Swift's pool (the server under test runs on the same pool).
/// (Sendable to be read from an `async let` while its test posts; one task reads it at a time.)
final class SSEClient: @unchecked Sendable {
    struct Frame: Equatable {
        var id: String?
        var event: String?
        var data: String
    }

    private let connection: RawConnection
    private var raw: [UInt8] = []
    private var body: [UInt8] = []
    private(set) var status: Int?
    private(set) var headers: [String: String] = [:]
    /// Comment lines seen (heartbeats).
    private(set) var comments: [String] = []
    private(set) var closed = false
    /// Frames read while waiting for something else.
    private var pending: [Frame] = []

    init(port: Int, path: String, headers: [String: String] = [:]) throws {
        connection = try RawConnection(port: port)
        var request = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n"
        for (name, value) in headers { request += "\(name): \(value)\r\n" }
        connection.send(request + "\r\n")
    }

    /// The next frame with data, or nil if none came within `timeout` (or the stream ended).
    func next(timeout: Duration = .seconds(10)) async throws -> Frame? {
        let deadline = ContinuousClock.now + timeout
        if !pending.isEmpty { return pending.removeFirst() }
        while true {
            if let frame = takeFrame() { return frame }
            if closed || ContinuousClock.now > deadline { return nil }
            guard let bytes = connection.readAvailable() else {
                closed = true
                continue
            }
            if bytes.isEmpty {
                try await Task.sleep(for: .milliseconds(5))
                continue
            }
            raw += bytes
            decode()
        }
    }

    /// Waits for a heartbeat (true), reading and keeping frames meanwhile: the server follows the log by then.
    /// (It comes after the heartbeat interval; the long default bound is for a CI machine whose two cores run
    /// the whole suite, where one CI run waited more than 10 s.)
    func heartbeat(timeout: Duration = .seconds(30)) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while !comments.contains("heartbeat"), ContinuousClock.now < deadline, !closed {
            if let frame = try await next(timeout: .milliseconds(20)) { pending.append(frame) }
        }
        return comments.contains("heartbeat")
    }

    /// What was received, for a failed expectation's message.
    var described: String {
        "status \(status.map(String.init) ?? "none"), \(closed ? "closed" : "open"), comments \(comments), \(pending.count) frames pending"
    }

    /// Frames until `count` arrived or `timeout` passed.
    func frames(_ count: Int, timeout: Duration = .seconds(20)) async throws -> [Frame] {
        let deadline = ContinuousClock.now + timeout
        var frames: [Frame] = []
        while frames.count < count, ContinuousClock.now < deadline {
            guard let frame = try await next(timeout: deadline - .now) else { break }
            frames.append(frame)
        }
        return frames
    }

    /// Response head, then the chunked body's bytes.
    private func decode() {
        if status == nil {
            guard let end = find([13, 10, 13, 10], in: raw) else { return }
            let head = String(decoding: raw[..<end], as: UTF8.self).components(separatedBy: "\r\n")
            status = head.first.flatMap { Int($0.split(separator: " ").dropFirst().first ?? "") }
            for line in head.dropFirst() {
                guard let colon = line.firstIndex(of: ":") else { continue }
                headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
            raw.removeFirst(end + 4)
        }
        guard headers["transfer-encoding"] == "chunked" else {
            body += raw
            raw.removeAll()
            return
        }
        while let lineEnd = find([13, 10], in: raw) {
            guard let size = Int(String(decoding: raw[..<lineEnd], as: UTF8.self), radix: 16) else { return }
            guard raw.count >= lineEnd + 2 + size + 2 else { return }
            body += raw[(lineEnd + 2)..<(lineEnd + 2 + size)]
            raw.removeFirst(lineEnd + 2 + size + 2)
            if size == 0 { closed = true }
        }
    }

    private func takeFrame() -> Frame? {
        while let end = find([10, 10], in: body) {
            let text = String(decoding: body[..<end], as: UTF8.self)
            body.removeFirst(end + 2)
            var frame = Frame(data: "")
            var hasData = false
            for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
                if line.hasPrefix(":") { comments.append(String(line.dropFirst()).trimmingCharacters(in: .whitespaces)); continue }
                guard let colon = line.firstIndex(of: ":") else { continue }
                let value = line[line.index(after: colon)...].drop { $0 == " " }
                switch line[..<colon] {
                case "id": frame.id = String(value)
                case "event": frame.event = String(value)
                case "data": frame.data += (hasData ? "\n" : "") + value; hasData = true
                default: break
                }
            }
            if hasData { return frame }
        }
        return nil
    }

    private func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for i in 0...(haystack.count - needle.count) where haystack[i] == needle[0] {
            if Array(haystack[i..<(i + needle.count)]) == needle { return i }
        }
        return nil
    }
}
