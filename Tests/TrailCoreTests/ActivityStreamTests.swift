import Testing
import TrailCore

@Suite struct ActivityStreamTests {
    func submission(_ text: String) throws -> Result<Submission, InvalidSubmission> {
        ActivityStream.submission(from: try JSONParser.parse(text))
    }

    func activity(_ text: String) throws -> Activity {
        let result = try submission(text)
        guard case .success(let value) = result else {
            Issue.record("refused: \(result)")
            throw InvalidSubmission(errors: [])
        }
        return value.activities[0]
    }

    func errors(_ text: String) throws -> [FieldError] {
        guard case .failure(let failure) = try submission(text) else { return [] }
        return failure.errors
    }

    @Test func verbsAndSynonyms() {
        for (given, canonical) in [("create", "created"), ("ADD", "created"), (" insert ", "created"),
                                   ("Edit", "updated"), ("patch", "updated"), ("modify", "updated"),
                                   ("destroy", "deleted"), ("Removed", "deleted"), ("Approved", "approved"),
                                   ("user_login", "user_login")] {
            #expect(Verb.normalize(given) == canonical)
        }
    }

    @Test func objectStyleTakesTypeFromObjectThenObjectType() throws {
        let a = try activity(#"{"actor":"5","verb":"create","object_type":"x","object":{"id":1,"type":"user","k":1}}"#)
        #expect(a.resourceType == "user")
        #expect(a.resourceId == "1")
        #expect(a.actor == obj(["id": "5"]))
        #expect(a.data == obj(["k": 1]))
        let b = try activity(#"{"actor":"5","verb":"create","object_type":"x","object":{"id":"o","k":1}}"#)
        #expect(b.resourceType == "x")
    }

    @Test func resourceStyleWithAndWithoutData() throws {
        let a = try activity(#"{"actor":"5","verb":"update","resource":{"id":"r","type":"t","data":{"k":1},"extra":2}}"#)
        #expect(a.data == obj(["k": 1]))
        let b = try activity(#"{"actor":"5","verb":"update","resource":{"id":"r","type":"t","k":1}}"#)
        #expect(b.data == obj(["k": 1]))
    }

    @Test func flatStyleDropsReservedKeys() throws {
        let a = try activity("""
            {"actor_id":9,"verb":"x","resource_type":"t","resource_id":"r","occurred_at":"2026-02-16T11:31:39Z",
             "context":{"ip":"1.2.3.4"},"metadata":{"m":1},"update_mode":"replace","tenant":"z","field":true}
            """)
        #expect(a.actorId == "9")
        #expect(a.data == obj(["field": true]))
        #expect(a.replace)
        #expect(a.occurredAt == Timestamp(rfc3339: "2026-02-16T11:31:39Z"))
        #expect(a.context == obj(["ip": "1.2.3.4"]))
        #expect(a.metadata == obj(["m": 1]))
    }

    @Test func actorKeepsItsKeysWithIdAsString() throws {
        let a = try activity(#"{"actor":{"name":"J","id":12,"role":"admin"},"verb":"c","type":"t","id":"i"}"#)
        #expect(JSONWriter.string(.object(a.actor!)) == #"{"name":"J","id":"12","role":"admin"}"#)
    }

    @Test func wrapperWithBatchAndId() throws {
        guard case .success(let value) = try submission("""
            {"type":"audit_logs","id":"w-1","payload":[{"actor":"1","verb":"c","type":"t","id":"a"},
                                                      {"actor":"1","verb":"c","type":"t","id":"b"}]}
            """) else { Issue.record("refused"); return }
        #expect(value.wrapperId == "w-1")
        #expect(value.activities.map(\.resourceId) == ["a", "b"])
    }

    /// Limits count Unicode code points, as the OpenAPI document's `maxLength` does: a letter followed by
    /// 100 emoji modifiers is one Swift `Character` but 101 code points, over the type's limit of 100.
    @Test func lengthsAreCountedInCodePoints() throws {
        let modifiers = String(repeating: "\u{1F3FB}", count: ActivityStream.maximumTypeLength)
        #expect(("a" + modifiers).count == 1)
        #expect(try errors(#"{"actor":"1","verb":"c","type":"a\#(modifiers)","id":"i"}"#).map(\.path) == ["type"])
        let atTheLimit = String(repeating: "\u{1F3FB}", count: ActivityStream.maximumTypeLength - 1)
        #expect(try activity(#"{"actor":"1","verb":"c","type":"a\#(atTheLimit)","id":"i"}"#).resourceType == "a" + atTheLimit)
    }

    @Test func everyFaultIsReportedWithItsPlace() throws {
        let found = try errors("""
            [{"actor":"1","verb":"c","type":"t","id":"ok"},
             {"verb":7,"type":"","id":1.5,"occurred_at":"yesterday","context":[],"update_mode":"x"},
             3]
            """)
        let places = Set(found.map { "\($0.index ?? -1):\($0.path)" })
        #expect(places == ["1:actor", "1:verb", "1:type", "1:id", "1:occurred_at", "1:context", "1:update_mode", "2:"])
    }

    @Test func limitsOnTypesAndIds() throws {
        let longType = String(repeating: "t", count: 101)
        let longId = String(repeating: "i", count: 256)
        #expect(try errors("{\"actor\":\"1\",\"verb\":\"c\",\"type\":\"\(longType)\",\"id\":\"i\"}").map(\.path) == ["type"])
        #expect(try errors("{\"actor\":\"1\",\"verb\":\"c\",\"type\":\"t\",\"id\":\"\(longId)\"}").map(\.path) == ["id"])
        #expect(try errors(#"{"actor":"1","verb":"   ","type":"t","id":"i"}"#).map(\.path) == ["verb"])
        #expect(try errors(#""text""#).map(\.path) == [""])
        #expect(try errors(#"{"type":"audit_logs","payload":5}"#).map(\.path) == ["payload"])
    }
}
