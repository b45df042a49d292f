import GRDB
import TrailCore

/// Full-text search in the SQLite store: an FTS5 index of each event's searchable words (``SearchText``), kept
/// by the writer in the same transaction as the event, keyed by the event's rowid.
///
/// The index has two columns: `tenant_token` (one token naming the tenant, so a search never leaves its tenant
/// and never walks another's events) and `words`. It holds no copy of the text (`content=''`).
enum SQLiteSearch {
    static let createTable = """
        CREATE VIRTUAL TABLE events_fts USING fts5(
            tenant_token, words, content='', detail=column,
            tokenize="unicode61 remove_diacritics 0 categories 'L* N* Co M*'")
        """

    /// The tenant as one token: `t` and its UTF-8 bytes in hex.
    static func tenantToken(_ tenant: String) -> String {
        "t" + tenant.utf8.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }

    /// The FTS5 query of a search in a tenant. Terms are letters and digits only, so quoting them is safe.
    static func match(tenant: String, _ search: SearchQuery) -> String {
        let terms = search.terms.map { "\"\($0.word)\"" + ($0.prefix ? "*" : "") }
        return "tenant_token:\"\(tenantToken(tenant))\" AND words:(\(terms.joined(separator: " AND ")))"
    }

    /// Indexes the events stored before the index existed.
    static func indexExistingEvents(_ db: Database) throws {
        let rows = try Row.fetchCursor(db, sql: "SELECT rowid, \(SQLiteRows.eventColumns) FROM events")
        let insert = try db.makeStatement(sql: "INSERT INTO events_fts (rowid, tenant_token, words) VALUES (?, ?, ?)")
        while let row = try rows.next() {
            let rowid: Int64 = row[0]
            let event = try SQLiteRows.event(row, first: 1)
            try insert.execute(arguments: [rowid, tenantToken(event.tenant), SearchText.document(for: event)])
        }
    }
}
