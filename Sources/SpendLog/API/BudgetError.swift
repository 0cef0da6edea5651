/// Why an enforced operation of ``SpendLog`` — ``SpendLog/appendIfWithinLimits(_:now:once:)``,
/// ``SpendLog/reserve(fields:amount:ttlMs:holder:now:)``, ``SpendLog/settle(_:record:now:)`` —
/// failed: a limit refused it, or the log did.
///
/// ```swift
/// do {
///     try await log.appendIfWithinLimits(record)
/// } catch .limitExceeded(let refusal) {
///     // Nothing was written. Answer 429, retry after refusal.resetsAt.
/// } catch .failed(let error) {
///     // error.possiblyWritten names any record that may be in the log.
/// }
/// ```
public enum BudgetError: Error, Sendable, CustomStringConvertible {
    /// A limit would be exceeded: which one, what is left, and when its window resets. Nothing
    /// was written or held.
    case limitExceeded(LimitExceeded)
    /// The record, the reservation or the log failed; the error says what was written, if
    /// anything.
    case failed(SpendLogError)

    /// Sorts an error thrown by ``Budget`` into the two cases. Budget throws nothing else.
    init(_ error: any Error) {
        switch error {
        case let refusal as LimitExceeded: self = .limitExceeded(refusal)
        case let failure as SpendLogError: self = .failed(failure)
        default: self = .failed(SpendLogError(code: .io, message: "\(error)"))
        }
    }

    /// The refusal, when a limit refused.
    public var limitExceeded: LimitExceeded? {
        if case .limitExceeded(let refusal) = self { return refusal }
        return nil
    }

    public var description: String {
        switch self {
        case .limitExceeded(let refusal): return refusal.description
        case .failed(let error): return error.description
        }
    }
}
