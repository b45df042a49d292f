import GRDB

/// What SQLite's failures mean to Trail's callers (shared by the store and its writer): a busy, full or
/// unreadable file is unavailable (retry later), a damaged one corrupt, anything else a refusal.
enum SQLiteFailure {
    static func storeError(_ error: any Error, path: String) -> StoreError {
        if let error = error as? StoreError { return error }
        if let error = error as? DatabaseError {
            switch error.resultCode {
            case .SQLITE_BUSY, .SQLITE_LOCKED, .SQLITE_FULL, .SQLITE_IOERR, .SQLITE_CANTOPEN, .SQLITE_READONLY,
                .SQLITE_NOMEM, .SQLITE_PROTOCOL:
                return StoreError(.unavailable, "the SQLite store at \(path) is unavailable: \(error.message ?? "\(error.resultCode)")")
            case .SQLITE_CORRUPT, .SQLITE_NOTADB:
                return StoreError(.corrupt, "the SQLite store at \(path) is damaged: \(error.message ?? "\(error.resultCode)")")
            default:
                return StoreError(.rejected, "SQLite refused the operation: \(error.message ?? "\(error.resultCode)")")
            }
        }
        return StoreError(.rejected, "\(error)")
    }
}
