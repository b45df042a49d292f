import GRDB
public import TrailCore

extension SQLiteEventStore: SessionStore {
    static let sessionColumns = "digest, tenant, roles, subject, credential, form_token, created_at, last_seen_at, expires_at"

    public func insertSession(_ session: ConsoleSession) async throws(StoreError) {
        try await write { db in
            try db.execute(sql: "INSERT INTO console_sessions (\(Self.sessionColumns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                           arguments: [session.digest, session.tenant, session.rolesText, session.subject,
                                       session.credential.rawValue, session.formToken, session.createdAt.microseconds,
                                       session.lastSeenAt.microseconds, session.expiresAt.microseconds])
        }
    }

    public func session(digest: String) async throws(StoreError) -> ConsoleSession? {
        try await read { db in
            try Row.fetchOne(db, sql: "SELECT \(Self.sessionColumns) FROM console_sessions WHERE digest = ?", arguments: [digest])
                .map { row in
                    ConsoleSession(
                        digest: row[0], tenant: row[1], roles: ConsoleSession.roles(row[2]), subject: row[3],
                        credential: Principal.Credential(rawValue: row[4]) ?? .none, formToken: row[5],
                        createdAt: Timestamp(microseconds: row[6]), lastSeenAt: Timestamp(microseconds: row[7]),
                        expiresAt: Timestamp(microseconds: row[8]))
                }
        }
    }

    public func touchSession(digest: String, at time: Timestamp) async throws(StoreError) {
        try await write { db in
            try db.execute(sql: "UPDATE console_sessions SET last_seen_at = max(last_seen_at, ?) WHERE digest = ?",
                           arguments: [time.microseconds, digest])
        }
    }

    public func deleteSession(digest: String) async throws(StoreError) {
        try await write { db in
            try db.execute(sql: "DELETE FROM console_sessions WHERE digest = ?", arguments: [digest])
        }
    }

    public func deleteStaleSessions(idleBefore: Timestamp, now: Timestamp) async throws(StoreError) -> Int {
        try await write { db in
            try db.execute(sql: "DELETE FROM console_sessions WHERE last_seen_at < ? OR expires_at <= ?",
                           arguments: [idleBefore.microseconds, now.microseconds])
            return db.changesCount
        }
    }
}
