import GRDB
import GRDBSQLite

/// Binding and stepping a GRDB-prepared statement through SQLite's C API, for the few statements the writer
/// runs once per event: GRDB's `StatementArguments` box every value, which costs more than the insert itself.
///
/// Use only within a GRDB database access, on the statement's own connection.
struct RawStatement {
    let statement: Statement
    private var handle: OpaquePointer { statement.sqliteStatement }
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    init(_ statement: Statement) { self.statement = statement }

    /// A value to bind, without boxing.
    enum Value {
        case text(String?)
        case integer(Int64?)
        case blob([UInt8])
    }

    /// Binds `values` to the parameters 1, 2, 3 …
    func bind(_ values: [Value]) {
        for (offset, value) in values.enumerated() {
            switch value {
            case .text(let text): bind(Int32(offset + 1), text)
            case .integer(let integer): bind(Int32(offset + 1), integer)
            case .blob(let bytes):
                _ = bytes.withUnsafeBytes { buffer in
                    sqlite3_bind_blob(handle, Int32(offset + 1), buffer.baseAddress, Int32(buffer.count), RawStatement.transient)
                }
            }
        }
    }

    private func bind(_ index: Int32, _ text: String?) {
        guard var text else {
            sqlite3_bind_null(handle, index)
            return
        }
        text.withUTF8 { bytes in
            _ = sqlite3_bind_text(handle, index, bytes.baseAddress, Int32(bytes.count), RawStatement.transient)
        }
    }

    private func bind(_ index: Int32, _ value: Int64?) {
        if let value { sqlite3_bind_int64(handle, index, value) } else { sqlite3_bind_null(handle, index) }
    }

    /// Binds `values` and runs a statement that returns no row.
    func execute(_ db: Database, _ values: [Value]) throws {
        bind(values)
        defer { sqlite3_reset(handle) }
        let code = sqlite3_step(handle)
        guard code == SQLITE_DONE else { throw error(code, db) }
    }

    /// Binds `values`, runs a query and hands its first row (if any) to `read`.
    func first<T>(_ db: Database, _ values: [Value], _ read: (RawStatement) throws -> T) throws -> T? {
        bind(values)
        defer { sqlite3_reset(handle) }
        let code = sqlite3_step(handle)
        switch code {
        case SQLITE_ROW: return try read(self)
        case SQLITE_DONE: return nil
        default: throw error(code, db)
        }
    }

    /// Runs a query with GRDB's `arguments` and hands each row, in turn, to `body`.
    func each(_ db: Database, _ arguments: StatementArguments = [], _ body: (RawStatement) throws -> Void) throws {
        try statement.setArguments(arguments)
        defer { sqlite3_reset(handle) }
        while true {
            let code = sqlite3_step(handle)
            switch code {
            case SQLITE_ROW: try body(self)
            case SQLITE_DONE: return
            default: throw error(code, db)
            }
        }
    }

    /// Runs a query with GRDB's `arguments` and reads every row with `read`.
    func all<T>(_ db: Database, _ arguments: StatementArguments, _ read: (RawStatement) throws -> T) throws -> [T] {
        var rows: [T] = []
        try each(db, arguments) { rows.append(try read($0)) }
        return rows
    }

    func text(_ column: Int32) -> String? {
        guard let pointer = sqlite3_column_text(handle, column) else { return nil }
        let count = Int(sqlite3_column_bytes(handle, column))
        return String(decoding: UnsafeRawBufferPointer(start: pointer, count: count), as: UTF8.self)
    }

    func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(handle, column) }

    /// A column's bytes (empty for NULL).
    func blob(_ column: Int32) -> [UInt8] {
        let count = Int(sqlite3_column_bytes(handle, column))
        guard count > 0, let pointer = sqlite3_column_blob(handle, column) else { return [] }
        return Array(UnsafeRawBufferPointer(start: pointer, count: count))
    }

    func optionalInt64(_ column: Int32) -> Int64? {
        sqlite3_column_type(handle, column) == SQLITE_NULL ? nil : sqlite3_column_int64(handle, column)
    }

    private func error(_ code: Int32, _ db: Database) -> DatabaseError {
        DatabaseError(resultCode: ResultCode(rawValue: code), message: db.lastErrorMessage, sql: statement.sql)
    }
}
