import Testing
import TrailCore

/// RFC 7386 Appendix A, every example, plus key order.
@Suite struct MergePatchTests {
    static let examples: [(String, String, String)] = [
        (#"{"a":"b"}"#, #"{"a":"c"}"#, #"{"a":"c"}"#),
        (#"{"a":"b"}"#, #"{"b":"c"}"#, #"{"a":"b","b":"c"}"#),
        (#"{"a":"b"}"#, #"{"a":null}"#, #"{}"#),
        (#"{"a":"b","b":"c"}"#, #"{"a":null}"#, #"{"b":"c"}"#),
        (#"{"a":["b"]}"#, #"{"a":"c"}"#, #"{"a":"c"}"#),
        (#"{"a":"c"}"#, #"{"a":["b"]}"#, #"{"a":["b"]}"#),
        (#"{"a":{"b":"c"}}"#, #"{"a":{"b":"d","c":null}}"#, #"{"a":{"b":"d"}}"#),
        (#"{"a":[{"b":"c"}]}"#, #"{"a":[1]}"#, #"{"a":[1]}"#),
        (#"["a","b"]"#, #"["c","d"]"#, #"["c","d"]"#),
        (#"{"a":"b"}"#, #"["c"]"#, #"["c"]"#),
        (#"{"a":"foo"}"#, #"null"#, #"null"#),
        (#"{"a":"foo"}"#, #""bar""#, #""bar""#),
        (#"{"e":null}"#, #"{"a":1}"#, #"{"e":null,"a":1}"#),
        (#"[1,2]"#, #"{"a":"b","c":null}"#, #"{"a":"b"}"#),
        (#"{}"#, #"{"a":{"bb":{"ccc":null}}}"#, #"{"a":{"bb":{}}}"#),
    ]

    @Test(arguments: 0..<examples.count)
    func rfcExample(_ index: Int) throws {
        let (target, patch, result) = MergePatchTests.examples[index]
        let merged = MergePatch.apply(try JSONParser.parse(patch), to: try JSONParser.parse(target))
        #expect(JSONWriter.string(merged) == result)
    }

    @Test func keepsPlacesAndAppendsNewKeysInPatchOrder() throws {
        let merged = MergePatch.apply(
            try JSONParser.parse(#"{"z":0,"b":2,"a":{"y":1},"c":null}"#),
            to: try JSONParser.parse(#"{"a":{"x":1},"b":1,"c":3}"#))
        #expect(JSONWriter.string(merged) == #"{"a":{"x":1,"y":1},"b":2,"z":0}"#)
    }

    @Test func withoutNullsDropsNullsAtEveryDepthButNotInArrays() throws {
        let object = try JSONParser.parse(#"{"a":null,"b":{"c":null,"d":1},"e":[null]}"#).objectValue!
        #expect(JSONWriter.string(MergePatch.withoutNulls(object)) == #"{"b":{"d":1},"e":[null]}"#)
    }
}
