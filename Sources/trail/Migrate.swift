import ArgumentParser
import TrailStore

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Create or upgrade the database schema, then exit.")

    @OptionGroup var store: StoreOptions

    func run() async throws {
        do {
            let applied = try SQLiteEventStore.migrate(path: store.database)
            if applied.isEmpty {
                print("\(store.database): schema up to date")
            } else {
                print("\(store.database): applied \(applied.joined(separator: ", "))")
            }
        } catch {
            throw fail(error)
        }
    }
}
