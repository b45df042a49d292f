import PostgresNIO

extension PostgresEventStore: ReadinessProbe {
    public func readiness() async -> StoreReadiness {
        let busy = [writer.runningFor, enqueuer.runningFor].compactMap { $0 }.max()
        var readiness = StoreReadiness(writerBusy: busy)
        do {
            let applied = try await read { connection, logger in
                var ids = Set<String>()
                for try await id in try await connection.query("SELECT id FROM trail_migrations", logger: logger).decode(String.self) {
                    ids.insert(id)
                }
                return ids
            }
            readiness.pendingMigrations = PostgresMigrations.all.map(\.id).filter { !applied.contains($0) }
            if readiness.pendingMigrations.isEmpty {
                let lag = try await searchIndexLag()
                readiness.searchIndexLag = lag
                StoreMetrics.searchIndexLag(lag)
            }
        } catch {
            readiness.failure = error
        }
        return readiness
    }
}
