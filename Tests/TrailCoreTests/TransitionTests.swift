import Testing
import TrailCore

@Suite struct TransitionTests {
    let redactor = Redactor(secret: Array(repeating: 7, count: 32))

    func activity(_ verb: String, _ data: JSONObject = JSONObject(), replace: Bool = false) -> Activity {
        Activity(action: Verb.normalize(verb), actor: obj(["id": "1"]), actorId: "1", resourceType: "doc",
                 resourceId: "d-1", data: data, replace: replace)
    }

    func run(_ activities: [Activity]) -> [Transition] {
        var head: ResourceHead? = nil
        return activities.map { activity in
            let transition = Transition(applying: activity, to: head, redactor: redactor)
            head = transition.head
            return transition
        }
    }

    @Test func firstEventIsVersionOneWhateverItsVerb() {
        for verb in ["create", "update", "approved", "delete"] {
            let transition = run([activity(verb)])[0]
            #expect(transition.head?.version == 1, "\(verb)")
            #expect(transition.advancesVersion)
        }
        #expect(run([activity("delete")])[0].head?.state == nil)
        #expect(run([activity("approved")])[0].summary == "Approved doc d-1.")
        #expect(run([activity("create")])[0].summary == "Doc d-1 created.")
    }

    @Test func versionsAdvanceOnlyWhenStateChanges() {
        let steps = run([
            activity("create", obj(["a": 1])),
            activity("update", obj(["a": 1.0])),  // same value
            activity("approve"),  // custom verb, no data
            activity("update", obj(["a": 2])),
            activity("delete"),
            activity("delete"),  // already deleted
            activity("update", obj(["b": 1])),  // brings it back
        ])
        #expect(steps.map(\.head?.version) == [1, 1, 1, 2, 3, 3, 4])
        #expect(steps.map(\.summary) == [
            "A set to 1.", "No changes detected.", "Approve doc d-1.", "A changed from 1 to 2.", "Doc d-1 deleted.",
            "Doc d-1 deleted.", "B set to 1.",
        ])
        #expect(steps[6].head?.state == obj(["b": 1]))
    }

    @Test func anEventThatChangesNothingKeepsTheStateAsItWas() {
        let steps = run([
            activity("create", obj(["a": 1, "b": 2])),
            activity("update", obj(["b": 2.0, "a": 1]), replace: true),
        ])
        #expect(steps[1].changes.isEmpty)
        #expect(steps[1].head == steps[0].head)
        #expect(JSONWriter.string(.object(steps[1].head!.state!)) == #"{"a":1,"b":2}"#)
    }

    @Test func deleteOfAnEmptyLiveResourceStillMakesAVersion() {
        let steps = run([activity("create"), activity("delete")])
        #expect(steps.map(\.head?.version) == [1, 2])
        #expect(steps[1].changes.isEmpty)
    }

    @Test func replaceAndNullsNeverStored() {
        let steps = run([
            activity("create", obj(["a": 1, "b": nil, "c": ["d": nil]])),
            activity("update", obj(["x": 1, "y": nil]), replace: true),
        ])
        #expect(steps[0].head?.state == obj(["a": 1, "c": [:]]))
        #expect(steps[1].head?.state == obj(["x": 1]))
        #expect(JSONWriter.string(Diff.encode(steps[1].changes)) == #"{"x":[null,1],"a":[1,null],"c":[{},null]}"#)
    }

    @Test func redactionDetectsChangesWithoutKeepingValues() {
        let steps = run([
            activity("create", obj(["password": "one", "profile": ["Token": ["deep": 1]]])),
            activity("update", obj(["password": "one"])),
            activity("update", obj(["password": "two"])),
            activity("update", obj(["profile": ["token": nil]])),
        ])
        #expect(steps[0].head?.state == obj(["password": "[REDACTED]", "profile": ["Token": "[REDACTED]"]]))
        #expect(steps[0].summary == "Password set and profile.Token set.")
        #expect(steps[1].changes.isEmpty)
        #expect(steps[2].summary == "Password changed.")
        #expect(JSONWriter.string(Diff.encode(steps[2].changes)) == #"{"password":["[REDACTED]","[REDACTED]"]}"#)
        #expect(steps[3].changes.isEmpty, "token and Token are different keys; nothing to remove")
        #expect(!JSONWriter.string(.object(steps[2].head!.state!)).contains("two"))
        #expect(steps.map(\.head?.version) == [1, 1, 2, 2])
    }

    @Test func digestsDependOnTheSecret() {
        let other = Redactor(secret: Array(repeating: 8, count: 32))
        #expect(redactor.digest("x") != other.digest("x"))
        #expect(redactor.digest(["a": 1, "b": 2]) == redactor.digest(["b": 2.0, "a": 1]))
    }

    @Test func configuredSensitiveKeys() {
        let custom = Redactor(sensitiveKeys: ["pin"], secret: [1, 2, 3])
        #expect(custom.isSensitive("PIN"))
        #expect(!custom.isSensitive("password"))
        let none = Redactor(sensitiveKeys: [], secret: [1])
        #expect(!none.isSensitive("password"))
    }
}

func obj(_ value: JSONValue) -> JSONObject { value.objectValue! }
