import Logging
import PostgresNIO

extension PostgresConnection {
    /// Runs a statement to its end. An error PostgreSQL reports after sending a result's description (a `SELECT`
    /// of a function that waits for a lock, then fails) arrives with the rows: reading them all surfaces it.
    func run(_ query: PostgresQuery, logger: Logger) async throws {
        for try await _ in try await self.query(query, logger: logger) {}
    }
}
