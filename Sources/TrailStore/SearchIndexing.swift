import Logging

/// A store whose full-text index is built behind its writer (issue 27; docs/search.md): an indexer follows the
/// log, and searches still find what it has not reached yet (SQLite reads it, PostgreSQL indexes it first).
protocol SearchIndexing {
    /// Indexes at most `limit` pending events now, oldest first; how many it passed.
    @discardableResult
    func indexSearch(limit: Int) async throws(StoreError) -> Int
    /// How many events the index has not reached.
    func searchIndexLag() async throws(StoreError) -> Int
}

/// What both stores' indexers do for their store's lifetime.
enum SearchIndexer {
    /// Woken by `signal` (a commit of this process, or on PostgreSQL a `NOTIFY` of another's) or every 5 seconds
    /// (what other processes or commands wrote), waits `gather` so that a busy writer's commits are indexed
    /// together, then runs `pass`, which indexes what is pending and returns how many events are left (nil: the
    /// store is gone, and the indexer ends). A failure is logged once until a pass succeeds again; searches stay
    /// exact meanwhile, and the next commit tries again.
    static func follow(_ signal: WorkSignal, gather: Duration, logger: Logger, pass: () async throws -> Int?) async {
        var failing = false
        while !Task.isCancelled {
            await signal.wait(timeout: .seconds(5))
            try? await Task.sleep(for: gather)
            guard !Task.isCancelled else { return }
            do {
                guard let lag = try await pass() else { return }
                StoreMetrics.searchIndexLag(lag)
                failing = false
            } catch {
                if Task.isCancelled { return }
                if !failing { logger.warning("the search index could not be brought up to date", metadata: ["error": "\(error)"]) }
                failing = true
            }
        }
    }
}
