/// Spending limits that hold under concurrency (docs/FORMAT.md, "Budgets"): the policy. Which
/// rules apply to a record, in which window, whether it fits, what a hold reserves, when a soft
/// threshold warns. Every decision is taken on a state brought up to date under `budget/lock` by
/// `BudgetStore` and written by it before the lock is released, so a limit is never overspent
/// however many processes enforce at once, and a crash anywhere counts each record exactly once.
///
/// Operations that can be refused (``appendIfWithinLimits(_:now:once:)``, ``reserve(fields:amount:ttlMs:holder:now:)``,
/// ``settle(_:record:now:)``) throw ``LimitExceeded`` (nothing was written) or ``SpendLogError``;
/// the others throw ``SpendLogError`` only.
public final class Budget: @unchecked Sendable {
    /// The log the limits are kept in (its `budget/` folder).
    public let directory: LogDirectory
    let store: BudgetStore

    /// The writer enforced appends go through.
    public var writer: LogWriter { store.writer }
    /// The sidecar is rewritten after every change of the rules this budget makes, and once this
    /// many bytes of log and control journal (reservations, settlements) have been counted since
    /// the last checkpoint (0: after every operation that changes the state), unless another
    /// process replaced it meanwhile (docs/FORMAT.md, "Budgets"). Between checkpoints the
    /// counters live in memory and the next process catches up from the log and the journal.
    public var checkpointIntervalBytes: Int64 {
        get { store.checkpointIntervalBytes }
        set { store.checkpointIntervalBytes = newValue }
    }
    /// Told of failures of derived state — the checkpoint, counting after an append — that did
    /// not fail the operation: what it wrote is in the log (and the journal), which are the truth.
    public var onDerivedStateFailure: @Sendable (SpendLogError) -> Void {
        get { store.onDerivedStateFailure }
        set { store.onDerivedStateFailure = newValue }
    }
    /// `budget/lock`, held for a whole check, append and count.
    public var lockPath: String { store.lockPath }
    /// `budget/journal.jsonl`, the control journal: rules, reservations, resets.
    public var journalPath: String { store.journalPath }
    /// `budget/sidecar`, the checkpoint of the counters.
    public var sidecarPath: String { store.sidecarPath }
    /// `budget/quiet-days`, a hint of day folders already counted to their end; safe to delete.
    public var quietDaysPath: String { store.quietDaysPath }

    /// The limits of `directory`; enforced appends are written with `writerOptions`. Nothing is read
    /// until the first operation.
    public init(directory: LogDirectory, writerOptions: WriterOptions = WriterOptions()) {
        self.directory = directory
        self.store = BudgetStore(directory: directory, writerOptions: writerOptions)
    }

    // MARK: - Rules

    /// Adds a rule (its id is assigned) and counts the whole log for it.
    @discardableResult
    public func setLimit(_ rule: LimitRule, now: Timestamp = .now()) throws(SpendLogError) -> LimitRule {
        try store.locked(now: now) { state throws(SpendLogError) -> LimitRule in
            var added = rule
            added.id = "L\(state.nextRuleNumber)"
            added.createdAt = now.millisecondsSinceEpoch
            try store.record([.limitSet(added, at: now.millisecondsSinceEpoch)], into: &state)
            return added
        }
    }

    /// Removes the rule `id` (`L3`); an id no rule has is refused.
    public func deleteLimit(id: String, now: Timestamp = .now()) throws(SpendLogError) {
        try store.locked(now: now) { state throws(SpendLogError) in
            guard state.rules[id] != nil else {
                throw .invalid("No limit '\(id)'. `spendlog limit list` shows the rules and their ids.")
            }
            try store.record([.limitDelete(id: id, at: now.millisecondsSinceEpoch)], into: &state)
        }
    }

    /// The rules, from the checkpoint and the journal alone: reading them never needs the log,
    /// so a segment that cannot be counted does not hide them.
    public func limits() throws(SpendLogError) -> [LimitRule] { try store.rules() }

    /// Records that nothing before `now` counts any more for the rules of `scope`. Survives a
    /// rebuild: it is an event in the journal, applied by record time.
    public func reset(scope: LimitScope, now: Timestamp = .now()) throws(SpendLogError) {
        try store.locked(now: now) { state throws(SpendLogError) in
            guard state.rules.values.contains(where: { $0.scope == scope }) else {
                throw .invalid(field: "scope", "no limit has the scope '\(scope)'; `spendlog limit list` shows them.")
            }
            try store.record([.reset(scope: scope, at: now.millisecondsSinceEpoch)], into: &state)
        }
    }

    // MARK: - Enforcement

    /// What an enforced append or a settle did.
    public struct EnforcedAppend: Sendable {
        /// The record, as written (or as found in the log, when ``alreadyRecorded``).
        public var record: UsageRecord
        /// Soft thresholds this append reached, each reported once per window.
        public var warnings: [SoftLimitWarning]
        /// The record's id was in the log already: nothing was written or counted (`once`).
        public var alreadyRecorded = false
    }

    /// Appends `record` only if no matching rule would pass its maximum; otherwise throws
    /// ``LimitExceeded`` and writes nothing. `now` is the clock: it expires holds and keys
    /// soft-limit warnings.
    ///
    /// Each rule is checked in the window of the record's own time (the window it is counted
    /// in), so that a back-dated record cannot pass a full window. A record dated after `now`
    /// (beyond ``futureToleranceMs``) is refused as invalid: counting it would move the counters
    /// past windows that are still current.
    ///
    /// With `once`, a record whose id is already in the log of its day (a retry) is neither
    /// checked nor written again: the result says ``EnforcedAppend/alreadyRecorded``.
    @discardableResult
    public func appendIfWithinLimits(_ record: UsageRecord, now: Timestamp = .now(), once: Bool = false) throws
        -> EnforcedAppend
    {
        let line = try Budget.validate(record, now: now)
        let already = EnforcedAppend(record: record, warnings: [], alreadyRecorded: true)
        return try store.locked(now: now) { state throws(SpendLogError) -> Result<EnforcedAppend, LimitExceeded> in
            if once, try writer.isRecorded(record.id, day: record.timestamp.dayString) { return .success(already) }
            let matching = state.sortedRules.filter { $0.scope.matches(record) }
            try Budget.refuseBeforeReset(record, matching, state)
            if let refusal = Budget.refusal(of: record, by: matching, state, now: now) { return .failure(refusal) }
            FaultInjection.reach("budget.afterCheck")
            guard try store.appendAndCount(line, once: once, into: &state) else { return .success(already) }
            // The rules are those of the check: appending and counting changes none.
            let warnings = softWarnings(for: record, among: matching, state: &state, now: now.millisecondsSinceEpoch)
            return .success(EnforcedAppend(record: record, warnings: warnings))
        }.get()
    }

    /// How far past `now` the time of an enforced or settled record may be (clock jitter).
    /// Counters keep a window more than they count (see ``LimitWindow``), so a record this far
    /// ahead never pushes current counts out.
    public static let futureToleranceMs: Int64 = 1000

    /// The record's own checks, and its time no later than `now` (within the tolerance). Returns
    /// its line, made before the budget's lock is taken.
    static func validate(_ record: UsageRecord, now: Timestamp) throws(SpendLogError) -> LogWriter.EncodedRecords {
        let line = try LogWriter.encode([record])
        guard record.timestamp.millisecondsSinceEpoch <= now.millisecondsSinceEpoch + futureToleranceMs else {
            throw SpendLogError.invalid(
                field: "ts",
                "\(record.timestamp.rfc3339) is later than the clock (\(now.rfc3339)). A record checked "
                    + "against limits must not be dated in the future: it would count in a window that has not "
                    + "started. Give the time of the call, or leave ts out.")
        }
        return line
    }

    // MARK: - Reservations

    /// Holds `amount` (and one request) against every rule whose scope `fields` covers, until
    /// settled, released, the holder exits, or `ttlMs` passes. Throws ``LimitExceeded`` when the
    /// hold does not fit.
    public func reserve(
        fields: LimitScope, amount: Money, ttlMs: Int64, holder: HolderProcess = .current(), now: Timestamp = .now()
    ) throws -> Reservation {
        guard amount >= .zero, amount <= Money.maximumPerRecord else {
            throw SpendLogError.invalid(field: "amount", "must be between 0 and 1000000 USD.")
        }
        guard ttlMs > 0, ttlMs <= 366 * Timestamp.millisecondsPerDay else {
            throw SpendLogError.invalid(field: "ttl", "must be longer than 0 and at most 366 days.")
        }
        return try store.locked(now: now) { state throws(SpendLogError) -> Result<Reservation, LimitExceeded> in
            let at = now.millisecondsSinceEpoch
            let reservation = Reservation(
                id: "R" + RecordID.generate(at: now).description, scope: fields, amount: amount, holder: holder,
                deadline: at + ttlMs, createdAt: at)
            for rule in state.sortedRules where rule.scope.isCovered(by: fields) {
                // A hold of nothing (token rules) still needs room: the call will use some.
                let requested = reservation.held(rule.metric)
                if let refusal = Budget.refusal(
                    by: rule, at: at, requested: requested, needsRoom: requested == 0, state)
                {
                    return .failure(refusal)
                }
            }
            try store.record([.reserve(reservation)], into: &state)
            return .success(reservation)
        }.get()
    }

    /// Appends the call's real record and frees the hold. The record is written whatever it
    /// costs against the rules the hold covered — the money is spent, so a call dearer than its
    /// estimate can take them past their maximum — and only then is the hold freed, so a crash in
    /// between counts the call twice until the hold expires, never zero times.
    ///
    /// Rules the record falls under that the hold did not cover (its fields did not name them,
    /// or the record's fields differ from the reservation's) are checked like an enforced append:
    /// if one would be exceeded, ``LimitExceeded`` is thrown, nothing is written and the hold
    /// stays open.
    @discardableResult
    public func settle(_ id: String, record: UsageRecord, now: Timestamp = .now()) throws -> EnforcedAppend {
        try settle(id, record: record, now: now, paid: false).get()
    }

    /// Settles a call that was made and paid for, so that it is never lost: like
    /// ``settle(_:record:now:)``, but a rule the hold did not cover does not refuse the record
    /// (it is written and counted past that rule's maximum), and a hold that is gone — expired
    /// during a long call, or released — does not either (the record is written and counted;
    /// there is nothing to free). One lock hold for all of it.
    @discardableResult
    public func settlePaidCall(_ id: String, record: UsageRecord, now: Timestamp = .now()) throws(SpendLogError)
        -> EnforcedAppend
    {
        switch try settle(id, record: record, now: now, paid: true) {
        case .success(let settled): return settled
        case .failure: preconditionFailure("a paid call is checked against no rule")
        }
    }

    private func settle(_ id: String, record: UsageRecord, now: Timestamp, paid: Bool) throws(SpendLogError)
        -> Result<EnforcedAppend, LimitExceeded>
    {
        let line = try Budget.validate(record, now: now)
        return try store.locked(now: now) { state throws(SpendLogError) -> Result<EnforcedAppend, LimitExceeded> in
            let reservation = state.reservations[id]
            if reservation == nil, !paid { throw Budget.noReservation(id) }
            if let reservation, !paid {
                let unheld = state.sortedRules.filter {
                    $0.scope.matches(record) && !$0.scope.isCovered(by: reservation.scope)
                }
                if let refusal = Budget.refusal(of: record, by: unheld, state, now: now) { return .failure(refusal) }
            }
            try store.appendAndCount(line, into: &state)
            FaultInjection.reach("budget.settle.afterAppend")
            if reservation != nil {
                do throws(SpendLogError) {
                    try store.record(
                        [.settle(id: id, record: record.id.description, at: now.millisecondsSinceEpoch)], into: &state)
                } catch {
                    // The call is recorded; only freeing the hold failed. Say both.
                    var failed = error
                    failed.message =
                        "The record \(record.id) is in the log, but reservation \(id) was not freed: \(error.message) "
                        + "The hold counts against its limits until it is released or expires; release it, and do not "
                        + "settle it again (that would record the call twice)."
                    failed.possiblyWritten = [record.id.description]
                    throw failed
                }
            }
            let warnings = softWarnings(
                for: record, among: state.sortedRules, state: &state, now: now.millisecondsSinceEpoch)
            return .success(EnforcedAppend(record: record, warnings: warnings))
        }
    }

    /// Frees a hold without recording anything.
    public func release(_ id: String, now: Timestamp = .now()) throws(SpendLogError) {
        try store.locked(now: now) { state throws(SpendLogError) in
            guard state.reservations[id] != nil else { throw Budget.noReservation(id) }
            try store.record([.release(id: id, at: now.millisecondsSinceEpoch)], into: &state)
        }
    }

    /// The open reservations at `now` (expired ones and those of exited holders are gone), by id.
    public func reservations(now: Timestamp = .now()) throws(SpendLogError) -> [Reservation] {
        try store.locked(now: now) { state in state.reservations.values.sorted { $0.id < $1.id } }
    }

    static func noReservation(_ id: String) -> SpendLogError {
        .invalid(
            "No open reservation '\(id)': it was settled, released or expired, or never made. "
                + "Record the call with `spendlog append` instead.")
    }

    // MARK: - Status, checkpoint, rebuild

    /// Every rule's spend in its current window, held amounts, and when the window resets.
    public func status(now: Timestamp = .now()) throws(SpendLogError) -> [RuleStatus] {
        try store.locked(now: now, checkpoint: .whenChanged) { state in Budget.statuses(state, at: now) }
    }

    /// Every rule's status in `state` at `now`.
    private static func statuses(_ state: BudgetState, at now: Timestamp) -> [RuleStatus] {
        let at = now.millisecondsSinceEpoch
        return state.sortedRules.map { rule in
            RuleStatus(
                rule: rule, windowStart: windowStart(rule, state, at), spent: state.spent(rule, now: at),
                held: state.held(rule), resetsAt: rule.window.resetTime(after: at))
        }
    }

    /// What ``status(now:)`` answers, worked out without writing anything to the log's folder
    /// (the store's read-only count): for readers such as `spendlog report` and the HTTP API,
    /// which may run on a read-only copy. It takes `budget/lock` shared, when the file exists, so
    /// that no operation is seen half done: enforced appends wait while it counts. Holds past
    /// their deadline, or of a process that is gone, are not counted, as the next locked
    /// operation would end them.
    public func peekStatus(now: Timestamp = .now()) throws(SpendLogError) -> [RuleStatus] {
        Budget.statuses(try store.peek(now: now), at: now)
    }

    /// Brings the sidecar up to date and returns its bytes.
    @discardableResult
    public func checkpoint(now: Timestamp = .now()) throws(SpendLogError) -> [UInt8] {
        try store.locked(now: now, checkpoint: .whenChanged) { state in state.encode() }
    }

    /// Recounts everything from the journal and the whole log and replaces the sidecar. Returns
    /// the new sidecar's bytes and whether they differ from the previous checkpoint brought up
    /// to date (they never should).
    @discardableResult
    public func rebuild(now: Timestamp = .now()) throws(SpendLogError) -> (sidecar: [UInt8], differed: Bool) {
        try store.rebuild(now: now)
    }

    /// The state a rebuild would write now, without writing it (for tests and checks).
    public func rebuiltSidecar() throws(SpendLogError) -> [UInt8] { try store.rebuiltSidecar() }

    // MARK: - Policy

    /// The soft limits among `rules` that `record`'s append reached in their window, each told once
    /// per window (remembered in the journal after the append).
    private func softWarnings(for record: UsageRecord, among rules: [LimitRule], state: inout BudgetState, now: Int64)
        -> [SoftLimitWarning]
    {
        var warnings: [SoftLimitWarning] = []
        var events: [BudgetEvent] = []
        for rule in rules where rule.softPartsPerMillion != nil && rule.scope.matches(record) {
            let spent = state.spent(rule, now: now)
            let window = state.softWindow(rule, now: now)
            guard rule.softReached(spent), state.softWarned[rule.id] != window else { continue }
            warnings.append(SoftLimitWarning(rule: rule, spent: spent))
            events.append(.softWarning(rule: rule.id, window: window, at: now))
        }
        // After the append: not remembering a warning only means it is given again.
        store.recordAfterAppend(events, into: &state)
        return warnings
    }

    /// A record dated before the latest reset of a rule's scope would not count against that
    /// rule at all: refused, or back-dating would pass any limit that was ever reset.
    private static func refuseBeforeReset(_ record: UsageRecord, _ rules: [LimitRule], _ state: BudgetState)
        throws(SpendLogError)
    {
        let ts = record.timestamp.millisecondsSinceEpoch
        for rule in rules {
            guard let reset = state.reset(of: rule.scope), ts < reset else { continue }
            throw SpendLogError.invalid(
                field: "ts",
                "\(record.timestamp.rfc3339) is before the reset of \(rule.scope) at "
                    + "\(Timestamp(millisecondsSinceEpoch: reset).rfc3339), so the record would not count against "
                    + "limit \(rule.id). Give the time of the call; an earlier call is recorded without enforcement.")
        }
    }

    /// The refusal of `record` by the first of `rules` it does not fit, in the window of its own
    /// time; nil when it fits them all.
    private static func refusal(of record: UsageRecord, by rules: [LimitRule], _ state: BudgetState, now: Timestamp)
        -> LimitExceeded?
    {
        let at = record.timestamp.millisecondsSinceEpoch
        for rule in rules {
            if var refusal = refusal(
                by: rule, at: at, requested: rule.metric.amount(of: record), needsRoom: false, state)
            {
                // A back-dated record is checked in its own window: say which.
                refusal.pastWindow = at < rule.window.firstCountedBucket(at: now.millisecondsSinceEpoch)
                return refusal
            }
        }
        return nil
    }

    /// A refusal unless spent at `at` + held + `requested` ≤ max (< max with `needsRoom`).
    private static func refusal(by rule: LimitRule, at: Int64, requested: Int64, needsRoom: Bool, _ state: BudgetState)
        -> LimitExceeded?
    {
        let spent = state.spent(rule, now: at)
        let held = state.held(rule)
        let total = Int128(spent) + Int128(held) + Int128(requested)
        guard total > Int128(rule.maximum) || (needsRoom && total >= Int128(rule.maximum)) else { return nil }
        return LimitExceeded(
            rule: rule, windowStart: windowStart(rule, state, at), spent: spent, held: held, requested: requested,
            resetsAt: rule.window.resetTime(after: at))
    }

    private static func windowStart(_ rule: LimitRule, _ state: BudgetState, _ now: Int64) -> Int64 {
        max(rule.window.firstCountedBucket(at: now), state.reset(of: rule.scope) ?? 0)
    }
}
