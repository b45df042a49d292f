import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import TrailCore
import TrailStore
import TrailTestSupport

/// `trail backup --to FILE` (SQLite's online backup API): a copy taken while `trail serve` writes is the store as
/// of one commit — its hash chain verifies, its events are the live store's first ones — and a server started
/// on the copy (a restore) serves them.
@Suite struct BackupTests {
    @Test(.timeLimit(.minutes(3)))
    func aBackupTakenWhileTheServerWritesIsWholeAndRestores() async throws {
        try await withFreshLocation(.sqlite) { location, fresh in
            // Checkpoints signed every 0.2 s: the copy holds some, and its chain is checked against them.
            let server = try TrailProcess(database: fresh.text, arguments: ["--checkpoint-seconds", "0.2"])
            let port = try await server.port()
            let written = Locked(0)
            let stop = Locked(false)
            let writer = Task {
                try await TestClient.withClient(host: "127.0.0.1", port: port) { connection in
                    var i = 0
                    // Bounded: stops when told, or after 20,000 events.
                    while !stop.withLock({ $0 }) && i < 20_000 {
                        let response = try await connection.post("/api/v1/audit/activity-stream", headers: jsonHeaders, body: ByteBuffer(
                            string: #"{"verb":"updated","actor":{"id":"7"},"object":{"type":"counter","id":"c-\#(i % 8)","value":\#(i)}}"#))
                        guard response.status == .created else { throw TrailProcessError(message: "write \(i): \(response.status)") }
                        i += 1
                        written.withLock { $0 = i }
                    }
                }
            }
            let deadline = ContinuousClock.now + .seconds(60)
            while written.withLock({ $0 }) < 200, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
            try await Task.sleep(for: .milliseconds(500))

            let copy = fresh.directory.appendingPathComponent("backup.sqlite").path
            let backup = try await CommandLineTests().trail(["backup", "--database", fresh.text, "--to", copy])
            #expect(backup.status == 0, "\(backup.errors)")
            let copied = try #require(backup.output.firstMatch(of: /: (\d+) events, \d+ bytes/).map { Int($0.1)! }, "\(backup.output)")
            let again = try await CommandLineTests().trail(["backup", "--database", fresh.text, "--to", copy])
            #expect(again.status == 1 && again.errors.contains("exists"), "never overwrites: \(again.errors)")
            #expect(!FileManager.default.fileExists(atPath: copy + ".partial"))

            let before = written.withLock { $0 }
            while written.withLock({ $0 }) < before + 100, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
            stop.withLock { $0 = true }
            try await writer.value
            server.terminate()
            let total = written.withLock { $0 }
            #expect(copied >= 200 && copied < total, "copied \(copied) of \(total)")

            // Whole: the copy's hash chain verifies against its checkpoints (the newest events may be covered by
            // none yet: exit 3, "not anchored"), and its events are the live store's first ones.
            let verified = try await CommandLineTests().trail(["verify", "--database", copy])
            #expect(verified.status == 0 || verified.status == 3, "\(verified.output) \(verified.errors)")
            #expect(verified.output.contains("hash chain intact"), "\(verified.output)")
            let checkpoints = verified.output.firstMatch(of: /(\d+) checkpoints? verified/).map { Int($0.1)! } ?? 0
            #expect(checkpoints >= 1, "\(verified.output)")
            let live = try await location.withStore(creating: false) { store in
                try await store.eventHashes(tenant: "default", after: 0, limit: total)
            }
            let restoredLocation = StoreLocation.sqlite(path: copy, durability: .full)
            let backedUp = try await restoredLocation.withStore(creating: false) { store in
                try await store.eventHashes(tenant: "default", after: 0, limit: total)
            }
            #expect(live.count == total && backedUp.count == copied)
            #expect(Array(live.prefix(copied)) == backedUp)

            // Restored: a server on the copy serves its events.
            let restored = try TrailProcess(database: copy)
            let restoredPort = try await restored.port()
            let page = try await TestClient.withClient(host: "127.0.0.1", port: restoredPort) { connection in
                try await connection.get("/api/v1/resources/counter/c-0/history?limit=1")
            }
            restored.terminate()
            #expect(page.status == .ok)
        }
    }

    @Test func backupRefusesWhatItCannotCopy() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("trail-backup-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let cli = CommandLineTests()
        let postgres = try await cli.trail(["backup", "--database", "postgres://trail@127.0.0.1:1/trail", "--to", directory.appendingPathComponent("x").path])
        #expect(postgres.status == 1 && postgres.errors.contains("pg_dump"), "\(postgres.errors)")
        let missing = try await cli.trail(["backup", "--database", directory.appendingPathComponent("none.sqlite").path,
                                     "--to", directory.appendingPathComponent("y").path])
        #expect(missing.status == 1 && missing.errors.contains("no store"), "\(missing.errors)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty, "nothing created")
    }
}
