#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// A TCP forwarder on 127.0.0.1 in front of a real server, to make that server unreachable and reachable again
/// without stopping it (other tests share it): ``cut()`` resets every connection through it and refuses new
/// ones, as a crashed or unreachable database would; ``resume()`` accepts again.
public final class TCPProxy: @unchecked Sendable {  // mutable state behind `lock`
    public let port: Int
    private let upstreamPort: Int
    private let listener: Int32
    private let lock = NSLock()
    /// Connections through the proxy, each a client socket and its upstream socket.
    private var pairs: [ObjectIdentifier: Pair] = [:]
    private var refusing = false
    private var closed = false

    public init(upstreamPort: Int) throws {
        self.upstreamPort = upstreamPort
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = Self.loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard fd >= 0, bound == 0, listen(fd, 64) == 0 else { throw ProxyError(message: "cannot listen: \(errno)") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        listener = fd
        port = Int(UInt16(bigEndian: address.sin_port))
        Thread { [self] in acceptLoop() }.start()
    }

    /// Resets every connection and refuses new ones (they are accepted and reset at once).
    public func cut() {
        lock.withLock {
            refusing = true
            for pair in pairs.values { pair.reset() }
        }
    }

    public func resume() {
        lock.withLock { refusing = false }
    }

    /// Stops accepting and resets every connection.
    public func close() {
        lock.withLock {
            closed = true
            for pair in pairs.values { pair.reset() }
        }
        shutdown(listener, Int32(SHUT_RDWR))
        Glibc.close(listener)
    }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            guard client >= 0 else {
                if lock.withLock({ closed }) { return }
                continue
            }
            if lock.withLock({ refusing || closed }) {
                Pair.resetAndClose(client)
                continue
            }
            let upstream = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = Self.loopback(port: upstreamPort)
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(upstream, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard connected == 0 else {
                Pair.resetAndClose(client)
                Glibc.close(upstream)
                continue
            }
            let pair = Pair(client, upstream)
            lock.withLock { pairs[ObjectIdentifier(pair)] = pair }
            for (from, to) in [(client, upstream), (upstream, client)] {
                Thread { [self] in
                    pair.pump(from, to)
                    if pair.ended() { lock.withLock { _ = pairs.removeValue(forKey: ObjectIdentifier(pair)) } }
                }.start()
            }
        }
    }

    /// Two sockets and the two threads copying between them; the last thread to end closes both (so that no fd
    /// is closed while the other thread may still use its number).
    private final class Pair: @unchecked Sendable {  // `running` and the sockets' lives behind `lock`
        let sockets: (Int32, Int32)
        private let lock = NSLock()
        private var running = 2

        init(_ a: Int32, _ b: Int32) { sockets = (a, b) }

        func pump(_ from: Int32, _ to: Int32) {
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = recv(from, &buffer, buffer.count, 0)
                guard n > 0 else { break }
                var sent = 0
                while sent < n {
                    let m = buffer[sent..<n].withUnsafeBytes { send(to, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                    guard m > 0 else { break }
                    sent += m
                }
                guard sent == n else { break }
            }
            // One side ended: end the other direction too.
            shutdown(sockets.0, Int32(SHUT_RDWR))
            shutdown(sockets.1, Int32(SHUT_RDWR))
        }

        /// Marks one thread ended; true (and both sockets closed) when it was the last.
        func ended() -> Bool {
            lock.withLock {
                running -= 1
                guard running == 0 else { return false }
                Glibc.close(sockets.0)
                Glibc.close(sockets.1)
                return true
            }
        }

        /// Makes both sockets close with a reset, as a crashed peer's, and wakes their threads; nothing once they
        /// are closed (their numbers may already belong to other sockets of the process, a test's own client).
        func reset() {
            lock.withLock {
                guard running > 0 else { return }
                for socket in [sockets.0, sockets.1] {
                    Self.setResetOnClose(socket)
                    shutdown(socket, Int32(SHUT_RDWR))
                }
            }
        }

        static func resetAndClose(_ socket: Int32) {
            setResetOnClose(socket)
            Glibc.close(socket)
        }

        static func setResetOnClose(_ socket: Int32) {
            var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
            setsockopt(socket, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        }
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }

    struct ProxyError: Error { var message: String }
}
