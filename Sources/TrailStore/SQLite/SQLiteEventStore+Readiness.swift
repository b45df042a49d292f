import GRDB

extension SQLiteEventStore: ReadinessProbe {
    public func readiness() async -> StoreReadiness {
        var readiness = StoreReadiness(writerBusy: writer.runningFor)
        do {
            let applied = try await read { db in try SQLiteMigrations.migrator.appliedIdentifiers(db) }
            readiness.pendingMigrations = SQLiteMigrations.all.map(\.id).filter { !applied.contains($0) }
        } catch {
            readiness.failure = error
        }
        return readiness
    }
}
