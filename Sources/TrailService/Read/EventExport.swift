public import Logging
public import TrailCore
public import TrailStore

/// An export of the events matching a query, oldest first, read from the store a page at a time and handed on
/// page by page: memory stays constant whatever the size. Shared by `GET /api/v1/audit/logs/export` and
/// `trail export`.
public struct EventExport: Sendable {
    public enum Format: String, CaseIterable, Sendable {
        case csv, json, ndjson

        public var contentType: String {
            switch self {
            case .csv: "text/csv; charset=utf-8"
            case .json: "application/json"
            case .ndjson: "application/x-ndjson"
            }
        }
    }

    /// Events per page read from the store.
    public static let pageSize = 1000

    let store: any TrailStorage
    let tenant: String
    let format: Format
    let first: EventQuery
    /// The newest matching event when the export was made: the export ends there.
    let last: Int64

    /// Fixes the export's end at the newest event matching `query` now (its order, cursor and limit are ignored).
    public init(store: any TrailStorage, tenant: String, query: EventQuery, format: Format) async throws(StoreError) {
        var newest = query
        newest.oldestFirst = false
        newest.limit = 1
        newest.sealed = true
        last = try await store.events(tenant: tenant, matching: newest).first?.sequence ?? 0
        var first = query
        first.beforeSequence = last + 1
        first.afterSequence = nil
        first.oldestFirst = true
        first.limit = EventExport.pageSize
        first.bulk = true
        // NDJSON is the log as stored, what `trail verify --export` checks against the hashes: personal values
        // stay sealed. CSV and JSON are for people: opened (SPEC §11, docs/lifecycle.md).
        first.sealed = format == .ndjson
        self.first = first
        self.store = store
        self.tenant = tenant
        self.format = format
    }

    private func fetch(_ page: EventQuery) -> Task<[StoredEventColumns], any Error> {
        let (store, tenant) = (store, tenant)
        return Task { try await store.eventColumns(tenant: tenant, matching: page) }
    }

    /// Writes the whole export through `write`, a page at a time. A store failure after the first bytes ends the
    /// export early (it is logged; an HTTP status was sent already) — the output is then visibly incomplete: no
    /// closing `]` for JSON.
    public func run(logger: Logger, write: ([UInt8]) async throws -> Void) async throws {
        var out = JSONWriter(capacity: 160 * 1024)
        switch format {
        case .csv: StoredEventCSV.writeHeader(into: &out)
        case .json: out.raw("[")
        case .ndjson: break
        }
        var count = 0
        var next: Task<[StoredEventColumns], any Error>?
        func flush() async throws {
            do {
                try await write(out.bytes)
            } catch {
                next?.cancel()
                throw error
            }
            out.removeAll()
        }
        // The next page is read while this one is written: the store's reader thread and the formatting overlap.
        next = last > 0 ? fetch(first) : nil
        while let pending = next {
            let events: [StoredEventColumns]
            do {
                events = try await pending.value
            } catch {
                logger.error("export ended early", metadata: ["error": "\(error)", "events": "\(count)"])
                try await write(out.bytes)
                return
            }
            next = nil
            if events.count == first.limit, let sequence = events.last?.sequence {
                var page = first
                page.afterSequence = sequence
                next = fetch(page)
            }
            for event in events {
                switch format {
                case .csv:
                    StoredEventCSV.write(event, into: &out)
                case .json:
                    if count > 0 { out.raw(",") }
                    StoredEventJSON.write(event, into: &out)
                case .ndjson:
                    StoredEventJSON.write(event, into: &out)
                    out.raw("\n")
                }
                count += 1
                // Written in pieces of about 128 KB through one buffer: whole pages (about 800 KB) in fresh
                // buffers cost the process a page fault every 4 KB.
                if out.bytes.count >= 128 * 1024 {
                    try await flush()
                }
            }
            try await flush()
        }
        if format == .json { out.raw("]") }
        try await write(out.bytes)
    }
}
