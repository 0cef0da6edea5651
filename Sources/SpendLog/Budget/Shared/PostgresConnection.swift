import CLibPQ

#if canImport(Glibc)
    import Glibc
#endif

/// The budget store could not be reached, or failed in the middle of an operation (docs/FORMAT.md,
/// "Shared budgets on PostgreSQL"): the connection was refused or timed out, the server went away,
/// a statement ran past its time-out. Names the host and port, never the password.
public struct BudgetStoreUnavailable: Error, CustomStringConvertible, Sendable {
    /// `host:port` of the server that failed.
    public var endpoint: String
    /// What failed, as the server or libpq said it (the password, if any, is masked).
    public var reason: String
    /// Whether a commit was sent whose outcome is unknown: the count may have been taken.
    public var commitUncertain = false

    /// The failure for people: the server's `host:port` and what failed.
    public var description: String {
        "The budget store at \(endpoint) is unavailable: \(reason)"
    }
}

/// Where the shared budget lives: a `postgresql://` (or `postgres://`) connection URL, kept out of
/// messages (they name `host:port` only).
public struct BudgetStoreLocation: Sendable {
    let url: String
    /// `host:port`, for messages.
    public let endpoint: String
    /// Seconds a connection attempt may take (`connect_timeout`, unless the URL sets it).
    public var connectTimeoutSeconds = 5
    /// Milliseconds a statement, or a wait for a row lock, may take (`statement_timeout`,
    /// `lock_timeout`).
    public var statementTimeoutMs = 5000

    /// Checks the URL's shape with libpq's own parser. Errors name `field` and never repeat the URL.
    public init(url: String, field: String = "budget store") throws(SpendLogError) {
        let text = url.trimmingWhitespace()
        guard text.hasPrefix("postgresql://") || text.hasPrefix("postgres://") else {
            throw .invalid(
                field: field, "must be a PostgreSQL connection URL starting with postgresql:// (it is not shown here).")
        }
        let pq: LibPQ
        do { pq = try LibPQ.get() } catch {
            throw SpendLogError(code: .io, message: "Cannot use a budget store: " + error.reason)
        }
        var message: UnsafeMutablePointer<CChar>?
        guard let options = pq.PQconninfoParse(text, &message) else {
            let reason = message.map { String(cString: $0) } ?? "unreadable"
            if let message { pq.PQfreemem(message) }
            throw .invalid(
                field: field,
                "is not a valid PostgreSQL connection URL: \(PostgresConnection.clean(reason, password: "")) (it is not shown here)."
            )
        }
        defer { pq.PQconninfoFree(options) }
        var host = ""
        var port = ""
        var hostaddr = ""
        var cursor = options
        while let keyword = cursor.pointee.keyword {
            let name = String(cString: keyword)
            if let value = cursor.pointee.val {
                switch name {
                case "host": host = String(cString: value)
                case "hostaddr": hostaddr = String(cString: value)
                case "port": port = String(cString: value)
                default: break
                }
            }
            cursor += 1
        }
        if host.isEmpty { host = hostaddr.isEmpty ? "localhost" : hostaddr }
        self.url = text
        self.endpoint = "\(host):\(port.isEmpty ? "5432" : port)"
    }

}

extension String {
    func trimmingWhitespace() -> String {
        var scalars = Substring(self)
        while let first = scalars.first, first.isWhitespace { scalars.removeFirst() }
        while let last = scalars.last, last.isWhitespace { scalars.removeLast() }
        return String(scalars)
    }
}

/// One libpq connection, used synchronously: simple-protocol queries (several statements in one
/// round trip), text results. Values put into SQL are numbers, ids of a fixed shape, or strings
/// quoted by ``literal(_:)``.
final class PostgresConnection {
    private let pq: LibPQ
    private let connection: OpaquePointer
    let endpoint: String
    private let password: String

    /// A result set: rows of optional text values.
    struct Rows {
        var rows: [[String?]]
        var affected: Int
    }

    /// A statement the server refused (not a lost connection): SQLSTATE and message.
    struct StatementError: Error {
        var sqlState: String
        var message: String
    }

    enum Failure: Error {
        case unavailable(BudgetStoreUnavailable)
        case statement(StatementError)
    }

    init(_ location: BudgetStoreLocation) throws(BudgetStoreUnavailable) {
        endpoint = location.endpoint
        let pq: LibPQ
        do { pq = try LibPQ.get() } catch { throw BudgetStoreUnavailable(endpoint: endpoint, reason: error.reason) }
        self.pq = pq
        // Defaults first: what the URL sets (its dbname expands last) wins.
        let keywords = ["connect_timeout", "application_name", "options", "dbname"]
        let values = [
            String(location.connectTimeoutSeconds), "spendlog",
            "-c statement_timeout=\(location.statementTimeoutMs) -c lock_timeout=\(location.statementTimeoutMs) "
                + "-c idle_in_transaction_session_timeout=\(max(location.statementTimeoutMs * 2, 1000))",
            location.url,
        ]
        let keywordPointers = keywords.map { strdup($0) } + [nil]
        let valuePointers = values.map { strdup($0) } + [nil]
        defer {
            for p in keywordPointers { free(p) }
            for p in valuePointers { free(p) }
        }
        let raw = keywordPointers.map { UnsafePointer($0) }.withUnsafeBufferPointer { k in
            valuePointers.map { UnsafePointer($0) }.withUnsafeBufferPointer { v in
                pq.PQconnectdbParams(k.baseAddress, v.baseAddress, 1)
            }
        }
        guard let raw else {
            throw BudgetStoreUnavailable(endpoint: endpoint, reason: "libpq could not allocate a connection.")
        }
        password = pq.PQpass(raw).map { String(cString: $0) } ?? ""
        guard pq.PQstatus(raw) == CONNECTION_OK else {
            let reason = PostgresConnection.clean(
                pq.PQerrorMessage(raw).map { String(cString: $0) } ?? "", password: password)
            pq.PQfinish(raw)
            throw BudgetStoreUnavailable(endpoint: endpoint, reason: reason)
        }
        // Notices (`relation … already exists, skipping`) are not for the CLI's stderr.
        _ = pq.PQsetNoticeProcessor(raw, { _, _ in }, nil)
        connection = raw
    }

    deinit { pq.PQfinish(connection) }

    /// The server process of this connection (for `pg_terminate_backend` in tests).
    var backendPID: Int32 { pq.PQbackendPID(connection) }

    /// Runs `sql` (one or more statements) and returns every result set. A statement error ends the
    /// batch; the transaction, if any, is then aborted (roll it back).
    func run(_ sql: String, commit: Bool = false) throws(Failure) -> [Rows] {
        guard pq.PQsendQuery(connection, sql) == 1 else { throw .unavailable(lost(commit: false)) }
        var sets: [Rows] = []
        var statementError: StatementError?
        while let result = pq.PQgetResult(connection) {
            defer { pq.PQclear(result) }
            switch pq.PQresultStatus(result) {
            case PGRES_TUPLES_OK:
                let n = pq.PQntuples(result)
                let m = pq.PQnfields(result)
                var rows: [[String?]] = []
                rows.reserveCapacity(Int(n))
                for i in 0..<n {
                    var row: [String?] = []
                    for j in 0..<m {
                        row.append(
                            pq.PQgetisnull(result, i, j) == 1
                                ? nil : pq.PQgetvalue(result, i, j).map { String(cString: $0) })
                    }
                    rows.append(row)
                }
                sets.append(Rows(rows: rows, affected: Int(n)))
            case PGRES_COMMAND_OK:
                sets.append(Rows(rows: [], affected: pq.PQcmdTuples(result).flatMap { Int(String(cString: $0)) } ?? 0))
            default:
                if statementError == nil {
                    let state =
                        pq.PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) } ?? ""
                    let message = pq.PQresultErrorMessage(result).map { String(cString: $0) } ?? ""
                    statementError = StatementError(
                        sqlState: state, message: PostgresConnection.clean(message, password: password))
                }
            }
        }
        if pq.PQstatus(connection) != CONNECTION_OK { throw .unavailable(lost(commit: commit)) }
        if let statementError {
            // Time-outs, a terminated backend, a server shutting down: the store, not the statement.
            let unavailableStates: Set<String> = [
                "57014", "55P03", "57P01", "57P02", "57P03", "08006", "08003", "08000",
            ]
            if unavailableStates.contains(statementError.sqlState) {
                var failure = BudgetStoreUnavailable(endpoint: endpoint, reason: statementError.message)
                failure.commitUncertain = commit && statementError.sqlState.hasPrefix("08")
                throw .unavailable(failure)
            }
            throw .statement(statementError)
        }
        return sets
    }

    private func lost(commit: Bool) -> BudgetStoreUnavailable {
        var message = PostgresConnection.clean(
            pq.PQerrorMessage(connection).map { String(cString: $0) } ?? "", password: password)
        if message.isEmpty { message = "the connection was lost." }
        var failure = BudgetStoreUnavailable(endpoint: endpoint, reason: message)
        failure.commitUncertain = commit
        return failure
    }

    /// A string as an SQL literal (`'…'`, quotes doubled; standard_conforming_strings is on).
    static func literal(_ text: String) -> String {
        "'" + text.replacingAll("'", with: "''") + "'"
    }

    /// libpq's message on one line, the password masked.
    static func clean(_ message: String, password: String) -> String {
        var text = message.split(whereSeparator: { $0 == "\n" || $0 == "\r" }).map {
            String($0).trimmingWhitespace()
        }.filter { !$0.isEmpty }.joined(separator: "; ")
        if password.count >= 1 { text = text.replacingAll(password, with: "***") }
        return text
    }
}
