#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
public import Hummingbird
import HTTPTypes
import Logging
import Synchronization
public import NIOCore
public import TrailCore
import TrailStore

/// The request context of Trail's router: Hummingbird's, plus where the request came from and its id.
public struct TrailRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The socket peer (a proxy's address when Trail runs behind one).
    public let remoteAddress: SocketAddress?
    /// The `X-Request-ID` the client sent, or one Trail made up; set by ``RequestIDMiddleware``.
    public var requestId: String?
    /// Who is calling; set by the authentication middleware for every route but `/health`.
    public var principal: Principal?
    /// What inner middleware learn that outer ones report (the tenant, for the access line); set by
    /// ``RequestLogMiddleware``.
    var notes: RequestNotes?
    /// The web console session of the request, if it came with one (``ConsoleSessionMiddleware``).
    var consoleSession: ConsoleSession?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }
}

/// Echoes the client's `X-Request-ID` on every response, or makes one up (32 random hex digits) when the
/// request has none or an unusable one (more than 200 characters, or anything but visible ASCII). Every line
/// logged while serving the request carries it, and the trace id of a W3C `traceparent` header as `trace_id`:
/// in the request's logger (the id replaces the counter Hummingbird puts there, under the same key, which
/// Hummingbird reads back) and, for every other logger, in ``RequestScope``. The request's logger gets the
/// configured level (the server's own logger is quieter, see `serverLogger`).
struct RequestIDMiddleware: RouterMiddleware {
    typealias Context = TrailRequestContext
    static let maximumLength = 200
    /// The key of the request id in loggers' metadata (Hummingbird's; log handlers show it as `request_id`).
    static let metadataKey = "hb.request.id"
    let logLevel: Logger.Level

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let id = request.headers[.requestID].flatMap(Self.usable) ?? RequestIDMiddleware.make()
        context.requestId = id
        context.logger.logLevel = logLevel
        context.logger[metadataKey: Self.metadataKey] = .string(id)
        var scope: Logger.Metadata = ["request_id": .string(id)]
        if let trace = request.headers[.traceparent].flatMap(Self.traceID) {
            context.logger[metadataKey: "trace_id"] = .string(trace)
            scope["trace_id"] = .string(trace)
        }
        var response = try await RequestScope.$metadata.withValue(scope) { try await next(request, context) }
        response.headers[.requestID] = id
        return response
    }

    /// The trace id of a W3C `traceparent` header (`00-<32 hex>-<16 hex>-<2 hex>`, Trace Context §3.2), or nil
    /// when the header is not one (then it is ignored, as the recommendation says).
    static func traceID(_ header: String) -> String? {
        func hex(_ part: Substring, _ count: Int) -> Bool {
            part.utf8.count == count && part.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
        }
        let parts = header.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count >= 4, hex(parts[0], 2), parts[0] != "ff", parts[0] != "00" || parts.count == 4,
              hex(parts[1], 32), hex(parts[2], 16), hex(parts[3], 2),
              parts[1].contains(where: { $0 != "0" }), parts[2].contains(where: { $0 != "0" }) else { return nil }
        return String(parts[1])
    }

    static func usable(_ given: String) -> String? {
        guard !given.isEmpty, given.utf8.count <= maximumLength,
              given.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { return nil }
        return given
    }

    /// A new request id: 32 hex digits, unique in this process and unlike another process's. Half is a random
    /// number drawn once per process, half a counter mixed by a bijection (SplitMix64's finaliser) with a random
    /// key: distinct for 2^64 requests, without a `getrandom` system call per request (two were 0.9% of a create's
    /// CPU under load). Request ids name requests in logs; they are not secrets.
    static func make() -> String {
        let count = issued.add(1, ordering: .relaxed).newValue
        var mixed = count &+ processKey.1
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        mixed ^= mixed >> 31
        let digits = Array("0123456789abcdef".utf8)
        var text = [UInt8]()
        text.reserveCapacity(32)
        for var word in [processKey.0, mixed] {
            for _ in 0..<16 {
                text.append(digits[Int(word & 0x0F)])
                word >>= 4
            }
        }
        return String(decoding: text, as: UTF8.self)
    }

    private static let processKey: (UInt64, UInt64) = {
        var generator = SystemRandomNumberGenerator()
        return (generator.next(), generator.next())
    }()
    private static let issued = Atomic<UInt64>(0)
}

/// What Trail records of the HTTP request an event came in (SPEC §3): the client's address, its `User-Agent`
/// and the request id. The address is the socket peer's, unless that peer is a trusted proxy: then it is the
/// nearest address in `X-Forwarded-For` that is not itself a trusted proxy.
struct RequestOrigin: Sendable {
    let trustedProxies: [IPNetwork]

    func context(of request: Request, in context: TrailRequestContext) -> JSONObject {
        var object = JSONObject()
        if let ip = clientAddress(of: request, peer: context.remoteAddress?.ipAddress) {
            object.append("ip", .string(ip))
        }
        if let agent = request.headers[.userAgent], !agent.isEmpty {
            object.append("user_agent", .string(String(agent.prefix(1_000))))
        }
        if let id = context.requestId {
            object.append("request_id", .string(id))
        }
        return object
    }

    /// Whether the client reached Trail over HTTPS, as a trusted proxy that terminated TLS says
    /// (`X-Forwarded-Proto: https`): the console's cookies are then `Secure`. (Trail itself speaks plain HTTP.)
    func isHTTPS(_ request: Request, peer: String?) -> Bool {
        guard let peer, isTrusted(peer), let proto = request.headers[.xForwardedProto] else { return false }
        return proto.split(separator: ",").first?.trimmingHeaderWhitespace.lowercased() == "https"
    }

    func clientAddress(of request: Request, peer: String?) -> String? {
        guard let peer else { return nil }
        guard isTrusted(peer) else { return peer }
        let forwarded = request.headers[values: .xForwardedFor]
            .flatMap { $0.split(separator: ",") }
            .map(\.trimmingHeaderWhitespace)
            .filter { !$0.isEmpty }
        // Right to left: each trusted proxy says who it got the request from.
        var client = peer
        for hop in forwarded.reversed() {
            guard IPNetwork.parseAddress(hop) != nil else { break }  // garbage: stop at the last address we can vouch for
            client = hop
            if !isTrusted(hop) { break }
        }
        return client
    }

    private func isTrusted(_ address: String) -> Bool {
        guard let bytes = IPNetwork.parseAddress(address) else { return false }
        return trustedProxies.contains { $0.contains(bytes) }
    }
}

/// An IPv4 or IPv6 network in CIDR notation (`10.0.0.0/8`, `::1`, `fd00::/8`); a bare address is a network of
/// one.
public struct IPNetwork: Sendable, Equatable, CustomStringConvertible {
    let address: [UInt8]
    let prefixLength: Int
    public let description: String

    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let address = IPNetwork.parseAddress(String(parts[0])) else { return nil }
        let bits = address.count * 8
        if parts.count == 2 {
            guard let length = Int(parts[1]), (0...bits).contains(length) else { return nil }
            prefixLength = length
        } else {
            prefixLength = bits
        }
        self.address = address
        description = text
    }

    func contains(_ other: [UInt8]) -> Bool {
        guard other.count == address.count else { return false }
        var remaining = prefixLength
        for index in address.indices where remaining > 0 {
            let take = min(8, remaining)
            let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - take))
            if address[index] & mask != other[index] & mask { return false }
            remaining -= take
        }
        return true
    }

    /// The address's bytes (4 for IPv4, 16 for IPv6), or nil if it is not an address.
    static func parseAddress(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            return withUnsafeBytes(of: &v4) { Array($0) }
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            let bytes = withUnsafeBytes(of: &v6) { Array($0) }
            // An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is its IPv4 address.
            if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xFF && bytes[11] == 0xFF { return Array(bytes[12...]) }
            return bytes
        }
        return nil
    }
}

extension HTTPField.Name {
    static let requestID = HTTPField.Name("X-Request-ID")!
    static let traceparent = HTTPField.Name("traceparent")!
    static let xForwardedFor = HTTPField.Name("X-Forwarded-For")!
    static let xForwardedProto = HTTPField.Name("X-Forwarded-Proto")!
}
