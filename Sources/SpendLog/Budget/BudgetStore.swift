import SystemPackage

#if canImport(Glibc)
    import Glibc
#endif

/// A budget's state under `budget/lock` (docs/FORMAT.md, "Check-and-append"): the lock, loading
/// the state (from memory, else the sidecar, else nothing), bringing it up to date with the
/// control journal and the log, expiring holds, writing events, appending and counting, and the
/// checkpoint afterwards. ``Budget`` decides; this type makes its decisions safe.
///
/// Every operation holds `budget/lock` (an exclusive `flock`, plus a mutex for the threads of this
/// process) from the catch-up to the last write. A crash anywhere leaves the log and the journal
/// as the truth; the next holder of the lock counts what the checkpoint missed, so spend is
/// counted exactly once.
final class BudgetStore: @unchecked Sendable {
    let directory: LogDirectory
    let writer: LogWriter
    /// The sidecar is rewritten after every change of the rules this process makes, and once this
    /// many bytes of log and journal have been read or written since the last checkpoint (0: after
    /// every operation that changes the state), unless another process replaced it meanwhile
    /// (``checkpointDue(_:_:)``).
    var checkpointIntervalBytes: Int64 = 64 << 10

    private let mutex = PThreadMutex()
    private var lockDescriptor: FileDescriptor?
    /// The state as of the end of the last locked operation, valid while nobody else has run
    /// one (checked by catching up, which is cheap when nothing changed).
    private var cached: BudgetState?
    private var lastWritten: BudgetState?
    /// ``bytesRead(_:)`` when ``lastWritten`` was written or read, or when this process last found
    /// the sidecar replaced by another (``checkpointDue(_:_:)``).
    private var readAtCheckpoint: Int64 = 0
    /// The sidecar as this process last wrote it, or last found it replaced by another process:
    /// its inode, device, size and time. Nil until this process writes one, and again when it
    /// loads one (it then writes at its first due checkpoint).
    private var sidecarSeen: FileSystem.Status?
    /// Whether this process changed the rules (``BudgetEvent/changesRules``) since its last
    /// checkpoint: it then writes one at the end of the operation, so that a process loading the
    /// sidecar need not recount. Other journal events (reservations, notes), and the events of
    /// other processes, count toward the interval like log bytes: a loader reads them from the
    /// journal.
    private var ownRuleChangeUnwritten = false
    /// How far this process has read (or written) the control journal: its end may never come
    /// before this. The sidecar's position can be older (reservations wait for the checkpoint
    /// interval), so a journal cut between the two would otherwise pass for a shorter, valid one.
    private var journalSeen: Int64 = 0
    private var tally: LogTally
    /// Set when counting failed after a write this operation made: the state in memory may be
    /// partly counted, so it is neither checkpointed nor kept (the next operation counts again).
    private var countsUncertain = false
    /// Told of failures of derived state (the checkpoint, counting after an append) that did not
    /// fail the operation: what was written is in the log and the journal, the truth.
    var onDerivedStateFailure: @Sendable (SpendLogError) -> Void = { _ in }

    let lockPath: String
    let journalPath: String
    let sidecarPath: String
    let quietDaysPath: String
    var journal: ControlJournal { ControlJournal(path: journalPath) }
    private var syncsSidecar: Bool { writer.options.fsync != .none }

    init(directory: LogDirectory, writerOptions: WriterOptions) {
        self.directory = directory
        self.writer = LogWriter(directory: directory, options: writerOptions)
        lockPath = directory.budgetPath + "/lock"
        journalPath = directory.budgetPath + "/journal.jsonl"
        sidecarPath = directory.budgetPath + "/sidecar"
        quietDaysPath = directory.budgetPath + "/quiet-days"
        self.tally = LogTally(directory: directory, quietDaysPath: quietDaysPath)
    }

    deinit {
        if let lockDescriptor { FileSystem.close(lockDescriptor) }
    }

    enum Checkpoint {
        /// After journal changes, and after appends per ``checkpointIntervalBytes``.
        case whenDue
        /// Whenever the state differs from the last checkpoint.
        case whenChanged
        case never
    }

    // MARK: - The lock

    func withLockFile<T>(whileWaiting: () -> Void = {}, _ body: () throws(SpendLogError) -> T)
        throws(SpendLogError) -> T
    {
        mutex.lock()
        defer { mutex.unlock() }
        let fd: FileDescriptor
        do throws(SpendLogError) {
            if let lockDescriptor {
                fd = lockDescriptor
            } else {
                try FileSystem.makeDirectories(directory.budgetPath)
                fd = try FileSystem.open(lockPath, O_RDWR | O_CREAT)
                lockDescriptor = fd
            }
            try FileSystem.lockContended(fd, path: lockPath, whileWaiting: whileWaiting)
        } catch {
            throw error.nothingWritten()
        }
        defer { FileSystem.unlock(fd) }
        FaultInjection.reach("budget.locked")
        return try body()
    }

    /// While another process holds `budget/lock`: counts what the log gained since the cached
    /// state into it, so that the catch-up under the lock reads only what is appended after this.
    /// Counts do not depend on when lines are read (``BudgetState``), and the log is read as the
    /// catch-up reads it, whole lines only; the control journal is left to the catch-up under the
    /// lock (a rule it adds recounts anyway). Writes nothing: no checkpoint, no quiet-days hint.
    /// A failure drops the cached state, which may be partly counted; the operation then counts
    /// again under the lock and reports the error.
    func countAhead() {
        guard var state = cached else { return }
        cached = nil  // moved out: counted in place
        tally.persistsQuietDays = false
        defer { tally.persistsQuietDays = true }
        do { try tally.catchUp(&state) } catch { return }  // the reload forgets the tally's listings
        cached = state
    }

    /// The active segments the catch-up keeps open between operations (for tests).
    var segmentsKeptOpen: [String] { mutex.withLock { tally.segmentsKeptOpen } }

    /// The day folders the catch-up keeps open between operations, by path, with the inode of the
    /// folder open (for tests).
    var foldersKeptOpen: [String: UInt64] { mutex.withLock { tally.foldersKeptOpen } }

    /// Runs `body` under the lock with the state brought up to date. A success is checkpointed
    /// per `checkpoint`; a refusal (`.failure`) recorded nothing of its own (expiries of holds it
    /// found may be in the journal) and leaves the checkpoint alone. An error drops the cached
    /// state: the next operation reloads it.
    func locked<T, Refusal: Error>(
        now: Timestamp, checkpoint: Checkpoint = .whenDue,
        _ body: (inout BudgetState) throws(SpendLogError) -> Result<T, Refusal>
    ) throws(SpendLogError) -> Result<T, Refusal> {
        try withLockFile(whileWaiting: countAhead) { () throws(SpendLogError) -> Result<T, Refusal> in
            do throws(SpendLogError) {
                var state = try loadState()
                // Moved out, not shared: the catch-up and the body change its tables in place
                // instead of copying every counter and log position on each call.
                cached = nil
                try catchUp(&state)
                try expireHolds(&state, now: now.millisecondsSinceEpoch)
                countsUncertain = false
                let result = try body(&state)
                if countsUncertain {
                    cached = nil
                    lastWritten = nil
                    return result
                }
                cached = state
                if case .success = result, checkpointDue(state, checkpoint) {
                    // The checkpoint is a cache: failing to write it fails nothing.
                    do throws(SpendLogError) {
                        try BudgetSidecar.replace(sidecarPath, contents: state.encode(), sync: syncsSidecar)
                        wroteCheckpoint(state)
                    } catch {
                        onDerivedStateFailure(BudgetStore.checkpointFailed(error))
                    }
                }
                return result
            } catch {
                cached = nil
                lastWritten = nil
                // What wrote something says so itself (the ids, or the journal's offset); every
                // other failure came before this operation wrote anything.
                if error.possiblyWritten.isEmpty && !error.message.contains("may be in the journal") {
                    throw error.nothingWritten()
                }
                throw error
            }
        }
    }

    /// The state as the next locked operation would find it — journal applied, the log counted,
    /// expired holds ended — worked out without writing anything: no journal event, no
    /// checkpoint, no quiet-days hint, no file or folder created. The lock is held shared, when
    /// its file exists, so that no operation is seen half done; the cached state is left alone.
    func peek(now: Timestamp) throws(SpendLogError) -> BudgetState {
        // No control journal: no limit was ever set, and there is nothing to count for.
        guard try FileSystem.status(path: journalPath) != nil else { return BudgetState() }
        mutex.lock()
        defer { mutex.unlock() }
        let fd = try FileSystem.openIfExists(lockPath, O_RDONLY)
        if let fd {
            do throws(SpendLogError) { try FileSystem.lock(fd, exclusive: false, path: lockPath) } catch {
                FileSystem.close(fd)
                throw error
            }
        }
        defer {
            if let fd {
                FileSystem.unlock(fd)
                FileSystem.close(fd)
            }
        }
        var state = BudgetState()
        if let bytes = try? BudgetSidecar.read(sidecarPath), !bytes.isEmpty,
            let decoded = try? BudgetState.decode(bytes)
        {
            state = decoded
            state.prune()
        }
        var readOnly = tally
        readOnly.persistsQuietDays = false
        // Its own listings: the kept ones are objects the tally shares, which a catch-up of a
        // state loaded from the checkpoint must not rely on, nor change under the tally.
        readOnly.forgetListings()
        try catchUp(&state, with: &readOnly)
        // What expireHolds would end, ended in memory only (an expiry changes no counter).
        let at = now.millisecondsSinceEpoch
        state.reservations = state.reservations.filter { at < $0.value.deadline && $0.value.holder.mayBeAlive }
        return state
    }

    /// ``locked(now:checkpoint:_:)`` for operations that cannot be refused.
    func locked<T>(
        now: Timestamp, checkpoint: Checkpoint = .whenDue, _ body: (inout BudgetState) throws(SpendLogError) -> T
    ) throws(SpendLogError) -> T {
        try locked(now: now, checkpoint: checkpoint) { state throws(SpendLogError) -> Result<T, Never> in
            .success(try body(&state))
        }.get()
    }

    /// The rules, from the checkpoint and the journal alone: reading them never needs the log.
    func rules() throws(SpendLogError) -> [LimitRule] {
        try withLockFile { () throws(SpendLogError) -> [LimitRule] in
            var state = try loadState()
            state.journalBytes = try journal.read(from: state.journalBytes) { event in _ = state.apply(event) }
            return state.sortedRules
        }
    }

    // MARK: - Changing the state (under the lock)

    /// Writes events to the journal and applies them.
    func record(_ events: [BudgetEvent], into state: inout BudgetState) throws(SpendLogError) {
        guard !events.isEmpty else { return }
        // Set first: events may be in the journal even when appending them fails.
        if events.contains(where: \.changesRules) { ownRuleChangeUnwritten = true }
        state.journalBytes = try journal.append(events, end: state.journalBytes)
        journalSeen = max(journalSeen, state.journalBytes)
        var recount = false
        for event in events where state.apply(event) { recount = true }
        if recount {
            // The change is in the journal, in force: failing to count for it fails nothing.
            state.clearCounts()
            do { try tally.catchUp(&state) } catch {
                countsUncertain = true
                onDerivedStateFailure(error)
            }
        }
    }

    /// Appends the record of `line` to the log and counts it; with `once`, only when its id is not
    /// in the log yet (returns false then, and counts nothing). Once the record is in the log,
    /// nothing fails the append: a failure to count it leaves the state to be counted again by the
    /// next operation (``countsUncertain``).
    @discardableResult
    func appendAndCount(_ line: LogWriter.EncodedRecords, once: Bool = false, into state: inout BudgetState)
        throws(SpendLogError) -> Bool
    {
        let receipt = try writer.append(line, once: once)
        guard let placement = receipt.placements.first, let record = line.records.first else { return false }
        FaultInjection.reach("budget.afterAppend")
        do { try tally.count(record, at: placement, into: &state) } catch {
            countsUncertain = true
            onDerivedStateFailure(error)
        }
        return true
    }

    /// Writes events whose loss costs nothing but a repeated note (soft-limit warnings) after a
    /// record was appended: a failure is reported, never thrown.
    func recordAfterAppend(_ events: [BudgetEvent], into state: inout BudgetState) {
        guard !events.isEmpty, !countsUncertain else { return }
        do { try record(events, into: &state) } catch {
            countsUncertain = true
            onDerivedStateFailure(error)
        }
    }

    static func checkpointFailed(_ error: SpendLogError) -> SpendLogError {
        var failed = error
        failed.message =
            "The budget checkpoint was not updated (what was recorded is in the log and the journal; the next "
            + "operation counts it from there): \(error.message)"
        return failed
    }

    // MARK: - Rebuilding

    /// Recounts everything from the journal and the whole log and replaces the sidecar. Returns
    /// the new sidecar's bytes and whether they differ from the previous checkpoint brought up
    /// to date (they never should).
    func rebuild(now: Timestamp) throws(SpendLogError) -> (sidecar: [UInt8], differed: Bool) {
        try withLockFile { () throws(SpendLogError) -> (sidecar: [UInt8], differed: Bool) in
            var live = try loadState()
            try catchUp(&live)
            try expireHolds(&live, now: now.millisecondsSinceEpoch)
            let rebuilt = try rebuiltState()
            try BudgetSidecar.replace(sidecarPath, contents: rebuilt.encode(), sync: syncsSidecar)
            cached = rebuilt
            wroteCheckpoint(rebuilt)
            return (rebuilt.encode(), rebuilt != live)
        }
    }

    /// The state a rebuild would write now, without writing it.
    func rebuiltSidecar() throws(SpendLogError) -> [UInt8] {
        try withLockFile { () throws(SpendLogError) -> [UInt8] in try rebuiltState().encode() }
    }

    // MARK: - Private

    /// The cached state, else the sidecar, else (none, or unreadable) an empty state that the
    /// catch-up fills from the journal and the whole log.
    private func loadState() throws(SpendLogError) -> BudgetState {
        if let cached { return cached }
        tally.forgetListings()
        let read: [UInt8]?
        do { read = try BudgetSidecar.read(sidecarPath) } catch {
            onDerivedStateFailure(error)  // only a cache: count again
            return BudgetState()
        }
        guard let bytes = read, !bytes.isEmpty else { return BudgetState() }
        if var state = try? BudgetState.decode(bytes) {
            // Pruned as every count leaves it, so that counting prunes only when a newer record comes.
            state.prune()
            lastWritten = state
            readAtCheckpoint = bytesRead(state)
            sidecarSeen = nil
            return state
        }
        return BudgetState()  // a damaged checkpoint is only a cache: count again
    }

    private func rebuiltState() throws(SpendLogError) -> BudgetState {
        // A journal shorter than the checkpoint says it was lost events: a recount alone would not see it.
        let covered = try loadState().journalBytes
        _ = try journal.read(from: covered) { _ in }
        var state = BudgetState()
        tally.forgetListings()
        try catchUp(&state)
        if state.journalBytes < covered {
            throw SpendLogError(
                code: .corruption,
                message:
                    "'\(journalPath)' is corrupt at byte \(state.journalBytes): its complete lines end there, before the "
                    + "\(covered) bytes the budget checkpoint covers, so events were lost. Restore the journal from a "
                    + "backup; or, to go on with the events that remain, remove budget/sidecar and recount.",
                path: journalPath, offset: state.journalBytes)
        }
        return state
    }

    /// Applies journal events past the checkpoint, then counts log lines past it.
    private func catchUp(_ state: inout BudgetState) throws(SpendLogError) { try catchUp(&state, with: &tally) }

    /// ``catchUp(_:)`` counting with `tally` (a read-only copy, for ``peek(now:)``).
    private func catchUp(_ state: inout BudgetState, with tally: inout LogTally) throws(SpendLogError) {
        var recount = false
        state.journalBytes = try journal.read(from: state.journalBytes) { event in
            if state.apply(event) { recount = true }
        }
        // Events are read under the lock, whole lines only, so no line read is ever taken back:
        // a journal that now ends before what this process read lost events.
        if state.journalBytes < journalSeen {
            throw SpendLogError(
                code: .corruption,
                message:
                    "'\(journalPath)' is corrupt at byte \(state.journalBytes): its complete lines end there, before the "
                    + "\(journalSeen) bytes this process has read of it, so events were lost. Restore the journal from a "
                    + "backup; or, to go on with the events that remain, remove budget/sidecar, recount "
                    + "(`spendlog budget rebuild`) and restart the processes that use this budget.",
                path: journalPath, offset: state.journalBytes)
        }
        journalSeen = state.journalBytes
        if recount { state.clearCounts() }
        try tally.catchUp(&state)
    }

    /// Ends holds whose deadline passed or whose holder process is gone, as journal events.
    private func expireHolds(_ state: inout BudgetState, now: Int64) throws(SpendLogError) {
        var events: [BudgetEvent] = []
        for reservation in state.reservations.values.sorted(by: { $0.id < $1.id }) {
            if now >= reservation.deadline {
                events.append(.expire(id: reservation.id, reason: "deadline", at: now))
            } else if !reservation.holder.mayBeAlive {
                events.append(.expire(id: reservation.id, reason: "holder-exited", at: now))
            }
        }
        try record(events, into: &state)
    }

    /// Whether to write a checkpoint now. When one is due but another process replaced the
    /// sidecar since this one's last look, it notes that replacement instead (and answers no).
    private func checkpointDue(_ state: BudgetState, _ policy: Checkpoint) -> Bool {
        guard policy != .never else { return false }
        guard let lastWritten else { return true }
        if ownRuleChangeUnwritten { return true }
        if policy == .whenChanged || checkpointIntervalBytes == 0 { return state != lastWritten }
        // What a process loading the last checkpoint would read again.
        let countedSince = bytesRead(state) - readAtCheckpoint
        guard countedSince >= checkpointIntervalBytes else { return false }
        // Every process that appends counts every other's lines, so each would replace the sidecar
        // once per interval of the whole log: with 8 processes, 8 replacements where one does.
        // A sidecar replaced since this process last wrote one or found one replaced was written
        // by a process caught up to the end of the log (all are, under the lock), so it covers the
        // log at least as far as this process had counted then, fewer than two intervals ago:
        // this process skips its own and looks again one interval on (so the sidecar stays fewer
        // than three intervals behind). A replacement it cannot tell from its own (the same inode,
        // size and millisecond) only makes it write one more.
        if countedSince - checkpointIntervalBytes < checkpointIntervalBytes, let seen = sidecarSeen,
            let found = try? FileSystem.status(path: sidecarPath),
            found.inode != seen.inode || found.device != seen.device || found.size != seen.size
                || found.modifiedMs != seen.modifiedMs
        {
            sidecarSeen = found
            readAtCheckpoint = bytesRead(state)
            return false
        }
        return true
    }

    /// Notes a checkpoint this process just wrote (under the lock, so the sidecar is still it).
    /// Its identity is looked at only where a checkpoint can be skipped (an interval is set): a
    /// CLI command, which checkpoints every change, makes no `stat` for it.
    private func wroteCheckpoint(_ state: BudgetState) {
        lastWritten = state
        readAtCheckpoint = bytesRead(state)
        sidecarSeen = checkpointIntervalBytes > 0 ? try? FileSystem.status(path: sidecarPath) : nil
        ownRuleChangeUnwritten = false
    }

    /// Bytes of log this process has counted and of journal it has read or written, in all: the
    /// log bytes kept by the tally, instead of adding up every segment's position on every call.
    private func bytesRead(_ state: BudgetState) -> Int64 { tally.countedBytes + state.journalBytes }
}
