import ArgumentParser
import Foundation
import TrailStore

struct Backup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Copy a SQLite store to a new file, consistently, even while servers write to it.",
        discussion: """
            Uses SQLite's online backup API: the copy is the store as of one commit. Restore it by stopping Trail \
            and putting the copy in the store's place (docs/operations.md). PostgreSQL stores are backed up with \
            PostgreSQL's own tools (pg_dump, or base backups with WAL archiving).
            """)

    @OptionGroup var store: DatabaseOption

    @Option(name: .long, help: ArgumentHelp("The file to write; it must not exist.", valueName: "file"))
    var to: String

    func run() async throws {
        let location: StoreLocation
        do { location = try store.location() } catch { throw fail(error) }
        guard case .sqlite(let path, _) = location else {
            throw fail("trail backup copies SQLite stores; back up a PostgreSQL store with pg_dump or a base backup (see docs/operations.md)")
        }
        do {
            let summary = try SQLiteBackup.copy(from: path, to: to)
            print("\(to): \(summary.events) events, \(summary.bytes) bytes, copied from \(path)")
        } catch {
            throw fail(error)
        }
    }
}
