import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A child process started with `posix_spawn`, its standard input, output and error on pipes.
///
/// Not Foundation's `Process`: its `run()` crashed (a `memcpy` inside it) once the test process held more than
/// 1,024 file descriptors, as it does with many stores and servers open at once.
final class Spawned: @unchecked Sendable {
    let pid: pid_t
    private(set) var input: Int32
    let output: Int32
    let errors: Int32
    private let exit = Locked<Int32?>(nil)

    /// Pipes are made and processes spawned one at a time: between `pipe` and `fcntl` a pipe is inheritable, and a
    /// child spawned then would hold another's pipe open (its reader would wait for that child to end).
    private static let spawning = Mutex(())

    init(_ path: String, _ arguments: [String]) throws {
        (pid, input, output, errors) = try Self.spawning.withLock { _ in try Self.spawn(path, arguments) }
    }

    private static func spawn(_ path: String, _ arguments: [String]) throws -> (pid_t, Int32, Int32, Int32) {
        func pipePair() throws -> (read: Int32, write: Int32) {
            var fds: [Int32] = [0, 0]
            guard pipe(&fds) == 0 else { throw TrailProcessError(message: "pipe: \(errno)") }
            // Close-on-exec: no other child inherits them (the spawn's dup2 gives the child its own copies).
            for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
            return (fds[0], fds[1])
        }
        let (stdinPipe, stdoutPipe, stderrPipe) = (try pipePair(), try pipePair(), try pipePair())
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, stdinPipe.read, 0)
        posix_spawn_file_actions_adddup2(&actions, stdoutPipe.write, 1)
        posix_spawn_file_actions_adddup2(&actions, stderrPipe.write, 2)
        // Nothing else of this process's (servers' sockets, test connections, store files) reaches the child.
        // (glibc 2.34 and later; not in Swift's Glibc module, so found by name.)
        typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") else {
            throw TrailProcessError(message: "posix_spawn_file_actions_addclosefrom_np is missing (glibc before 2.34)")
        }
        _ = unsafeBitCast(symbol, to: CloseFrom.self)(&actions, 3)
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, path, &actions, nil, argv, environ)
        for fd in [stdinPipe.read, stdoutPipe.write, stderrPipe.write] { close(fd) }
        guard status == 0 else {
            for fd in [stdinPipe.write, stdoutPipe.read, stderrPipe.read] { close(fd) }
            throw TrailProcessError(message: "posix_spawn \(path): \(status)")
        }
        return (pid, stdinPipe.write, stdoutPipe.read, stderrPipe.read)
    }

    deinit {
        for fd in [input, output, errors] where fd >= 0 { close(fd) }
    }

    func write(_ text: String) {
        let bytes = Array(text.utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.write(input, $0.baseAddress, $0.count) }
            if n <= 0 { return }
            sent += n
        }
    }

    func closeInput() {
        if input >= 0 { close(input) }
        input = -1
    }

    /// Reads standard output and error until both end (blocking: call on a thread of its own), handing each
    /// chunk to `onOutput` / `onError`.
    func drain(onOutput: (Data) -> Void, onError: (Data) -> Void) {
        var open = [output, errors]
        var buffer = [UInt8](repeating: 0, count: 65536)
        while !open.isEmpty {
            var descriptors = open.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            guard poll(&descriptors, nfds_t(descriptors.count), 1000) >= 0 else {
                if errno == EINTR { continue }
                return
            }
            for descriptor in descriptors where descriptor.revents != 0 {
                let n = read(descriptor.fd, &buffer, buffer.count)
                if n > 0 {
                    let data = Data(buffer[..<n])
                    if descriptor.fd == output { onOutput(data) } else { onError(data) }
                } else if n == 0 || (errno != EINTR && errno != EAGAIN) {
                    open.removeAll { $0 == descriptor.fd }
                }
            }
        }
    }

    /// Waits for the process to end (blocking); its exit status, or 128 + the signal that ended it.
    @discardableResult
    func wait() -> Int32 {
        if let known = exit.withLock({ $0 }) { return known }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let code = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
        exit.withLock { $0 = code }
        return code
    }

    /// Whether it still runs (not reaped).
    var isRunning: Bool {
        if exit.withLock({ $0 }) != nil { return false }
        var status: Int32 = 0
        let reaped = waitpid(pid, &status, WNOHANG)
        guard reaped == pid else { return reaped == 0 }
        let code = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
        exit.withLock { $0 = code }
        return false
    }

    func signal(_ number: Int32) {
        kill(pid, number)
    }
}
