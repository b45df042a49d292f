/// A point in time with microsecond precision, as Trail stores and prints it.
///
/// Trail's own parser and formatter for RFC 3339 keep the core free of Foundation formatters and clocks:
/// callers pass the current time in.
public struct Timestamp: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Microseconds since 1970-01-01T00:00:00Z.
    public var microseconds: Int64

    public init(microseconds: Int64) { self.microseconds = microseconds }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool { lhs.microseconds < rhs.microseconds }

    /// `2026-02-16T11:31:39.762704+00:00`: the form of the compatibility API's `created_at`.
    public var description: String { formatted() }

    public func formatted() -> String {
        String(unsafeUninitializedCapacity: Timestamp.formattedCount) { buffer in
            format(into: buffer.baseAddress!)
            return Timestamp.formattedCount
        }
    }

    /// The length of ``formatted()``, in bytes.
    public static let formattedCount = 32

    /// Writes the ``formatted()`` form at `out`, which has room for ``formattedCount`` bytes.
    public func format(into out: UnsafeMutablePointer<UInt8>) {
        let (days, micros) = microseconds.floorDividedAndModulo(86_400_000_000)
        let (year, month, day) = Timestamp.civil(fromDays: days)
        let secondsOfDay = micros / 1_000_000
        func put(_ value: Int64, _ width: Int, at offset: Int) {
            var value = value
            for i in stride(from: offset + width - 1, through: offset, by: -1) {
                out[i] = UInt8(truncatingIfNeeded: 48 + value % 10)
                value /= 10
            }
        }
        put(year, 4, at: 0); out[4] = UInt8(ascii: "-"); put(month, 2, at: 5); out[7] = UInt8(ascii: "-")
        put(day, 2, at: 8); out[10] = UInt8(ascii: "T"); put(secondsOfDay / 3600, 2, at: 11)
        out[13] = UInt8(ascii: ":"); put(secondsOfDay / 60 % 60, 2, at: 14); out[16] = UInt8(ascii: ":")
        put(secondsOfDay % 60, 2, at: 17); out[19] = UInt8(ascii: "."); put(micros % 1_000_000, 6, at: 20)
        for (i, byte) in "+00:00".utf8.enumerated() { out[26 + i] = byte }
    }

    /// This instant plus `duration` (to the microsecond).
    public func adding(_ duration: Duration) -> Timestamp {
        let (seconds, attoseconds) = duration.components
        return Timestamp(microseconds: microseconds + seconds * 1_000_000 + attoseconds / 1_000_000_000_000)
    }

    /// The UTC calendar day, `YYYY-MM-DD`.
    public var day: String { String(formatted().prefix(10)) }

    /// The UTC calendar month `offset` months after this timestamp's: its year, its month (1–12) and its first
    /// instant.
    public func month(offset: Int64 = 0) -> (year: Int64, month: Int64, start: Timestamp) {
        let (days, _) = microseconds.floorDividedAndModulo(86_400_000_000)
        let (year, month, _) = Timestamp.civil(fromDays: days)
        let (yearOffset, month0) = (month - 1 + offset).floorDividedAndModulo(12)
        let start = Timestamp.days(fromCivil: year + yearOffset, month0 + 1, 1) * 86_400_000_000
        return (year + yearOffset, month0 + 1, Timestamp(microseconds: start))
    }

    /// Parses an RFC 3339 date-time (`2026-02-16T11:31:39Z`, `2026-02-16t11:31:39.5+05:30`, a space for `T`).
    /// Fractions beyond microseconds are truncated. Returns nil for anything else.
    public init?(rfc3339 text: String) {
        let b = Array(text.utf8)
        var i = 0
        func digits(_ count: Int) -> Int64? {
            guard i + count <= b.count else { return nil }
            var value: Int64 = 0
            for _ in 0..<count {
                guard b[i] >= 48, b[i] <= 57 else { return nil }
                value = value * 10 + Int64(b[i] - 48)
                i += 1
            }
            return value
        }
        func expect(_ char: UInt8) -> Bool {
            guard i < b.count, b[i] == char else { return false }
            i += 1
            return true
        }
        guard let year = digits(4), expect(UInt8(ascii: "-")), let month = digits(2), expect(UInt8(ascii: "-")),
            let day = digits(2)
        else { return nil }
        guard i < b.count, b[i] == UInt8(ascii: "T") || b[i] == UInt8(ascii: "t") || b[i] == UInt8(ascii: " ")
        else { return nil }
        i += 1
        guard let hour = digits(2), expect(UInt8(ascii: ":")), let minute = digits(2), expect(UInt8(ascii: ":")),
            let second = digits(2)
        else { return nil }
        var fraction: Int64 = 0
        if i < b.count, b[i] == UInt8(ascii: ".") {
            i += 1
            var scale: Int64 = 100_000
            let start = i
            while i < b.count, b[i] >= 48, b[i] <= 57 {
                fraction += Int64(b[i] - 48) * scale
                scale /= 10
                i += 1
            }
            guard i > start else { return nil }
        }
        var offsetSeconds: Int64 = 0
        guard i < b.count else { return nil }
        if b[i] == UInt8(ascii: "Z") || b[i] == UInt8(ascii: "z") {
            i += 1
        } else if b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") {
            let sign: Int64 = b[i] == UInt8(ascii: "-") ? -1 : 1
            i += 1
            guard let offsetHours = digits(2), expect(UInt8(ascii: ":")), let offsetMinutes = digits(2),
                offsetHours < 24, offsetMinutes < 60
            else { return nil }
            offsetSeconds = sign * (offsetHours * 3600 + offsetMinutes * 60)
        } else {
            return nil
        }
        guard i == b.count else { return nil }
        guard (1...12).contains(month), day >= 1, day <= Timestamp.daysIn(month: month, year: year),
            hour < 24, minute < 60, second <= 60
        else { return nil }
        // A leap second (:60) is folded onto the next second.
        let days = Timestamp.days(fromCivil: year, month, day)
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offsetSeconds
        microseconds = seconds * 1_000_000 + fraction
    }

    static func daysIn(month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    // Howard Hinnant's days_from_civil / civil_from_days, proleptic Gregorian.
    static func days(fromCivil year: Int64, _ month: Int64, _ day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civil(fromDays days: Int64) -> (Int64, Int64, Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (month <= 2 ? yoe + era * 400 + 1 : yoe + era * 400, month, day)
    }
}

extension Int64 {
    /// Floor division and the matching non-negative remainder.
    func floorDividedAndModulo(_ divisor: Int64) -> (Int64, Int64) {
        let quotient = self / divisor
        let remainder = self % divisor
        return remainder < 0 ? (quotient - 1, remainder + divisor) : (quotient, remainder)
    }
}
