import Crypto
import Foundation
import Testing
@testable import TrailCore

/// RFC 8785 canonical JSON and RFC 9162 Merkle trees, against the RFCs' own examples and vectors derived by hand.
@Suite struct CanonicalJSONTests {
    /// RFC 8785 Appendix B: IEEE 754 bit patterns and their canonical text.
    @Test func numbersOfAppendixB() throws {
        let cases: [(UInt64, String)] = [
            (0x0000000000000000, "0"), (0x8000000000000000, "0"), (0x0000000000000001, "5e-324"),
            (0x8000000000000001, "-5e-324"), (0x7fefffffffffffff, "1.7976931348623157e+308"),
            (0xffefffffffffffff, "-1.7976931348623157e+308"), (0x4340000000000000, "9007199254740992"),
            (0xc340000000000000, "-9007199254740992"), (0x4430000000000000, "295147905179352830000"),
            (0x44b52d02c7e14af5, "9.999999999999997e+22"), (0x44b52d02c7e14af6, "1e+23"),
            (0x44b52d02c7e14af7, "1.0000000000000001e+23"), (0x444b1ae4d6e2ef4e, "999999999999999700000"),
            (0x444b1ae4d6e2ef4f, "999999999999999900000"), (0x444b1ae4d6e2ef50, "1e+21"),
            (0x3eb0c6f7a0b5ed8c, "9.999999999999997e-7"), (0x3eb0c6f7a0b5ed8d, "0.000001"),
            (0x41b3de4355555553, "333333333.3333332"), (0x41b3de4355555554, "333333333.33333325"),
            (0x41b3de4355555555, "333333333.3333333"), (0x41b3de4355555556, "333333333.3333334"),
            (0x41b3de4355555557, "333333333.33333343"), (0xbecbf647612f3696, "-0.0000033333333333333333"),
            (0x43143ff3c1cb0959, "1424953923781206.2"),
        ]
        for (bits, text) in cases {
            #expect(CanonicalJSON.format(Double(bitPattern: bits)) == text, "\(String(bits, radix: 16))")
        }
        #expect(throws: CanonicalJSON.Unrepresentable.self) { try CanonicalJSON.number("1e400") }
        #expect(try CanonicalJSON.number("-0.0") == "0")
        #expect(try CanonicalJSON.number("100") == "100" && (try CanonicalJSON.number("1E2")) == "100")
        #expect(try CanonicalJSON.number("123456789012345678901234") == "1.2345678901234569e+23")
    }

    /// RFC 8785 §3.2.2: the example of the whole scheme.
    @Test func exampleOfSection3() throws {
        let input = #"""
            {
              "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
              "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
              "literals": [null, true, false]
            }
            """#
        let expected = #"{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}"#
        #expect(String(decoding: try CanonicalJSON.encode(try JSONParser.parse(input)), as: UTF8.self) == expected)
    }

    /// RFC 8785 §3.2.3: member names sorted by UTF-16 code units (so U+FB33 after the emoji's surrogates).
    @Test func sortingOfSection3() throws {
        let input = #"""
            {"\u20ac": "Euro Sign", "\r": "Carriage Return", "\ufb33": "Hebrew Letter Dalet With Dagesh", "1": "One",
             "\ud83d\ude00": "Emoji: Grinning Face", "\u0080": "Control", "\u00f6": "Latin Small Letter O With Diaeresis"}
            """#
        guard case .object(let object) = try JSONParser.parse(String(decoding: try CanonicalJSON.encode(try JSONParser.parse(input)), as: UTF8.self)) else {
            Issue.record("not an object"); return
        }
        #expect(object.map { $0.value.stringValue ?? "" } == [
            "Carriage Return", "One", "Control", "Latin Small Letter O With Diaeresis", "Euro Sign",
            "Emoji: Grinning Face", "Hebrew Letter Dalet With Dagesh",
        ])
    }
}

/// The hash chain's canonical form (SPEC §8): the event as reads return it, without `hash`, per RFC 8785.
@Suite struct EventHashTests {
    static func o(_ value: JSONValue) -> JSONObject { value.objectValue! }

    static let events: [RecordedEvent] = [
        RecordedEvent(
            id: "0193c0de-0000-7000-8000-000000000001", sequence: 1, tenant: "acme",
            occurredAt: Timestamp(microseconds: 1_771_241_499_123_456), recordedAt: Timestamp(microseconds: 1_771_241_500_000_000),
            action: "updated", actor: o(["id": "12", "name": "Zoë \"Z\"", "b": [1.5, 2e3, nil]]),
            resourceType: "user", resourceId: "user-1", version: 2,
            changes: o(["email": ["a@example.com", "b@example.com"], "€": [1, 10]]),
            summary: "Email changed.\nLine two\u{1}", context: o(["ip": "127.0.0.1"]), metadata: nil,
            prevHash: EventHash.genesis, hash: []),
        RecordedEvent(
            id: "0193c0de-0000-7000-8000-000000000002", sequence: 9_007_199_254_740_993, tenant: "t",
            occurredAt: Timestamp(microseconds: 0), recordedAt: Timestamp(microseconds: 1),
            action: "login", actor: nil, resourceType: nil, resourceId: nil, version: nil, changes: JSONObject(),
            summary: "", context: nil, metadata: o(["n": .number(JSONNumber(literal: "1.0E+2")!)]), category: "AUTH",
            outcome: .failure, resourceName: "console", durationMs: 12, error: o(["message": "denied", "detail": nil]),
            prevHash: Array(repeating: 0xab, count: 32), hash: []),
    ]

    /// The direct writer agrees with the general encoder over the event's JSON, whose member order it fixes.
    @Test func theDirectFormIsTheCanonicalFormOfTheReturnedJSON() throws {
        for event in Self.events {
            var writer = JSONWriter()
            StoredEventJSON.write(event, into: &writer)
            let returned = try #require(try JSONParser.parse(writer.bytes).objectValue)
            #expect(returned["prev_hash"]?.stringValue == EventHash.hex(event.prevHash))
            let expected = try CanonicalJSON.encode(.object(returned.removing(["hash"])))
            #expect(String(decoding: try EventHash.canonicalForm(of: event), as: UTF8.self) == String(decoding: expected, as: UTF8.self))
            #expect(try EventHash.of(event) == Array(SHA256.hash(data: expected)))
            #expect(try EventHash.of(returned: returned) == EventHash.of(event), "hash is left out")
        }
        // Known answer, so that a change of the canonical form cannot pass unnoticed.
        let text = String(decoding: try EventHash.canonicalForm(of: Self.events[1]), as: UTF8.self)
        #expect(text == #"{"action":"login","actor":null,"category":"AUTH","changes":{},"context":null,"duration_ms":12,"error":{"detail":null,"message":"denied"},"id":"0193c0de-0000-7000-8000-000000000002","metadata":{"n":100},"occurred_at":"1970-01-01T00:00:00.000000+00:00","outcome":"failure","prev_hash":"abababababababababababababababababababababababababababababababab","recorded_at":"1970-01-01T00:00:00.000001+00:00","resource":{"id":null,"name":"console","type":null},"sequence":9007199254740992,"summary":"","tenant":"t","version":null}"#)
    }

    @Test func aChainLinksEachEventToThePrevious() throws {
        var chain = ChainHead.empty
        var first = Self.events[0]
        try chain.link(&first)
        #expect(first.prevHash == EventHash.genesis && chain == ChainHead(sequence: 1, hash: first.hash))
        var second = Self.events[0]
        second.sequence = 2
        try chain.link(&second)
        #expect(second.prevHash == first.hash && second.hash != first.hash)
        var forged = second
        forged.summary = "Email unchanged."
        #expect(try EventHash.of(forged) != second.hash)
    }

    @Test func numbersWithoutCanonicalFormAreFoundWithTheirPath() throws {
        #expect(CanonicalJSON.unrepresentableNumber(in: try JSONParser.parse(#"{"a": [1, {"b": 1e999}]}"#))! == ("a[1].b", "1e999"))
        #expect(CanonicalJSON.unrepresentableNumber(in: try JSONParser.parse(#"[{"x": -2E+400}]"#))! == ("[0].x", "-2E+400"))
        #expect(CanonicalJSON.unrepresentableNumber(in: try JSONParser.parse(#"{"a": 1e308, "b": 5e-400}"#)) == nil)
        #expect(CanonicalJSON.format(integer: 9_007_199_254_740_993) == "9007199254740992")
        #expect(CanonicalJSON.format(integer: -42) == "-42")
        #expect(EventHash.digest(hex: String(repeating: "0f", count: 32)) == Array(repeating: 0x0f, count: 32))
        #expect(EventHash.digest(hex: String(repeating: "0F", count: 32)) == nil && EventHash.digest(hex: "00") == nil)
    }
}

/// The verifier's rules that the tamper tests (which run `trail verify` on real stores) do not reach.
@Suite struct ChainVerifierTests {
    /// `count` chained events of `tenant`.
    static func chain(_ count: Int, tenant: String = "acme") throws -> [RecordedEvent] {
        var head = ChainHead.empty
        return try (1...count).map { sequence in
            var event = EventHashTests.events[0]
            event.tenant = tenant
            event.sequence = Int64(sequence)
            try head.link(&event)
            return event
        }
    }

    @Test func checkpointsAreHeldToTheirKeyTenantAndRoot() throws {
        let events = try Self.chain(6)
        let key = Curve25519.Signing.PrivateKey()
        let root4 = MerkleTree.root(ofLeafHashes: events.prefix(4).map { MerkleTree.leafHash($0.hash) })
        let good = try Checkpoint.sign(tenant: "acme", size: 4, root: root4, time: Timestamp(microseconds: 1), with: key)
        let other = try Checkpoint.sign(tenant: "globex", size: 2, root: root4, time: Timestamp(microseconds: 1), with: key)
        func run(_ checkpoints: [Checkpoint], key publicKey: Curve25519.Signing.PublicKey?) -> ChainVerifier.Report {
            var verifier = ChainVerifier(checkpoints: checkpoints, publicKey: publicKey)
            for event in events { verifier.add(event) }
            return verifier.finish(whole: true)
        }
        let report = run([good, other], key: key.publicKey)
        #expect(report.isValid && report.checkpointsVerified == [good] && report.events == 6, "globex's is ignored")
        #expect(report.root == MerkleTree.root(ofLeafHashes: events.map { MerkleTree.leafHash($0.hash) }))
        #expect(run([good], key: nil).failure?.reason.contains("public key") == true)
        #expect(run([good], key: Curve25519.Signing.PrivateKey().publicKey).failure?.reason.contains("not signed") == true)
        #expect(run([other], key: key.publicKey).failure?.reason == "none of the checkpoints is for tenant acme")
        var wrongRoot = try Checkpoint.sign(tenant: "acme", size: 3, root: root4, time: Timestamp(microseconds: 1), with: key)
        #expect(run([wrongRoot], key: key.publicKey).failure?.reason.contains("first 3 events do not have the Merkle root") == true)
        wrongRoot.size = 4  // the signature covers the size
        #expect(run([wrongRoot], key: key.publicKey).failure?.reason.contains("not signed") == true)
        // A checkpoint travels as JSON.
        #expect(try Checkpoint(json: try #require(try JSONParser.parse(good.json).objectValue)) == good)
    }

    /// Events are anchored by a checkpoint of their number, or by a later one with a consistency proof; a later
    /// checkpoint without a proof leaves an export unanchored, and a store's log that ends before its
    /// checkpoint has lost events.
    @Test func anchoringByCheckpointsAndConsistencyProofs() throws {
        let events = try Self.chain(10)
        let leaves = events.map { MerkleTree.leafHash($0.hash) }
        let key = Curve25519.Signing.PrivateKey()
        func checkpoint(_ size: Int) throws -> Checkpoint {
            try Checkpoint.sign(tenant: "acme", size: Int64(size), root: MerkleTree.root(ofLeafHashes: leaves.prefix(size)),
                                time: Timestamp(microseconds: Int64(size)), with: key)
        }
        func verifier(_ count: Int, _ checkpoints: [Checkpoint]) -> ChainVerifier {
            var verifier = ChainVerifier(checkpoints: checkpoints, publicKey: key.publicKey)
            for event in events.prefix(count) { verifier.add(event) }
            return verifier
        }
        let (four, six, ten) = (try checkpoint(4), try checkpoint(6), try checkpoint(10))
        let exact = verifier(6, [four, six]).finish(whole: true)
        #expect(exact.status == .anchored && exact.anchoredThrough == 6 && exact.anchor == six && exact.provenBy == nil)
        let tail = verifier(6, [four]).finish(whole: true)
        #expect(tail.status == .unanchored && tail.isValid && tail.anchoredThrough == 4 && tail.anchor == four)
        let early = verifier(6, [four, ten])
        #expect(early.finish(whole: false).status == .unanchored && early.finish(whole: false).laterCheckpoints == [ten])
        #expect(early.finish(whole: true).failure?.reason.contains("events 7…10 were removed") == true)
        var proven = early
        proven.prove(extendsTo: ten, proof: MerkleTree.consistencyProof(from: 6, leafHashes: leaves))
        let anchored = proven.finish(whole: false)
        #expect(anchored.status == .anchored && anchored.anchoredThrough == 6 && anchored.provenBy == ten && anchored.laterCheckpoints.isEmpty)
        var wrong = early
        wrong.prove(extendsTo: ten, proof: MerkleTree.consistencyProof(from: 5, leafHashes: leaves))
        #expect(wrong.finish(whole: false).status == .failed && wrong.failure?.reason.contains("consistency proof does not hold") == true)
        var forged = early
        forged.prove(extendsTo: try Checkpoint.sign(tenant: "acme", size: 10, root: ten.root, time: ten.time, with: Curve25519.Signing.PrivateKey()),
                     proof: MerkleTree.consistencyProof(from: 6, leafHashes: leaves))
        #expect(forged.failure?.reason.contains("not signed") == true)
    }

    @Test func eventsOfAnotherTenantOrOutOfPlaceFail() throws {
        var verifier = ChainVerifier(tenant: "acme")
        let foreign = try Self.chain(1, tenant: "globex")
        verifier.add(foreign[0])
        #expect(verifier.failure == ChainVerifier.Failure(sequence: 1, reason: "the event belongs to tenant globex, not acme"))
        var repeated = ChainVerifier()
        let events = try Self.chain(3)
        for event in [events[0], events[1], events[1]] { repeated.add(event) }
        #expect(repeated.failure?.sequence == 3 && repeated.failure?.reason.contains("comes again") == true)
        var blank = ChainVerifier()
        blank.add(line: Array("  \r".utf8))
        #expect(blank.finish(whole: false).isValid && blank.finish(whole: false).events == 0 && blank.finish(whole: false).status == .unanchored)
    }

    @Test func theFrontierGivesTheRootAtEverySize() {
        var frontier = MerkleTree.Frontier()
        var leaves: [MerkleTree.Hash] = []
        #expect(frontier.root == MerkleTree.emptyRoot)
        for i in 0..<70 {
            let leaf = MerkleTree.leafHash([UInt8(i)])
            leaves.append(leaf)
            frontier.append(leafHash: leaf)
            // The recursive definition of RFC 9162 §2.1.1, computed independently of the frontier.
            func mth(_ slice: ArraySlice<MerkleTree.Hash>) -> MerkleTree.Hash {
                if slice.count == 1 { return slice.first! }
                var k = 1
                while k << 1 < slice.count { k <<= 1 }
                return MerkleTree.nodeHash(mth(slice.prefix(k)), mth(slice.dropFirst(k)))
            }
            #expect(frontier.root == mth(leaves[...]) && frontier.size == Int64(i + 1))
        }
    }
}

/// The verifier's fast canonical form of export lines against the general path (parser, then RFC 8785 encoder).
@Suite struct CanonicalLineTests {
    /// The general path's answer: the canonical form of the parsed line without `hash`, or nil if it has none.
    static func general(_ text: String) -> [UInt8]? {
        guard let object = (try? JSONParser.parse(text))?.objectValue else { return nil }
        return try? CanonicalJSON.encode(.object(object.removing(["hash"])))
    }

    static let hash = String(repeating: "ab", count: 32)

    @Test func agreesWithTheGeneralPathOrGivesUp() throws {
        let lines = [
            #"{"b":1,"a":"x","hash":"\#(Self.hash)"}"#,
            #" { "z" : [ 1 , 2.50 , -0 , 1E2 , 1e-7 , 12345678901234567890 , true , false , null ] , "a" : { "y" : { } , "x" : [ ] } } "#,
            #"{"s":"quote \" backslash \\ nl \n tab \t ctl \u001f bs \b ff \f cr \r","é":"Zoë 日本 😀"}"#,
            #"{"e":"\u00e9"}"#,
            #"{"nul":"\u0000"}"#,
            #"{"sl":"a\/b"}"#,
            #"{"k":"\u000a"}"#,
            #"{"a":1,"a":2}"#,
            #"{"\u0061":1}"#,
            #"{"\#u{E000}":1,"😀":2}"#,
            #"{"n":1e400}"#,
            #"{"n":01}"#,
            #"{"a":[1,]}"#,
            #"{"a":"unterminated}"#,
            #"{"a":1} x"#,
            #"{"deep":"# + String(repeating: "[", count: 70) + String(repeating: "]", count: 70) + "}",
            #"{"ü":{"b":[{"d":1,"c":-3.25e+3}],"a":"\u001f"},"sequence":12,"tenant":"acme","prev_hash":"\#(Self.hash)","hash":"\#(Self.hash)"}"#,
        ]
        var fastCount = 0
        for line in lines {
            let fast = CanonicalLine.canonicalForm(Array(line.utf8))
            if let fast {
                fastCount += 1
                #expect(CanonicalLine.event(Array(line.utf8))?.recomputed == Digest256(MerkleTree.digest(fast)))
                #expect(String(decoding: fast, as: UTF8.self) == Self.general(line).map { String(decoding: $0, as: UTF8.self) }, "\(line)")
            }
        }
        #expect(fastCount == 4, "the common shapes take the fast path")
        #expect(CanonicalLine.event(Array(#"{"a":1,"a":2}"#.utf8)) == nil, "a duplicate name gives up (the parser refuses it)")
        let event = try #require(CanonicalLine.event(Array(lines.last!.utf8)))
        #expect(event.sequence == 12 && event.tenant == "acme" && event.hash?.bytes == Array(repeating: 0xab, count: 32)
                && event.prevHash?.bytes == Array(repeating: 0xab, count: 32))
    }

    /// Strings are skipped eight bytes at a time: a byte that needs a look is found at every offset of a word.
    @Test func everyOffsetOfAStringIsLookedAt() {
        let canonicalizer = CanonicalLine.Canonicalizer()
        var fastCount = 0
        for special in [#"\""#, #"\\"#, #"\n"#, #"\u001f"#, "é", "😀", "\u{1}", "\u{7F}", #"""#, #"\u0041"#] {
            for offset in 0..<17 {
                let text = String(repeating: "x", count: offset) + special + String(repeating: "y", count: 20 - offset)
                let line = #"{"b":"\#(text)","a":"\#(text)"}"#
                let fast = canonicalizer.canonicalForm(Array(line.utf8))
                if let fast {
                    fastCount += 1
                    #expect(fast == Self.general(line), "\(line)")
                } else {
                    // Only what the general path refuses or rewrites is left to it: raw control characters, a
                    // stray quote, a needless escape.
                    #expect(["\u{1}", #"""#, #"\u0041"#].contains(special), "\(line)")
                }
            }
        }
        #expect(fastCount == 7 * 17)
    }

    /// One canonicalizer for lines of changing shapes (its cached member order must not leak from one line to
    /// the next) and for a canonical form longer than its line (numbers written out).
    @Test func oneCanonicalizerForManyLines() {
        let canonicalizer = CanonicalLine.Canonicalizer()
        let lines = [
            #"{"b":1,"a":2,"c":{"z":1,"y":2}}"#,
            #"{"b":1,"a":2,"c":{"z":1,"y":2}}"#,
            #"{"b":1,"c":2,"a":{"y":1,"z":2}}"#,
            #"{"c":1,"b":2,"a":3}"#,
            #"{"a":1,"b":2,"c":3}"#,
            #"{"b":1,"a":2,"b":3}"#,
            #"{"b":1,"a":2,"d":3}"#,
            #"{"n":["# + Array(repeating: "1e20", count: 300).joined(separator: ",") + "]}",
            #"{"b":1,"a":2,"c":{"z":1,"y":2}}"#,
        ]
        for _ in 0..<2 {
            for line in lines {
                #expect(canonicalizer.canonicalForm(Array(line.utf8)) == Self.general(line), "\(line)")
            }
        }
    }

    /// Events as Trail writes them, with random content: both paths give the same hash.
    @Test func randomEventsHashAlikeOnBothPaths() throws {
        var generator = SystemRandomNumberGenerator()
        let words = ["a", "Zoë", "日本", "😀", "quote\"", "back\\slash", "line\nbreak", "\u{1}", "\u{E000}x", "", "tab\t"]
        func value(_ depth: Int) -> JSONValue {
            switch Int.random(in: 0..<(depth > 2 ? 4 : 6), using: &generator) {
            case 0: return .string(words.randomElement(using: &generator)!)
            case 1: return .number(JSONNumber(literal: ["0", "-1", "3.5", "1e3", "12345678901234567890", "-0.000001", "2E-7"].randomElement(using: &generator)!)!)
            case 2: return .bool(Bool.random(using: &generator))
            case 3: return .null
            case 4: return .array((0..<Int.random(in: 0..<4, using: &generator)).map { _ in value(depth + 1) })
            default:
                return .object(JSONObject((0..<Int.random(in: 0..<5, using: &generator)).map { i in
                    JSONObject.Member(key: words.randomElement(using: &generator)! + "\(i)", value: value(depth + 1))
                }))
            }
        }
        var fast = 0
        for i in 0..<500 {
            var event = EventHashTests.events[i % 2]
            event.metadata = value(5).objectValue ?? JSONObject()
            event.actor = value(4).objectValue
            event.summary = words.randomElement(using: &generator)!
            event.hash = try EventHash.of(event)
            var writer = JSONWriter()
            StoredEventJSON.write(event, into: &writer)
            if case .event(let hashed) = ChainVerifier.examine(line: writer.bytes) {
                #expect(hashed.recomputed.bytes == event.hash && hashed.hash.bytes == event.hash)
            } else {
                Issue.record("event \(i) was not examined")
            }
            if let canonical = CanonicalLine.canonicalForm(writer.bytes) {
                fast += 1
                #expect(canonical == (try EventHash.canonicalForm(of: event)))
            }
        }
        #expect(fast > 100)
    }
}
