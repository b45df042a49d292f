import Foundation
import GRDB

/// A copy of a SQLite store made with SQLite's online backup API (`trail backup`): consistent while servers
/// write to the store, since it is read in one read transaction, a snapshot of the store as of one commit (the
/// writers go on meanwhile: the store is in WAL mode). Nothing in the store is changed, not even its schema.
public enum SQLiteBackup {
    /// What a backup holds.
    public struct Summary: Sendable {
        /// Events in the copy, all tenants.
        public var events: Int64
        /// The copy's size in bytes.
        public var bytes: Int64
    }

    /// Copies the store at `source` to `destination`, a file that must not exist yet. The copy is written beside
    /// it first (`<destination>.partial`), checked (`PRAGMA quick_check`), synced, and then renamed: a backup
    /// interrupted midway leaves no file under the destination's name.
    public static func copy(from source: String, to destination: String) throws(StoreError) -> Summary {
        let files = FileManager.default
        guard files.fileExists(atPath: source) else { throw StoreError(.missing, "no store at \(source)") }
        guard !files.fileExists(atPath: destination) else {
            throw StoreError(.exists, "\(destination) exists: trail backup never overwrites a file; choose another name or remove it")
        }
        let partial = destination + ".partial"
        try? files.removeItem(atPath: partial)
        do {
            var readOnly = Configuration()
            readOnly.readonly = true
            readOnly.busyMode = .timeout(10)
            let store = try DatabaseQueue(path: source, configuration: readOnly)
            guard try store.read({ try $0.tableExists("events") }) else {
                throw StoreError(.missing, "\(source) is not a Trail store (it has no events table)")
            }
            let copy = try DatabaseQueue(path: partial)
            try store.backup(to: copy)
            let (events, check) = try copy.read { db in
                (try Int64.fetchOne(db, sql: "SELECT COUNT(*) FROM events") ?? 0,
                 try String.fetchOne(db, sql: "PRAGMA quick_check") ?? "")
            }
            try copy.close()
            try store.close()
            guard check == "ok" else { throw StoreError(.corrupt, "the copy failed SQLite's check: \(check)") }
            try sync(partial)
            try files.moveItem(atPath: partial, toPath: destination)
            let bytes = (try? files.attributesOfItem(atPath: destination)[.size] as? NSNumber)?.int64Value ?? 0
            return Summary(events: events, bytes: bytes)
        } catch let error as StoreError {
            try? files.removeItem(atPath: partial)
            throw error
        } catch {
            try? files.removeItem(atPath: partial)
            throw StoreError(.unavailable, "backing up \(source) failed: \(error)")
        }
    }

    /// Flushes a file to disk, so that a backup reported done survives a power cut.
    private static func sync(_ path: String) throws {
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        try handle.synchronize()
    }
}
