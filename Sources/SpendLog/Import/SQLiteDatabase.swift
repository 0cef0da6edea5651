import CSQLite

#if canImport(Glibc)
    import Glibc
#endif

/// A SQLite database opened read-only through the system library (``LibSQLite``), for
/// ``PeerImport``. Nothing is ever written to it: the connection is `SQLITE_OPEN_READONLY` and
/// `PRAGMA query_only` is set.
final class SQLiteDatabase {
    enum Value: Equatable {
        case null
        case integer(Int64)
        case real(Double)
        case text(String)

        var text: String? {
            switch self {
            case .text(let s): s
            case .integer(let i): String(i)
            case .real(let d): String(d)
            case .null: nil
            }
        }
    }

    let path: String
    private let sqlite: LibSQLite
    private var handle: OpaquePointer?

    /// Opens `path` read-only. A file that is missing is invalid input; one that is not a SQLite
    /// database is a format mismatch, named.
    init(path: String) throws(SpendLogError) {
        self.path = path
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw SpendLogError(
                code: .invalidInput,
                message: "Could not open '\(path)': \(String(cString: strerror(errno))).", path: path)
        }
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw SpendLogError(code: .invalidInput, message: "'\(path)' is not a file.", path: path)
        }
        do { sqlite = try LibSQLite.get() } catch {
            throw SpendLogError(code: .io, message: "Could not open '\(path)': \(error.reason)", path: path)
        }
        var db: OpaquePointer?
        let rc = sqlite.open_v2(path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nil)
        handle = db
        guard rc == SQLITE_OK else {
            let message = db.flatMap { sqlite.errmsg($0) }.map { String(cString: $0) } ?? "error \(rc)"
            throw SpendLogError(code: .io, message: "Could not open '\(path)' as SQLite: \(message).", path: path)
        }
        _ = sqlite.busy_timeout(db, 5000)
        _ = try rows("PRAGMA query_only = 1")
        // The first read of the schema is what finds a file that is not a database.
        _ = try tables()
    }

    deinit { _ = sqlite.close_v2(handle) }

    /// The names of the tables.
    func tables() throws(SpendLogError) -> Set<String> {
        Set(try rows("SELECT name FROM sqlite_master WHERE type = 'table'").compactMap { $0.first?.text })
    }

    /// The column names of `table` (which must be a name from ``tables()``).
    func columns(_ table: String) throws(SpendLogError) -> Set<String> {
        Set(try rows("PRAGMA table_info(\"\(table)\")").compactMap { $0.count > 1 ? $0[1].text : nil })
    }

    /// Runs `sql` and returns every row.
    func rows(_ sql: String) throws(SpendLogError) -> [[Value]] {
        var statement: OpaquePointer?
        guard sqlite.prepare_v2(handle, sql, -1, &statement, nil) == SQLITE_OK else {
            throw failure()
        }
        defer { _ = sqlite.finalize(statement) }
        var result: [[Value]] = []
        let count = sqlite.column_count(statement)
        while true {
            let rc = sqlite.step(statement)
            if rc == SQLITE_DONE { break }
            guard rc == SQLITE_ROW else { throw failure() }
            var row: [Value] = []
            row.reserveCapacity(Int(count))
            for column in 0..<count {
                switch sqlite.column_type(statement, column) {
                case SQLITE_INTEGER: row.append(.integer(sqlite.column_int64(statement, column)))
                case SQLITE_FLOAT: row.append(.real(sqlite.column_double(statement, column)))
                case SQLITE_NULL: row.append(.null)
                default:
                    if let text = sqlite.column_text(statement, column) {
                        let length = Int(sqlite.column_bytes(statement, column))
                        row.append(
                            .text(
                                String(
                                    decoding: UnsafeBufferPointer(start: text, count: length), as: UTF8.self)))
                    } else {
                        row.append(.null)
                    }
                }
            }
            result.append(row)
        }
        return result
    }

    private func failure() -> SpendLogError {
        let code = sqlite.errcode(handle)
        let message = sqlite.errmsg(handle).map { String(cString: $0) } ?? "error \(code)"
        if code == SQLITE_NOTADB {
            return SpendLogError(
                code: .formatMismatch, message: "'\(path)' is not a SQLite database (\(message)).", path: path)
        }
        return SpendLogError(code: .io, message: "Could not read '\(path)': \(message).", path: path)
    }
}
