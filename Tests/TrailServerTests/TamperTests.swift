import Foundation
import GRDB
import Logging
import Testing
import TrailCore
import TrailServer
@testable import TrailService
import TrailStore
import TrailTestSupport

/// Tampering behind Trail's back (triggers dropped, SQL on the real database, edits of a real export file) is
/// detected by `trail verify`, run as a user runs it, naming the first bad sequence (SPEC §8).
@Suite struct TamperTests {
    /// 30 events of tenant acme (and a few of globex), with checkpoints signed at 10, 20 and 30; the public key
    /// (PEM) and the witness file (every checkpoint, one per line) written next to the database.
    struct Setup {
        var location: StoreLocation
        var fresh: FreshLocation
        var publicKey: URL { fresh.directory.appendingPathComponent("trail.pub") }
        var witness: URL { fresh.directory.appendingPathComponent("witness.ndjson") }
        var export: URL { fresh.directory.appendingPathComponent("acme.ndjson") }
    }

    func withSetup(_ kind: StoreKind, _ body: (Setup) async throws -> Void) async throws {
        try await withFreshLocation(kind) { location, fresh in
            let setup = Setup(location: location, fresh: fresh)
            try await location.withStore { store in
                let signer = Checkpointer(
                    store: store, configuration: CheckpointConfiguration(everyEvents: 10, witnessFile: setup.witness.path),
                    logger: Logger(label: "test"))
                for round in 0..<3 {
                    for i in 0..<10 {
                        let n = round * 10 + i
                        _ = try await store.append(AppendRequest(tenant: "acme", activities: [
                            Activity(action: n % 3 == 0 ? "created" : "updated", actor: JSONObject([.init(key: "id", value: "7")]),
                                     actorId: "7", resourceType: "doc", resourceId: "d-\(n % 4)",
                                     data: JSONObject([.init(key: "n", value: .number(JSONNumber(n)))])),
                        ]))
                    }
                    _ = try await store.append(AppendRequest(tenant: "globex", activities: [
                        Activity(action: "login", actor: JSONObject([.init(key: "id", value: "g")]), actorId: "g", resourceType: nil, resourceId: nil, reportedChanges: []),
                    ]))
                    // globex's single new events wait for the interval after its first checkpoint.
                    #expect(try await signer.signDue().map(\.size) == [Int64(round * 10 + 10)] + (round == 0 ? [1] : []))
                }
                try Data(try await Verification.publicKey(of: store).pemRepresentation.utf8).write(to: setup.publicKey)
            }
            let export = try await trail(["export", "--format", "ndjson", "--include-access", "--tenant", "acme",
                                    "--output", setup.export.path, "--database", fresh.text])
            #expect(export.status == 0, "\(export.errors)")
            try await body(setup)
        }
    }

    func trail(_ arguments: [String]) async throws -> CommandLineTests.Run {
        try await CommandLineTests().trail(arguments)
    }

    /// Runs SQL on the database with Trail's protections removed, as someone with access to the files would.
    func tamper(_ setup: Setup, _ statements: [String]) async throws {
        switch setup.location {
        case .sqlite(let path, _):
            let queue = try outsideConnection(path)
            try await queue.writeWithoutTransaction { db in
                try db.execute(sql: """
                    PRAGMA foreign_keys = OFF;
                    DROP TRIGGER IF EXISTS events_no_update; DROP TRIGGER IF EXISTS events_no_delete;
                    DROP TRIGGER IF EXISTS checkpoints_no_delete;
                    """)
                for statement in statements { try db.execute(sql: statement) }
            }
        case .postgres(let url, _):
            for statement in ["DROP TRIGGER IF EXISTS events_no_update ON events", "DROP TRIGGER IF EXISTS events_no_delete ON events",
                              "DROP TRIGGER IF EXISTS events_appended ON events",
                              "DROP TRIGGER IF EXISTS checkpoints_no_change ON checkpoints"] + statements {
                try await PostgresAdmin.execute(statement, on: url)
            }
        }
    }

    func expectFailure(_ run: CommandLineTests.Run, at sequence: Int64, _ reason: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(run.status == 1, "\(run.output) \(run.errors)", sourceLocation: sourceLocation)
        #expect(run.output.contains("acme: FAILED at sequence \(sequence): "), "\(run.output)", sourceLocation: sourceLocation)
        #expect(run.output.contains(reason), "\(run.output)", sourceLocation: sourceLocation)
    }

    func verifyDatabase(_ setup: Setup, _ extra: [String] = []) async throws -> CommandLineTests.Run {
        try await trail(["verify", "--database", setup.fresh.text, "--tenant", "acme"] + extra)
    }

    @Test(arguments: StoreKind.available)
    func anUntouchedStoreAndItsExportVerify(kind: StoreKind) async throws {
        try await withSetup(kind) { setup in
            // acme's every event is under a checkpoint; globex's newest two are not (yet): status 3 for the store.
            let whole = try await trail(["verify", "--database", setup.fresh.text])
            #expect(whole.status == 3, "\(whole.output) \(whole.errors)")
            #expect(whole.output.contains("acme: VERIFIED — 30 events, hash chain intact"))
            #expect(whole.output.contains("3 checkpoints verified; every event is covered by a signed checkpoint (latest: size 30"))
            #expect(whole.output.contains("globex: NOT ANCHORED — 3 events, hash chain intact") && whole.output.contains("events 2–3 are covered by no signed checkpoint"))
            #expect(try await verifyDatabase(setup).status == 0)
            let json = try JSONParser.parse(try await trail(["verify", "--database", setup.fresh.text, "--tenant", "globex", "--json"]).output)
            #expect(json["status"] == "unanchored" && json["valid"] == true && json["anchored_through"]?.intValue == 1 && json["unanchored_events"]?.intValue == 2)
            let offline = try await trail(["verify", "--export", setup.export.path, "--public-key", setup.publicKey.path,
                                     "--checkpoint", setup.witness.path])
            #expect(offline.status == 0, "\(offline.output) \(offline.errors)")
            #expect(offline.output.contains("acme: VERIFIED — 30 events") && offline.output.contains("3 checkpoints verified"))
            // Nothing to verify is neither a pass nor tampering: status 2.
            for arguments in [["--database", setup.fresh.text, "--tenant", "nobody"], ["--export", "/nonexistent/export.ndjson"],
                              ["--database", setup.fresh.directory.appendingPathComponent("none.sqlite").path]] {
                let run = try await trail(["verify"] + arguments)
                // PostgresNIO may warn first that a connection was leased before its pool ran (a harmless race when
                // the store opens; the lease waits for the pool).
                #expect(run.status == 2 && run.errors.split(separator: "\n").contains { $0.hasPrefix("error: ") },
                        "\(arguments): \(run.errors)")
            }
            #expect(try await trail(["verify", "--database", setup.fresh.text, "--tenant", "nobody"]).errors.contains("tenant nobody has no events"))
        }
    }

    @Test(arguments: StoreKind.available)
    func aChangedFieldIsFoundAtItsEvent(kind: StoreKind) async throws {
        try await withSetup(kind) { setup in
            try await tamper(setup, ["UPDATE events SET summary = 'Nothing happened.' WHERE tenant = 'acme' AND sequence = 7"])
            expectFailure(try await verifyDatabase(setup), at: 7, "does not match its hash")
        }
    }

    @Test(arguments: StoreKind.available)
    func aDeletedEventInTheMiddleIsFound(kind: StoreKind) async throws {
        try await withSetup(kind) { setup in
            try await tamper(setup, ["DELETE FROM events WHERE tenant = 'acme' AND sequence = 15"])
            expectFailure(try await verifyDatabase(setup), at: 15, "event 15 is missing")
        }
    }

    /// Removing the newest events leaves a valid chain: what is signed (the checkpoints, and the witness outside
    /// the database when the checkpoints are removed too) finds it.
    @Test(arguments: StoreKind.available)
    func deletedNewestEventsAreFoundByTheCheckpoints(kind: StoreKind) async throws {
        try await withSetup(kind) { setup in
            try await tamper(setup, ["DELETE FROM events WHERE tenant = 'acme' AND sequence > 25"])
            expectFailure(try await verifyDatabase(setup), at: 26, "covers 30")
            // A signer started on the altered store finds its newest checkpoint no longer matches, and signs
            // nothing more for the tenant: it must not vouch for the shortened log.
            let signed = try await setup.location.withStore { store in
                try await Checkpointer(store: store, configuration: CheckpointConfiguration(everyEvents: 1), logger: Logger(label: "test")).signDue()
            }
            #expect(!signed.contains { $0.tenant == "acme" })
            try await tamper(setup, ["DELETE FROM checkpoints WHERE tenant = 'acme' AND size > 25"])
            let unwitnessed = try await verifyDatabase(setup)
            #expect(unwitnessed.status == 3, "without a witness, a shorter log is intact but not anchored past 20: \(unwitnessed.output)")
            #expect(unwitnessed.output.contains("events 21–25 are covered by no signed checkpoint"))
            expectFailure(try await verifyDatabase(setup, ["--public-key", setup.publicKey.path, "--checkpoint", setup.witness.path]),
                          at: 26, "covers 30")
        }
    }

    @Test(arguments: StoreKind.available)
    func swappedEventsAreFound(kind: StoreKind) async throws {
        try await withSetup(kind) { setup in
            try await tamper(setup, [
                "UPDATE events SET sequence = 1000012 WHERE tenant = 'acme' AND sequence = 12",
                "UPDATE events SET sequence = 12 WHERE tenant = 'acme' AND sequence = 13",
                "UPDATE events SET sequence = 13 WHERE tenant = 'acme' AND sequence = 1000012",
            ])
            expectFailure(try await verifyDatabase(setup), at: 12, "does not match its hash")
        }
    }

    @Test(arguments: StoreKind.available)
    func aTamperedOrTruncatedExportIsFound(kind: StoreKind) async throws {
        try await withSetup(kind) { setup in
            let lines = try String(contentsOf: setup.export, encoding: .utf8).split(separator: "\n").map(String.init)
            #expect(lines.count == 30)
            let anchors = ["--public-key", setup.publicKey.path, "--checkpoint", setup.witness.path]
            func verify(_ lines: [String], _ extra: [String] = []) async throws -> CommandLineTests.Run {
                let file = setup.fresh.directory.appendingPathComponent("edited.ndjson")
                try Data(lines.joined(separator: "\n").utf8).write(to: file)
                return try await trail(["verify", "--export", file.path] + extra)
            }
            // Cut after 18 whole events: intact, anchored by the checkpoint of 10 only. It may be an export taken
            // before event 19; a consistency proof to the checkpoint of 30 anchors all 18 (and fails for any
            // other 18 events).
            let cut = try await verify(Array(lines.prefix(18)), anchors)
            #expect(cut.status == 3 && cut.output.contains("acme: NOT ANCHORED — 18 events"), "\(cut.output)")
            #expect(cut.output.contains("events 11–18 are covered by no signed checkpoint") && cut.output.contains("a consistency proof from 18 to 30"))
            let proof = try await setup.location.withStore { store in
                let (_, key) = try await store.createKey(tenant: "acme", role: .reader, name: "auditor")
                return try await buildApplication(configuration: ServerConfiguration(), store: store).test(.router) { client in
                    String(buffer: try await client.execute(uri: "/api/v1/integrity/proofs/consistency?from=18&to=30", method: .get,
                                                            headers: [.authorization: "ApiKey \(key)"]).body)
                }
            }
            let proofFile = setup.fresh.directory.appendingPathComponent("proof.json")
            try Data(proof.utf8).write(to: proofFile)
            let proven = try await verify(Array(lines.prefix(18)), anchors + ["--consistency-proof", proofFile.path])
            #expect(proven.status == 0 && proven.output.contains("by a consistency proof to the later checkpoint (size 30"), "\(proven.output) \(proven.errors)")
            #expect(try await verify(Array(lines.prefix(17)), anchors + ["--consistency-proof", proofFile.path]).status == 2, "a proof from 18")
            // Cut in the middle of a line.
            expectFailure(try await verify(Array(lines.prefix(18)) + [String(lines[18].prefix(40))]), at: 19, "is not JSON")
            // Two lines swapped.
            var swapped = lines
            swapped.swapAt(4, 5)
            expectFailure(try await verify(swapped), at: 5, "event 5 is missing here (found event 6 in its place)")
            // One field changed.
            var changed = lines
            changed[8] = changed[8].replacingOccurrences(of: "\"actor\":{\"id\":\"7\"}", with: "\"actor\":{\"id\":\"8\"}")
            #expect(changed[8] != lines[8])
            expectFailure(try await verify(changed), at: 9, "does not match its hash")
            // A rewritten log: event 9 changed and every hash from it recomputed, so the chain itself is whole;
            // only the signed roots show it.
            var rewritten = lines
            var previous = try #require(try JSONParser.parse(lines[7]).objectValue?["hash"]?.stringValue)
            for index in 8..<rewritten.count {
                var event = try #require(try JSONParser.parse(index == 8 ? changed[8] : lines[index]).objectValue)
                event.setValue(.string(previous), at: try #require(event.index(of: "prev_hash")))
                previous = EventHash.hex(try EventHash.of(returned: event))
                event.setValue(.string(previous), at: try #require(event.index(of: "hash")))
                rewritten[index] = String(decoding: JSONWriter.encode(.object(event)), as: UTF8.self)
            }
            let unanchored = try await verify(rewritten)
            #expect(unanchored.status == 3, "a rewritten chain is consistent in itself, and nothing anchors it: \(unanchored.output)")
            let anchored = try await verify(rewritten, anchors)
            #expect(anchored.status == 1 && anchored.output.contains("do not have the Merkle root signed"), "\(anchored.output)")
            // The rewritten first 18, against the proof that the genuine 18 begin the log of 30: refused.
            let disproven = try await verify(Array(rewritten.prefix(18)), ["--public-key", setup.publicKey.path, "--consistency-proof", proofFile.path])
            #expect(disproven.status == 1 && disproven.output.contains("consistency proof does not hold"), "\(disproven.output)")
            // A checkpoint not signed by the key.
            let forged = setup.fresh.directory.appendingPathComponent("forged.ndjson")
            let witness = try String(contentsOf: setup.witness, encoding: .utf8)
            try Data(witness.replacingOccurrences(of: "\"size\":30", with: "\"size\":29").utf8).write(to: forged)
            let refused = try await verify(lines, ["--public-key", setup.publicKey.path, "--checkpoint", forged.path])
            #expect(refused.status == 1 && refused.output.contains("is not signed by the public key"), "\(refused.output)")
        }
    }
}
