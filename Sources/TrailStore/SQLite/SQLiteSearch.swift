import GRDB
import TrailCore

/// Full-text search in the SQLite store: an FTS5 index of each event's searchable words (``SearchText``), built
/// behind the writer by ``SQLiteSearchIndexer`` (searches read what it has not reached yet), keyed by the
/// event's rowid.
///
/// Each event's row holds its words after a token naming its tenant (`_t` and the tenant's UTF-8 bytes in hex:
/// `_` is a token character here, and never part of a word Trail splits), so that a search never leaves its
/// tenant. The index keeps no copy of the text (`content=''`) and no positions (`detail=none`): Trail matches
/// words, not phrases.
enum SQLiteSearch {
    static let createTable = """
        CREATE VIRTUAL TABLE events_fts USING fts5(
            words, content='', detail=none,
            tokenize="unicode61 remove_diacritics 0 categories 'L* N* Co M*' tokenchars '_'")
        """

    static func tenantToken(_ tenant: String) -> String {
        "_t" + tenant.utf8.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }

    /// What the index holds for an event of the tenant whose ``tenantToken(_:)`` this is.
    static func row(tenantToken: String, words: String) -> String {
        tenantToken + " " + words
    }

    /// The FTS5 query of a search in a tenant. Terms are letters, digits and marks only, so quoting them is safe.
    static func match(tenant: String, _ search: SearchQuery) -> String {
        let terms = search.terms.map { term in
            let plain = "\"\(term.word)\"" + (term.prefix ? "*" : "")
            return term.blind.map { "(\(plain) OR \"\($0)\")" } ?? plain
        }
        return (["\"\(tenantToken(tenant))\""] + terms).joined(separator: " AND ")
    }

    /// Indexes the events stored before the index existed (migration 0004, when events had no hash columns yet:
    /// NULL stands in for them).
    static func indexExistingEvents(_ db: Database) throws {
        let rows = try RawStatement(db.makeStatement(sql: """
            SELECT id, sequence, tenant, occurred_at, recorded_at, action, actor, resource_type, resource_id, version,
                changes, summary, context, metadata, category, outcome, resource_name, duration_ms, error, NULL, NULL,
                NULL, NULL, rowid
            FROM events
            """))
        let insert = try db.makeStatement(sql: "INSERT INTO events_fts (rowid, words) VALUES (?, ?)")
        try rows.each(db) { row in
            let event = try RecordedEvent(SQLiteRows.columns(row))
            let rowid = row.int64(SQLiteRows.eventColumnCount)  // after the event columns
            try insert.execute(arguments: [rowid, self.row(tenantToken: tenantToken(event.tenant), words: SearchText.document(for: event))])
        }
        // A store whose index is rebuilt here has its watermark (if it has one yet) at its last event.
        try db.execute(sql: "UPDATE settings SET value = (SELECT COALESCE(MAX(rowid), 0) FROM events) WHERE name = ?",
                       arguments: [watermarkName])
    }
}
