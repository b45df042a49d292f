import Foundation
import GRDB
import Testing
import TrailCore
import TrailStore
import TrailTestSupport

/// Stored events cannot be changed or removed, even with SQL behind Trail's back (SPEC §8), and every store has
/// its checkpoint signing key.
@Suite struct ImmutabilityTests {
    @Test(arguments: StoreKind.available)
    func theDatabaseRefusesToChangeOrRemoveEvents(kind: StoreKind) async throws {
        try await withFreshLocation(kind) { location, fresh in
            let seed = try await location.withStore { store in
                _ = try await store.append(AppendRequest(tenant: "default", activities: [
                    StoreContractTests.activity("create", "d-1", StoreContractTests.data(("title", .string("first")))),
                ]))
                return try await store.checkpointSigningKey()
            }
            #expect(seed.count == 32)
            let statements = ["UPDATE events SET summary = 'forged'", "UPDATE events SET sequence = sequence + 1", "UPDATE events SET hash = prev_hash",
                              "DELETE FROM events"]
            switch location {
            case .sqlite(let path, _):
                let queue = try outsideConnection(path)
                for statement in statements {
                    await #expect(throws: DatabaseError.self, "\(statement)") { try await queue.write { db in try db.execute(sql: statement) } }
                }
                let summary = try await queue.read { db in try String.fetchOne(db, sql: "SELECT summary FROM events") }
                #expect(summary != "forged")
            case .postgres(let url, _):
                for statement in statements + ["TRUNCATE events"] {
                    await #expect(throws: (any Error).self, "\(statement)") { try await PostgresAdmin.execute(statement, on: url) }
                }
                #expect(try await PostgresAdmin.rows("SELECT summary FROM events", on: url).first?.first != "forged")
            }
            // The key stays the installation's across restarts.
            #expect(try await location.withStore { store in try await store.checkpointSigningKey() } == seed)
            _ = fresh
        }
    }
}
