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

/// `10m`, `30s`, `2h`, `1d` → milliseconds.
func parseDuration(_ text: String, option: String) throws -> Int64 {
    let units: [Character: Int64] = ["s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000]
    guard let unit = text.last, let size = units[unit], let count = Int64(text.dropLast()), count > 0,
        text.dropLast().allSatisfy(\.isNumber), count <= 366 * 86_400_000 / size
    else {
        throw ValidationError(
            "\(option): '\(text)' is not a duration like 30s, 10m, 2h or 1d (above 0, at most 366 days).")
    }
    return count * size
}

/// Like ``withReportedErrors(_:)``, and a refused append or reservation exits with code 3.
func withReportedBudgetErrors(_ body: () throws -> Void) throws {
    try withReportedErrors {
        do {
            try body()
        } catch let refusal as LimitExceeded {
            printError("Error: \(refusal.description)")
            throw ExitCode(ExitCodes.limitExceeded)
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
