import Testing
import TrailCore

@Suite struct DiffAndSummaryTests {
    func object(_ text: String) throws -> JSONObject { try JSONParser.parse(text).objectValue! }

    func diff(_ old: String?, _ new: String?) throws -> String {
        let changes = Diff.changes(from: try old.map(object), to: try new.map(object))
        return JSONWriter.string(Diff.encode(changes))
    }

    @Test func updateOrderIsNewStateOrderThenRemovedInOldOrder() throws {
        #expect(try diff(#"{"a":1,"b":2,"c":3,"d":4}"#, #"{"d":5,"a":1,"e":6}"#)
            == #"{"d":[4,5],"e":[null,6],"b":[2,null],"c":[3,null]}"#)
    }

    @Test func nestedPathsAndEscapedKeys() throws {
        #expect(try diff(nil, #"{"a":{"b":{"c":1}},"x.y":{"z\\w":2}}"#)
            == #"{"a.b.c":[null,1],"x\\.y.z\\\\w":[null,2]}"#)
    }

    @Test func arraysAreLeavesAndNumbersCompareByValue() throws {
        #expect(try diff(#"{"t":[1,2],"n":1,"s":"3"}"#, #"{"t":[1,2.0],"n":1.0,"s":3}"#) == #"{"s":["3",3]}"#)
        #expect(try diff(#"{"t":[1,2]}"#, #"{"t":[2,1]}"#) == #"{"t":[[1,2],[2,1]]}"#)
    }

    @Test func objectsInsideArraysCompareWithoutOrder() throws {
        #expect(try diff(#"{"t":[{"a":1,"b":2}]}"#, #"{"t":[{"b":2,"a":1}]}"#) == "{}")
    }

    @Test func leafBecomingObjectAndEmptyObjects() throws {
        #expect(try diff(#"{"a":1}"#, #"{"a":{"b":2}}"#) == #"{"a.b":[null,2],"a":[1,null]}"#)
        #expect(try diff(nil, #"{"e":{}}"#) == #"{"e":[null,{}]}"#)
        #expect(try diff(#"{"e":{}}"#, #"{"e":{"k":1}}"#) == #"{"e.k":[null,1],"e":[{},null]}"#)
    }

    @Test func deleteListsEveryLeaf() throws {
        #expect(try diff(#"{"a":1,"b":{"c":2}}"#, nil) == #"{"a":[1,null],"b.c":[2,null]}"#)
    }

    func sentence(_ old: String?, _ new: String?) throws -> String {
        Summary.sentence(for: Diff.changes(from: try old.map(object), to: try new.map(object)))
    }

    @Test func sentences() throws {
        #expect(try sentence(nil, #"{"a":1}"#) == "A set to 1.")
        #expect(try sentence(nil, #"{"a":1,"b":"x"}"#) == "A set to 1 and b set to x.")
        #expect(try sentence(#"{"a":1,"b":2,"c":3}"#, #"{"a":2}"#)
            == "A changed from 1 to 2, b removed (was 2) and c removed (was 3).")
        #expect(try sentence(#"{"a":1}"#, #"{"a":1}"#) == "No changes detected.")
        // Only the first character changes case.
        #expect(try sentence(nil, #"{"éclair":"Yes"}"#) == "Éclair set to Yes.")
        #expect(try sentence(nil, #"{"URL":"x"}"#) == "URL set to x.")
    }

    @Test func valueRendering() throws {
        #expect(try sentence(nil, #"{"s":""}"#) == #"S set to ""."#)
        #expect(try sentence(nil, #"{"n":null}"#) == "N set to null.")
        #expect(try sentence(nil, #"{"o":{}}"#) == "O set to {}.")
        #expect(try sentence(#"{"b":true}"#, #"{"b":"true"}"#) == #"B changed from true to "true"."#)
        #expect(try sentence(#"{"v":"a\"b"}"#, #"{"v":"x"}"#) == #"V changed from a"b to x."#)
        let long = String(repeating: "y", count: 64)
        #expect(try sentence(nil, "{\"v\":\"\(long)\"}") == "V set to \(long).")
        let longer = String(repeating: "y", count: 65)
        #expect(try sentence(nil, "{\"v\":\"\(longer)\"}") == "V set to \(String(repeating: "y", count: 63))….")
    }

    @Test func lifecycleAndActionSentences() {
        #expect(Summary.lifecycle("deleted", type: "user", id: "u-1") == "User u-1 deleted.")
        #expect(Summary.lifecycle("created", type: "user", id: "u-1") == "User u-1 created.")
        #expect(Summary.action("exported", type: "report", id: "r-9") == "Exported report r-9.")
        #expect(Summary.action("exported", type: nil, id: nil) == "Exported.")
    }
}
