import Crypto
import Testing
@testable import TrailCore

/// Sealing of personal values (SPEC §11, crypto-shredding): what is sealed, under whose keys, and how reads open it.
@Suite struct PersonalDataTests {
    let ann = SubjectKey.make()
    let actor = SubjectKey.make()

    @Test func sealingIsDeterministicAndOpensOnlyWithEveryKey() {
        let once = SealedValue.seal("Ann <ann@example.com>", under: [ann, actor])
        #expect(once == SealedValue.seal("Ann <ann@example.com>", under: [actor, ann]), "same value, same keys: same text")
        #expect(once != SealedValue.seal("Ann <ann@example.com>", under: [ann]))
        #expect(once.hasPrefix(SealedValue.prefix) && !once.contains("ann@"))
        #expect(SealedValue.keyIDs(in: once) == [ann.id, actor.id])
        let both = [ann.id: ann.key, actor.id: actor.key]
        #expect(SealedValue.open(once, keys: both) == "Ann <ann@example.com>")
        #expect(SealedValue.open(once, keys: [ann.id: ann.key]) == Erasure.replacement, "one key gone: unreadable")
        #expect(SealedValue.open(once, keys: [ann.id: ann.key, actor.id: SubjectKey.make().key]) == Erasure.replacement)
    }

    @Test func sealedValuesAreOpenedInsideText() {
        let sealed = SealedValue.seal("ann@example.com", under: [ann])
        let sentence = "Email changed from \(sealed) to x."
        #expect(SealedValue.open(sentence, keys: [ann.id: ann.key]) == "Email changed from ann@example.com to x.")
        #expect(SealedValue.open(sentence, keys: [:]) == "Email changed from [erased] to x.")
        // Text that only looks like a sealed value is left as it is.
        for text in ["trail:sealed:1:", "trail:sealed:1:zz:abc", "trail:sealed:1:\(ann.id):", "no seal here"] {
            #expect(SealedValue.open(text, keys: [ann.id: ann.key]) == text)
        }
    }

    @Test func storedJSONColumnsOpenWithTheirEscapes() throws {
        let awkward = "Zoë \"the\" O'Neil\n\\ <ann@example.com>"
        var actor = JSONObject()
        actor.append("id", "12")
        actor.append("name", .string(SealedValue.seal(awkward, under: [ann])))
        let event = RecordedEvent(
            id: "e", sequence: 1, tenant: "t", occurredAt: Timestamp(microseconds: 0), recordedAt: Timestamp(microseconds: 0),
            action: "login", actor: actor, resourceType: nil, resourceId: nil, version: nil, changes: JSONObject(),
            summary: "", context: nil, metadata: nil, prevHash: EventHash.genesis, hash: EventHash.genesis)
        let columns = StoredEventColumns(event)
        #expect(columns.sealedKeyIDs == [ann.id] && event.sealedKeyIDs == [ann.id])
        let opened = columns.opened(keys: [ann.id: ann.key])
        #expect(try JSONParser.parse(opened.actor!) == .object(JSONObject([.init(key: "id", value: "12"), .init(key: "name", value: .string(awkward))])))
        #expect(event.opened(keys: [ann.id: ann.key]).actor?["name"] == .string(awkward))
        #expect(try JSONParser.parse(columns.opened(keys: [:]).actor!).objectValue?["name"] == .string(Erasure.replacement))
    }

    @Test func whatIsPersonal() throws {
        let policy = PersonalDataPolicy()
        let activity = try #require(try ActivityStream.submission(from: JSONParser.parse(#"""
            {"verb":"updated","actor":{"id":"12","name":"Zed","type":"user"},
             "object":{"type":"user","id":"u-1","data":{"plan":"pro","phone":"555-1234","note":"mail ANN@Example.com now","age":41}},
             "context":{"ip":"10.0.0.1","request_id":"r-1"},"metadata":{"source":"web"}}
            """#)).get().activities.first)
        // The address of the request is the actor's, and `ip` a personal key: sealed under both keys.
        #expect(policy.subjects(of: activity) == [.actor("12"), .value("555-1234"), .value("ann@example.com"), .value("10.0.0.1")])
        let subjects = policy.subjects(of: activity)
        var keys: [DataSubject: SubjectKey] = [:]
        for subject in subjects { keys[subject] = SubjectKey.make() }
        let sealed = policy.seal(activity, keys: keys, blindKey: SymmetricKey(size: .bits256))
        func isSealed(_ value: JSONValue?) -> Bool { value?.stringValue?.hasPrefix(SealedValue.prefix) == true }
        #expect(sealed.actor?["id"] == "12" && sealed.actor?["type"] == "user" && isSealed(sealed.actor?["name"]))
        #expect(isSealed(sealed.context?["ip"]) && sealed.context?["request_id"] == "r-1")
        let data = sealed.data["data"]?.objectValue
        #expect(data?["plan"] == "pro" && data?["age"] == 41)
        #expect(isSealed(data?["phone"]) && isSealed(data?["note"]))
        #expect(sealed.metadata?["source"] == "web" && sealed.resourceId == "u-1" && sealed.actorId == "12")
        // Searchable places get tokens (the actor's name, data values), the context does not.
        #expect(sealed.sealedWords.count == Set(["zed", "555", "1234", "mail", "ann", "example", "com", "now"]).count)
        // Opened, everything is as given.
        let ids = Dictionary(uniqueKeysWithValues: keys.values.map { ($0.id, $0.key) })
        #expect(sealed.data.opened(keys: ids) == activity.data && sealed.actor?.opened(keys: ids) == activity.actor)
        // A string that looks sealed is sealed too, so that reads never take it for one.
        let lookalike = "trail:sealed:1:\(ann.id):AAAA"
        #expect(policy.subjects(of: Activity(action: "x", actor: nil, actorId: nil, resourceType: nil, resourceId: nil,
                                             metadata: JSONObject([.init(key: "k", value: .string(lookalike))])))
                == [.value(lookalike)])
    }

    /// What a seal records as known opens without any key, in whole values and inside a sentence; what it did
    /// not seal still needs its key.
    @Test func knownPlaintextsOpenWithoutKeys() throws {
        let policy = PersonalDataPolicy()
        let activity = try #require(try ActivityStream.submission(from: JSONParser.parse(#"""
            {"verb":"updated","actor":{"id":"12","name":"Zed"},"object":{"type":"user","id":"u-1","email":"z@x.io"}}
            """#)).get().activities.first)
        var keys: [DataSubject: SubjectKey] = [:]
        for subject in policy.subjects(of: activity) { keys[subject] = SubjectKey.make() }
        var plaintexts: [String: String] = [:]
        let sealed = try #require(policy.seal(activity, blindKey: SymmetricKey(size: .bits256), plaintexts: &plaintexts) { subjects in
            SealingKey(subjects.map { keys[$0]! })
        })
        let email = try #require(sealed.data["email"]?.stringValue)
        #expect(plaintexts[email] == "z@x.io" && plaintexts.count == 2)
        let ring = KeyRing([:], known: plaintexts)
        #expect(sealed.data.opened(keys: ring) == activity.data && sealed.actor?.opened(keys: ring) == activity.actor)
        #expect(SealedValue.open("email set to \(email).", keys: ring) == "email set to z@x.io.")
        // Another value under the same key is not known: without the key it reads as erased.
        let other = SealedValue.seal("y@x.io", under: [keys[.value("z@x.io")]!])
        #expect(SealedValue.open(other, keys: ring) == Erasure.replacement)
    }

    /// A memo gives back exactly what sealing would, and forgets when told.
    @Test func aMemoGivesWhatSealingGives() {
        let subject = SubjectKey.make()
        let memo = SealedMemo()
        let remembered = SealingKey([subject], memo: memo)
        let plain = SealingKey([subject])
        for value in ["Ann", "ann@example.com", "Ann"] {
            #expect(SealedValue.seal(value, with: remembered) == SealedValue.seal(value, with: plain))
        }
        #expect(memo.sealed("Ann", header: plain.header)?.sealed == SealedValue.seal("Ann", with: plain))
        // With the search tokens of the words: the same as made afresh, the first time and from the memo, also
        // for a value the memo held without tokens ("Ann").
        let blindKey = SymmetricKey(size: .bits256)
        for value in ["Ann", "Ann Lee ann lee", "Ann Lee ann lee"] {
            let fresh = SealedValue.sealSearchable(value, with: plain, blindKey: blindKey)
            #expect(SealedValue.sealSearchable(value, with: remembered, blindKey: blindKey) == fresh)
        }
        let tokens = SealedValue.sealSearchable("Ann Lee ann lee", with: plain, blindKey: blindKey).tokens
        #expect(tokens == ["ann", "lee", "ann", "lee"].map { SealedValue.blindWord($0, key: blindKey) })
        memo.forgetAll()
        #expect(memo.sealed("Ann", header: plain.header) == nil)
    }

    /// A ring with a memo opens what a ring without one opens, and a value whose key is gone is never shown from
    /// the memo, even after it was opened.
    @Test func aMemoOfOpenedValuesNeverOutlivesTheKey() {
        let subject = SubjectKey.make()
        let memo = SealedMemo()
        let sealed = SealedValue.seal("ann@example.com", under: [subject])
        let text = "mail \(sealed) twice \(sealed)"
        let plain = SealedValue.open(text, keys: KeyRing([subject.id: subject.key]))
        #expect(plain == "mail ann@example.com twice ann@example.com")
        for _ in 0..<2 {  // the first opens and remembers, the second takes it from the memo
            #expect(SealedValue.open(text, keys: KeyRing([subject.id: subject.key], memo: memo)) == plain)
        }
        #expect(SealedValue.open(text, keys: KeyRing([:], memo: memo))
                == "mail \(Erasure.replacement) twice \(Erasure.replacement)")
    }

    @Test func emailAddressesInText() {
        let policy = PersonalDataPolicy(personalKeys: [])
        func found(_ text: String) -> [DataSubject] { policy.subjects(of: text, at: .init(), actorId: nil) }
        #expect(found("write to Ann.Lee+x@mail.example.org, or bob@b.io.") == [.value("ann.lee+x@mail.example.org"), .value("bob@b.io")])
        for text in ["@handle", "a@b", "user@localhost", "x@y.1", "no at all", "a@.com"] {
            #expect(found(text).isEmpty, "\(text)")
        }
    }
}
