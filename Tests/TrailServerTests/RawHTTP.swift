import Foundation
#if canImport(Glibc)
import Glibc
#endif
import TrailTestSupport

/// A TCP connection to 127.0.0.1 driven byte by byte, for what an HTTP client library will not send: malformed
/// requests, requests that trickle in.
final class RawConnection {
    private let socket: Int32
    var socketDescriptor: Int32 { socket }
    /// The last read ended because the server closed the connection (not because it timed out); a reset counts:
    /// a server that closes with bytes of ours unread resets the connection.
    private(set) var closedByServer = false

    /// Reads give up after `readTimeout` seconds without a byte.
    init(port: Int, readTimeout: Int = 5) throws {
        socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw TrailProcessError(message: "socket: \(errno)") }
        var timeout = timeval(tv_sec: readTimeout, tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(socket)
            throw TrailProcessError(message: "connect: \(errno)")
        }
    }

    deinit { close(socket) }

    /// Sends `text`; false once the server no longer takes bytes.
    @discardableResult
    func send(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return false }
            sent += n
        }
        return true
    }

    /// Whether the server wrote something (or closed) within `milliseconds`.
    func hasAnswered(within milliseconds: Int32) -> Bool {
        var descriptor = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
        return poll(&descriptor, 1, milliseconds) > 0
    }

    /// Everything read until the server closes the connection (or a read times out).
    func readToEnd() -> String {
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = recv(socket, &buffer, buffer.count, 0)
            closedByServer = n == 0 || (n < 0 && errno == ECONNRESET)
            guard n > 0 else { break }
            answer += buffer[..<n]
        }
        return String(decoding: answer, as: UTF8.self)
    }
}

enum RawHTTP {
    /// One request written on a fresh connection, and everything read back until the server closes it (or
    /// `readTimeout` seconds pass without a byte).
    static func exchange(port: Int, _ request: String, readTimeout: Int = 5) throws -> String {
        let connection = try RawConnection(port: port, readTimeout: readTimeout)
        connection.send(request)  // the server may close before reading it all
        return connection.readToEnd()
    }
}

extension RawConnection {
    /// What the server sent so far (nothing if no byte is waiting; nil once it closed), without blocking.
    func readAvailable() -> [UInt8]? {
        guard hasAnswered(within: 0) else { return [] }
        var buffer = [UInt8](repeating: 0, count: 65536)
        let n = recv(socketDescriptor, &buffer, buffer.count, Int32(MSG_DONTWAIT))
        if n > 0 { return Array(buffer[..<n]) }
        if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { return [] }
        return nil
    }
}
