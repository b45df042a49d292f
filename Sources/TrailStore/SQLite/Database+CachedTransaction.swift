import GRDB

extension Database {
    /// `body` in a transaction of `kind` begun and ended by cached statements: committed if it returns, rolled
    /// back if it or the commit throws.
    ///
    /// GRDB's `inTransaction` and `DatabasePool.read` compile `BEGIN …` and `COMMIT` again at every call, through
    /// GRDB's statement authorizer, and a pool read also switches `query_only` on and off around it: for a short
    /// read that was a measurable part of its CPU (docs/benchmarks/notes.md; creates did not move measurably). A
    /// reader of a `DatabasePool` is opened read-only, so `query_only` adds nothing there.
    func inCachedTransaction<T>(_ kind: TransactionKind, _ body: () throws -> T) throws -> T {
        try cachedStatement(sql: Self.begin(kind)).execute()
        do {
            let value = try body()
            try cachedStatement(sql: "COMMIT TRANSACTION").execute()
            return value
        } catch {
            // SQLite may have ended the transaction itself (an I/O error, a full disk); a failed COMMIT (busy)
            // leaves it open.
            if isInsideTransaction { try? cachedStatement(sql: "ROLLBACK TRANSACTION").execute() }
            throw error
        }
    }

    private static func begin(_ kind: TransactionKind) -> String {
        switch kind {
        case .deferred: "BEGIN DEFERRED TRANSACTION"
        case .immediate: "BEGIN IMMEDIATE TRANSACTION"
        case .exclusive: "BEGIN EXCLUSIVE TRANSACTION"
        }
    }
}
