import Logging
import Testing
import TrailCore
@testable import TrailService
import TrailStore
import TrailTestSupport

/// The use cases without HTTP: what they store, and the ``ServiceError`` each refusal is (the HTTP layer maps
/// those to statuses; `TrailServerTests` checks the statuses).
@Suite struct UseCaseTests {
    func withStore<T: Sendable>(_ kind: StoreKind, _ body: (any TrailStorage) async throws -> T) async throws -> T {
        try await withFreshLocation(kind) { location, _ in try await location.withStore(body) }
    }

    static let create = Array(#"{"verb":"created","actor":{"id":"12"},"object":{"type":"user","id":"u-1","data":{"email":"a@example.com"}}}"#.utf8)

    /// What `body` throws, as a ServiceError (an issue if it throws nothing or something else).
    func refusal(_ body: () async throws -> Void) async -> ServiceError? {
        do {
            try await body()
            Issue.record("expected a refusal")
        } catch let error as ServiceError {
            return error
        } catch {
            Issue.record("expected a ServiceError, got \(error)")
        }
        return nil
    }

    @Test(arguments: StoreKind.available)
    func ingestStoresOrRefusesWithNothingStored(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let ingest = ActivityIngest(store: store, tenant: "acme")
            let stored = try await ingest.ingest(body: Self.create, idempotencyKey: nil)
            #expect(stored.events.map(\.version) == [1])

            let malformed = await refusal { _ = try await ingest.ingest(body: Array("{".utf8), idempotencyKey: nil) }
            #expect(malformed?.kind == .badRequest)
            #expect(malformed?.slug == "malformed-json")
            let invalid = await refusal {
                _ = try await ingest.ingest(body: Array(#"{"verb":"created","object":{"type":"user"}}"#.utf8), idempotencyKey: nil)
            }
            #expect(invalid?.kind == .invalid)
            #expect(invalid?.errors.isEmpty == false)
            let longKey = await refusal {
                _ = try await ingest.ingest(body: Self.create, idempotencyKey: String(repeating: "k", count: 256))
            }
            #expect(longKey?.kind == .badRequest)
            #expect(longKey?.errors.first?.path == "Idempotency-Key")
            #expect(try await store.chainHead(tenant: "acme").sequence == 1)
        }
    }

    @Test(arguments: StoreKind.available)
    func aReusedKeyIsAConflict(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let ingest = ActivityIngest(store: store, tenant: "acme")
            _ = try await ingest.ingest(body: Self.create, idempotencyKey: "k-1")
            let other = Array(String(decoding: Self.create, as: UTF8.self).replacingOccurrences(of: "u-1", with: "u-2").utf8)
            do {
                _ = try await ingest.ingest(body: other, idempotencyKey: "k-1")
                Issue.record("a reused key was accepted")
            } catch let error as StoreError {
                #expect(ServiceError(error).kind == .conflict)
                #expect(ServiceError(error).slug == "idempotency-conflict")
            }
        }
    }

    @Test(arguments: StoreKind.available)
    func aFullQueueRefusesAndQueuesNothing(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let ingest = ActivityIngest(store: store, tenant: "acme", gate: QueueGate(maximumOpen: 1))
            let queued = try await ingest.enqueue(body: Self.create, idempotencyKey: nil)
            #expect(queued.message.status == .pending)
            let full = await refusal { _ = try await ingest.enqueue(body: Self.create, idempotencyKey: nil) }
            #expect(full?.kind == .unavailable)
            #expect(full?.slug == "queue-full")
            #expect(full?.retryAfter == 1)
            #expect(try await store.openMessageCount() == 1)

            let status = MessageStatus(store: store)
            #expect(try await status.message(tenant: "acme", id: queued.message.id).message.id == queued.message.id)
            #expect(await refusal { _ = try await status.message(tenant: "acme", id: "no-such-message") }?.kind == .notFound)
            // Another tenant does not see it.
            #expect(await refusal { _ = try await status.message(tenant: "other", id: queued.message.id) }?.kind == .notFound)
        }
    }

    @Test(arguments: StoreKind.available)
    func proofsVerifyAndBadSizesAreRefused(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let ingest = ActivityIngest(store: store, tenant: "acme")
            var ids: [String] = []
            for n in 0..<5 {
                let body = String(decoding: Self.create, as: UTF8.self).replacingOccurrences(of: "u-1", with: "u-\(n)")
                ids.append(contentsOf: try await ingest.ingest(body: Array(body.utf8), idempotencyKey: nil).events.map(\.id))
            }
            let proofs = IntegrityProofs(store: store, tenant: "acme")
            #expect(await refusal { _ = try await proofs.latestCheckpoint() }?.slug == "no-checkpoint")

            let signer = Checkpointer(store: store, configuration: CheckpointConfiguration(), logger: Logger(label: "test"))
            let signed = try await signer.signDue()
            #expect(signed.map(\.size) == [5])
            #expect(try await proofs.latestCheckpoint().size == 5)

            let inclusion = try await proofs.inclusion(eventID: ids[2], size: nil)
            #expect(inclusion.treeSize == 5)
            #expect(inclusion.checkpoint?.root == inclusion.root)
            #expect(MerkleTree.verifyInclusion(leafHash: MerkleTree.leafHash(inclusion.event.hash), index: 2, size: 5,
                                               proof: inclusion.proof, root: inclusion.root))
            let consistency = try await proofs.consistency(from: "3", to: nil)
            #expect(MerkleTree.verifyConsistency(first: 3, second: 5, firstRoot: consistency.fromRoot,
                                                 secondRoot: consistency.toRoot, proof: consistency.proof))
            #expect(consistency.fromCheckpoint == nil)

            #expect(await refusal { _ = try await proofs.inclusion(eventID: "no-such-event", size: nil) }?.kind == .notFound)
            #expect(await refusal { _ = try await proofs.inclusion(eventID: ids[4], size: "3") }?.errors.first?.path == "size")
            #expect(await refusal { _ = try await proofs.consistency(from: nil, to: nil) }?.errors.first?.path == "from")
            #expect(await refusal { _ = try await proofs.consistency(from: "6", to: nil) }?.kind == .badRequest)
            #expect(await refusal { _ = try await proofs.consistency(from: "4", to: "2") }?.kind == .badRequest)

            let report = try await Verification.verifyStore(store, tenant: "acme")
            #expect(report.status == .anchored)
            #expect(report.events == 5)
        }
    }

    @Test(arguments: StoreKind.available)
    func keysAreManagedAndRevokedKeysForgotten(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let cache = KeyCache(keys: store)
            let keys = KeyManagement(keys: store, cache: cache)
            let (key, text) = try await keys.create(tenant: "acme", role: .reader, name: "app")
            let presented = try #require(APIKeyText(parsing: text))
            guard case .valid = try await cache.check(presented) else { Issue.record("a new key is refused"); return }
            #expect(try await keys.list(tenant: "acme").map(\.id) == [key.id])
            #expect(await refusal { _ = try await keys.revoke(tenant: "other", id: key.id) }?.kind == .notFound)
            _ = try await keys.revoke(tenant: "acme", id: key.id)
            // Forgotten at once: not refused only after the cache's lifetime.
            guard case .revoked = try await cache.check(presented) else { Issue.record("a revoked key is accepted"); return }
        }
    }

    @Test func keyCreationRequestsAreChecked() throws {
        #expect(try KeyManagement.creation(from: Array(#"{"role":"admin"}"#.utf8)) == (.admin, ""))
        #expect(throws: ServiceError.self) { try KeyManagement.creation(from: Array("[".utf8)) }
        do {
            _ = try KeyManagement.creation(from: Array(#"{"role":"boss","colour":"red","name":7}"#.utf8))
            Issue.record("a bad request was taken")
        } catch {
            #expect(error.kind == .invalid)
            #expect(Set(error.errors.map(\.path)) == ["role", "colour", "name"])
        }
    }

    @Test(arguments: StoreKind.available)
    func accessRecordsAreEventsOfTheCallersTenant(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let recorder = AccessRecorder(store: store)
            let caller = Principal(tenant: "acme", roles: [.reader], subject: "k1", credential: .apiKey)
            let access = AccessRecorder.Access(
                method: "GET", route: "/api/v1/audit/logs", path: "/api/v1/audit/logs/" + String(repeating: "x", count: 300),
                query: [("actor", "12")], requestContext: JSONObject())
            try await recorder.record(.read, by: caller, access: access, status: 200)
            // Nobody to attribute an unauthenticated access to: not recorded.
            try await recorder.record(.read, by: Principal(tenant: "acme", roles: [.admin], subject: "anonymous", credential: .none),
                                      access: access, status: 200)
            let events = try await store.events(tenant: "acme", matching: EventQuery(category: EventQuery.accessCategory))
            #expect(events.count == 1)
            let path = events.first?.metadata?["path"]?.stringValue
            #expect(path?.count == AccessRecorder.maximumValueLength)
            #expect(path?.hasSuffix("…") == true)
            #expect(events.first?.category == EventQuery.accessCategory)
        }
    }

    /// What each finding of a store makes of the checks (the findings themselves come from real stores in
    /// `ReadinessTests`; a stuck writer cannot be made on demand, so it is given here).
    @Test func readinessChecksNameWhatFails() async {
        struct Found: ReadinessProbe {
            let found: StoreReadiness
            func readiness() async -> StoreReadiness { found }
        }
        func checks(_ found: StoreReadiness) async -> [String: Readiness.Check] {
            Dictionary(uniqueKeysWithValues: await Readiness.of(Found(found: found)).checks.map { ($0.name, $0) })
        }
        let ready = await Readiness.of(Found(found: StoreReadiness(writerBusy: .milliseconds(5))))
        #expect(ready.isReady && ready.checks.map(\.name) == ["store", "migrations", "writer", "search_index"])
        let stuck = await checks(StoreReadiness(writerBusy: Readiness.stuckWriter + .seconds(1)))
        #expect(stuck["writer"]?.passed == false && stuck["store"]?.passed == true)
        let down = await checks(StoreReadiness(failure: StoreError(.unavailable, "PostgreSQL cannot be reached")))
        #expect(down["store"]?.detail == "PostgreSQL cannot be reached" && down["migrations"]?.passed == false)
        let behind = await checks(StoreReadiness(pendingMigrations: ["0013_next"]))
        #expect(behind["migrations"]?.passed == false && behind["migrations"]?.detail.contains("0013_next") == true)
    }
}
