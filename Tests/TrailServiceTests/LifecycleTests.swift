import Logging
import Synchronization
import Testing
import TrailCore
@testable import TrailService
import TrailStore
import TrailTestSupport

/// Retention and legal holds (SPEC §11) on both stores: a dry run changes nothing; a cleanup removes exactly what
/// its rules let go and no held event; removed events keep their place, so the chain, the checkpoints and the
/// proofs of the others still verify; verification counts them, and still finds an edited row next to them.
@Suite struct LifecycleTests {
    typealias TestClock = OperationsTests.TestClock

    static func activity(_ verb: String, _ type: String, _ id: String, _ data: String = "{}") -> [UInt8] {
        Array(#"{"verb":"\#(verb)","actor":{"id":"12","name":"Ann"},"object":{"type":"\#(type)","id":"\#(id)","data":\#(data)},"context":{"ip":"10.0.0.1"}}"#.utf8)
    }

    func withClockedStore(_ kind: StoreKind, _ body: (any TrailStorage, TestClock) async throws -> Void) async throws {
        let clock = TestClock()
        try await withFreshLocation(kind) { location, _ in
            try await location.withStore(configuration: StoreConfiguration(clock: clock.read)) { store in try await body(store, clock) }
        }
    }

    static let rules = Array(#"{"rules":[{"resource_type":"user","keep_days":1},{"resource_type":"order","keep_days":10}]}"#.utf8)

    @Test(arguments: StoreKind.available)
    func cleanupRemovesWhatTheRulesLetGoAndEveryProofStillHolds(kind: StoreKind) async throws {
        try await withClockedStore(kind) { store, clock in
            let ingest = ActivityIngest(store: store, tenant: "acme")
            for body in [Self.activity("created", "user", "u-1", #"{"email":"ann@example.com"}"#),
                         Self.activity("updated", "user", "u-1", #"{"email":"ann@example.org"}"#),
                         Self.activity("created", "user", "u-2", #"{"email":"bob@example.com"}"#),
                         Self.activity("created", "order", "o-1")] {
                _ = try await ingest.ingest(body: body, idempotencyKey: nil)
            }
            let signer = Checkpointer(store: store, configuration: CheckpointConfiguration(everyEvents: 1), logger: Logger(label: "test"),
                                      clock: clock.read)
            #expect(try await signer.signDue().map(\.size) == [4])
            let holds = LegalHolds(store: store, clock: clock.read)
            let hold = try await holds.create(body: Array(#"{"name":"dispute 7","reason":"court order","match":{"resource_id":"u-2"}}"#.utf8),
                                              tenant: "acme", by: .commandLine)
            clock.advance(seconds: 2 * 86_400)
            _ = try await ingest.ingest(body: Self.activity("created", "order", "o-2"), idempotencyKey: nil)
            let retention = Retention(store: store, batchSize: 2, clock: clock.read)
            _ = try await retention.setPolicy(body: Self.rules, tenant: "acme", by: .commandLine)
            let before = try await store.events(tenant: "acme", matching: EventQuery(oldestFirst: true, includesAccess: true, limit: 100))

            // A dry run counts and changes nothing.
            let dry = try await retention.run(tenant: "acme", dryRun: true, by: .commandLine)
            #expect(dry.rules.map(\.removed) == [2, 0] && dry.rules.map(\.held) == [1, 0])
            #expect(try await store.events(tenant: "acme", matching: EventQuery(oldestFirst: true, includesAccess: true, limit: 100)) == before)

            // The real run removes the two events of u-1, and records it first.
            let real = try await retention.run(tenant: "acme", dryRun: false, by: .commandLine)
            #expect(real.rules.map(\.removed) == [2, 0] && real.rules.map(\.held) == [1, 0])
            let history = try await store.history(tenant: "acme", resourceType: "user", resourceId: "u-1")
            #expect(history.map(\.version) == [1, 2])
            #expect(history.allSatisfy { $0.removedAt != nil && $0.actor == nil && $0.context == nil && $0.changes.isEmpty && $0.summary.isEmpty })
            #expect(history.map(\.hash) == before.prefix(2).map(\.hash), "removed events keep their hashes")
            #expect(try await store.history(tenant: "acme", resourceType: "user", resourceId: "u-2").allSatisfy { $0.removedAt == nil })
            #expect(try await store.history(tenant: "acme", resourceType: "order", resourceId: "o-1").allSatisfy { $0.removedAt == nil })
            // Nothing finds them by their words any more; the current state is kept, the state at version 1 is not.
            let found = try await store.events(tenant: "acme", matching: EventQuery(search: SearchQuery("ann")!, limit: 10)).map(\.sequence)
            #expect(found.contains(3) && !found.contains(1) && !found.contains(2), "\(found)")
            let latest = try #require(try await store.snapshot(tenant: "acme", resourceType: "user", resourceId: "u-1", at: .latest))
            #expect(latest.state.map { JSONWriter.string($0) }?.contains("ann@example.org") == true && !latest.removed)
            let first = try #require(try await store.snapshot(tenant: "acme", resourceType: "user", resourceId: "u-1", at: .version(1)))
            #expect(first.removed && first.state == nil)
            let records = try await store.events(tenant: "acme", matching: EventQuery(category: "AUDIT_ADMIN", oldestFirst: true, limit: 10))
            #expect(records.map(\.action) == ["legal_hold_created", "retention_rules_set", "retention_cleanup"])
            #expect(records.last?.metadata?["removed_sequences"] == [[1, 2]])

            // The chain, the checkpoint of size 4 and every proof still hold; verification counts the removed.
            #expect(try await signer.signDue().count == 1)
            let report = try await Verification.verifyStore(store, tenant: "acme")
            #expect(report.isValid && report.status == .anchored && report.removed == 2, "\(String(describing: report.failure))")
            let proofs = IntegrityProofs(store: store, tenant: "acme")
            let inclusion = try await proofs.inclusion(eventID: before[2].id, size: nil)
            #expect(MerkleTree.verifyInclusion(leafHash: MerkleTree.leafHash(inclusion.event.hash), index: 2, size: Int(inclusion.treeSize),
                                               proof: inclusion.proof, root: inclusion.root))
            let consistency = try await proofs.consistency(from: "4", to: nil)
            #expect(consistency.fromCheckpoint?.size == 4)
            #expect(MerkleTree.verifyConsistency(first: 4, second: Int(consistency.to), firstRoot: consistency.fromRoot,
                                                 secondRoot: consistency.toRoot, proof: consistency.proof))

            // Again: nothing more to remove, nothing recorded. Released, the hold keeps nothing.
            #expect(try await retention.run(tenant: "acme", dryRun: false, by: .commandLine).removed == 0)
            _ = try await holds.release(id: hold.id, tenant: "acme", by: .commandLine)
            let after = try await retention.run(tenant: "acme", dryRun: false, by: .commandLine)
            #expect(after.removed == 1 && after.held == 0)
            #expect(try await Verification.verifyStore(store, tenant: "acme").removed == 3)
        }
    }

    /// An export of a log with removed events verifies; the same export with an intact event edited, or one
    /// emptied by hand (no cleanup names it), fails at that event.
    @Test(arguments: StoreKind.available)
    func removedEventsVerifyButEditsNextToThemDoNot(kind: StoreKind) async throws {
        try await withClockedStore(kind) { store, clock in
            let ingest = ActivityIngest(store: store, tenant: "acme")
            for n in 1...4 { _ = try await ingest.ingest(body: Self.activity("created", "user", "u-\(n)"), idempotencyKey: nil) }
            clock.advance(seconds: 2 * 86_400)
            _ = try await ingest.ingest(body: Self.activity("created", "order", "o-1"), idempotencyKey: nil)
            let retention = Retention(store: store, clock: clock.read)
            _ = try await retention.setPolicy(body: Array(#"{"rules":[{"resource_type":"user","keep_days":1}]}"#.utf8), tenant: "acme", by: .commandLine)
            #expect(try await retention.run(tenant: "acme", dryRun: false, by: .commandLine).removed == 4)
            let lines = try await LifecycleTests.exportLines(store, tenant: "acme")
            let verify = LifecycleTests.verify
            let clean = verify(lines)
            #expect(clean.isValid && clean.removed == 4)
            #expect(lines[0].contains(#""removed":true"#))

            var edited = lines
            edited[4] = edited[4].replacingOccurrences(of: "o-1", with: "o-9")
            #expect(verify(edited).failure?.sequence == 5)

            // Event 5 emptied by hand, its hash kept: no cleanup names it.
            var emptied = lines
            let removedAt = #","removed":true,"removed_at":"2030-01-01T00:00:00Z""#
            emptied[4] = emptied[4].replacingOccurrences(of: #","prev_hash""#, with: removedAt + #","prev_hash""#)
            let report = verify(emptied)
            #expect(report.failure?.sequence == 5 && report.failure?.reason.contains("outside a cleanup") == true, "\(String(describing: report.failure))")
        }
    }

    /// A hold placed while a cleanup runs is obeyed from its next batch: batches of one event, the cleanup
    /// pausing two seconds after each batch it removes, the hold placed once the first is gone.
    @Test(arguments: StoreKind.available)
    func aHoldPlacedDuringACleanupStopsItsNextBatches(kind: StoreKind) async throws {
        try await withClockedStore(kind) { store, clock in
            let ingest = ActivityIngest(store: store, tenant: "acme")
            for n in 1...4 { _ = try await ingest.ingest(body: Self.activity("created", "user", "u-\(n)"), idempotencyKey: nil) }
            clock.advance(seconds: 2 * 86_400)
            let retention = Retention(store: store, batchSize: 1, pause: 0, minimumPause: .seconds(2), clock: clock.read)
            _ = try await retention.setPolicy(body: Array(#"{"rules":[{"resource_type":"user","keep_days":1}]}"#.utf8), tenant: "acme", by: .commandLine)
            let run = Task { try await retention.run(tenant: "acme", dryRun: false, by: .commandLine) }
            let deadline = ContinuousClock.now + .seconds(60)
            while try await store.history(tenant: "acme", resourceType: "user", resourceId: "u-1").first?.removedAt == nil,
                  ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(2))
            }
            _ = try await LegalHolds(store: store, clock: clock.read).create(
                body: Array(#"{"name":"late","match":{"resource_type":"user"}}"#.utf8), tenant: "acme", by: .commandLine)
            let report = try await run.value
            #expect(report.removed == 1 && report.held == 3, "\(report)")
            for n in 2...4 {
                #expect(try await store.history(tenant: "acme", resourceType: "user", resourceId: "u-\(n)")[0].removedAt == nil)
            }
        }
    }

    @Test func badRulesAndHoldsAreRefusedWithTheirPaths() async throws {
        func paths(_ body: String, minimumDays: Double = 0) -> [String] {
            Self.faultPaths(body) { _ = try RetentionPolicy.parse($0, minimumDays: minimumDays) }
        }
        #expect(paths(#"{"rules":[{"resource_type":"user","keep_dayz":3}]}"#) == ["rules[0].keep_dayz", "rules[0].keep_days"])
        #expect(paths(#"{"rules":[{"resource_type":"user","keep_days":-1}]}"#) == ["rules[0].keep_days"])
        #expect(paths(#"{"rules":[{"resource_type":"user","keep_days":3.6e307}]}"#) == ["rules[0].keep_days"])
        #expect(paths(#"{"rules":[{"resource_type":"user","keep_days":0.5}]}"#, minimumDays: 30) == ["rules[0].keep_days"])
        #expect(paths(#"{"rules":[{"keep_days":1},{"resource_type":"*","keep_days":1},{"resource_type":"*","keep_days":2}]}"#)
                == ["rules[0].resource_type", "rules[2]"])
        #expect(paths(#"{"rules":[]}"#).isEmpty)
        #expect(paths(#"{"rules":[{"resource_type":"*","category":"LOGIN","keep_days":0.0001}]}"#).isEmpty)

        func holdPaths(_ body: String) -> [String] {
            Self.faultPaths(body) { _ = try LegalHold.parse($0) }
        }
        #expect(holdPaths(#"{"name":"x","match":{}}"#) == ["match"])
        #expect(holdPaths(#"{"name":"x","match":{"since":"yesterday","colour":"red"}}"#) == ["match.colour", "match.since"])
        #expect(holdPaths(#"{"match":{"actor":"12"}}"#) == ["name"])
        #expect(holdPaths(#"{"name":"x","match":{"actor":"12","since":"2026-02-01T00:00:00Z","until":"2026-01-01T00:00:00Z"}}"#) == ["match.until"])
        #expect(holdPaths(#"{"name":"x","reason":"r","match":{"resource_type":"user"}}"#).isEmpty)
    }

    @Test func theMostSpecificRuleDecides() {
        let policy = RetentionPolicy(rules: [
            RetentionRule(resourceType: "*", keepDays: 1),
            RetentionRule(resourceType: "*", category: "LOGIN", keepDays: 2),
            RetentionRule(resourceType: "user", keepDays: 3),
            RetentionRule(resourceType: "user", category: "LOGIN", keepDays: 4),
        ])
        #expect(policy.rule(resourceType: "order", category: nil) == 0)
        #expect(policy.rule(resourceType: nil, category: "LOGIN") == 1)
        #expect(policy.rule(resourceType: "user", category: nil) == 2)
        #expect(policy.rule(resourceType: "user", category: "LOGIN") == 3)
        #expect(RetentionPolicy(rules: [RetentionRule(resourceType: "user", keepDays: 1)]).rule(resourceType: "order", category: nil) == nil)
    }
}

extension LifecycleTests {
    /// A tenant's events as the lines of an export.
    static func exportLines(_ store: any TrailStorage, tenant: String) async throws -> [String] {
        var query = EventQuery(oldestFirst: true, includesAccess: true, limit: 100)
        query.sealed = true  // as stored: what the hashes cover
        let page = try await store.eventColumns(tenant: tenant, matching: query)
        return Verification.exportLines(page).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Export lines verified as `trail verify --export` reads them (not as a whole store's log).
    static func verify(_ lines: [String]) -> ChainVerifier.Report {
        var verifier = ChainVerifier()
        for line in lines { verifier.add(line: Array(line.utf8)) }
        return verifier.finish(whole: false)
    }

    /// The paths of the faults `parse` finds in `body`, none when it takes it.
    static func faultPaths(_ body: String, _ parse: (JSONValue) throws -> Void) -> [String] {
        do {
            try parse(try JSONParser.parse(Array(body.utf8)))
            return []
        } catch let error as InvalidSubmission {
            return error.errors.map(\.path)
        } catch {
            return ["\(error)"]
        }
    }
}
