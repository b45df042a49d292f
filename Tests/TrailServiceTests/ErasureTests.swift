import Foundation
import Logging
import Testing
import TrailCore
@testable import TrailService
import TrailStore
import TrailTestSupport

/// Erasure of a data subject (SPEC §11) on both stores: a marker e-mail written into actor names, resource data,
/// free text (searchable), request context and the queue is stored sealed under its subject's key, which the
/// erasure destroys: afterwards it is in no file of the SQLite store (database, log, index, key vault) and in no
/// row PostgreSQL shows, and reads show `[erased]`; values that were not sealed are rewritten, and those events
/// keep their hashes, every proof holds, verification counts them and still finds an edit next to them.
@Suite struct ErasureTests {
    /// One search token (the tokenizer splits e-mails at `.` and `@`): what the index would keep of it.
    static let token = "zqxmarkerq"
    static let marker = "\(token)@Example.test"

    static func submissions() -> [(ActivityIngest.Format, String)] {
        let marker = Self.marker
        return [
            (.activityStream, #"{"verb":"created","actor":{"id":"77","name":"Zed \#(marker)"},"object":{"type":"user","id":"u-1","data":{"email":"\#(marker)","plan":"pro"}},"context":{"ip":"10.9.9.9"}}"#),
            (.activityStream, #"{"verb":"updated","update_mode":"merge","actor":{"id":"12"},"object":{"type":"user","id":"u-1","data":{"plan":"max"}}}"#),
            (.auditEvent, #"{"event_type":"note_added","user_id":"12","metadata":{"note":"call \#(marker.uppercased()) back"}}"#),
            (.activityStream, #"{"verb":"created","actor":{"id":"12"},"object":{"type":"order","id":"o-1","data":{"total":5}}}"#),
        ]
    }

    @Test(arguments: StoreKind.available)
    func noByteOfAnErasedValueRemains(kind: StoreKind) async throws {
        try await withFreshLocation(kind) { location, fresh in
            let before: [RecordedEvent] = try await location.withStore { store in
                let ingest = ActivityIngest(store: store, tenant: "acme")
                for (format, body) in Self.submissions() {
                    _ = try await ingest.ingest(body: Array(body.utf8), format: format, idempotencyKey: nil,
                                                requestContext: JSONObject([.init(key: "user_agent", value: .string("agent of \(Self.marker)"))]))
                }
                _ = try await ingest.enqueue(body: Array(Self.submissions()[0].1.utf8), idempotencyKey: nil)
                let signer = Checkpointer(store: store, configuration: CheckpointConfiguration(everyEvents: 1), logger: Logger(label: "test"))
                _ = try await signer.signDue()
                let search = EventQuery(search: SearchQuery(Self.token)!, limit: 10)
                let found = try await store.events(tenant: "acme", matching: search)
                #expect(found.map(\.sequence) == [3, 1], "\(found.map(\.summary))")
                let all = try await store.events(tenant: "acme", matching: EventQuery(oldestFirst: true, includesAccess: true, limit: 100))

                let report = try await Erasures(store: store).erase(.value(Self.marker), reason: "request about \(Self.marker)",
                                                                    tenant: "acme", by: .commandLine)
                // Every occurrence was sealed (e-mails, actor names, user agents): nothing to rewrite, the key goes.
                #expect(report.events == 0 && report.sealedEvents == 4 && report.keyDestroyed && report.held == 0
                        && report.messages == 1, "\(report)")
                #expect(try await store.events(tenant: "acme", matching: search).isEmpty)
                let history = try await store.history(tenant: "acme", resourceType: "user", resourceId: "u-1")
                #expect(history[0].actor?["name"] == .string(Erasure.replacement) && history[0].actor?["id"] == "77")
                #expect(history[0].changes["data.email"] == [nil, .string(Erasure.replacement)] && history[0].changes["data.plan"] == [nil, "pro"], "\(history[0].changes)")
                #expect(history[0].hash == all[0].hash && history[1].context?["user_agent"] == .string(Erasure.replacement))
                let note = try await store.events(tenant: "acme", matching: EventQuery(action: "note_added", limit: 1))
                #expect(note.first?.metadata?["note"] == .string(Erasure.replacement))
                let state = try await store.head(tenant: "acme", resourceType: "user", resourceId: "u-1")
                #expect(state?.state?["data"]?.objectValue?["email"] == .string(Erasure.replacement), "\(String(describing: state))")

                // Every proof holds: the hashes cover the sealed values, which did not change.
                _ = try await signer.signDue()
                let verified = try await Verification.verifyStore(store, tenant: "acme")
                #expect(verified.isValid && verified.status == .anchored && verified.erased == 0, "\(String(describing: verified.failure))")
                let records = try await store.events(tenant: "acme", matching: EventQuery(category: "AUDIT_ADMIN", limit: 10))
                #expect(records.map(\.action) == ["subject_key_destroyed"]
                        && !JSONWriter.string(.object(records[0].metadata ?? JSONObject())).lowercased().contains(Self.token))
                return all
            }
            #expect(before.count == 4)
            // The store closed: nothing of the marker anywhere.
            switch kind {
            case .sqlite:
                let files = try FileManager.default.contentsOfDirectory(at: fresh.directory, includingPropertiesForKeys: nil)
                #expect(files.contains { $0.lastPathComponent == "trail.sqlite" })
                for file in files {
                    let bytes = try Data(contentsOf: file)
                    for needle in [Self.token, Self.token.uppercased()] {
                        #expect(bytes.range(of: Data(needle.utf8)) == nil, "\(file.lastPathComponent) holds \(needle)")
                    }
                }
            case .postgres:
                let url = try PostgresURL(fresh.text)
                for table in ["events", "resource_heads", "messages", "idempotency_keys", "legal_holds"] {
                    let rows = try await PostgresAdmin.rows("""
                        SELECT count(*)::text FROM \(table) t WHERE lower(t::text) LIKE '%\(Self.token)%'
                            \(table == "messages" ? "OR lower(convert_from(t.body, 'UTF8')) LIKE '%\(Self.token)%'" : "")
                        """, on: url)
                    #expect(rows.first?.first == "0", "\(table)")
                }
            }
        }
    }

    @Test(arguments: StoreKind.available)
    func anActorsEventsLoseWhoMadeThemAndHeldOnesStay(kind: StoreKind) async throws {
        try await withFreshLocation(kind) { location, _ in try await location.withStore { store in
            let ingest = ActivityIngest(store: store, tenant: "acme")
            for (type, id, actor) in [("user", "u-1", "77"), ("user", "u-2", "77"), ("user", "u-3", "12")] {
                _ = try await ingest.ingest(
                    body: Array(#"{"verb":"created","actor":{"id":"\#(actor)","name":"Name \#(actor)"},"object":{"type":"\#(type)","id":"\#(id)"}}"#.utf8),
                    idempotencyKey: nil, requestContext: JSONObject([.init(key: "ip", value: .string("10.0.0.\(actor)"))]))
            }
            _ = try await LegalHolds(store: store).create(body: Array(#"{"name":"h","match":{"resource_id":"u-2"}}"#.utf8),
                                                          tenant: "acme", by: .commandLine)
            let report = try await Erasures(store: store).erase(body: Array(#"{"actor":"77","reason":"art. 17 request"}"#.utf8),
                                                                tenant: "acme", by: .commandLine)
            #expect(report.events == 1 && report.held == 1)
            let erased = try await store.history(tenant: "acme", resourceType: "user", resourceId: "u-1")[0]
            #expect(erased.actor == JSONObject([.init(key: "id", value: "[erased]")]) && erased.context?["ip"] == "[erased]")
            #expect(try await store.history(tenant: "acme", resourceType: "user", resourceId: "u-2")[0].actor?["name"] == "Name 77")
            #expect(try await store.history(tenant: "acme", resourceType: "user", resourceId: "u-3")[0].erasedAt == nil)
            #expect(try await store.events(tenant: "acme", matching: EventQuery(actorId: "77", limit: 10)).map(\.resourceId) == ["u-2"])
            // Appends after the erasure build on the rewritten state, and the log still verifies.
            _ = try await ingest.ingest(body: Array(#"{"verb":"updated","actor":{"id":"12"},"object":{"type":"user","id":"u-1","data":{"x":1}}}"#.utf8),
                                        idempotencyKey: nil)
            let verified = try await Verification.verifyStore(store, tenant: "acme")
            #expect(verified.isValid && verified.erased == 1, "\(String(describing: verified.failure))")
        } }
    }

    /// An export with erased events verifies; marking an intact event erased by hand fails at it.
    @Test(arguments: StoreKind.available)
    func anEventMarkedErasedByHandIsFound(kind: StoreKind) async throws {
        try await withFreshLocation(kind) { location, _ in try await location.withStore { store in
            let ingest = ActivityIngest(store: store, tenant: "acme")
            for (_, body) in Self.submissions().filter({ $0.0 == .activityStream }) {
                _ = try await ingest.ingest(body: Array(body.utf8), idempotencyKey: nil)
            }
            // "pro" is not personal (not sealed): the erasure rewrites it, in the first event's data and the
            // second's summary.
            _ = try await Erasures(store: store).erase(.value("pro"), tenant: "acme", by: .commandLine)
            let lines = try await LifecycleTests.exportLines(store, tenant: "acme")
            let verify = LifecycleTests.verify
            let clean = verify(lines)
            #expect(clean.isValid && clean.erased == 2 && lines[0].contains(#""erased":true"#), "\(String(describing: clean.failure)) \(lines)")
            var forged = lines
            forged[2] = forged[2].replacingOccurrences(of: #","prev_hash""#, with: #","erased":true,"erased_at":"2030-01-01T00:00:00Z","prev_hash""#)
                .replacingOccurrences(of: "o-1", with: "o-9")
            let report = verify(forged)
            #expect(report.failure?.sequence == 3 && report.failure?.reason.contains("outside an erasure") == true, "\(String(describing: report.failure))")
            var edited = lines
            edited[2] = edited[2].replacingOccurrences(of: "[null,5]", with: "[null,6]")
            #expect(verify(edited).failure?.sequence == 3)
        } }
    }

    @Test func badErasuresAreRefusedWithTheirPaths() {
        func paths(_ body: String) -> [String] {
            LifecycleTests.faultPaths(body) { _ = try Erasure.parse($0) }
        }
        #expect(paths(#"{}"#) == [""])
        #expect(paths(#"{"actor":"1","value":"a@b.c"}"#) == [""])
        #expect(paths(#"{"value":"ab"}"#) == ["value"])
        #expect(paths(#"{"value":"ann@example.com","colour":1}"#) == ["colour"])
        #expect(paths(#"{"actor":12}"#).isEmpty)
    }
}

extension ErasureTests {
    /// Crypto-shredding (SPEC §11): a backup taken before an erasure holds the subject's values sealed, and the
    /// key stays out of it (the vault is a file of its own, which `trail backup` does not copy): restored after
    /// the erasure, the backup shows them `[erased]` and still verifies.
    @Test func aBackupTakenBeforeAnErasureForgetsToo() async throws {
        try await withFreshLocation(.sqlite) { location, fresh in
            let path = fresh.directory.appendingPathComponent("trail.sqlite").path
            let copy = fresh.directory.appendingPathComponent("before-erasure.sqlite").path
            try await location.withStore { store in
                let ingest = ActivityIngest(store: store, tenant: "acme")
                _ = try await ingest.ingest(body: Array(Self.submissions()[0].1.utf8), idempotencyKey: nil)
                _ = try SQLiteBackup.copy(from: path, to: copy)
                let report = try await Erasures(store: store).erase(.value(Self.marker), tenant: "acme", by: .commandLine)
                #expect(report.keyDestroyed && report.sealedEvents == 1, "\(report)")
            }
            let backup = try Data(contentsOf: URL(fileURLWithPath: copy))
            #expect(backup.range(of: Data(Self.token.utf8)) == nil, "the backup holds the values sealed only")
            // Restore: the copy in the store's place; the key vault is the live one.
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
            try FileManager.default.copyItem(atPath: copy, toPath: path)
            try await location.withStore { store in
                let event = try #require(try await store.history(tenant: "acme", resourceType: "user", resourceId: "u-1").first)
                #expect(event.actor?["name"] == .string(Erasure.replacement) && event.actor?["id"] == "77")
                #expect(event.changes["data.email"] == [nil, .string(Erasure.replacement)] && event.changes["data.plan"] == [nil, "pro"])
                let verified = try await Verification.verifyStore(store, tenant: "acme")
                #expect(verified.isValid, "\(String(describing: verified.failure))")
            }
        }
    }
}
