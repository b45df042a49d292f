import Foundation
import Logging
import PostgresNIO
import TrailCore

/// The PostgreSQL schema, as numbered forward-only migrations. A landed migration is never edited: changes come
/// as new migrations. Several Trail processes may start at once: migrations run under an advisory lock, in one
/// transaction, so exactly one process applies each.
enum PostgresMigrations {
    struct Migration: Sendable {
        let id: String
        let sql: [String]
        /// Work after the statements, in the same transaction (data the schema needs, a key to make).
        var then: (@Sendable (PostgresConnection, Logger) async throws -> Void)? = nil
    }

    /// The advisory lock key that serialises migrations and partition creation ("trail" in ASCII).
    static let lockKey: Int64 = 0x74_72_61_69_6C

    /// Every migration, in order; each in its own file (Migrations/), named by its id.
    static let all: [Migration] = [
        m0001EventsHeadsIdempotency,
        m0002Messages,
        m0003MessageContext,
        m0004Search,
        m0005ApiKeys,
        m0006ImmutableEventsSigningKey,
        m0007DataEventsIndex,
        m0008HashChain,
        m0009HashChainChecks,
        m0010Checkpoints,
        m0011TypeActionIndex,
        m0012SubtreeRoots,
        m0013FailedMessagesIndex,
        m0014RetentionHolds,
        m0015PersonalData,
        m0016Streams,
        m0017ConsoleSessions,
        m0018AppendFunction,
        m0019SearchBehindWriter,
        m0020AppendChecksHeads,
    ]

    /// What an event is: every column but derived ones (`search`).
    static let eventContentColumns = "tenant, sequence, id, occurred_at, recorded_at, action, category, outcome, actor_id, actor, resource_type, resource_id, resource_name, version, new_version, changes, summary, state_after, secret_digests, context, metadata, duration_ms, error, prev_hash, hash"

    /// The advisory lock key that serialises queue claims ("claim" in ASCII).
    static let claimLockKey: Int64 = 0x63_6C_61_69_6D
    /// The channel `NOTIFY` wakes queue workers on.
    static let messagesChannel = "trail_messages"
    /// The channel `NOTIFY` tells of committed events on (``CommitNote``).
    static let eventsChannel = "trail_events"

    /// Applies the migrations the database lacks; returns their ids.
    static func migrate(_ client: PostgresClient, logger: Logger) async throws -> [String] {
        try await client.withTransaction(logger: logger) { connection in
            // Another process may be migrating: wait for it longer than the usual lock timeout.
            try await connection.run("SET LOCAL lock_timeout = '120s'", logger: logger)
            try await connection.run("SELECT pg_advisory_xact_lock(\(lockKey))", logger: logger)
            try await connection.query("""
                CREATE TABLE IF NOT EXISTS trail_migrations (
                    id text PRIMARY KEY,
                    applied_at timestamptz NOT NULL DEFAULT now()
                )
                """, logger: logger)
            var applied = Set<String>()
            for try await id in try await connection.query("SELECT id FROM trail_migrations", logger: logger)
                .decode(String.self) {
                applied.insert(id)
            }
            var appliedNow: [String] = []
            for migration in all where !applied.contains(migration.id) {
                for statement in migration.sql {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query("INSERT INTO trail_migrations (id) VALUES (\(migration.id))", logger: logger)
                try await migration.then?(connection, logger)
                appliedNow.append(migration.id)
            }
            return appliedNow
        }
    }
}
