import TrailCore

/// Event ids: time-ordered UUIDs (version 7, RFC 9562), lower-case.
///
/// Ids made close in time sort close together, so the unique index on ids grows at its end instead of at
/// random places: a write transaction touches a few index pages rather than one per event. Foundation's `UUID()`
/// is avoided as well: on Linux it opens `/dev/urandom` for every id.
enum EventID {
    static func make(at time: Timestamp = SystemClock.now()) -> String {
        var generator = SystemRandomNumberGenerator()
        let milliseconds = UInt64(max(0, time.microseconds / 1000)) & 0xFFFF_FFFF_FFFF
        var bytes = (milliseconds.bigEndian, generator.next() as UInt64, generator.next() as UInt64)
        return withUnsafeMutableBytes(of: &bytes) { raw in
            // The 48-bit timestamp is the last six bytes of the big-endian UInt64: move it to the front.
            for i in 0..<6 { raw[i] = raw[i + 2] }
            raw[6] = (raw[16] & 0x0F) | 0x70  // version 7, then 12 random bits
            raw[7] = raw[17]
            raw[8] = (raw[8] & 0x3F) | 0x80  // RFC 9562 variant, then 62 random bits
            let hex = Array("0123456789abcdef".utf8)
            var text = [UInt8]()
            text.reserveCapacity(36)
            for i in 0..<16 {
                if i == 4 || i == 6 || i == 8 || i == 10 { text.append(UInt8(ascii: "-")) }
                text.append(hex[Int(raw[i] >> 4)])
                text.append(hex[Int(raw[i] & 0x0F)])
            }
            return String(decoding: text, as: UTF8.self)
        }
    }
}
