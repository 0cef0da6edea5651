import SystemPackage

#if canImport(Glibc)
    import Glibc
#endif

/// Spending limits that hold under concurrency (docs/FORMAT.md, "Budgets").
///
/// Every operation holds `budget/lock` (an exclusive `flock`, plus a mutex for the threads of
/// this process) from the check to the last write: it first brings the counters up to date with
/// the control journal and with every line appended to the log since they were last updated (by
/// any process, enforcing or not), expires dead or overdue reservations, then checks, appends,
/// updates and checkpoints. A crash anywhere leaves the log and journal as the truth; the next
/// holder of the lock counts what the checkpoint missed, so spend is counted exactly once.
public final class Budget: @unchecked Sendable {
    public let directory: LogDirectory
    public let writer: LogWriter
    /// The sidecar is rewritten after every journal change, and after appends once this many
    /// bytes of log have been counted since the last checkpoint (0: after every append). Between
    /// checkpoints the counters live in memory and the next process catches up from the log.
    public var checkpointIntervalBytes: Int64 = 64 << 10

    private let mutex = PThreadMutex()
    private var lockDescriptor: FileDescriptor?
    /// The state as of the end of the last locked operation, valid while nobody else has run
    /// one (checked by catching up, which is cheap when nothing changed).
    private var cached: BudgetState?
    private var lastWritten: BudgetState?
    /// Day folders whose segments were all sealed and counted to their end when last listed,
    /// by folder name: not listed again while the folder is unchanged (``catchUpLog(_:)``).
    /// Loaded from `budget/quiet-days` (``QuietDays``) on the first catch-up, so that each new
    /// process (every CLI call) need not list every old folder again.
    private var quietDays: [String: QuietDay] = [:]
    private var quietDaysOnDisk: [String: QuietDay]?

    struct QuietDay: Equatable {
        var inode: UInt64
        var modifiedMs: Int64
        var segments: [String]
    }

    /// A folder's modification time is trusted only when it is at least this much older than
    /// the clock when the folder was listed: a file created in the same tick of the file
    /// system's coarse clock can leave the time unchanged.
    static let quietMarginMs: Int64 = 2000

    public var lockPath: String { directory.budgetPath + "/lock" }
    public var journalPath: String { directory.budgetPath + "/journal.jsonl" }
    public var sidecarPath: String { directory.budgetPath + "/sidecar" }
    public var quietDaysPath: String { directory.budgetPath + "/quiet-days" }

    var journal: ControlJournal { ControlJournal(path: journalPath) }
    var syncsSidecar: Bool { writer.options.fsync != .none }

    public init(directory: LogDirectory, writerOptions: WriterOptions = WriterOptions()) {
        self.directory = directory
        self.writer = LogWriter(directory: directory, options: writerOptions)
    }

    deinit {
        if let lockDescriptor { FileSystem.close(lockDescriptor) }
    }

    // MARK: - Rules

    /// Adds a rule (its id is assigned) and counts the whole log for it.
    @discardableResult
    public func setLimit(_ rule: LimitRule, now: Timestamp = .now()) throws -> LimitRule {
        try locked(now: now) { state throws -> LimitRule in
            var added = rule
            added.id = "L\(state.nextRuleNumber)"
            added.createdAt = now.millisecondsSinceEpoch
            try record([.limitSet(added, at: now.millisecondsSinceEpoch)], into: &state)
            return added
        }
    }

    public func deleteLimit(id: String, now: Timestamp = .now()) throws {
        try locked(now: now) { state throws in
            guard state.rules[id] != nil else {
                throw SpendLogError.invalid("No limit '\(id)'. `spendlog limit list` shows the rules and their ids.")
            }
            try record([.limitDelete(id: id, at: now.millisecondsSinceEpoch)], into: &state)
        }
    }

    /// The rules, from the checkpoint and the journal alone: reading them never needs the log,
    /// so a segment that cannot be counted does not hide them.
    public func limits() throws -> [LimitRule] {
        try withLockFile {
            var state = try loadState()
            state.journalBytes = try journal.read(from: state.journalBytes) { event in _ = state.apply(event) }
            return state.sortedRules
        }
    }

    /// Records that nothing before `now` counts any more for the rules of `scope`. Survives a
    /// rebuild: it is an event in the journal, applied by record time.
    public func reset(scope: LimitScope, now: Timestamp = .now()) throws {
        try locked(now: now) { state throws in
            guard state.rules.values.contains(where: { $0.scope == scope }) else {
                throw SpendLogError.invalid(
                    field: "scope", "no limit has the scope '\(scope)'; `spendlog limit list` shows them.")
            }
            try record([.reset(scope: scope, at: now.millisecondsSinceEpoch)], into: &state)
        }
    }

    // MARK: - Enforcement

    public struct EnforcedAppend: Sendable {
        public var record: UsageRecord
        /// Soft thresholds this append reached, each reported once per window.
        public var warnings: [SoftLimitWarning]
    }

    /// Appends `record` only if no matching rule would pass its maximum; otherwise throws
    /// ``LimitExceeded`` and writes nothing. `now` is the clock: it expires holds and keys
    /// soft-limit warnings.
    ///
    /// Each rule is checked in the window of the record's own time (the window it is counted
    /// in), so that a back-dated record cannot pass a full window. A record dated after `now`
    /// (beyond ``futureToleranceMs``) is refused as invalid: counting it would move the counters
    /// past windows that are still current.
    @discardableResult
    public func appendIfWithinLimits(_ record: UsageRecord, now: Timestamp = .now()) throws -> EnforcedAppend {
        try Budget.validate(record, now: now)
        return try locked(now: now) { state throws -> EnforcedAppend in
            let at = now.millisecondsSinceEpoch
            let matching = state.sortedRules.filter { $0.scope.matches(record) }
            try Budget.refuseBeforeReset(record, matching, state)
            try check(record, against: matching, state, now: now)
            FaultInjection.reach("budget.afterCheck")
            try appendAndCount(record, into: &state)
            let warnings = try softWarnings(for: record, state: &state, now: at)
            return EnforcedAppend(record: record, warnings: warnings)
        }
    }

    /// How far past `now` the time of an enforced or settled record may be (clock jitter).
    /// Counters keep a window more than they count (see ``LimitWindow``), so a record this far
    /// ahead never pushes current counts out.
    public static let futureToleranceMs: Int64 = 1000

    /// The record's own checks, and its time no later than `now` (within the tolerance).
    static func validate(_ record: UsageRecord, now: Timestamp) throws(SpendLogError) {
        do { try record.validate() } catch {
            throw SpendLogError.invalid("\(error.field): \(error.reason)")
        }
        guard record.timestamp.millisecondsSinceEpoch <= now.millisecondsSinceEpoch + futureToleranceMs else {
            throw SpendLogError.invalid(
                "ts: \(record.timestamp.rfc3339) is later than the clock (\(now.rfc3339)). A record checked "
                    + "against limits must not be dated in the future: it would count in a window that has not "
                    + "started. Give the time of the call, or leave ts out.")
        }
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
        return try locked(now: now) { state throws -> Reservation in
            let at = now.millisecondsSinceEpoch
            let reservation = Reservation(
                id: "R" + RecordID.generate(at: now).description, scope: fields, amount: amount, holder: holder,
                deadline: at + ttlMs, createdAt: at)
            for rule in state.sortedRules where rule.scope.isCovered(by: fields) {
                // A hold of nothing (token rules) still needs room: the call will use some.
                let requested = reservation.held(rule.metric)
                try check(rule, at: at, requested: requested, needsRoom: requested == 0, state)
            }
            try self.record([.reserve(reservation)], into: &state)
            return reservation
        }
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
        try Budget.validate(record, now: now)
        return try locked(now: now) { state throws -> EnforcedAppend in
            guard let reservation = state.reservations[id] else { throw Budget.noReservation(id) }
            let unheld = state.sortedRules.filter {
                $0.scope.matches(record) && !$0.scope.isCovered(by: reservation.scope)
            }
            try check(record, against: unheld, state, now: now)
            try appendAndCount(record, into: &state)
            FaultInjection.reach("budget.settle.afterAppend")
            try self.record(
                [.settle(id: id, record: record.id.description, at: now.millisecondsSinceEpoch)], into: &state)
            let warnings = try softWarnings(for: record, state: &state, now: now.millisecondsSinceEpoch)
            return EnforcedAppend(record: record, warnings: warnings)
        }
    }

    /// Frees a hold without recording anything.
    public func release(_ id: String, now: Timestamp = .now()) throws {
        try locked(now: now) { state throws in
            guard state.reservations[id] != nil else { throw Budget.noReservation(id) }
            try record([.release(id: id, at: now.millisecondsSinceEpoch)], into: &state)
        }
    }

    public func reservations(now: Timestamp = .now()) throws -> [Reservation] {
        try locked(now: now) { state in state.reservations.values.sorted { $0.id < $1.id } }
    }

    static func noReservation(_ id: String) -> SpendLogError {
        .invalid(
            "No open reservation '\(id)': it was settled, released or expired, or never made. "
                + "Record the call with `spendlog append` instead.")
    }

    // MARK: - Status, checkpoint, rebuild

    /// Every rule's spend in its current window, held amounts, and when the window resets.
    public func status(now: Timestamp = .now()) throws -> [RuleStatus] {
        try locked(now: now, checkpoint: .whenChanged) { state in
            let at = now.millisecondsSinceEpoch
            return state.sortedRules.map { rule in
                RuleStatus(
                    rule: rule, windowStart: windowStart(rule, state, at), spent: state.spent(rule, now: at),
                    held: state.held(rule), resetsAt: rule.window.resetTime(after: at))
            }
        }
    }

    /// Brings the sidecar up to date and returns its bytes.
    @discardableResult
    public func checkpoint(now: Timestamp = .now()) throws -> [UInt8] {
        try locked(now: now, checkpoint: .whenChanged) { state in state.encode() }
    }

    /// Recounts everything from the journal and the whole log and replaces the sidecar. Returns
    /// the new sidecar's bytes and whether they differ from the previous checkpoint brought up
    /// to date (they never should).
    @discardableResult
    public func rebuild(now: Timestamp = .now()) throws -> (sidecar: [UInt8], differed: Bool) {
        try withLockFile {
            var live = try loadState()
            try catchUp(&live)
            try expireHolds(&live, now: now.millisecondsSinceEpoch)
            let rebuilt = try rebuiltState()
            try BudgetSidecar.replace(sidecarPath, contents: rebuilt.encode(), sync: syncsSidecar)
            cached = rebuilt
            lastWritten = rebuilt
            return (rebuilt.encode(), rebuilt != live)
        }
    }

    /// The state a rebuild would write now, without writing it (for tests and checks).
    public func rebuiltSidecar() throws -> [UInt8] {
        try withLockFile { try rebuiltState().encode() }
    }

    // MARK: - Locked operations

    private func withLockFile<T>(_ body: () throws -> T) throws -> T {
        mutex.lock()
        defer { mutex.unlock() }
        let fd: FileDescriptor
        if let lockDescriptor {
            fd = lockDescriptor
        } else {
            try FileSystem.makeDirectories(directory.budgetPath)
            fd = try FileSystem.open(lockPath, O_RDWR | O_CREAT)
            lockDescriptor = fd
        }
        try FileSystem.lock(fd, path: lockPath)
        defer { FileSystem.unlock(fd) }
        FaultInjection.reach("budget.locked")
        return try body()
    }

    /// Runs `body` under the lock with the state brought up to date; checkpoints afterwards when
    /// the state changed. A failure drops the cached state: the next operation reloads it.
    private func locked<T>(now: Timestamp, checkpoint: Checkpoint = .whenDue, _ body: (inout BudgetState) throws -> T)
        throws -> T
    {
        try withLockFile {
            do {
                var state = try loadState()
                try catchUp(&state)
                try expireHolds(&state, now: now.millisecondsSinceEpoch)
                cached = state
                let result = try body(&state)
                cached = state
                if checkpointDue(state, checkpoint) {
                    try BudgetSidecar.replace(sidecarPath, contents: state.encode(), sync: syncsSidecar)
                    lastWritten = state
                }
                return result
            } catch let refusal as LimitExceeded {
                throw refusal
            } catch {
                cached = nil
                lastWritten = nil
                throw error
            }
        }
    }

    enum Checkpoint {
        /// After journal changes, and after appends per ``checkpointIntervalBytes``.
        case whenDue
        /// Whenever the state differs from the last checkpoint.
        case whenChanged
        case never
    }

    private func checkpointDue(_ state: BudgetState, _ policy: Checkpoint) -> Bool {
        guard policy != .never else { return false }
        guard let lastWritten else { return true }
        if state.journalBytes != lastWritten.journalBytes { return true }
        if policy == .whenChanged || checkpointIntervalBytes == 0 { return state != lastWritten }
        func covered(_ s: BudgetState) -> Int64 { s.coverage.values.reduce(0) { $0 + $1.bytes } }
        return covered(state) - covered(lastWritten) >= checkpointIntervalBytes
    }

    /// The cached state, else the sidecar, else (none, or unreadable) an empty state that the
    /// catch-up fills from the journal and the whole log.
    private func loadState() throws -> BudgetState {
        if let cached { return cached }
        guard let bytes = try BudgetSidecar.read(sidecarPath), !bytes.isEmpty else { return BudgetState() }
        if let state = try? BudgetState.decode(bytes) {
            lastWritten = state
            return state
        }
        return BudgetState()  // a damaged checkpoint is only a cache: count again
    }

    private func rebuiltState() throws -> BudgetState {
        var state = BudgetState()
        try catchUp(&state)
        return state
    }

    /// Applies journal events past the checkpoint, then counts log lines past it.
    private func catchUp(_ state: inout BudgetState) throws {
        var recount = false
        state.journalBytes = try journal.read(from: state.journalBytes) { event in
            if state.apply(event) { recount = true }
        }
        if recount { state.clearCounts() }
        try catchUpLog(&state)
    }

    /// Counts every whole line past the covered position of each segment. Sealed segments are
    /// read through (the position is in their decompressed text) once, then marked done.
    ///
    /// Every day folder is looked at, as writers that do not enforce may append to any day; but
    /// a folder whose segments were all sealed and counted is only `stat`ed: while its inode and
    /// modification time are unchanged no segment was added, sealed or removed in it, and sealed
    /// segments do not change. So the work per catch-up grows with the number of days by one
    /// `stat` each, not by a listing and a `stat` per segment.
    private func catchUpLog(_ state: inout BudgetState) throws {
        if quietDaysOnDisk == nil {
            quietDays = QuietDays.read(quietDaysPath)
            quietDaysOnDisk = quietDays
        }
        defer {
            if quietDays != quietDaysOnDisk {
                QuietDays.write(quietDays, to: quietDaysPath)
                quietDaysOnDisk = quietDays
            }
        }
        let reader = LogReader(directory: directory)
        // Counts do not depend on the order segments are read in (see BudgetState.fold).
        for folder in try FileSystem.listDirectory(directory.segmentsPath) ?? [] {
            let listedAt = Timestamp.now().millisecondsSinceEpoch
            let quiet = quietDays[folder]
            guard quiet != nil || SegmentName.day(fromFolder: folder) != nil,
                let folderStatus = try FileSystem.status(path: directory.segmentsPath + "/" + folder)
            else {
                quietDays[folder] = nil
                continue
            }
            if let quiet, quiet.inode == folderStatus.inode, quiet.modifiedMs == folderStatus.modifiedMs,
                quiet.segments.allSatisfy({ state.coverage[$0]?.sealed == true })
            {
                continue
            }
            guard let day = SegmentName.day(fromFolder: folder) else { continue }
            let segments = try reader.segments(inFolder: folder, day: day)
            for segment in segments { try count(segment, reader, into: &state) }
            let keys = segments.map(\.name.description)
            let settled =
                keys.allSatisfy { state.coverage[$0]?.sealed == true }
                && folderStatus.modifiedMs <= listedAt - Budget.quietMarginMs
            quietDays[folder] =
                settled
                ? QuietDay(inode: folderStatus.inode, modifiedMs: folderStatus.modifiedMs, segments: keys) : nil
        }
        state.prune()
    }

    /// The quiet folders as a file beside the sidecar: a hint, never a count. An entry is used only
    /// while its folder's inode and modification time are unchanged and the checkpoint has every
    /// segment it names sealed and counted, so a stale, damaged or missing file costs a listing,
    /// never a miscount. Written (temp, rename; no fsync) under the budget lock when it changes:
    ///
    ///     spendlog-quiet-days 1
    ///     <folder> TAB <inode> TAB <mtime ms> TAB <segment> TAB <segment> ...
    ///     end <FNV-1a-64 of the lines before, 16 hex digits>
    enum QuietDays {
        static let header = "spendlog-quiet-days 1"

        static func read(_ path: String) -> [String: QuietDay] {
            guard let bytes = try? FileSystem.readWholeFile(path), bytes.last == 0x0A,
                let endStart = bytes.dropLast().lastIndex(of: 0x0A).map({ $0 + 1 })
            else { return [:] }
            let checksum = bytes.withUnsafeBufferPointer { fnv1a64(UnsafeBufferPointer(rebasing: $0[..<endStart])) }
            let headerLine = Array((header + "\n").utf8)
            guard bytes[endStart...].elementsEqual("end \(hex16(checksum))\n".utf8),
                bytes.starts(with: headerLine)
            else { return [:] }
            // Read as bytes: this runs in every CLI call, on a line per day of the log.
            var days: [String: QuietDay] = [:]
            for line in bytes[headerLine.count..<endStart].split(separator: 0x0A) {
                let fields = line.split(separator: 0x09, omittingEmptySubsequences: false)
                guard fields.count >= 3, let inode = UInt64(String(decoding: fields[1], as: UTF8.self)),
                    let modified = Int64(String(decoding: fields[2], as: UTF8.self)),
                    let folder = String(validating: fields[0], as: UTF8.self)
                else { return [:] }
                var segments: [String] = []
                for field in fields[3...] {
                    guard let name = String(validating: field, as: UTF8.self) else { return [:] }
                    segments.append(name)
                }
                days[folder] = QuietDay(inode: inode, modifiedMs: modified, segments: segments)
            }
            return days
        }

        static func write(_ days: [String: QuietDay], to path: String) {
            var text = header + "\n"
            for (folder, day) in days.sorted(by: { $0.key < $1.key }) {
                let names = [folder] + day.segments
                guard !names.contains(where: { $0.contains("\t") || $0.contains("\n") }) else { continue }
                text += ([folder, String(day.inode), String(day.modifiedMs)] + day.segments).joined(separator: "\t")
                text += "\n"
            }
            var bytes = Array(text.utf8)
            let checksum = bytes.withUnsafeBufferPointer { fnv1a64($0) }
            bytes += Array("end \(hex16(checksum))\n".utf8)
            // A hint that failed to be written is only a listing more next time.
            try? FileSystem.replaceAtomically(path, contents: bytes, sync: false)
        }
    }

    private func count(_ segment: SegmentFile, _ reader: LogReader, into state: inout BudgetState) throws {
        let key = segment.name.description
        let covered = state.coverage[key] ?? SegmentCoverage(bytes: 0, sealed: false)
        if covered.sealed { return }
        if !segment.sealed && segment.size <= covered.bytes { return }
        let summary: SegmentReadSummary
        do { summary = try Budget.read(segment, reader, after: covered.bytes, into: &state) } catch {
            throw Budget.unenforceable(error)
        }
        state.coverage[key] = SegmentCoverage(bytes: max(summary.bytes, covered.bytes), sealed: summary.segment.sealed)
    }

    /// Appends under the lock and counts the record: directly when nothing else was appended to
    /// that segment since the catch-up, else by catching up (which reads it with the others).
    private func appendAndCount(_ record: UsageRecord, into state: inout BudgetState) throws {
        let receipt = try writer.append(contentsOf: [record])
        FaultInjection.reach("budget.afterAppend")
        let placement = receipt.placements[0]
        let key = placement.segment.description
        let covered = state.coverage[key] ?? SegmentCoverage(bytes: 0, sealed: false)
        if !covered.sealed && covered.bytes == placement.startOffset {
            state.fold(record)
            state.coverage[key] = SegmentCoverage(bytes: placement.endOffset, sealed: false)
            state.prune()
        } else {
            try catchUpLog(&state)
        }
    }

    private static func read(
        _ segment: SegmentFile, _ reader: LogReader, after covered: Int64, into state: inout BudgetState
    ) throws(SpendLogError) -> SegmentReadSummary {
        try reader.readSegment(segment, startOffset: segment.sealed ? 0 : covered) {
            record, offset throws(SpendLogError) in
            if offset >= covered { state.fold(record) }
        }
    }

    /// A segment that cannot be counted blocks enforcement: say how to unblock it.
    private static func unenforceable(_ error: SpendLogError) -> SpendLogError {
        guard error.code == .corruption else { return error }
        var blocked = error
        blocked.message +=
            " Limits are not enforced while a segment cannot be counted: repair the file or move it out"
            + " of the log, then run `spendlog budget rebuild`."
        return blocked
    }

    /// Writes events to the journal and applies them.
    private func record(_ events: [BudgetEvent], into state: inout BudgetState) throws {
        state.journalBytes = try journal.append(events, end: state.journalBytes)
        var recount = false
        for event in events where state.apply(event) { recount = true }
        if recount {
            state.clearCounts()
            try catchUpLog(&state)
        }
    }

    /// Ends holds whose deadline passed or whose holder process is gone, as journal events.
    private func expireHolds(_ state: inout BudgetState, now: Int64) throws {
        var events: [BudgetEvent] = []
        for reservation in state.reservations.values.sorted(by: { $0.id < $1.id }) {
            if now >= reservation.deadline {
                events.append(.expire(id: reservation.id, reason: "deadline", at: now))
            } else if !reservation.holder.mayBeAlive {
                events.append(.expire(id: reservation.id, reason: "holder-exited", at: now))
            }
        }
        if !events.isEmpty { try record(events, into: &state) }
    }

    private func softWarnings(for record: UsageRecord, state: inout BudgetState, now: Int64) throws
        -> [SoftLimitWarning]
    {
        var warnings: [SoftLimitWarning] = []
        var events: [BudgetEvent] = []
        for rule in state.sortedRules where rule.softPartsPerMillion != nil && rule.scope.matches(record) {
            let spent = state.spent(rule, now: now)
            let window = state.softWindow(rule, now: now)
            guard rule.softReached(spent), state.softWarned[rule.id] != window else { continue }
            warnings.append(SoftLimitWarning(rule: rule, spent: spent))
            events.append(.softWarning(rule: rule.id, window: window, at: now))
        }
        try self.record(events, into: &state)
        return warnings
    }

    /// A record dated before the latest reset of a rule's scope would not count against that
    /// rule at all: refused, or back-dating would pass any limit that was ever reset.
    private static func refuseBeforeReset(_ record: UsageRecord, _ rules: [LimitRule], _ state: BudgetState)
        throws(SpendLogError)
    {
        let ts = record.timestamp.millisecondsSinceEpoch
        for rule in rules {
            guard let reset = state.resets[rule.scope.description], ts < reset else { continue }
            throw SpendLogError.invalid(
                "ts: \(record.timestamp.rfc3339) is before the reset of \(rule.scope) at "
                    + "\(Timestamp(millisecondsSinceEpoch: reset).rfc3339), so the record would not count against "
                    + "limit \(rule.id). Give the time of the call; an earlier call is recorded without enforcement.")
        }
    }

    /// Throws ``LimitExceeded`` when `record` does not fit one of `rules` in the window of its
    /// own time.
    private func check(_ record: UsageRecord, against rules: [LimitRule], _ state: BudgetState, now: Timestamp) throws {
        let at = record.timestamp.millisecondsSinceEpoch
        for rule in rules {
            do {
                try check(rule, at: at, requested: rule.metric.amount(of: record), needsRoom: false, state)
            } catch var refusal as LimitExceeded {
                // A back-dated record is checked in its own window: say which.
                refusal.pastWindow = at < rule.window.firstCountedBucket(at: now.millisecondsSinceEpoch)
                throw refusal
            }
        }
    }

    /// Throws ``LimitExceeded`` unless spent at `at` + held + `requested` ≤ max (< max with
    /// `needsRoom`).
    private func check(_ rule: LimitRule, at: Int64, requested: Int64, needsRoom: Bool, _ state: BudgetState) throws {
        let spent = state.spent(rule, now: at)
        let held = state.held(rule)
        let total = Int128(spent) + Int128(held) + Int128(requested)
        if total > Int128(rule.maximum) || (needsRoom && total >= Int128(rule.maximum)) {
            throw LimitExceeded(
                rule: rule, windowStart: windowStart(rule, state, at), spent: spent, held: held, requested: requested)
        }
    }

    private func windowStart(_ rule: LimitRule, _ state: BudgetState, _ now: Int64) -> Int64 {
        max(rule.window.firstCountedBucket(at: now), state.resets[rule.scope.description] ?? 0)
    }
}
