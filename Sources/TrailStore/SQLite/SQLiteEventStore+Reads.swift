import GRDB
public import TrailCore

/// The read side: straight to the pool's readers, never through the writer.
extension SQLiteEventStore {
    public func head(tenant: String, resourceType: String, resourceId: String) async throws(StoreError) -> ResourceHead? {
        var head = try await readHere { db in try SQLiteRows.head(db, tenant: tenant, type: resourceType, id: resourceId) }
        let state = try await personal.open(head?.state)
        head?.state = state
        return head
    }

    public func event(tenant: String, id: String, sealed: Bool) async throws(StoreError) -> RecordedEvent? {
        let events = try await readHere { db in
            try SQLiteRows.events(db, sql: "SELECT \(SQLiteRows.eventColumns) FROM events WHERE id = ? AND tenant = ?",
                                  arguments: [id, tenant])
        }
        return try await (sealed ? events : personal.open(events)).first
    }

    /// The `WHERE` clause of the events matching `query` (all but its order, pages and limit).
    /// - Parameter searching: false when the caller's query reads from the search index itself.
    /// - Parameter unindexed: the matches of the search among the events the index has not reached yet
    ///   (``SQLiteSearch/unindexedMatches(_:tenant:_:)``, read in the same transaction).
    static func filter(
        tenant: String, _ query: EventQuery, searching: Bool = true, unindexed: [Int64] = []
    ) -> (sql: String, arguments: StatementArguments) {
        var conditions = ["tenant = ?"]
        var arguments: StatementArguments = [tenant]
        if searching, let search = query.search {
            conditions.append("(rowid IN (SELECT rowid FROM events_fts WHERE events_fts MATCH ?) OR rowid IN (SELECT value FROM json_each(?)))")
            arguments += [SQLiteSearch.match(tenant: tenant, search), SQLiteSearch.json(unindexed)]
        }
        func add(_ condition: String, _ value: (any DatabaseValueConvertible)?) {
            guard let value else { return }
            conditions.append(condition)
            arguments += [value]
        }
        add("actor_id = ?", query.actorId)
        add("action = ?", query.action)
        add("resource_type = ?", query.resourceType)
        add("resource_id = ?", query.resourceId)
        add("category = ?", query.category)
        if query.category == nil && !query.includesAccess {
            conditions.append("category IS NOT '\(EventQuery.accessCategory)'")
        }
        add("outcome = ?", query.outcome)
        add("recorded_at >= ?", query.since?.microseconds)
        add("recorded_at <= ?", query.until?.microseconds)
        add("sequence < ?", query.beforeSequence)
        add("sequence > ?", query.afterSequence)
        return (conditions.joined(separator: " AND "), arguments)
    }

    /// A page of a list. SQLite's planner, without statistics, would rather scan a whole tenant in sequence order
    /// (or a whole time range) than sort, so each shape of query names the index that serves it:
    /// - full-text search: the search index, newest match first;
    /// - one resource: its history (small), sorted;
    /// - one actor: the actor index, whose entries are in rowid order, which within a tenant is sequence order
    ///   (one writer appends a tenant's events in sequence order);
    /// - a resource type and an action: their index, in sequence order;
    /// - anything else: the tenant's events in sequence order (without the meta-audit's, unless asked for), filtered as they come, which finds the newest
    ///   matches first (and `days`/`since` filters match the newest events); oldest first with `since`, from
    ///   the first event recorded since then.
    /// Cursors, which carry sequences, become rowid bounds where the order is by rowid.
    /// - Parameter unindexed: for a search, reads these events (the matches the index has not reached) instead
    ///   of the index's.
    static func list(tenant: String, _ query: EventQuery, unindexed: [Int64]? = nil) -> (sql: String, arguments: StatementArguments) {
        let direction = query.oldestFirst ? "ASC" : "DESC"
        if query.search == nil && !(query.resourceType != nil && query.resourceId != nil) && query.actorId == nil {
            var filter = SQLiteEventStore.filter(tenant: tenant, query)
            if query.oldestFirst, query.afterSequence == nil, let since = query.since {
                // Oldest first from a time (an export's first page): start at the first event recorded since
                // then instead of scanning the tenant's older events. Found through the time index by rowid, the
                // order of a tenant's sequences; the bound is exact whatever the order of recorded times.
                filter.sql += """
                     AND sequence >= COALESCE((SELECT sequence FROM events WHERE rowid = (
                        SELECT MIN(rowid) FROM events INDEXED BY events_recorded WHERE tenant = ? AND recorded_at >= ?)), 0)
                    """
                filter.arguments += [tenant, since.microseconds]
            }
            // A resource type and an action: their own index. Otherwise, without a category, the filter leaves out
            // the meta-audit's events: the partial index without them.
            let index = query.resourceType != nil && query.action != nil ? "events_type_action"
                : query.category == nil && !query.includesAccess ? "events_data_sequence" : "events_tenant_sequence"
            return ("""
                SELECT \(SQLiteRows.eventColumns) FROM events INDEXED BY \(index) WHERE \(filter.sql)
                ORDER BY sequence \(direction) LIMIT ?
                """, filter.arguments + [query.limit])
        }
        if query.search == nil, query.resourceType != nil, query.resourceId != nil {
            let filter = SQLiteEventStore.filter(tenant: tenant, query)
            return ("""
                SELECT \(SQLiteRows.eventColumns) FROM events INDEXED BY events_resource_version WHERE \(filter.sql)
                ORDER BY sequence \(direction) LIMIT ?
                """, filter.arguments + [query.limit])
        }
        let filter = SQLiteEventStore.filter(tenant: tenant, query, searching: false)
        let source: String
        var arguments: StatementArguments = []
        let rowid: String
        if let unindexed {
            source = "events WHERE events.rowid IN (SELECT value FROM json_each(?))"
            arguments += [SQLiteSearch.json(unindexed)]
            rowid = "events.rowid"
        } else if let search = query.search {
            source = "events_fts JOIN events ON events.rowid = events_fts.rowid WHERE events_fts MATCH ?"
            arguments += [SQLiteSearch.match(tenant: tenant, search)]
            rowid = "events_fts.rowid"
        } else {
            source = "events INDEXED BY events_actor WHERE 1"
            rowid = "events.rowid"
        }
        var bounds = ""
        if let before = query.beforeSequence {
            bounds += """
                 AND \(rowid) < COALESCE((SELECT rowid FROM events WHERE tenant = ? AND sequence >= ?
                    ORDER BY sequence LIMIT 1), 9223372036854775807)
                """
            arguments += [tenant, before]
        }
        if let after = query.afterSequence {
            bounds += """
                 AND \(rowid) > COALESCE((SELECT rowid FROM events WHERE tenant = ? AND sequence <= ?
                    ORDER BY sequence DESC LIMIT 1), 0)
                """
            arguments += [tenant, after]
        }
        return ("""
            SELECT \(SQLiteRows.eventColumns) FROM \(source)\(bounds) AND \(filter.sql)
            ORDER BY \(rowid) \(direction) LIMIT ?
            """, arguments + filter.arguments + [query.limit])
    }

    /// A list's page: ``list(tenant:_:unindexed:)`` run through `fetch`. A search reads two sources in one
    /// transaction — the index, and the events past its watermark (all newer than any indexed one) — newest
    /// first from the unindexed ones, oldest first from the index, the second only for what the first left of
    /// the page.
    static func page<T>(
        _ db: Database, tenant: String, _ query: EventQuery, _ fetch: (String, StatementArguments) throws -> [T]
    ) throws -> [T] {
        func run(_ query: EventQuery, unindexed: [Int64]? = nil) throws -> [T] {
            let (sql, arguments) = list(tenant: tenant, query, unindexed: unindexed)
            return try fetch(sql, arguments)
        }
        guard let search = query.search else { return try run(query) }
        let unindexed = try SQLiteSearch.unindexedMatches(db, tenant: tenant, search)
        guard !unindexed.isEmpty else { return try run(query) }
        let sources: [[Int64]?] = query.oldestFirst ? [nil, unindexed] : [unindexed, nil]
        var rows: [T] = []
        for source in sources where rows.count < query.limit {
            var rest = query
            rest.limit = query.limit - rows.count
            rows += try run(rest, unindexed: source)
        }
        return rows
    }

    public func events(tenant: String, matching query: EventQuery) async throws(StoreError) -> [RecordedEvent] {
        let query = personal.blinded(query, tenant: tenant)
        let fetch = { @Sendable (db: Database) throws -> [RecordedEvent] in
            try SQLiteEventStore.page(db, tenant: tenant, query) { try SQLiteRows.events(db, sql: $0, arguments: $1) }
        }
        // A page of one resource's history is short and found by its index: read here; any other list may scan.
        let events = query.isOneResourcesPage ? try await readHere(fetch) : try await read(fetch)
        return query.sealed ? events : try await personal.open(events)
    }

    public func eventColumns(tenant: String, matching query: EventQuery) async throws(StoreError) -> [StoredEventColumns] {
        let query = personal.blinded(query, tenant: tenant)
        let fetch = { @Sendable (db: Database) throws -> [StoredEventColumns] in
            try SQLiteEventStore.mapping(db, on: !query.bulk) {
                try SQLiteEventStore.page(db, tenant: tenant, query) { sql, arguments in
                    try RawStatement(db.cachedStatement(sql: sql)).all(db, arguments) { SQLiteRows.columns($0) }
                }
            }
        }
        // As for events: a page of one resource's history here, any other list on a reader's thread.
        let columns = query.isOneResourcesPage ? try await readHere(fetch) : try await read(fetch)
        return query.sealed ? columns : try await personal.open(columns)
    }

    public func summary(tenant: String, matching query: EventQuery) async throws(StoreError) -> EventSummary {
        let query = personal.blinded(query, tenant: tenant)
        return try await read { db in
            let unindexed = try query.search.map { try SQLiteSearch.unindexedMatches(db, tenant: tenant, $0) } ?? []
            let filter = SQLiteEventStore.filter(tenant: tenant, query, unindexed: unindexed)
            let events = "events" + (SQLiteEventStore.summaryIndex(query).map { " INDEXED BY \($0)" } ?? "")
            var counts: [(facet: String, key: String, count: Int)] = []
            for (name, expression) in EventSummary.facets {
                let rows = try Row.fetchAll(db, sql: """
                    SELECT CAST(\(expression) AS TEXT), COUNT(*) FROM \(events)
                    WHERE \(filter.sql) AND \(expression) IS NOT NULL GROUP BY 1
                    """, arguments: filter.arguments)
                counts += rows.map { (name, $0[0], $0[1]) }
            }
            let durations = try Row.fetchAll(db, sql: """
                SELECT action, MIN(duration_ms), AVG(duration_ms), MAX(duration_ms) FROM \(events)
                WHERE \(filter.sql) AND duration_ms IS NOT NULL GROUP BY action
                """, arguments: filter.arguments).map { row in
                    (row[0] as String, EventSummary.Durations(minimum: row[1], average: row[2], maximum: row[3]))
                }
            return EventSummary.assemble(counts: counts, durations: durations)
        }
    }

    /// The index a summary's counts walk: like a list's, the most selective one its filters name (one resource,
    /// one actor, a resource type and an action), else the time index for a period. Without statistics SQLite's
    /// planner took the time index for an actor's last 30 days: 3.3 million rows of a 10-million-event store
    /// instead of the actor's few thousand (9.5 s instead of 0.5 s). A search counts what it matches (no hint).
    static func summaryIndex(_ query: EventQuery) -> String? {
        guard query.search == nil else { return nil }
        if query.resourceType != nil && query.resourceId != nil { return "events_resource_version" }
        if query.actorId != nil { return "events_actor" }
        if query.resourceType != nil && query.action != nil { return "events_type_action" }
        return query.since != nil || query.until != nil ? "events_recorded" : nil
    }

    public func snapshot(
        tenant: String, resourceType: String, resourceId: String, at point: SnapshotPoint
    ) async throws(StoreError) -> ResourceSnapshot? {
        var snapshot = try await readHere { db -> ResourceSnapshot? in
            let resource = "tenant = ? AND resource_type = ? AND resource_id = ? AND version IS NOT NULL"
            var arguments: StatementArguments = [tenant, resourceType, resourceId]
            let condition: String
            switch point {
            case .latest:
                condition = ""
            case .version(let version):
                condition = "AND version = ? AND new_version = 1"
                arguments += [version]
            case .time(let time):
                condition = "AND recorded_at <= ?"
                arguments += [time.microseconds]
            }
            // Versions never decrease along a resource's events: the index on (…, version) finds the last one.
            let row = try Row.fetchOne(db.cachedStatement(sql: """
                SELECT version, state_after, id, recorded_at, removed_at IS NOT NULL FROM events INDEXED BY events_resource_version
                WHERE \(resource) \(condition)
                ORDER BY version DESC, sequence DESC LIMIT 1
                """), arguments: arguments)
            guard let row else { return nil }
            var snapshot = ResourceSnapshot(version: row[0], state: try StoredJSON.object(row[1]), eventId: row[2],
                                            asOf: Timestamp(microseconds: row[3]), removed: row[4])
            if snapshot.removed && point == .latest {
                // The current state outlives the events that made it: the head keeps it.
                let head = try Row.fetchOne(db.cachedStatement(sql: """
                    SELECT state FROM resource_heads WHERE tenant = ? AND resource_type = ? AND resource_id = ?
                    """), arguments: [tenant, resourceType, resourceId])
                (snapshot.state, snapshot.removed) = (try StoredJSON.object(head?[0]), false)
            }
            return snapshot
        }
        let state = try await personal.open(snapshot?.state)
        snapshot?.state = state
        return snapshot
    }
}
