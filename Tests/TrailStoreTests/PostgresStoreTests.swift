import Foundation
import Testing
import TrailCore
import TrailStore
import TrailTestSupport

/// What only the PostgreSQL store has: its schema's trigger, its partitions, its URL. Runs when
/// `TRAIL_TEST_POSTGRES_URL` is set (CI sets it); the shared contract is in StoreContractTests.
@Suite(.enabled(if: StoreKind.postgresURL != nil, "TRAIL_TEST_POSTGRES_URL is not set"))
struct PostgresStoreTests {
    @Test func schemaRefusesSkippedOrDuplicatedSequencesAndVersions() async throws {
        try await withFreshLocation(.postgres) { location, _ in
            guard case .postgres(let url, _) = location else { return }
            try await location.withStore { store in
                _ = try await store.append(AppendRequest(tenant: "default", activities: [
                    StoreContractTests.activity("create", "a", StoreContractTests.data(("n", 1))),
                ]))
            }
            /// Inserts events on doc/a, moving its head to `head` in the same statement (nil: leaving it), with
            /// `prev_hash` and `hash` given as SQL (by default: following the tenant's chain).
            func insert(
                _ rows: [(sequence: Int, version: Int, newVersion: Bool)], head: Int?,
                prevHash: String = "(SELECT last_hash FROM tenant_heads WHERE tenant = 'default')",
                hash: String = "sha256('next')"
            ) async throws {
                let values = rows.map { row in
                    "('default', \(row.sequence), gen_random_uuid(), 0, (extract(epoch from now()) * 1e6)::bigint, 'updated', 'doc', 'a', \(row.version), \(row.newVersion), 's', \(prevHash), \(hash))"
                }.joined(separator: ", ")
                let moveHead = head.map { """
                    WITH h AS (UPDATE resource_heads SET previous_version = version, version = \($0)
                               WHERE tenant = 'default' AND resource_type = 'doc' AND resource_id = 'a')
                    """ } ?? ""
                try await PostgresAdmin.execute("""
                    \(moveHead)
                    INSERT INTO events (tenant, sequence, id, occurred_at, recorded_at, action, resource_type,
                        resource_id, version, new_version, summary, prev_hash, hash) VALUES \(values)
                    """, on: url)
            }
            await #expect(throws: (any Error).self) { try await insert([(3, 2, true)], head: 2) }  // skipped sequence
            await #expect(throws: (any Error).self) { try await insert([(1, 2, true)], head: 2) }  // repeated sequence
            await #expect(throws: (any Error).self) { try await insert([(2, 2, true), (2, 3, true)], head: 3) }  // repeated in one statement
            await #expect(throws: (any Error).self) { try await insert([(2, 3, true)], head: 3) }  // skipped version
            await #expect(throws: (any Error).self) { try await insert([(2, 1, true)], head: 1) }  // repeated version
            await #expect(throws: (any Error).self) { try await insert([(2, 2, true)], head: nil) }  // head not moved with it
            await #expect(throws: (any Error).self) { try await insert([(2, 2, true)], head: 2, hash: "NULL") }  // no hash
            await #expect(throws: (any Error).self) { try await insert([(2, 2, true)], head: 2, prevHash: "sha256('other')") }  // off the chain
            try await insert([(2, 2, true)], head: 2)  // the one valid next event
            let last = try await PostgresAdmin.rows(
                "SELECT last_sequence::text, (last_hash = sha256('next'))::text FROM tenant_heads WHERE tenant = 'default'", on: url)
            #expect(last == [["2", "true"]])
        }
    }

    @Test func eventsArePartitionedByMonthOfRecordedTime() async throws {
        try await withFreshLocation(.postgres) { location, _ in
            guard case .postgres(let url, _) = location else { return }
            let february = Timestamp(rfc3339: "2026-02-16T11:31:39Z")!
            try await location.withStore(configuration: StoreConfiguration(clock: { february })) { store in
                _ = try await store.append(AppendRequest(tenant: "default", activities: [StoreContractTests.activity("create", "a")]))
            }
            let partitions = try await PostgresAdmin.rows("""
                SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                WHERE i.inhparent = 'events'::regclass AND c.relkind = 'r' ORDER BY 1
                """, on: url).map { $0[0] }
            #expect(partitions == ["events_y2026m02", "events_y2026m03", "events_y2026m04"])
            let stored = try await PostgresAdmin.rows("SELECT count(*)::text FROM events_y2026m02", on: url)
            #expect(stored == [["1"]])
        }
    }

    @Test func migrationsFromSeveralProcessesAtOnceApplyOnce() async throws {
        try await withFreshLocation(.postgres) { location, _ in
            let applied = try await withThrowingTaskGroup(of: [String].self) { group in
                for _ in 0..<4 { group.addTask { try await location.migrate() } }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            #expect(applied == ["0001_events_heads_idempotency", "0002_messages", "0003_message_context", "0004_search", "0005_api_keys", "0006_immutable_events_signing_key", "0007_data_events_index", "0008_hash_chain", "0009_hash_chain_checks", "0010_checkpoints", "0011_type_action_index", "0012_subtree_roots", "0013_failed_messages_index", "0014_retention_holds", "0015_personal_data", "0016_streams", "0017_console_sessions", "0018_append_function", "0019_search_behind_writer", "0020_append_checks_heads"])
        }
    }

    @Test func urlsAreParsedAndPasswordsHidden() throws {
        let url = try PostgresURL("postgres://trail:s%40cret@db.example:6543/audit?sslmode=require")
        #expect(url.username == "trail")
        #expect(url.password == "s@cret")
        #expect(url.host == "db.example")
        #expect(url.port == 6543)
        #expect(url.database == "audit")
        #expect(url.tls == .require)
        #expect(url.description == "postgres://trail:***@db.example:6543/audit")
        #expect(throws: StoreError.self) { try PostgresURL("postgres://h/db?sslmode=maybe") }
        #expect(throws: StoreError.self) { try PostgresURL("postgres:///db") }
    }
}
