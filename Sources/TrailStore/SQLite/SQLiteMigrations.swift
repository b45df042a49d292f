import Foundation
import GRDB
import TrailCore

/// The SQLite schema, as numbered forward-only migrations. A landed migration is never edited: changes come as
/// new migrations.
enum SQLiteMigrations {
    /// What an event is: every column but derived ones (the search index lives in its own table).
    static let eventContentColumns = "tenant, sequence, id, occurred_at, recorded_at, action, category, outcome, actor_id, actor, resource_type, resource_id, resource_name, version, new_version, changes, summary, state_after, secret_digests, context, metadata, duration_ms, error, prev_hash, hash"

    /// Applies the migrations `pool` lacks. Several processes may start on a new file at once: GRDB reads which
    /// migrations are applied before it runs each one in a transaction of its own, so a process that read before
    /// another one's migration committed fails on it (a table that exists now). That failure is retried when
    /// the applied migrations changed meanwhile (or the file was busy), and is an error otherwise.
    static func migrate(_ pool: DatabasePool) throws {
        for attempt in 1... {
            let before = applied(pool)
            do {
                return try migrator.migrate(pool)
            } catch {
                let busy = (error as? DatabaseError).map { $0.resultCode == .SQLITE_BUSY || $0.resultCode == .SQLITE_LOCKED } ?? false
                guard attempt < 100, busy || applied(pool) != before else { throw error }
                Thread.sleep(forTimeInterval: 0.02)
            }
        }
    }

    /// The migrations applied (none before the first).
    private static func applied(_ pool: DatabasePool) -> Set<String> {
        (try? pool.read { db in try migrator.appliedIdentifiers(db) }) ?? []
    }

    /// Every migration, in order, by id; each in its own file (Migrations/).
    static let all: [(id: String, migrate: @Sendable (Database) throws -> Void)] = [
        ("0001_events_heads_idempotency", m0001EventsHeadsIdempotency),
        ("0002_messages", m0002Messages),
        ("0003_message_context", m0003MessageContext),
        ("0004_search", m0004Search),
        ("0005_api_keys", m0005ApiKeys),
        ("0006_immutable_events_signing_key", m0006ImmutableEventsSigningKey),
        ("0007_data_events_index", m0007DataEventsIndex),
        ("0008_hash_chain", m0008HashChain),
        ("0009_hash_chain_checks", m0009HashChainChecks),
        ("0010_checkpoints", m0010Checkpoints),
        ("0011_type_action_index", m0011TypeActionIndex),
        ("0012_subtree_roots", m0012SubtreeRoots),
        ("0013_failed_messages_index", m0013FailedMessagesIndex),
        ("0014_retention_holds", m0014RetentionHolds),
        ("0015_personal_data", m0015PersonalData),
        ("0016_streams", m0016Streams),
        ("0017_console_sessions", m0017ConsoleSessions),
    ]

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        for (id, migration) in all { migrator.registerMigration(id, migrate: migration) }
        return migrator
    }
}
