import GRDB
import Logging
import TrailCore

/// The full-text index of the SQLite store is built behind the writer (issue 27): the writer's transaction holds
/// only the event; the indexer follows the log in rowid order and indexes what the writer committed in large
/// transactions (an FTS5 insert costs about half as much per row in a 1,000-row transaction as in the few-row
/// transactions group commit makes, and the writer's transaction no longer waits for it).
///
/// Searches stay exact: the index answers up to its **watermark** (the last rowid indexed, kept in `settings`
/// and moved in the same transaction as the rows it covers), and the few events past it are matched by reading
/// them, in the same read transaction (``unindexedMatches(_:tenant:_:)``). An acknowledged event is found by the
/// next search, on any connection, whatever the indexer's lag.
extension SQLiteSearch {
    static let watermarkName = "search_indexed_rowid"
    /// Events per indexing transaction.
    static let indexBatch = 2_000

    /// Creates the watermark at the store's first opening by a version that indexes behind the writer: every
    /// event already there was indexed by the writer that stored it.
    static func prepareWatermark(_ db: Database) throws {
        try db.execute(sql: """
            INSERT OR IGNORE INTO settings (name, value) VALUES (?, (SELECT COALESCE(MAX(rowid), 0) FROM events))
            """, arguments: [watermarkName])
    }

    static func watermark(_ db: Database) throws -> Int64 {
        try Int64.fetchOne(db, sql: "SELECT value FROM settings WHERE name = ?", arguments: [watermarkName]) ?? 0
    }

    /// The words the index holds for an event (``EventQuery/searchWords(category:summary:resourceName:actor:metadata:sealedWords:)``),
    /// given the tokens of its sealed values as stored beside it.
    static func words(of event: RecordedEvent, sealedWords: String?) -> String {
        EventQuery.searchWords(category: event.category, summary: event.summary, resourceName: event.resourceName,
                               actor: event.actor, metadata: event.metadata, sealedWords: SearchText.tokens(stored: sealedWords))
    }

    /// Indexes at most `limit` events past the watermark, in rowid order, and moves the watermark past them, in the
    /// caller's write transaction; how many it indexed. Everything that rewrites or removes indexed words
    /// (erasure, retention) first indexes all that is pending, so that the index holds what it is told to forget.
    @discardableResult
    static func indexPending(_ db: Database, limit: Int = Int(Int32.max)) throws -> Int {
        let from = try watermark(db)
        let rows = try RawStatement(db.cachedStatement(sql: """
            SELECT \(SQLiteRows.eventColumns), rowid, sealed_words FROM events WHERE rowid > ? ORDER BY rowid LIMIT ?
            """))
        let insert = try RawStatement(db.cachedStatement(sql: "INSERT INTO events_fts (rowid, words) VALUES (?, ?)"))
        var last = from
        var count = 0
        try rows.each(db, [from, limit]) { row in
            let event = try RecordedEvent(SQLiteRows.columns(row))
            last = row.int64(SQLiteRows.eventColumnCount)
            count += 1
            let words = Self.words(of: event, sealedWords: row.text(SQLiteRows.eventColumnCount + 1))
            if !words.isEmpty {  // no words, nothing to find it by
                try insert.execute(db, [.integer(last), .text(Self.row(tenantToken: Self.tenantToken(event.tenant), words: words))])
            }
        }
        if last != from {
            try db.execute(sql: "UPDATE settings SET value = ? WHERE name = ?", arguments: [last, watermarkName])
        }
        return count
    }

    /// How many events the index has not reached yet.
    static func lag(_ db: Database) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM events WHERE rowid > ?", arguments: [watermark(db)]) ?? 0
    }

    /// The rowids of the tenant's events past the watermark that `search` matches, as the index would: every
    /// term a word of the event's (or the start of one, for a prefix term), or the term's token for sealed words.
    static func unindexedMatches(_ db: Database, tenant: String, _ search: SearchQuery) throws -> [Int64] {
        // `+tenant`: the rowid range past the watermark (short) is the way in. Without statistics SQLite would
        // rather take the tenant's index and read every event of the tenant (0.85 s per search at 10M events).
        let rows = try RawStatement(db.cachedStatement(sql: """
            SELECT \(SQLiteRows.eventColumns), rowid, sealed_words FROM events WHERE rowid > ? AND +tenant = ? ORDER BY rowid
            """))
        var found: [Int64] = []
        try rows.each(db, [try watermark(db), tenant]) { row in
            let event = try RecordedEvent(SQLiteRows.columns(row))
            let words = Self.words(of: event, sealedWords: row.text(SQLiteRows.eventColumnCount + 1))
            if !words.isEmpty, matches(words: words, search) { found.append(row.int64(SQLiteRows.eventColumnCount)) }
        }
        return found
    }

    /// Rowids as a JSON array, for `json_each(?)`.
    static func json(_ rowids: [Int64]) -> String {
        "[" + rowids.map(String.init).joined(separator: ",") + "]"
    }

    /// Whether a document of ``SearchText`` (lower-cased words, single spaces) holds every term of `search`.
    static func matches(words: String, _ search: SearchQuery) -> Bool {
        let tokens = Set(words.split(separator: " "))
        return search.terms.allSatisfy { term in
            if let blind = term.blind, tokens.contains(Substring(blind)) { return true }
            return term.prefix ? tokens.contains { $0.hasPrefix(term.word) } : tokens.contains(Substring(term.word))
        }
    }
}

/// Follows the SQLite store's log and indexes it (``SQLiteSearch``): woken by each commit, it waits a moment so
/// that a busy writer's commits are indexed together, then indexes everything pending in transactions of
/// ``SQLiteSearch/indexBatch`` events. Its transactions queue with the writer's, on the one write connection.
/// Stopped when its store goes away.
final class SQLiteSearchIndexer: Sendable {
    let signal: WorkSignal
    private let task: Task<Void, Never>

    init(pool: DatabasePool, gather: Duration = .milliseconds(20), logger: Logger = Logger(label: "trail.store")) {
        let signal = WorkSignal()
        self.signal = signal
        // Weakly: the store's pool closes when the store goes, as it did before there was an indexer (a pool
        // kept open by a task a moment longer would close, and checkpoint, while the next opening of the file
        // reads it).
        task = Task.detached(priority: .utility) { [weak pool] in
            await SearchIndexer.follow(signal, gather: gather, logger: logger) {
                guard let pool else { return nil }
                // A read first: the write lock is taken only when there is something to index.
                guard try await pool.read({ db in try SQLiteSearch.lag(db) > 0 }) else { return 0 }
                var indexed = 0
                repeat {
                    indexed = try await pool.write { db in try SQLiteSearch.indexPending(db, limit: SQLiteSearch.indexBatch) }
                } while indexed == SQLiteSearch.indexBatch && !Task.isCancelled
                return try await pool.read { db in try SQLiteSearch.lag(db) }
            }
        }
    }

    deinit {
        task.cancel()
    }
}

extension SQLiteEventStore: SearchIndexing {
    @discardableResult
    func indexSearch(limit: Int) async throws(StoreError) -> Int {
        try await write { db in try SQLiteSearch.indexPending(db, limit: limit) }
    }

    func searchIndexLag() async throws(StoreError) -> Int {
        try await read { db in try SQLiteSearch.lag(db) }
    }
}
