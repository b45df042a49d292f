import PostgresNIO
public import TrailCore

extension PostgresEventStore: SessionStore {
    public func insertSession(_ session: ConsoleSession) async throws(StoreError) {
        try await read { connection, logger in
            try await connection.run("""
                INSERT INTO console_sessions (digest, tenant, roles, subject, credential, form_token, created_at, last_seen_at, expires_at)
                VALUES (\(session.digest), \(session.tenant), \(session.rolesText), \(session.subject),
                        \(session.credential.rawValue), \(session.formToken), \(session.createdAt.microseconds),
                        \(session.lastSeenAt.microseconds), \(session.expiresAt.microseconds))
                """, logger: logger)
        }
    }

    public func session(digest: String) async throws(StoreError) -> ConsoleSession? {
        try await read { connection, logger in
            let rows = try await connection.query("""
                SELECT digest, tenant, roles, subject, credential, form_token, created_at, last_seen_at, expires_at
                FROM console_sessions WHERE digest = \(digest)
                """, logger: logger)
            for try await (digest, tenant, roles, subject, credential, formToken, createdAt, lastSeenAt, expiresAt)
                in rows.decode((String, String, String, String, String, String, Int64, Int64, Int64).self) {
                return ConsoleSession(
                    digest: digest, tenant: tenant, roles: ConsoleSession.roles(roles), subject: subject,
                    credential: Principal.Credential(rawValue: credential) ?? .none, formToken: formToken,
                    createdAt: Timestamp(microseconds: createdAt), lastSeenAt: Timestamp(microseconds: lastSeenAt),
                    expiresAt: Timestamp(microseconds: expiresAt))
            }
            return nil
        }
    }

    public func touchSession(digest: String, at time: Timestamp) async throws(StoreError) {
        try await read { connection, logger in
            try await connection.run("""
                UPDATE console_sessions SET last_seen_at = greatest(last_seen_at, \(time.microseconds)) WHERE digest = \(digest)
                """, logger: logger)
        }
    }

    public func deleteSession(digest: String) async throws(StoreError) {
        try await read { connection, logger in
            try await connection.run("DELETE FROM console_sessions WHERE digest = \(digest)", logger: logger)
        }
    }

    public func deleteStaleSessions(idleBefore: Timestamp, now: Timestamp) async throws(StoreError) -> Int {
        try await read { connection, logger in
            var deleted = 0
            for try await _ in try await connection.query("""
                DELETE FROM console_sessions WHERE last_seen_at < \(idleBefore.microseconds) OR expires_at <= \(now.microseconds)
                RETURNING 1
                """, logger: logger) { deleted += 1 }
            return deleted
        }
    }
}
