/// A store whose full-text index is built behind its writer (issue 27; docs/search.md): an indexer follows the
/// log, and searches still find what it has not reached yet (SQLite reads it, PostgreSQL indexes it first).
protocol SearchIndexing {
    /// Indexes at most `limit` pending events now, oldest first; how many it passed.
    @discardableResult
    func indexSearch(limit: Int) async throws(StoreError) -> Int
    /// How many events the index has not reached.
    func searchIndexLag() async throws(StoreError) -> Int
}
