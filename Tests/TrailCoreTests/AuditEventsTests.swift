import Testing
@testable import TrailCore

/// Generic audit events (SPEC §3): the dialects of the audit systems Trail replaces, normalised.
@Suite struct AuditEventsTests {
    func event(_ text: String) throws -> Activity {
        try AuditEvents.single(from: try JSONParser.parse(text)).get()
    }

    func errors(_ text: String) throws -> [FieldError] {
        guard case .failure(let failure) = AuditEvents.single(from: try JSONParser.parse(text)) else { return [] }
        return failure.errors
    }

    @Test func fastAPIFrameworkShape() throws {
        let e = try event(#"{"event_type":"DATA_EXPORT","user_id":42,"resource_id":"r-1","metadata":{"rows":10},"request_id":"abc"}"#)
        #expect(e.action == "data_export")
        #expect(e.actorId == "42")
        #expect(e.actor == JSONObject([.init(key: "id", value: "42")]))
        #expect(e.resourceType == nil && e.resourceId == "r-1")
        #expect(e.resource == nil, "only an id: no resource whose state Trail keeps")
        #expect(e.metadata == JSONObject([.init(key: "rows", value: 10)]))
        #expect(e.context == JSONObject([.init(key: "request_id", value: "abc")]))
        #expect(e.reportedChanges == [])
        #expect(e.outcome == .success)
    }

    @Test func djangoTrailShape() throws {
        let e = try event(#"""
            {"action":"UPDATE","user":"ann","model_name":"Invoice","object_id":7,"object_repr":"Invoice #7",
             "ip_address":"10.1.2.3","user_agent":"curl/8","extra_data":{"source":"admin"},
             "changes":{"total":{"old":"10.00","new":"12.50"},"note":{"old":null,"new":"late"}}}
            """#)
        #expect(e.action == "updated")
        #expect(e.actorId == "ann")
        #expect(e.resourceType == "Invoice" && e.resourceId == "7" && e.resourceName == "Invoice #7")
        #expect(e.context == JSONObject([.init(key: "ip", value: "10.1.2.3"), .init(key: "user_agent", value: "curl/8")]))
        #expect(e.metadata == JSONObject([.init(key: "source", value: "admin")]))
        #expect(e.reportedChanges == [
            Change(path: "total", old: "10.00", new: "12.50"),
            Change(path: "note", old: nil, new: "late"),
        ])
    }

    @Test func hiveLibraryShape() throws {
        let e = try event(#"""
            {"action_type":"DELETE","action_category":"PORTFOLIO","username":"jane","user_email":"j@x.io",
             "entity_type":"PORTFOLIO","entity_id":"p1","entity_name":"Fund","field_name":"manager",
             "old_value":"John","new_value":null,"status":"partial","duration_ms":12,
             "error_message":"timeout","error_traceback":"Traceback…","timestamp":"2026-02-16T11:31:39Z"}
            """#)
        #expect(e.action == "deleted")
        #expect(e.category == "PORTFOLIO")
        #expect(e.actor == JSONObject([.init(key: "id", value: "jane"), .init(key: "name", value: "jane"), .init(key: "email", value: "j@x.io")]))
        #expect(e.resourceName == "Fund")
        #expect(e.reportedChanges == [Change(path: "manager", old: "John", new: nil)])
        #expect(e.outcome == .partial)
        #expect(e.durationMs == 12)
        #expect(e.error == JSONObject([.init(key: "message", value: "timeout"), .init(key: "detail", value: "Traceback…")]))
        #expect(e.occurredAt == Timestamp(rfc3339: "2026-02-16T11:31:39Z"))
    }

    @Test func theFirstAliasPresentWinsAndUnknownKeysGoToMetadata() throws {
        let e = try event(#"""
            {"action":"a","event_type":"b","user_id":"u","user":"v","entity_type":"T","model_name":"M",
             "summary":"S","description":"D","metadata":{"k":1},"extra_data":{"x":2},"shard":3,"k":"ignored"}
            """#)
        #expect(e.action == "a")
        #expect(e.actorId == "u")
        #expect(e.resourceType == "T")
        #expect(e.summary == "S")
        #expect(e.metadata == JSONObject([.init(key: "k", value: 1), .init(key: "shard", value: 3)]),
                "metadata wins over extra_data; an unknown key is added unless metadata has it")
    }

    @Test func theContextObjectWinsOverTopLevelAliases() throws {
        let e = try event(#"{"action":"a","actor":"u","context":{"ip":"1.1.1.1","zone":"eu"},"ip_address":"2.2.2.2","user_agent":"x"}"#)
        #expect(e.context == JSONObject([.init(key: "ip", value: "1.1.1.1"), .init(key: "zone", value: "eu"), .init(key: "user_agent", value: "x")]))
    }

    @Test func aFailureNeedsNoActorButEverythingElseDoes() throws {
        let failed = try event(#"{"action":"login","status":"FAILURE"}"#)
        #expect(failed.actor == nil && failed.actorId == nil)
        #expect(try errors(#"{"action":"login"}"#).map(\.path) == ["actor"])
        #expect(try errors(#"{"user_id":"u"}"#).map(\.path) == ["action"])
    }

    @Test func badValuesAreNamed() throws {
        #expect(try errors(#"{"action":"a","actor":"u","outcome":"maybe"}"#).map(\.path) == ["outcome"])
        #expect(try errors(#"{"action":"a","actor":"u","status":3}"#).map(\.path) == ["status"])
        #expect(try errors(#"{"action":"a","actor":"u","duration_ms":-1}"#).map(\.path) == ["duration_ms"])
        #expect(try errors(#"{"action":"a","actor":"u","duration_ms":1.5}"#).map(\.path) == ["duration_ms"])
        #expect(try errors(#"{"action":"a","actor":"u","timestamp":"yesterday"}"#).map(\.path) == ["timestamp"])
        #expect(try errors(#"{"action":"a","actor":"u","changes":{"x":[1]}}"#).map(\.path) == ["changes.x"])
        #expect(try errors(#"{"action":"a","actor":"u","changes":[1,2]}"#).map(\.path) == ["changes"])
        #expect(try errors(#"{"action":"a","actor":"u","metadata":"m"}"#).map(\.path) == ["metadata"])
        #expect(try errors(#"{"action":"a","actor":{"name":"n"}}"#).map(\.path) == ["actor.id"])
        #expect(try errors(#"{"action":"a","actor":"u","entity_type":""}"#).map(\.path) == ["entity_type"])
        #expect(try errors(#"{"action":"a","actor":"u","resource":{"type":"T","id":[1]}}"#).map(\.path) == ["resource.id"])
        #expect(try errors(#"[]"#).map(\.path) == [""])
    }

    @Test func batchesReportEveryBadItemByIndex() throws {
        guard case .failure(let failure) = AuditEvents.batch(from: try JSONParser.parse(#"{"logs":[{"action":"a","actor":"u"},{"actor":"u"},{"action":"b"}]}"#)) else {
            Issue.record("a batch with bad items was accepted")
            return
        }
        #expect(failure.errors.map(\.index) == [1, 2])
        guard case .failure(let shape) = AuditEvents.batch(from: try JSONParser.parse(#"[{"action":"a"}]"#)) else {
            Issue.record("a batch without logs was accepted")
            return
        }
        #expect(shape.errors.map(\.path) == ["logs"])
    }

    @Test func reportedChangesSetValuesAtTheirPathsAndMakeVersions() throws {
        let redactor = Redactor(secret: Array(repeating: 7, count: 32))
        let first = try event(#"{"action":"update","actor":"u","resource":{"type":"T","id":"1"},"changes":{"a.b":[null,1],"name":["x","y"]}}"#)
        let t1 = Transition(applying: first, to: nil, redactor: redactor)
        #expect(t1.head?.version == 1 && t1.advancesVersion)
        #expect(t1.head?.state == JSONObject([.init(key: "a", value: ["b": 1]), .init(key: "name", value: "y")]))
        #expect(JSONWriter.string(Diff.encode(t1.changes)) == #"{"a.b":[null,1],"name":["x","y"]}"#, "stored as reported")
        #expect(t1.summary == "A.b set to 1 and name changed from x to y.")

        let same = try event(#"{"action":"touch","actor":"u","resource":{"type":"T","id":"1"},"changes":{"name":["?","y"]}}"#)
        let t2 = Transition(applying: same, to: t1.head, redactor: redactor)
        #expect(!t2.advancesVersion && t2.head == t1.head, "a reported change that leaves the state as it was makes no version")

        let removal = try event(#"{"action":"update","actor":"u","resource":{"type":"T","id":"1"},"changes":{"a.b":{"old":1,"new":null}}}"#)
        let t3 = Transition(applying: removal, to: t1.head, redactor: redactor)
        #expect(t3.head?.version == 2)
        #expect(t3.head?.state == JSONObject([.init(key: "a", value: .object(JSONObject())), .init(key: "name", value: "y")]))
        #expect(t3.summary == "A.b removed (was 1).")
    }

    @Test func eventsWithoutChangesLeaveTheResourceAlone() throws {
        let redactor = Redactor(secret: Array(repeating: 7, count: 32))
        let viewed = try event(#"{"action":"viewed","actor":"u","resource":{"type":"T","id":"1","name":"Doc"}}"#)
        let unknown = Transition(applying: viewed, to: nil, redactor: redactor)
        #expect(unknown.head == nil && !unknown.advancesVersion)
        #expect(unknown.summary == "Viewed T 1.")
        let head = ResourceHead(version: 3, state: JSONObject([.init(key: "k", value: 1)]))
        let known = Transition(applying: viewed, to: head, redactor: redactor)
        #expect(known.head == head && !known.advancesVersion, "the event names the version it saw")
    }

    @Test func sensitiveReportedValuesAreRedacted() throws {
        let redactor = Redactor(secret: Array(repeating: 7, count: 32))
        let e = try event(#"{"action":"update","actor":"u","resource":{"type":"User","id":"1"},"changes":{"password":["old-pw","new-pw"],"profile":[null,{"token":"t","city":"Oslo"}]}}"#)
        let t = Transition(applying: e, to: nil, redactor: redactor)
        let stored = JSONWriter.string(Diff.encode(t.changes))
        #expect(!stored.contains("pw") && !stored.contains(#""t""#), "\(stored)")
        #expect(stored.contains("Oslo"))
        #expect(t.summary.hasPrefix("Password changed and profile set to "))
        let state = JSONWriter.string(.object(t.head!.state!))
        #expect(!state.contains("new-pw") && state.contains("[REDACTED]"), "\(state)")
    }

    @Test func fieldPathsSplitBackIntoKeys() {
        #expect(FieldPath.split("a.b") == ["a", "b"])
        #expect(FieldPath.split(#"a\.b.c"#) == ["a.b", "c"])
        #expect(FieldPath.split(#"x\\y"#) == [#"x\y"#])
        for key in ["plain", "dot.ted", #"back\slash"#, "", "a.b.c"] {
            #expect(FieldPath.split(FieldPath.join("", key)) == [key])
        }
    }
}
