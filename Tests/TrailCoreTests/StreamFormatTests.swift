import Testing
@testable import TrailCore

/// The wire forms of sinks (SPEC §14): syslog frames, CEF escaping, OCSF records, webhook signatures; and the
/// counting of alert rules.
@Suite struct StreamFormatTests {
    static func event(action: String = "updated", summary: String = "Email changed.", outcome: Outcome = .success,
                      resourceId: String = "u-1", actor: JSONObject? = JSONObject([.init(key: "id", value: "12"), .init(key: "name", value: "Ann")])) -> RecordedEvent {
        RecordedEvent(
            id: "0190d7a4-0000-7000-8000-000000000001", sequence: 42, tenant: "acme",
            occurredAt: Timestamp(microseconds: 1_780_000_000_000_000), recordedAt: Timestamp(microseconds: 1_780_000_000_123_456),
            action: action, actor: actor, resourceType: "user", resourceId: resourceId, version: 3,
            changes: JSONObject([.init(key: "email", value: ["a@example.com", "b@example.com"])]), summary: summary,
            context: JSONObject([.init(key: "ip", value: "203.0.113.9"), .init(key: "request_id", value: "r-1")]), metadata: nil,
            outcome: outcome, prevHash: EventHash.genesis, hash: EventHash.genesis)
    }

    @Test func rfc5424FramesCarryStructuredDataEscapedAndTheJSON() {
        let event = Self.event(resourceId: #"a"b]c\d"#)
        let message = SyslogFormat.rfc5424(event, json: Array(#"{"sequence":42}"#.utf8), hostname: "host one", appName: "trail")
        let text = String(decoding: message, as: UTF8.self)
        #expect(text.hasPrefix("<110>1 2026-05-28T20:26:40.123456+00:00 hostone trail - updated [trail@32473 tenant=\"acme\" sequence=\"42\""))
        #expect(text.contains(#"resource_id="a\"b\]c\\d""#), "\(text)")
        #expect(Array(message.suffix(18)) == [0xEF, 0xBB, 0xBF] + Array(#"{"sequence":42}"#.utf8))
        // Failures are warnings (severity 4).
        #expect(String(decoding: SyslogFormat.rfc5424(Self.event(outcome: .failure), json: [], hostname: "h"), as: UTF8.self).hasPrefix("<108>1 "))
        #expect(SyslogFormat.octetCounted(Array("abc".utf8)) == Array("3 abc".utf8))
    }

    @Test func cefEscapesPipesBackslashesAndEquals() {
        #expect(CEF.escapeHeader(#"a|b\c"#) == #"a\|b\\c"#)
        #expect(CEF.escapeExtension("a=b\\c\nd|e") == #"a\=b\\c\nd|e"#)
        let line = CEF.line(Self.event(summary: #"Set x|y = 1\2"#, resourceId: "id=7"), version: "2.0.0")
        #expect(line.hasPrefix(#"CEF:0|Trail|Trail|2.0.0|updated|Set x\|y = 1\\2|3|"#), "\(line)")
        #expect(line.contains(#"cs3=id\=7"#) && line.contains("suser=12") && line.contains("src=203.0.113.9") && line.contains("rt=1780000000123"))
        #expect(CEF.line(Self.event(outcome: .failure), version: "1").contains("|7|"))
    }

    @Test func ocsfApiActivity() {
        let record = OCSF.apiActivity(Self.event(action: "deleted"), productVersion: "2.0.0")
        #expect(record["class_uid"] == 6003 && record["category_uid"] == 6 && record["activity_id"] == 4 && record["type_uid"] == 600304)
        #expect(record["status_id"] == 1 && record["severity_id"] == 1 && record["time"] == 1_780_000_000_000)
        #expect(record["actor"]?["user"]?["uid"] == "12" && record["actor"]?["user"]?["name"] == "Ann")
        #expect(record["api"]?["operation"] == "deleted" && record["api"]?["request"]?["uid"] == "r-1")
        #expect(record["resources"]?[0]?["uid"] == "u-1" && record["src_endpoint"]?["ip"] == "203.0.113.9")
        #expect(record["metadata"]?["uid"] == "0190d7a4-0000-7000-8000-000000000001" && record["metadata"]?["tenant_uid"] == "acme")
        #expect(record["metadata"]?["product"]?["name"] == "Trail" && record["metadata"]?["version"] == .string(OCSF.version))
        #expect(OCSF.activity("created").id == 1 && OCSF.activity("exported").id == 2 && OCSF.activity("updated").id == 3
            && OCSF.activity("user_login").id == 99)
        #expect(OCSF.apiActivity(Self.event(outcome: .failure), productVersion: "1")["status_id"] == 2)
    }

    @Test func webhookSignaturesVerifyAndRefuseTamperingAndOldTimes() {
        let secret = Array("0123456789abcdef".utf8)
        let body = Array(#"[{"sequence":1}]"#.utf8)
        let header = WebhookSignature.header(secret: secret, time: 1_780_000_000, body: body)
        #expect(header.hasPrefix("t=1780000000,v1=") && header.count == "t=1780000000,v1=".count + 64)
        #expect(WebhookSignature.verify(header: header, secret: secret, body: body, now: 1_780_000_100))
        #expect(!WebhookSignature.verify(header: header, secret: secret, body: body + [32], now: 1_780_000_100))
        #expect(!WebhookSignature.verify(header: header, secret: Array("another".utf8), body: body, now: 1_780_000_100))
        #expect(!WebhookSignature.verify(header: header, secret: secret, body: body, now: 1_780_001_000), "too old")
    }

    @Test func windowsFireAtTheThresholdPerGroupAndStartAgain() {
        var windows = SlidingWindows(threshold: 3, windowSeconds: 10)
        func at(_ seconds: Int64, _ sequence: Int64) -> SlidingWindows.Hit {
            .init(time: Timestamp(microseconds: seconds * 1_000_000), sequence: sequence)
        }
        #expect(windows.count(group: "a", at(0, 1)) == nil)
        #expect(windows.count(group: "a", at(1, 2)) == nil)
        #expect(windows.count(group: "b", at(2, 3)) == nil, "another group")
        let fired = windows.count(group: "a", at(3, 4))
        #expect(fired?.group == "a" && fired?.hits.map(\.sequence) == [1, 2, 4])
        #expect(windows.count(group: "a", at(4, 5)) == nil, "counting starts again")
        #expect(windows.count(group: "a", at(5, 6)) == nil)
        // Out of the window: 5 and 6 are more than 10 s before 16.
        #expect(windows.count(group: "a", at(16, 7)) == nil)
        #expect(windows.count(group: "a", at(17, 8)) == nil)
        #expect(windows.count(group: "a", at(18, 9))?.hits.map(\.sequence) == [7, 8, 9])
        var single = SlidingWindows(threshold: 1, windowSeconds: 1)
        #expect(single.count(group: nil, at(0, 1))?.group == nil)
    }
}

extension JSONValue {
    subscript(key: String) -> JSONValue? { objectValue?[key] }
    subscript(index: Int) -> JSONValue? {
        guard case .array(let elements) = self, elements.indices.contains(index) else { return nil }
        return elements[index]
    }
}
