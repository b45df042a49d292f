import ArgumentParser
import TrailStore

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Create or upgrade the database schema, then exit.")

    @OptionGroup var store: DatabaseOption

    func run() async throws {
        do {
            let location = try store.location()
            let applied = try await location.migrate()
            if applied.isEmpty {
                print("\(location): schema up to date")
            } else {
                print("\(location): applied \(applied.joined(separator: ", "))")
            }
        } catch let error as StoreError {
            throw fail(error)
        }
    }
}
