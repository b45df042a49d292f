import Testing
import TrailCore

/// CSV rows: RFC 4180 quoting, and fields a spreadsheet would run as formulas neutralised (OWASP).
@Suite struct CSVTests {
    func row(_ fields: [String]) -> String {
        var writer = JSONWriter()
        StoredEventCSV.row(fields, into: &writer)
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    @Test func formulaStartsAreNeutralised() {
        #expect(row(["=HYPERLINK(\"http://x\")", "+1", "@SUM(A1)", "\tx", "\rx"])
            == "\"'=HYPERLINK(\"\"http://x\"\")\",'+1,'@SUM(A1),'\tx,\"'\rx\"\r\n")
        #expect(row(["-2+3", "-cmd|' /C calc'!A0"]) == "'-2+3,'-cmd|' /C calc'!A0\r\n")
    }

    @Test func plainTextAndNumbersStayExact() {
        #expect(row(["-12", "-0.5", "12", "a=b", "", "{\"k\":\"=x\"}"]) == "-12,-0.5,12,a=b,,\"{\"\"k\"\":\"\"=x\"\"}\"\r\n")
        #expect(row(["-", "-.5", "-1.", "-1.2.3"]) == "'-,'-.5,'-1.,'-1.2.3\r\n")
    }
}
