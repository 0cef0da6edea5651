/// An append or reservation refused because it would take a rule past its maximum. Nothing was
/// written. The CLI exits with code 3.
public struct LimitExceeded: Error, CustomStringConvertible, Sendable {
    /// The limit that refused.
    public var rule: LimitRule
    /// Start of the window the check counted (ms since the epoch; 0 for lifetime).
    public var windowStart: Int64
    /// Recorded in the window so far.
    public var spent: Int64
    /// Held by open reservations.
    public var held: Int64
    /// What the refused append or reservation would have added.
    public var requested: Int64
    /// The record is dated in an earlier window than the current one, and was checked there.
    public var pastWindow = false
    /// When the window the check counted ends (ms since the epoch): calendar windows only; nil
    /// for lifetime and rolling windows, where spend leaves the window bucket by bucket.
    public var resetsAt: Int64?

    /// The limit's maximum: nano-dollars for `cost`, else a count (``LimitRule/maximum``).
    public var limit: Int64 { rule.maximum }
    /// What could still be spent (never negative).
    public var remaining: Int64 { Int64(max(0, Int128(rule.maximum) - Int128(spent) - Int128(held))) }

    /// `>`, or `≥` for a hold of nothing refused because nothing is left.
    private var comparison: String {
        Int128(spent) + Int128(held) + Int128(requested) > Int128(rule.maximum) ? ">" : "≥"
    }

    public var description: String {
        let m = rule.metric
        var text = "Limit \(rule.id) (\(rule.scope), \(m.rawValue), \(rule.window)) would be exceeded: "
        text +=
            pastWindow
            ? "\(m.format(spent)) spent in the window of the record's time (from \(Timestamp(millisecondsSinceEpoch: windowStart).rfc3339))"
            : "\(m.format(spent)) spent in the current window"
        if held > 0 { text += " + \(m.format(held)) held by reservations" }
        text +=
            " + \(m.format(requested)) requested \(comparison) limit \(m.format(rule.maximum)); remaining \(m.format(remaining)). "
        text += "Nothing was recorded."
        return text
    }
}

/// A rule whose soft threshold has been reached, reported once per window.
public struct SoftLimitWarning: Sendable, CustomStringConvertible {
    /// The rule whose soft threshold was reached.
    public var rule: LimitRule
    /// Spent in its current window, in the rule's unit (nano-dollars for `cost`).
    public var spent: Int64

    public var description: String {
        let m = rule.metric
        let soft = Money(nanos: (rule.softPartsPerMillion ?? 0) * 1000).decimalString
        return "Warning: limit \(rule.id) (\(rule.scope), \(m.rawValue), \(rule.window)) passed its soft threshold "
            + "(\(soft) of \(m.format(rule.maximum))): \(m.format(spent)) spent in the current window."
    }
}

/// One rule's state at a moment, for `spendlog budget status`.
public struct RuleStatus: Sendable {
    /// The limit.
    public var rule: LimitRule
    /// Start of the counted window (ms since the epoch): the window start, the first counted
    /// bucket of a rolling window, or the latest reset if later; 0 for lifetime.
    public var windowStart: Int64
    /// Recorded in the counted window, in the rule's unit (nano-dollars for `cost`).
    public var spent: Int64
    /// Held by open reservations, in the same unit.
    public var held: Int64
    /// When the current calendar window ends; nil for lifetime and rolling windows.
    public var resetsAt: Int64?

    /// What could still be spent: the maximum less spent and held, never negative.
    public var remaining: Int64 { Int64(max(0, Int128(rule.maximum) - Int128(spent) - Int128(held))) }

    /// Spent plus held, as a percentage of the maximum, with two decimals (100 for a 0 maximum
    /// that has anything against it).
    public var percentUsed: String {
        let used = Int128(spent) + Int128(held)
        guard rule.maximum > 0 else { return used > 0 ? "100.00" : "0.00" }
        let hundredths = used * 10_000 / Int128(rule.maximum)
        let whole = hundredths / 100
        let fraction = hundredths % 100
        return "\(whole)." + (fraction < 10 ? "0" : "") + "\(fraction)"
    }
}
