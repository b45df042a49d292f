import Foundation
import NIOPosix
#if canImport(Glibc)
import Glibc
#endif

/// Where a sink may deliver (SPEC §14): a sink makes Trail connect wherever an admin says, so that loopback,
/// private, link-local and other internal addresses are refused unless the installation allows them
/// (`trail serve --allow-private-sinks`): otherwise an admin of one tenant could make Trail probe the network it
/// runs in (SSRF). Checked when a sink is created and again before each delivery (a name may resolve elsewhere
/// later).
struct SinkAddresses: Sendable {
    let allowPrivate: Bool

    enum Refusal: Error, Equatable {
        case unresolved(String)
        case internalAddress(host: String, address: String)

        var message: String {
            switch self {
            case .unresolved(let host):
                "\(host) does not resolve to an address"
            case .internalAddress(let host, let address):
                "\(host) is an internal address (\(address)): sinks to loopback or private networks need trail serve --allow-private-sinks"
            }
        }
    }

    /// Refuses `host` if it resolves to no address, or (unless allowed) to any internal one.
    func check(host: String) async throws(Refusal) {
        let addresses: [String]
        do {
            addresses = try await NIOThreadPool.singleton.runIfActive { Self.resolve(host) }
        } catch {
            throw .unresolved(host)
        }
        guard !addresses.isEmpty else { throw .unresolved(host) }
        guard !allowPrivate else { return }
        if let inside = addresses.first(where: Self.isInternal) { throw .internalAddress(host: host, address: inside) }
    }

    /// Every address `host` resolves to, as text.
    static func resolve(_ host: String) -> [String] {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &list) == 0, let first = list else { return [] }
        defer { freeaddrinfo(first) }
        var addresses: [String] = []
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let current = entry {
            var buffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            if getnameinfo(current.pointee.ai_addr, current.pointee.ai_addrlen, &buffer, socklen_t(buffer.count), nil, 0, NI_NUMERICHOST) == 0 {
                addresses.append(String(cString: buffer))
            }
            entry = current.pointee.ai_next
        }
        return addresses
    }

    /// Loopback, private (RFC 1918, RFC 4193), shared (RFC 6598), link-local, unspecified, multicast and
    /// reserved IPv4 and IPv6 addresses; IPv4-mapped IPv6 addresses as their IPv4 address.
    static func isInternal(_ address: String) -> Bool {
        var v4 = in_addr()
        if inet_pton(AF_INET, address, &v4) == 1 {
            return isInternal(v4: UInt32(bigEndian: v4.s_addr))
        }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, address.split(separator: "%").first.map(String.init) ?? address, &v6) == 1 else { return true }
        let bytes = withUnsafeBytes(of: &v6) { Array($0) }
        if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xFF && bytes[11] == 0xFF {
            return isInternal(v4: bytes[12..<16].reduce(0) { $0 << 8 | UInt32($1) })
        }
        if bytes.allSatisfy({ $0 == 0 }) { return true }                                 // ::
        if bytes[0..<15].allSatisfy({ $0 == 0 }) && bytes[15] == 1 { return true }       // ::1
        if bytes[0] & 0xFE == 0xFC { return true }                                       // fc00::/7
        if bytes[0] == 0xFE && bytes[1] & 0xC0 == 0x80 { return true }                   // fe80::/10
        if bytes[0] == 0xFF { return true }                                              // multicast
        return false
    }

    static func isInternal(v4 address: UInt32) -> Bool {
        func within(_ network: UInt32, _ bits: UInt32) -> Bool {
            address >> (32 - bits) == network >> (32 - bits)
        }
        return within(0x0000_0000, 8) || within(0x0A00_0000, 8) || within(0x6440_0000, 10) || within(0x7F00_0000, 8)
            || within(0xA9FE_0000, 16) || within(0xAC10_0000, 12) || within(0xC000_0000, 24) || within(0xC0A8_0000, 16)
            || within(0xC612_0000, 15) || within(0xE000_0000, 4) || within(0xF000_0000, 4)
    }
}
