import PostgresNIO

/// What PostgreSQL's failures mean to Trail's callers (shared by the store, its writers and its queue):
/// unreachable, busy or shutting down is unavailable (retry later), `XX` states corrupt, anything else a refusal.
enum PostgresFailure {
    /// What a PostgreSQL failure means to callers.
    static func storeError(_ error: any Error) -> StoreError {
        if let error = error as? StoreError { return error }
        if error is NoConnection {
            // The pool has no connection to give: the server is down, unreachable or refusing connections.
            return StoreError(.unavailable, "PostgreSQL cannot be reached: no connection to it within the store's timeout")
        }
        if error is ConnectionLost {
            return StoreError(.unavailable, "the connection to PostgreSQL was lost in the middle of an operation")
        }
        guard let error = error as? PSQLError else { return StoreError(.rejected, "\(error)") }
        guard error.code == .server, let state = error.serverInfo?[.sqlState] else {
            return StoreError(.unavailable, "PostgreSQL is unavailable (\(error.code)): the connection failed or was closed")
        }
        let message = error.serverInfo?[.message] ?? state
        if state == "55P03" {
            return StoreError(.unavailable, "PostgreSQL is busy: a lock was not granted in time (SQLSTATE 55P03)")
        }
        switch state.prefix(2) {
        case "08", "53", "57", "58", "40":
            // Connection trouble, insufficient resources, shutdown, system errors, serialisation failures that
            // outlived their retries: the operation may succeed later.
            return StoreError(.unavailable, "PostgreSQL is unavailable: \(message) (SQLSTATE \(state))")
        case "XX":
            return StoreError(.corrupt, "PostgreSQL reports damaged data: \(message) (SQLSTATE \(state))")
        default:
            return StoreError(.rejected, "PostgreSQL refused the operation: \(message) (SQLSTATE \(state))")
        }
    }

    /// Whether PostgreSQL itself answered with the error: the statement (an autocommitted one, or a COMMIT) was
    /// then not applied, where a connection lost before the answer leaves that unknown.
    static func isServerAnswer(_ error: any Error) -> Bool {
        (error as? PSQLError)?.serverInfo?[.sqlState] != nil
    }

    /// Whether `trail_append` refused a write because a head it was to write was not at the version planned on
    /// (migration 0020: a create planned as new of a resource that exists), rather than because another process
    /// wrote the tenant first.
    static func isHeadRefusal(_ error: any Error) -> Bool {
        (error as? PSQLError)?.serverInfo?[.hint] == "trail: head moved"
    }

    /// Serialisation failures and deadlocks: the transaction may simply be run again.
    static func isRetryable(_ error: any Error) -> Bool {
        guard let error = error as? PSQLError, let state = error.serverInfo?[.sqlState] else { return false }
        return state == "40001" || state == "40P01"
    }
}
