public import Crypto

/// `X-Trail-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">` (SPEC §14), as Stripe-style
/// webhooks sign: the time in the signed text lets a receiver refuse old deliveries replayed.
public enum WebhookSignature {
    public static func header(secret: [UInt8], time: Int64, body: [UInt8]) -> String {
        "t=\(time),v1=\(hex(secret: secret, time: time, body: body))"
    }

    static func hex(secret: [UInt8], time: Int64, body: [UInt8]) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Array("\(time).".utf8) + body, using: SymmetricKey(data: secret))
        return mac.map { byte in
            let digits = Array("0123456789abcdef".utf8)
            return String(decoding: [digits[Int(byte >> 4)], digits[Int(byte & 15)]], as: UTF8.self)
        }.joined()
    }

    /// Whether `header` signs `body` with `secret`, at a time within `tolerance` seconds of `now`.
    public static func verify(header: String, secret: [UInt8], body: [UInt8], now: Int64, tolerance: Int64 = 300) -> Bool {
        var time: Int64?
        var signatures: [String] = []
        for part in header.split(separator: ",") {
            let pair = part.split(separator: "=", maxSplits: 1)
            guard pair.count == 2 else { continue }
            if pair[0] == "t" { time = Int64(pair[1]) }
            if pair[0] == "v1" { signatures.append(String(pair[1])) }
        }
        guard let time, abs(now - time) <= tolerance else { return false }
        let expected = hex(secret: secret, time: time, body: body)
        return signatures.contains { constantTimeEqual($0, expected) }
    }

    private static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let (x, y) = (Array(a.utf8), Array(b.utf8))
        guard x.count == y.count else { return false }
        return zip(x, y).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
