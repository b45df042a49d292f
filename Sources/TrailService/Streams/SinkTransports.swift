import AsyncHTTPClient
import Foundation
import NIOCore
import NIOPosix
import TrailCore
import TrailStore
#if canImport(Glibc)
import Glibc
#endif

/// Why a delivery failed, and how long the receiver asked Trail to wait (`Retry-After`), if it did.
struct DeliveryFailure: Error {
    var message: String
    var retryAfter: Duration?
}

/// Sends a batch of events, in order, to one sink's receiver.
protocol SinkTransport: Sendable {
    func deliver(_ events: [RecordedEvent]) async throws(DeliveryFailure)
    func close() async
}

extension SinkDefinition.Format {
    /// One event's record in this format: its §4 JSON, or its OCSF API Activity.
    func json(_ event: RecordedEvent) -> [UInt8] {
        var writer = JSONWriter(capacity: 1024)
        if self == .ocsf {
            writer.write(OCSF.apiActivity(event, productVersion: Product.version))
        } else {
            StoredEventJSON.write(event, into: &writer)
        }
        return writer.bytes
    }
}

/// `POST` of a JSON array to a webhook, signed (SPEC §14): `X-Trail-Signature: t=<unix>,v1=<hex HMAC-SHA256 of
/// "<t>.<body>">`. A 2xx answer is a delivery; anything else (or no answer within the timeout) a failure.
/// Redirects are not followed (a redirect could lead to an address the sink may not reach).
struct WebhookTransport: SinkTransport {
    let client: HTTPClient
    let url: URL
    let sinkId: String
    let definition: SinkDefinition
    let timeout: Duration
    let clock: @Sendable () -> Timestamp

    func deliver(_ events: [RecordedEvent]) async throws(DeliveryFailure) {
        var body: [UInt8] = [UInt8(ascii: "[")]
        for (index, event) in events.enumerated() {
            if index > 0 { body.append(UInt8(ascii: ",")) }
            body += definition.format.json(event)
        }
        body.append(UInt8(ascii: "]"))
        var request = HTTPClientRequest(url: url.absoluteString)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "\(Product.name)/\(Product.version)")
        request.headers.add(name: "X-Trail-Sink", value: sinkId)
        let now = clock().microseconds / 1_000_000
        request.headers.add(name: "X-Trail-Signature",
                            value: WebhookSignature.header(secret: Array((definition.secret ?? "").utf8), time: now, body: body))
        for (name, value) in definition.headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: body))
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, timeout: .nanoseconds(Int64(timeout.components.seconds) * 1_000_000_000))
            // The receiver's answer is not used, but read (bounded) so the connection can be used again.
            _ = try? await response.body.collect(upTo: 64 * 1024)
        } catch {
            throw DeliveryFailure(message: "\(url.host ?? "the receiver") could not be reached: \(error)")
        }
        guard (200..<300).contains(Int(response.status.code)) else {
            throw DeliveryFailure(message: "\(url.host ?? "the receiver") answered HTTP \(response.status.code)",
                                  retryAfter: response.headers.first(name: "Retry-After").flatMap { Self.retryAfter($0, now: now) })
        }
    }

    func close() async {}

    /// `Retry-After` as seconds, or an HTTP date (RFC 9110 §10.2.3).
    static func retryAfter(_ text: String, now: Int64) -> Duration? {
        if let seconds = Int64(text.trimmingCharacters(in: .whitespaces)), seconds >= 0 { return .seconds(seconds) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: text) else { return nil }
        return .seconds(max(Int64(date.timeIntervalSince1970) - now, 0))
    }
}

/// Syslog over TCP (RFC 6587 octet counting, one connection kept open) or UDP (a datagram per event), as RFC 5424
/// messages: the event's JSON (or its OCSF record) with structured data, or a CEF line.
final class SyslogTransport: SinkTransport, @unchecked Sendable {
    let definition: SinkDefinition
    let kind: SinkDefinition.SyslogTransportKind
    let host: String
    let port: Int
    let hostname: String
    /// The open TCP connection, or UDP socket; used by one delivery at a time (a sink delivers in order).
    private var channel: (any Channel)?

    init(definition: SinkDefinition, kind: SinkDefinition.SyslogTransportKind, host: String, port: Int) {
        self.definition = definition
        self.kind = kind
        self.host = host
        self.port = port
        var name = [CChar](repeating: 0, count: 256)
        hostname = gethostname(&name, name.count) == 0 ? String(cString: name) : "-"
    }

    func message(_ event: RecordedEvent) -> [UInt8] {
        switch definition.format {
        case .cef:
            SyslogFormat.cefMessage(event, hostname: hostname, version: Product.version)
        default:
            SyslogFormat.rfc5424(event, json: definition.format.json(event), hostname: hostname)
        }
    }

    func deliver(_ events: [RecordedEvent]) async throws(DeliveryFailure) {
        do {
            switch kind {
            case .tcp:
                let channel = try await tcpChannel()
                var buffer = ByteBuffer()
                for event in events { buffer.writeBytes(SyslogFormat.octetCounted(message(event))) }
                try await channel.writeAndFlush(buffer)
            case .udp:
                let channel = try await udpChannel()
                let remote = try SocketAddress.makeAddressResolvingHost(host, port: port)
                for event in events {
                    try await channel.writeAndFlush(AddressedEnvelope(remoteAddress: remote, data: ByteBuffer(bytes: message(event))))
                }
            }
        } catch {
            let failed = channel
            channel = nil
            try? await failed?.close()
            throw DeliveryFailure(message: "syslog \(kind.rawValue)://\(host):\(port): \(error)")
        }
    }

    func close() async {
        try? await channel?.close()
        channel = nil
    }

    private func tcpChannel() async throws -> any Channel {
        if let channel, channel.isActive { return channel }
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(10))
            .connect(host: host, port: port).get()
        self.channel = channel
        return channel
    }

    private func udpChannel() async throws -> any Channel {
        if let channel, channel.isActive { return channel }
        let channel = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: host.contains(":") ? "::" : "0.0.0.0", port: 0).get()
        self.channel = channel
        return channel
    }
}
