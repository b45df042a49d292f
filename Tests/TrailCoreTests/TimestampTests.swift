import Testing
import TrailCore

@Suite struct TimestampTests {
    @Test func parsesAndFormats() throws {
        let t = try #require(Timestamp(rfc3339: "2026-02-16T11:31:39.762704Z"))
        #expect(t.formatted() == "2026-02-16T11:31:39.762704+00:00")
        #expect(t.day == "2026-02-16")
        #expect(Timestamp(rfc3339: "2026-02-16T17:01:39.762704+05:30") == t)
        #expect(Timestamp(rfc3339: "2026-02-16t11:31:39.7627049z") == t, "digits past microseconds truncate")
        #expect(Timestamp(rfc3339: "1970-01-01T00:00:00Z")?.microseconds == 0)
        #expect(Timestamp(rfc3339: "1969-12-31T23:59:59.5Z")?.formatted() == "1969-12-31T23:59:59.500000+00:00")
        #expect(Timestamp(rfc3339: "2024-02-29 00:00:00-01:00")?.formatted() == "2024-02-29T01:00:00.000000+00:00")
    }

    @Test func refusesWhatIsNotRFC3339() {
        for text in ["2026-02-16", "2026-02-16T11:31:39", "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z",
                     "2025-02-29T00:00:00Z", "2026-02-16T24:00:00Z", "2026-02-16T11:31:39.Z", "16/02/2026",
                     "2026-02-16T11:31:39+0530", "2026-02-16T11:31:39Zjunk", ""] {
            #expect(Timestamp(rfc3339: text) == nil, "\(text)")
        }
    }

    @Test func monthsAndTheirFirstInstants() throws {
        let t = try #require(Timestamp(rfc3339: "2026-11-23T18:07:00.5Z"))
        let this = t.month()
        #expect(this.year == 2026 && this.month == 11 && this.start.formatted() == "2026-11-01T00:00:00.000000+00:00")
        let next = t.month(offset: 2)
        #expect(next.year == 2027 && next.month == 1 && next.start.formatted() == "2027-01-01T00:00:00.000000+00:00")
        let before = t.month(offset: -11)
        #expect(before.year == 2025 && before.month == 12 && before.start.formatted() == "2025-12-01T00:00:00.000000+00:00")
        let epoch = Timestamp(microseconds: -1).month()
        #expect(epoch.year == 1969 && epoch.month == 12)
    }

    @Test func writtenIntoJSONAsFormatted() throws {
        var writer = JSONWriter()
        writer.raw("[")
        let times = [Int64(0), -1, 1_771_241_499_762_704, 253_402_300_799_999_999]  // … 9999-12-31T23:59:59.999999
        for (i, microseconds) in times.enumerated() {
            if i > 0 { writer.raw(",") }
            writer.write(timestamp: Timestamp(microseconds: microseconds))
        }
        writer.raw("]")
        let expected = "[" + times.map { "\"\(Timestamp(microseconds: $0).formatted())\"" }.joined(separator: ",") + "]"
        #expect(String(decoding: writer.bytes, as: UTF8.self) == expected)
        #expect(expected.contains("\"1969-12-31T23:59:59.999999+00:00\"") && expected.contains("\"9999-12-31T23:59:59.999999+00:00\""))
    }
}
