import ArgumentParser
import SpendLog

#if canImport(Glibc)
    import Glibc
#endif

extension ExitCodes {
    /// A limit would be exceeded: nothing was recorded (docs/FORMAT.md, "Budgets").
    static let limitExceeded: Int32 = 3
}

/// The clock of budget commands: `$SPENDLOG_NOW` (RFC 3339; for tests only), else the wall clock.
func budgetClock() throws -> Timestamp {
    guard let raw = getenv("SPENDLOG_NOW"), raw.pointee != 0 else { return .now() }
    let text = String(cString: raw)
    guard let time = Timestamp.parse(text) else {
        throw ValidationError("SPENDLOG_NOW: '\(text)' is not an RFC 3339 time like 2026-11-23T10:15:02.123Z.")
    }
    return time
}

/// `10m`, `30s`, `2h`, `1d` → milliseconds; with `allowZero`, also `0` in any unit (or bare).
func parseDuration(_ text: String, option: String, allowZero: Bool = false) throws -> Int64 {
    if allowZero, text == "0" { return 0 }
    let units: [Character: Int64] = ["s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000]
    guard let unit = text.last, let size = units[unit], let count = Int64(text.dropLast()),
        count > 0 || (allowZero && count == 0), text.dropLast().allSatisfy(\.isNumber),
        count <= 366 * 86_400_000 / size
    else {
        throw ValidationError(
            "\(option): '\(text)' is not a duration like 30s, 10m, 2h or 1d ("
                + (allowZero ? "0 or more" : "above 0") + ", at most 366 days).")
    }
    return count * size
}

/// Like ``withReportedErrors(_:)``; a refused append or reservation exits with code 3, and a
/// shared budget store that cannot be reached with code 69.
func withReportedBudgetErrors(_ body: () throws -> Void) throws {
    try withReportedErrors {
        do {
            try body()
        } catch let refusal as LimitExceeded {
            printError("Error: \(refusal.description)")
            throw ExitCode(ExitCodes.limitExceeded)
        } catch let failure as BudgetStoreUnavailable {
            printError("Error: \(failure.description)")
            throw ExitCode(ExitCodes.storeUnavailable)
        }
    }
}

extension ParsableCommand {
    /// See ``withReportedBudgetErrors(_:)``.
    func reportingBudgetErrors(_ body: () throws -> Void) throws { try withReportedBudgetErrors(body) }
}

/// A budget whose derived-state failures (a checkpoint not written, …) are noted on stderr: they
/// never fail a command whose change is in the log or the journal.
func makeBudget(_ log: LogDirectory, writerOptions: WriterOptions = WriterOptions()) -> Budget {
    let budget = Budget(directory: log, writerOptions: writerOptions)
    // A command is a process of one operation: it checkpoints what it changed, so that the next
    // one starts from there instead of reading it again from the log and the journal.
    budget.checkpointIntervalBytes = 0
    budget.onDerivedStateFailure = { error in printError("Note: " + error.message) }
    return budget
}

/// Checks the shape of a limit id (`L1`) or reservation id (`R` + UUID) given as the ID argument.
func validateID(_ id: String, prefix: Character, kind: String, hint: String) throws {
    let rest = id.dropFirst()
    let shaped =
        id.first == prefix
        && (prefix == "L"
            ? !rest.isEmpty && rest.count <= 18 && rest.allSatisfy { $0.isASCII && $0.isNumber }
            : rest.count == 36 && rest.allSatisfy { $0.isHexDigit || $0 == "-" })
    guard shaped else {
        let shown = JSONValue.string(String(id.prefix(60))).jsonText
        throw ValidationError("ID: \(shown) is not \(kind); \(hint)")
    }
}

func validateReservationID(_ id: String) throws {
    try validateID(
        id, prefix: "R", kind: "a reservation id (R followed by a UUID)", hint: "give the id `reserve` printed.")
}

func printWarnings(_ warnings: [SoftLimitWarning]) {
    for warning in warnings { printError(warning.description) }
}

/// A time for people and JSON: RFC 3339, or `-`/null when absent.
func timeText(_ ms: Int64?) -> String {
    ms.map { Timestamp(millisecondsSinceEpoch: $0).rfc3339 } ?? "-"
}

extension ExitCodes {
    /// The budget store (PostgreSQL) could not be reached and a limit fails closed: nothing was
    /// recorded (EX_UNAVAILABLE).
    static let storeUnavailable: Int32 = 69
}

/// Where a shared budget is kept: the PostgreSQL URL comes from a file or the environment, never
/// from the command line (it would show in `ps`).
struct BudgetStoreOptions: ParsableArguments {
    @Option(
        name: .customLong("budget-store-file"),
        help: ArgumentHelp(
            "A file holding the postgresql:// URL of a budget shared by several hosts (default: "
                + "$SPENDLOG_BUDGET_STORE, else the log's budget/store file; none: limits of this host only).",
            valueName: "file"))
    var budgetStoreFile: String?

    /// The store, if one is configured: the file given, else `$SPENDLOG_BUDGET_STORE`, else a
    /// line of `<log>/budget/store`.
    func location(_ log: LogDirectory) throws -> BudgetStoreLocation? {
        try BudgetStoreOptions.location(file: budgetStoreFile, log)
    }

    /// The store given by `file` (the flag's value), else by the environment or the log.
    static func location(file budgetStoreFile: String?, _ log: LogDirectory) throws -> BudgetStoreLocation? {
        if let budgetStoreFile {
            return try BudgetStoreOptions.read(budgetStoreFile, what: "--budget-store-file")
        }
        if let raw = getenv("SPENDLOG_BUDGET_STORE"), raw.pointee != 0 {
            do { return try BudgetStoreLocation(url: String(cString: raw), field: "SPENDLOG_BUDGET_STORE") } catch {
                throw ValidationError(error.message)
            }
        }
        let configured = log.budgetPath + "/store"
        guard access(configured, F_OK) == 0 else { return nil }
        return try BudgetStoreOptions.read(configured, what: "the budget store file")
    }

    /// The first line of `path` that is not empty or a `#` comment.
    static func read(_ path: String, what: String) throws -> BudgetStoreLocation {
        let bytes: [UInt8]
        do {
            bytes = try readInputBytes(path == "-" ? "./-" : path)  // a file named -, not standard input
        } catch let error as SpendLogError {
            throw ValidationError("\(what): \(error.message) It must hold a postgresql:// URL.")
        }
        let line = String(decoding: bytes, as: UTF8.self).split(whereSeparator: \.isNewline)
            .map { String($0.drop(while: \.isWhitespace)) }  // the location trims the rest
            .first { !$0.isEmpty && !$0.hasPrefix("#") }
        guard let line else { throw ValidationError("\(what): '\(path)' holds no postgresql:// URL.") }
        do { return try BudgetStoreLocation(url: line, field: "\(what) '\(path)'") } catch {
            throw ValidationError(error.message)
        }
    }

    /// The shared budget of `log` in the configured store, or nil when there is none.
    func sharedBudget(_ log: LogDirectory, writerOptions: WriterOptions = WriterOptions()) throws -> SharedBudget? {
        try BudgetStoreOptions.sharedBudget(file: budgetStoreFile, log, writerOptions: writerOptions)
    }

    /// ``sharedBudget(_:writerOptions:)`` with the flag's value given.
    static func sharedBudget(file: String?, _ log: LogDirectory, writerOptions: WriterOptions = WriterOptions())
        throws -> SharedBudget?
    {
        guard let location = try location(file: file, log) else { return nil }
        return SharedBudget(directory: log, location: location, writerOptions: writerOptions)
    }
}

/// Prints what an enforced append against a shared budget has to say besides the id.
func printSharedOutcome(_ outcome: SharedBudget.Outcome) {
    if let failure = outcome.unchecked {
        printError(
            "Warning: \(failure.description) Every matching limit fails open: the record was written with "
                + "\"\(SharedBudget.uncheckedKey)\": true and is counted by the next `spendlog budget rebuild --from`.")
    }
    for note in outcome.notes { printError("Note: " + note) }
    if outcome.alreadyRecorded { noteAlreadyRecorded(outcome.record) }
}
