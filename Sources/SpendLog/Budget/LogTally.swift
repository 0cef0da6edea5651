/// Counts what the log holds past a budget state's coverage into it (docs/FORMAT.md,
/// "Counters"): every whole line past the covered position of each active segment, each sealed
/// segment once (the position is in its decompressed text), then marked done.
///
/// Every day folder is looked at, as writers that do not enforce may append to any day; but a
/// folder whose segments were all sealed and counted is only `stat`ed: while its inode and
/// modification time are unchanged no segment was added, sealed or removed in it, and sealed
/// segments do not change. So the work per catch-up grows with the number of days by one `stat`
/// each, not by a listing and a `stat` per segment. The quiet folders are remembered in
/// ``QuietDays``, so each new process (every CLI call) need not list every old folder again.
struct LogTally {
    let directory: LogDirectory
    let quietDaysPath: String
    private var quietDays: [String: QuietDays.Day] = [:]
    /// What the file holds, once read: written back only when it changed.
    private var quietDaysOnDisk: [String: QuietDays.Day]?
    /// False for a read-only count (``BudgetStore/peek(now:)``): the hint is read, never written.
    var persistsQuietDays = true

    /// A folder's modification time is trusted only when it is at least this much older than
    /// the clock when the folder was listed: a file created in the same tick of the file
    /// system's coarse clock can leave the time unchanged.
    static let quietMarginMs: Int64 = 2000

    init(directory: LogDirectory, quietDaysPath: String) {
        self.directory = directory
        self.quietDaysPath = quietDaysPath
    }

    /// Counts every line past `state`'s coverage of every segment. An active segment shorter than
    /// its coverage had lines taken back after a failed write or fsync (docs/FORMAT.md, "What an
    /// error promises"), lines the counters may hold: then everything is counted again.
    mutating func catchUp(_ state: inout BudgetState) throws(SpendLogError) {
        if try !catchUpOnce(&state) {
            state.clearCounts()
            quietDays = [:]
            _ = try catchUpOnce(&state)
        }
    }

    /// False when a segment shrank below its coverage (the counts are then partly done).
    private mutating func catchUpOnce(_ state: inout BudgetState) throws(SpendLogError) -> Bool {
        if quietDaysOnDisk == nil {
            quietDays = QuietDays.read(quietDaysPath)
            quietDaysOnDisk = quietDays
        }
        defer {
            if persistsQuietDays, quietDays != quietDaysOnDisk {
                QuietDays.write(quietDays, to: quietDaysPath)
                quietDaysOnDisk = quietDays
            }
        }
        let reader = LogReader(directory: directory)
        var coverageByFolder: [String: [String]]?
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
            for segment in segments where try !count(segment, reader, into: &state) { return false }
            let keys = segments.map(\.name.description)
            // Sealed segments removed since they were counted (`spendlog retention`): their records
            // count no more once their buckets are dropped, which retention waits for, so the
            // position forgets them, as a rebuild from the log would.
            if coverageByFolder == nil {
                coverageByFolder = Dictionary(grouping: state.coverage.keys) { String($0.prefix { $0 != "/" }) }
            }
            let listed = Set(keys)
            for key in coverageByFolder?[folder] ?? []
            where !listed.contains(key) && state.coverage[key]?.sealed == true {
                state.coverage[key] = nil
            }
            let settled =
                keys.allSatisfy { state.coverage[$0]?.sealed == true }
                && folderStatus.modifiedMs <= listedAt - LogTally.quietMarginMs
            quietDays[folder] =
                settled
                ? QuietDays.Day(inode: folderStatus.inode, modifiedMs: folderStatus.modifiedMs, segments: keys) : nil
        }
        state.prune()
        return true
    }

    /// Counts a record just appended at `placement` directly when nothing else was appended to
    /// that segment since the state was caught up; else catches up (which reads it with the rest).
    mutating func count(
        _ record: UsageRecord, at placement: AppendReceipt.Placement, into state: inout BudgetState
    ) throws(SpendLogError) {
        let key = placement.segment.description
        let covered = state.coverage[key] ?? SegmentCoverage(bytes: 0, sealed: false)
        if !covered.sealed && covered.bytes == placement.startOffset {
            state.fold(record)
            state.coverage[key] = SegmentCoverage(bytes: placement.endOffset, sealed: false)
            state.prune()
        } else {
            try catchUp(&state)
        }
    }

    /// Counts what `segment` holds past its coverage; false when it is shorter than that.
    private func count(_ segment: SegmentFile, _ reader: LogReader, into state: inout BudgetState) throws(SpendLogError)
        -> Bool
    {
        let key = segment.name.description
        let covered = state.coverage[key] ?? SegmentCoverage(bytes: 0, sealed: false)
        if covered.sealed { return true }
        if !segment.sealed && segment.size < covered.bytes { return false }
        if !segment.sealed && segment.size == covered.bytes { return true }
        let summary: SegmentReadSummary
        do {
            summary = try reader.readSegment(segment, startOffset: segment.sealed ? 0 : covered.bytes) {
                record, offset throws(SpendLogError) in
                if offset >= covered.bytes { state.fold(record) }
            }
        } catch {
            throw LogTally.uncountable(error)
        }
        if summary.bytes < covered.bytes { return false }
        state.coverage[key] = SegmentCoverage(bytes: summary.bytes, sealed: summary.segment.sealed)
        return true
    }

    /// A segment that cannot be counted blocks enforcement: say how to unblock it.
    private static func uncountable(_ error: SpendLogError) -> SpendLogError {
        guard error.code == .corruption else { return error }
        var blocked = error
        blocked.message +=
            " Limits are not enforced while a segment cannot be counted: repair the file or move it out"
            + " of the log, then run `spendlog budget rebuild`."
        return blocked
    }
}
