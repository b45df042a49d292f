// Micro-benchmarks of a create's pure steps (issue 27): parse, normalise, diff, seal, hash, search words, encode.
// Run: TRAIL_BENCHMARKS=1 swift package --scratch-path .build-bench benchmark   (docs/benchmarks.md)
import Benchmark
import Crypto
import TrailCore

/// The body of an object-style create, as `scripts/bench/wrk/creates.lua` sends it.
let createBody = Array("""
    {"actor":{"id":"12","name":"John"},"verb":"create","object":{"id":"p0w1-1","type":"user","username":"johndoe",\
    "email":"john@example.com","age":21}}
    """.utf8)

/// A stored event of that size, for the steps after the writer.
func storedEvent() throws -> RecordedEvent {
    let state = try JSONParser.parse(#"{"username":"johndoe","email":"john@example.com","age":21,"plan":"pro"}"#).objectValue!
    let changes = Diff.encode(Diff.changes(from: nil, to: state))
    var event = RecordedEvent(
        id: "0b7d3c52-9f1e-4d33-8e8e-6d1d2a0f4c11", sequence: 42, tenant: "default",
        occurredAt: Timestamp(microseconds: 1_764_000_000_000_000), recordedAt: Timestamp(microseconds: 1_764_000_000_000_000),
        action: "create", actor: try JSONParser.parse(#"{"id":"12","name":"John"}"#).objectValue, resourceType: "user",
        resourceId: "p0w1-1", version: 1, changes: changes, summary: "Created user p0w1-1",
        context: try JSONParser.parse(#"{"ip":"127.0.0.1","user_agent":"wrk"}"#).objectValue, metadata: nil,
        prevHash: EventHash.genesis, hash: EventHash.genesis)
    event.hash = try EventHash.of(event)
    return event
}

struct Sealing {
    var policy: PersonalDataPolicy
    var activity: Activity
    var keys: [[DataSubject]: SealingKey]
    var blind: SymmetricKey
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(metrics: [.wallClock, .mallocCountTotal, .throughput], maxDuration: .seconds(2))

    Benchmark("parse a create's body") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(try JSONParser.parse(createBody)) }
    }
    Benchmark("normalise it into an activity") { benchmark, body in
        for _ in benchmark.scaledIterations { blackHole(ActivityStream.submission(from: body)) }
    } setup: {
        try JSONParser.parse(createBody)
    }
    Benchmark("diff an update (4 fields, 2 changed)") { benchmark, states in
        for _ in benchmark.scaledIterations { blackHole(Diff.changes(from: states.0, to: states.1)) }
    } setup: {
        (try JSONParser.parse(#"{"username":"johndoe","email":"john@example.com","age":21,"plan":"pro"}"#).objectValue!,
         try JSONParser.parse(#"{"username":"johndoe","email":"john@example.org","age":22,"plan":"pro"}"#).objectValue!)
    }
    // As the server seals: each set of subjects' sealing key made once and cached (PersonalData); with the
    // memo, values sealed before (the same name, address and user agent) are not encrypted again.
    for memo in [false, true] {
        Benchmark(memo ? "seal its personal values (keys cached, values seen before)" : "seal its personal values (keys cached)") {
            benchmark, input in
            for _ in benchmark.scaledIterations {
                var plaintexts: [String: String] = [:]
                blackHole(input.policy.seal(input.activity, blindKey: input.blind, plaintexts: &plaintexts) { input.keys[$0] })
            }
        } setup: { () throws -> Sealing in
            let policy = PersonalDataPolicy()
            var activity = try ActivityStream.submission(from: JSONParser.parse(createBody)).get().activities[0]
            activity.addRequestContext(try JSONParser.parse(#"{"ip":"127.0.0.1","user_agent":"wrk"}"#).objectValue!)
            var subjectKeys: [DataSubject: SubjectKey] = [:]
            for subject in policy.subjects(of: activity) { subjectKeys[subject] = SubjectKey.make() }
            var keys: [[DataSubject]: SealingKey] = [:]
            var plaintexts: [String: String] = [:]
            let shared = memo ? SealedMemo() : nil
            let blind = SymmetricKey(size: .bits256)  // a tenant's one blind key, as a memo's entries assume
            _ = policy.seal(activity, blindKey: blind, plaintexts: &plaintexts) { subjects in
                let key = SealingKey(subjects.map { subjectKeys[$0]! }, memo: shared)
                keys[subjects] = key
                return key
            }
            return Sealing(policy: policy, activity: activity, keys: keys, blind: blind)
        }
    }
    Benchmark("hash a stored event (canonical JSON + SHA-256)") { benchmark, event in
        for _ in benchmark.scaledIterations { blackHole(try EventHash.of(event)) }
    } setup: {
        try storedEvent()
    }
    Benchmark("its search words") { benchmark, event in
        for _ in benchmark.scaledIterations { blackHole(SearchText.document(for: event)) }
    } setup: {
        try storedEvent()
    }
    Benchmark("encode it for the answer (§4 JSON)") { benchmark, event in
        for _ in benchmark.scaledIterations {
            var writer = JSONWriter(capacity: 512)
            StoredEventJSON.write(event, into: &writer)
            blackHole(writer.bytes)
        }
    } setup: {
        try storedEvent()
    }
}
