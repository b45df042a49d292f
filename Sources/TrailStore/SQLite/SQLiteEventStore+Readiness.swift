import GRDB

extension SQLiteEventStore: ReadinessProbe {
    public func readiness() async -> StoreReadiness {
        var readiness = StoreReadiness(writerBusy: writer.runningFor)
        do {
            let (applied, lag) = try await read { db in (try SQLiteMigrations.migrator.appliedIdentifiers(db), try SQLiteSearch.lag(db)) }
            readiness.pendingMigrations = SQLiteMigrations.all.map(\.id).filter { !applied.contains($0) }
            readiness.searchIndexLag = lag
            StoreMetrics.searchIndexLag(lag)
        } catch {
            readiness.failure = error
        }
        return readiness
    }
}
