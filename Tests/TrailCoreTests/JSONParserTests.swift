import Testing
import TrailCore

@Suite struct JSONParserTests {
    func parse(_ text: String) throws -> JSONValue { try JSONParser.parse(text) }

    func error(_ bytes: [UInt8]) -> JSONParseError? {
        do {
            _ = try JSONParser.parse(bytes)
            return nil
        } catch {
            return error
        }
    }

    func error(_ text: String) -> JSONParseError? { error(Array(text.utf8)) }

    @Test func keepsKeyOrder() throws {
        let value = try parse(#"{"z":1,"a":2,"m":{"y":true,"b":null}}"#)
        #expect(value.objectValue?.keys == ["z", "a", "m"])
        #expect(value.objectValue?["m"]?.objectValue?.keys == ["y", "b"])
        #expect(JSONWriter.string(value) == #"{"z":1,"a":2,"m":{"y":true,"b":null}}"#)
    }

    @Test func rejectsDuplicateKeysWithPosition() throws {
        let failure = try #require(error(#"{"a":1,"a":2}"#))
        #expect(failure.message.contains("duplicate key \"a\""))
        #expect(failure.offset == 7)
        #expect(failure.column == 8)
        // Nested, and past the small-object threshold where a set is used.
        #expect(error(#"{"o":{"k":1,"k":1}}"#) != nil)
        let many = (0..<40).map { "\"k\($0)\":\($0)" }.joined(separator: ",")
        #expect(error("{\(many),\"k39\":0}") != nil)
        #expect(error("{\(many)}") == nil)
    }

    @Test func depthLimit() throws {
        let ok = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        #expect(error(ok) == nil)
        let deep = String(repeating: "[", count: 65) + String(repeating: "]", count: 65)
        #expect(error(deep)?.message.contains("deeper than 64") == true)
        let deepObjects = String(repeating: "{\"a\":", count: 65) + "1" + String(repeating: "}", count: 65)
        #expect(error(deepObjects) != nil)
    }

    @Test func escapesAndSurrogatePairs() throws {
        let value = try parse(#"["\"\\\/\b\f\n\r\t", "\u00e9\u4e2d", "\ud83d\ude00", "é😀"]"#)
        #expect(value == .array(["\"\\/\u{08}\u{0C}\n\r\t", "é中", "😀", "é😀"]))
        #expect(error(#"["\ud83d"]"#)?.message.contains("surrogate") == true)
        #expect(error(#"["\ude00"]"#)?.message.contains("surrogate") == true)
        #expect(error(#"["\ud83d\u0041"]"#) != nil)
        #expect(error(#"["\x"]"#) != nil)
        #expect(error(#"["\u12"]"#) != nil)
        #expect(error("[\"a\u{01}b\"]")?.message.contains("control") == true)
        #expect(error(#"{"k": "a\u0000b"}"#)?.message.contains("NUL") == true)
        #expect(error(#"{"a\u0000": 1}"#)?.column == 4)
    }

    @Test func encoderEscapesRoundTrip() throws {
        let original: JSONValue = ["quote\"back\\slash\nnew\u{01}", "é😀"]
        let text = JSONWriter.string(original)
        #expect(text == #"["quote\"back\\slash\nnew\u0001","é😀"]"#)
        #expect(try parse(text) == original)
    }

    /// The writer skips runs of plain bytes eight at a time: a byte to escape is found at every offset of a word,
    /// next to non-ASCII text, and at the end.
    @Test func encoderEscapesAtEveryOffset() throws {
        for special in ["\"", "\\", "\n", "\u{1F}", "\u{8}", "\t"] {
            for offset in 0..<18 {
                for filler in ["x", "é"] {
                    let text = String(repeating: filler, count: offset) + special + String(repeating: "y", count: 17 - offset)
                    let written = JSONWriter.string(.string(text))
                    #expect(try parse(written) == .string(text), "\(written)")
                    #expect(written.utf8.count == text.utf8.count + 2 + (special == "\u{1F}" ? 5 : 1))
                }
            }
        }
        #expect(JSONWriter.string(.string("")) == #""""#)
        #expect(JSONWriter.string(.string("plain text that is long enough")) == #""plain text that is long enough""#)
    }

    @Test func invalidUTF8IsRefusedWithItsPlace() throws {
        // "ab" then a lone continuation byte inside a string, on line 2.
        let bytes: [UInt8] = Array("{\n\"k\":\"ab".utf8) + [0x80] + Array("\"}".utf8)
        let failure = try #require(error(bytes))
        #expect(failure.message.contains("UTF-8"))
        #expect(failure.line == 2)
        #expect(failure.column == 8)
        #expect(error([0x22, 0xC0, 0xAF, 0x22]) != nil)  // overlong
        #expect(error([0x22, 0xED, 0xA0, 0x80, 0x22]) != nil)  // encoded surrogate
        #expect(error([0x22, 0xF4, 0x90, 0x80, 0x80, 0x22]) != nil)  // beyond U+10FFFF
        #expect(error([0x22, 0xE2, 0x82, 0x22]) != nil)  // truncated
        #expect(error([0x5B, 0xFF, 0x5D]) != nil)  // outside a string
    }

    @Test func bigNumbersAreKeptExactly() throws {
        let text = #"[123456789012345678901234567890, -0.000000000000000000001, 1e400, 1.50]"#
        let value = try parse(text)
        #expect(JSONWriter.string(value) == "[123456789012345678901234567890,-0.000000000000000000001,1e400,1.50]")
    }

    @Test func numbersCompareByValue() throws {
        #expect(try parse("1") == parse("1.0"))
        #expect(try parse("100") == parse("1e2"))
        #expect(try parse("0.5") == parse("5E-1"))
        #expect(try parse("-0") == parse("0"))
        #expect(try parse("1") != parse("\"1\""))
        #expect(try parse("12345678901234567890") != parse("12345678901234567891"))
    }

    @Test func refusesWhatIsNotJSON() {
        for text in ["", " ", "{", "[1,]", "{\"a\":1,}", "01", "1.", "-", ".5", "+1", "nul", "tru", "[1 2]",
                     "{\"a\" 1}", "{a:1}", "'a'", "[1]x", "NaN", "\"unterminated"] {
            #expect(error(text) != nil, "\(text)")
        }
    }

    @Test func acceptsWhitespaceAndBOM() throws {
        #expect(try parse(" \n\t{\"a\" : [ 1 , 2 ] }\r\n") == ["a": [1, 2]])
        #expect(try JSONParser.parse([0xEF, 0xBB, 0xBF] + Array("{}".utf8)) == .object(JSONObject()))
    }
}
