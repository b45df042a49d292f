import Foundation
import Hummingbird
import HummingbirdTesting
import HTTPTypes
import Testing
import NIOCore
import NIOPosix
import TrailCore

/// A webhook receiver on loopback, as a SIEM's collector would be: it keeps what it was sent, and answers the
/// first `failFirst` requests 503 with `Retry-After: 0`.
final class WebhookReceiver: Sendable {
    struct Delivery: Sendable {
        var body: [UInt8]
        var signature: String?
        var sink: String?
    }

    let deliveries = Locked<[Delivery]>([])
    private let failures = Locked(0)
    let failFirst: Int
    /// Requests after the first `holdAfter` are held (unanswered) until ``release()``, then refused: a delivery
    /// kept in flight.
    let holdAfter: Int?
    private let holding = Locked(true)
    /// Requests that arrived, answered or not.
    let arrived = Locked(0)

    init(failFirst: Int = 0, holdAfter: Int? = nil) {
        self.failFirst = failFirst
        self.holdAfter = holdAfter
    }

    /// Lets held requests end (refused).
    func release() { holding.withLock { $0 = false } }

    /// Runs the receiver while `body` runs, with its port.
    func run(_ body: @escaping @Sendable (Int) async throws -> Void) async throws {
        let router = Router()
        router.post("/hook") { request, _ -> Response in
            let bytes = try await request.body.collect(upTo: 16 * 1024 * 1024)
            let number = self.arrived.withLock { count -> Int in
                count += 1
                return count
            }
            if let holdAfter = self.holdAfter, number > holdAfter, self.holding.withLock({ $0 }) {
                while self.holding.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(20)) }
                return Response(status: .serviceUnavailable)
            }
            let failing = self.failures.withLock { count -> Bool in
                count += 1
                return count <= self.failFirst
            }
            if failing { return Response(status: .serviceUnavailable, headers: [.retryAfter: "0"]) }
            self.deliveries.withLock {
                $0.append(Delivery(body: Array(buffer: bytes), signature: request.headers[HTTPField.Name("X-Trail-Signature")!],
                                   sink: request.headers[HTTPField.Name("X-Trail-Sink")!]))
            }
            return Response(status: .noContent)
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in try await body(try #require(client.port)) }
    }

    /// How many requests failed on purpose.
    var failed: Int { failures.withLock { min($0, failFirst) } }

    /// The sequences of every event received, in order of arrival (duplicates kept).
    func sequences() throws -> [Int64] {
        try deliveries.withLock { $0 }.flatMap { delivery in
            try JSONParser.parse(delivery.body).arrayValue!.compactMap { $0["sequence"]?.intValue }
        }
    }

    /// Waits until events with every sequence of `expected` arrived (or `timeout` passed).
    func waitFor(_ expected: ClosedRange<Int64>, timeout: Duration = .seconds(30)) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if Set(try sequences()).isSuperset(of: Set(expected)) { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return false
    }
}

/// A syslog collector on loopback, over TCP or UDP: keeps the bytes (TCP) or datagrams (UDP) it gets.
final class SyslogReceiver: Sendable {
    let received = Locked<[UInt8]>([])
    let datagrams = Locked<[[UInt8]]>([])
    let port: Int
    private let channel: any Channel

    init(udp: Bool) async throws {
        let received = received
        let datagrams = datagrams
        if udp {
            channel = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(Collector(datagrams: datagrams)) }
                }
                .bind(host: "127.0.0.1", port: 0).get()
        } else {
            channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(StreamCollector(received: received)) }
                }
                .bind(host: "127.0.0.1", port: 0).get()
        }
        port = channel.localAddress!.port!
    }

    func close() async { try? await channel.close() }

    /// The messages of the TCP stream, split by their octet counts (RFC 6587).
    func frames() -> [[UInt8]] {
        var bytes = received.withLock { $0 }[...]
        var frames: [[UInt8]] = []
        while let space = bytes.firstIndex(of: UInt8(ascii: " ")),
              let length = Int(String(decoding: bytes[bytes.startIndex..<space], as: UTF8.self)),
              bytes.distance(from: space, to: bytes.endIndex) > length {
            let start = bytes.index(after: space)
            frames.append(Array(bytes[start..<bytes.index(start, offsetBy: length)]))
            bytes = bytes[bytes.index(start, offsetBy: length)...]
        }
        return frames
    }

    private final class StreamCollector: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let received: Locked<[UInt8]>
        init(received: Locked<[UInt8]>) { self.received = received }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let buffer = unwrapInboundIn(data)
            received.withLock { $0 += Array(buffer: buffer) }
        }
    }

    private final class Collector: ChannelInboundHandler, Sendable {
        typealias InboundIn = AddressedEnvelope<ByteBuffer>
        let datagrams: Locked<[[UInt8]]>
        init(datagrams: Locked<[[UInt8]]>) { self.datagrams = datagrams }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let envelope = unwrapInboundIn(data)
            datagrams.withLock { $0.append(Array(buffer: envelope.data)) }
        }
    }
}
