import SystemPackage

#if canImport(Glibc)
    import Glibc
#endif

/// When an append is durable (docs/FORMAT.md, "Durability").
public enum FsyncPolicy: String, Sendable, CaseIterable {
    /// fsync before each append returns: survives power loss.
    case always
    /// Group commit: one fsync covers every append waiting on it. A commit starts as soon as the
    /// previous one ends (or, with `batchMaxDelayMs` > 0, once that long has passed since the
    /// first waiting append or `batchMaxRecords` wait). An append returns only after the fsync
    /// covering it: survives power loss, at a fraction of the fsyncs under concurrency.
    case batch
    /// No fsync: the record is in the page cache when the append returns. Survives the process
    /// being killed, not a power cut or kernel crash.
    case none
}

/// How a ``LogWriter`` writes: when appends are durable, how segments rotate, and the host name
/// its segments carry.
public struct WriterOptions: Sendable {
    /// When an append is durable; ``FsyncPolicy/always`` by default.
    public var fsync: FsyncPolicy = .always
    /// Group commit bounds for ``FsyncPolicy/batch``. A delay of 0 never waits: measured, any
    /// fixed wait costs a lone appender more than it saves in fsyncs.
    public var batchMaxRecords = 512
    /// How long a group commit's leader may wait for more appends, in milliseconds (0: never waits).
    public var batchMaxDelayMs = 0
    /// Rotation: seal the active segment before it passes this size…
    public var maxSegmentBytes: Int64 = 64 << 20
    /// …or once it is this old.
    public var maxSegmentAgeMs: Int64 = 3_600_000
    /// The `<host>` of segment names: `$SPENDLOG_HOST`, else the host name, made file-name safe.
    public var host: String = WriterOptions.defaultHost()

    /// The defaults: fsync before each append returns, 64 MiB or 1-hour segments, this host's name.
    public init() {}

    /// The defaults, with `fsync` as the durability policy.
    public init(fsync: FsyncPolicy) { self.fsync = fsync }

    /// `$SPENDLOG_HOST`, else the host name, made safe for a file name.
    public static func defaultHost() -> String {
        if let raw = getenv("SPENDLOG_HOST") {
            let value = String(cString: raw)
            if !value.isEmpty { return SegmentName.sanitizeHost(value) }
        }
        return SegmentName.sanitizeHost(FileSystem.hostName())
    }
}

/// Where an append put its lines: the segment and the byte range, for callers (budgets) that
/// track log positions.
public struct AppendReceipt: Sendable {
    /// The lines of one segment that an append wrote.
    public struct Placement: Sendable {
        /// The segment written to.
        public var segment: SegmentName
        /// Where the append's first line starts (bytes).
        public var startOffset: Int64
        /// Where its last line ends, after the `\n` (bytes).
        public var endOffset: Int64
        /// How many lines (records) were written there.
        public var records: Int
    }

    /// One placement per segment written to (one per UTC day of the records).
    public var placements: [Placement]
    /// The records written.
    public var records: [UsageRecord]
    /// Records not written because their id was in the log already, or earlier in the same call
    /// (``LogWriter/appendOnce(contentsOf:)`` only).
    public var alreadyRecorded: [UsageRecord] = []
}

/// Appends records to the log: one JSON line each, in the active segment of the record's own
/// UTC day, whole lines only, under the day's writer lock (docs/FORMAT.md, "Writing").
///
/// One `LogWriter` may be shared by many threads; many processes may append to the same log at
/// once. Their lines interleave whole: every append of a batch is one `write()` under an
/// exclusive `flock` on `<day folder>/<host>.lock`, after checking that no killed writer left a
/// torn line behind.
public final class LogWriter: @unchecked Sendable {
    /// The log written to.
    public let directory: LogDirectory
    /// How it writes.
    public let options: WriterOptions

    private let mutex = PThreadMutex()
    private var days: [String: DayState] = [:]
    /// The day state used last, and the name of the UTC day made last: appends go to one day
    /// for hours, and need not hash the day's name or make it again each time.
    private var lastDayState: DayState?
    private var lastDayName: (day: Int64, name: String)?
    private var dayUses: UInt64 = 0
    /// Set by the first failed fsync: the writer appends nothing after it (see ``GroupCommit``).
    private var fsyncFailure: SpendLogError?
    private let groupCommit: GroupCommit
    /// Batch policy: what this writer wrote that no fsync has covered yet, so that a failed one
    /// can be taken back (``takeBack(_:)``); after a failure, what became of each write.
    private var pending: [Write.Key: Write] = [:]
    private var outcome: [Write.Key: Bool] = [:]

    /// The lines one call wrote to one segment.
    struct Write {
        struct Key: Hashable {
            var path: String
            var start: Int64
        }
        var placement: AppendReceipt.Placement
        var file: OwnedDescriptor
        var day: String
        var ids: [RecordID]
        /// Batch policy: the write's place in the group commit (``GroupCommit/register(_:)``).
        var generation: UInt64 = 0
        var key: Key { Key(path: file.path, start: placement.startOffset) }
    }

    final class DayState {
        let day: String
        let folder: String
        /// The day folder, open: names in it are looked up from here.
        let handle: OwnedDescriptor
        let lock: OwnedDescriptor
        var segment: OpenSegment?
        /// When it was last used (``LogWriter/dayState(_:)``'s count): the least recent is closed first.
        var lastUse: UInt64 = 0

        init(day: String, folder: String, handle: OwnedDescriptor, lock: OwnedDescriptor) {
            self.day = day
            self.folder = folder
            self.handle = handle
            self.lock = lock
        }
    }

    /// The active segment a day's appends go to. A class: it is handed from lookup to write on
    /// every append, and a struct of its names and descriptor cost a reference count each time.
    final class OpenSegment {
        let name: SegmentName
        let file: OwnedDescriptor
        let createdMs: Int64
        /// The name of its sealed form, beside it, and that file's path.
        let sealedName: String
        let sealedPath: String
        /// The file's size when it was found (``LogWriter/findSegment(_:create:)``).
        var size: Int64
        /// A size at which the file is known to end with a whole line: where this writer's last
        /// write ended, or where its tail was checked (-1: not known).
        var wholeLinesEnd: Int64

        /// The segment `name` of day folder `folder`, open as `file`.
        init(name: SegmentName, in folder: String, file: OwnedDescriptor, createdMs: Int64, size: Int64, wholeLinesEnd: Int64) {
            self.name = name
            self.file = file
            self.createdMs = createdMs
            sealedName = name.sealedFileName
            sealedPath = folder + "/" + sealedName
            self.size = size
            self.wholeLinesEnd = wholeLinesEnd
        }
    }

    /// A writer of `directory`; nothing is opened until the first append.
    public init(directory: LogDirectory, options: WriterOptions = WriterOptions()) {
        self.directory = directory
        self.options = options
        self.groupCommit = GroupCommit(maxRecords: options.batchMaxRecords, maxDelayMs: options.batchMaxDelayMs)
    }

    /// Validates, appends and (per the fsync policy) syncs one record; returns it as written.
    @discardableResult
    public func append(_ record: UsageRecord) throws(SpendLogError) -> UsageRecord {
        try append(contentsOf: [record]).records[0]
    }

    /// Validates every record first — one invalid record means nothing is written — then appends
    /// them with one `write()` per day and one fsync (per policy) for the whole batch.
    ///
    /// All or nothing: when a write or an fsync fails, what the call wrote is taken back out of
    /// the log before the error is thrown. Where that is not possible (another writer appended
    /// after it, the segment was sealed, the truncation failed too), the error names the ids
    /// that may be in the log (``SpendLogError/possiblyWritten``).
    @discardableResult
    public func append(contentsOf records: [UsageRecord]) throws(SpendLogError) -> AppendReceipt {
        try append(records, once: false)
    }

    /// Like ``append(contentsOf:)``, but a record whose id is already in the log of its UTC day,
    /// or earlier in `records`, is not written again: it is returned in
    /// ``AppendReceipt/alreadyRecorded``. This makes a retry safe after a timeout or an error
    /// that left it unclear whether the records were written. The check and the write hold an
    /// exclusive lock on the day folder, so concurrent retries of one id write it once; it reads
    /// the day's segments, so it costs a read of that day (docs/FORMAT.md, "Record ids").
    @discardableResult
    public func appendOnce(contentsOf records: [UsageRecord]) throws(SpendLogError) -> AppendReceipt {
        try append(records, once: true)
    }

    /// Whether a record with `id` is in the log of `day` (`YYYY-MM-DD`).
    public func isRecorded(_ id: RecordID, day: String) throws(SpendLogError) -> Bool {
        !(try recordedIDs(inDay: day, among: [id]).isEmpty)
    }

    /// The checks an append makes before it writes anything (the record rules, the line length),
    /// without writing: the error an append of `records` would fail with before touching the log.
    public static func check(_ records: [UsageRecord]) throws(SpendLogError) { _ = try encode(records) }

    /// Records made into their lines and checked, by UTC day: what an append writes. Made before
    /// any lock is taken (``encode(_:)``), so a caller that holds a lock of its own around the
    /// append (an enforced append) need not make them inside it.
    struct EncodedRecords {
        let records: [UsageRecord]
        /// Each UTC day's lines, in day order. An array, not a dictionary: most calls are of one
        /// day, and an append of one record should not pay for hashing.
        var days: [(day: Int64, lines: EncodedDay)] = []
    }

    /// Validates every record and makes its line: the first invalid one is the error.
    static func encode(_ records: [UsageRecord]) throws(SpendLogError) -> EncodedRecords {
        var encoded = EncodedRecords(records: records)
        var position: [Int64: Int] = [:]  // where each day is in `days`, past the first day
        for (index, record) in records.enumerated() {
            let day = record.timestamp.utcDay
            let at: Int
            if let first = encoded.days.first, first.day == day {
                at = 0
            } else if let known = position[day] {
                at = known
            } else {
                at = encoded.days.count
                encoded.days.append((day, EncodedDay()))
                if at > 0 { position[day] = at }
            }
            try encode(record, index: index, of: records.count, into: &encoded.days[at].lines)
        }
        if encoded.days.count > 1 { encoded.days.sort { $0.day < $1.day } }
        return encoded
    }

    /// Validates `record` and adds its line to `day`.
    static func encode(_ record: UsageRecord, index: Int, of count: Int, into day: inout EncodedDay)
        throws(SpendLogError)
    {
        let which = count > 1 ? "record \(index + 1): " : ""
        do {
            try record.validateForWriting()
        } catch {
            throw SpendLogError(
                code: .invalidInput, message: "\(which)\(error.field): \(error.reason)", field: error.field)
        }
        try day.add(record, index: index, which: which)
    }

    private func append(_ records: [UsageRecord], once: Bool) throws(SpendLogError) -> AppendReceipt {
        // Every line is made and checked before anything is written.
        try append(Self.encode(records), once: once)
    }

    /// Appends lines made by ``encode(_:)`` (see ``append(contentsOf:)`` and ``appendOnce(contentsOf:)``).
    func append(_ lines: EncodedRecords, once: Bool) throws(SpendLogError) -> AppendReceipt {
        let (records, days) = (lines.records, lines.days)
        var written: [Write] = []
        var dayLocks: [OwnedDescriptor] = []
        defer { for lock in dayLocks { FileSystem.unlock(lock.fd) } }
        var skipped = Set<Int>()
        var call = CallState()
        do {
            for (day, lines) in days {
                var encoded = lines
                let dayString = dayName(day)
                if once {
                    dayLocks.append(try lockDayFolder(dayString))
                    let recorded = try recordedIDs(inDay: dayString, among: Set(encoded.ids))
                    let dropped = encoded.dropRepeated(recorded)
                    skipped.formUnion(dropped)
                }
                guard !encoded.indices.isEmpty else { continue }
                written.append(try write(day: dayString, bytes: encoded.bytes, ids: encoded.ids, call: &call))
            }
            try makeDurable(written, call: &call)
        } catch {
            throw undoing(written, after: error, call: call)
        }
        if options.fsync == .batch { mutex.withLock { for write in written { pending[write.key] = nil } } }
        guard !skipped.isEmpty else { return AppendReceipt(placements: written.map(\.placement), records: records) }
        return AppendReceipt(
            placements: written.map(\.placement),
            records: records.indices.filter { !skipped.contains($0) }.map { records[$0] },
            alreadyRecorded: records.indices.filter { skipped.contains($0) }.map { records[$0] })
    }

    /// One day's lines of a call: the bytes, and where each record's line ends in them.
    struct EncodedDay {
        var bytes: [UInt8] = []
        var ends: [Int] = []
        var indices: [Int] = []
        var ids: [RecordID] = []

        mutating func add(_ record: UsageRecord, index: Int, which: String) throws(SpendLogError) {
            if bytes.capacity == 0 { bytes.reserveCapacity(512) }
            let start = bytes.count
            record.appendJSONLine(to: &bytes)
            let length = bytes.count - start - 1
            guard length <= RecordSchema.maximumLineBytes else {
                throw SpendLogError(
                    code: .invalidInput,
                    message:
                        "\(which)record: its JSON line would be \(length) bytes, more than the "
                        + "\(RecordSchema.maximumLineBytes) a record may have (docs/FORMAT.md, \"Record\"). Shorten "
                        + "its values or drop fields the format does not define.",
                    field: "record")
            }
            ends.append(bytes.count)
            indices.append(index)
            ids.append(record.id)
        }

        /// Drops the records whose id is in `recorded` or repeats an earlier one; returns their
        /// indices in the call.
        mutating func dropRepeated(_ recorded: Set<RecordID>) -> [Int] {
            var seen = Set<RecordID>()
            var keep: [Int] = []
            for (i, id) in ids.enumerated() where !recorded.contains(id) && seen.insert(id).inserted { keep.append(i) }
            guard keep.count < ids.count else { return [] }
            var dropped = Set(indices)
            var kept = EncodedDay()
            for i in keep {
                let start = i == 0 ? 0 : ends[i - 1]
                kept.bytes.append(contentsOf: bytes[start..<ends[i]])
                kept.ends.append(kept.bytes.count)
                kept.indices.append(indices[i])
                kept.ids.append(ids[i])
                dropped.remove(indices[i])
            }
            self = kept
            return Array(dropped)
        }
    }

    /// What went wrong during one call, for its error.
    struct CallState {
        var fsyncFailed = false
    }

    /// Seals every active segment of this writer's host now (`spendlog seal`).
    public func sealAll() throws(SpendLogError) {
        try sealActiveSegments(only: { _, _ in true })
    }

    /// Seals this host's active segments that are due: past the size or age limit, or of a day
    /// before today (`spendlog seal --due`, or a periodic job).
    public func sealDue(now: Timestamp = .now()) throws(SpendLogError) {
        let today = now.dayString
        let maxBytes = options.maxSegmentBytes
        let maxAge = options.maxSegmentAgeMs
        try sealActiveSegments(only: { day, status in
            day < today || status.size >= maxBytes || now.millisecondsSinceEpoch - status.createdMs >= maxAge
        })
    }

    /// Closes every file. Later appends reopen what they need.
    public func close() {
        mutex.withLock {
            days.removeAll()
            lastDayState = nil
        }
    }

    // MARK: - Writing

    private func write(day: String, bytes: [UInt8], ids: [RecordID], call: inout CallState) throws(SpendLogError)
        -> Write
    {
        mutex.lock()
        defer { mutex.unlock() }
        if let fsyncFailure { throw LogWriter.refused(after: fsyncFailure) }
        let state = try dayState(day)
        try FileSystem.lock(state.lock.fd, path: state.lock.path)
        defer { FileSystem.unlock(state.lock.fd) }
        FaultInjection.reach("append.locked")

        var segment = try currentSegment(state)
        var size = segment.size
        let now = Timestamp.now().millisecondsSinceEpoch
        // A call's lines for a day go to one segment whole, even past the size limit, so that
        // they can be taken back whole.
        if size > 0
            && (size + Int64(bytes.count) > options.maxSegmentBytes
                || now - segment.createdMs >= options.maxSegmentAgeMs)
        {
            try rotate(state, segment)
            segment = try currentSegment(state)
            size = 0
        }
        do throws(SpendLogError) {
            try FileSystem.writeAll(segment.file.fd, bytes, path: segment.file.path)
            FaultInjection.reach("append.afterWrite")
            if options.fsync == .always {
                do { try FileSystem.syncData(segment.file.fd, path: segment.file.path) } catch {
                    fsyncFailure = error
                    call.fsyncFailed = true
                    throw error
                }
            }
        } catch {
            // Never leave part of a batch behind: cut back to where this write began.
            var failed = error
            if !cutBack(segment.file, to: size) { failed.possiblyWritten += ids.map(\.description) }
            throw failed
        }
        // The next append finds the file ending here with no need to look at its last byte.
        state.segment?.wholeLinesEnd = size + Int64(bytes.count)
        let placement = AppendReceipt.Placement(
            segment: segment.name, startOffset: size, endOffset: size + Int64(bytes.count), records: ids.count)
        var write = Write(placement: placement, file: segment.file, day: day, ids: ids)
        if options.fsync == .batch {
            write.generation = groupCommit.register([segment.file])
            pending[write.key] = write
        }
        return write
    }

    /// Takes lines back out of an active segment, with the writers' lock held: marks it retired,
    /// so that no writer appends to it again (a reader that counted the lines taken back then
    /// sees the segment shorter than what it counted, and counts again, rather than new lines at
    /// the same offsets), truncates it to `size`, and syncs the truncation
    /// (``syncTruncation(_:)``). False when the lines stay; a failed sync is not a failed cut (the
    /// lines are out of the file for every reader). Called with `mutex` held.
    private func cutBack(_ file: OwnedDescriptor, to size: Int64) -> Bool {
        do {
            try FileSystem.retire(file.fd, path: file.path)
            try FileSystem.truncate(file.fd, to: size, path: file.path)
        } catch { return false }
        try? syncTruncation(file)
        return true
    }

    /// Syncs a truncation of `file` with `fsync`, not `syncData`: a take-back's retired mark is a
    /// mode bit, metadata `fdatasync` may leave behind. A failure stops the writer as a failed
    /// fsync of an append does, and fails every append a group commit has not covered yet: the
    /// kernel reports a writeback error once, so the next sync of the file could succeed with
    /// their pages lost (the group commit's syncs wait for this one to count). Under the policy
    /// `none` nothing is synced to be proven wrong: a failure there fails nothing, and the writer
    /// goes on. Called with `mutex` held.
    private func syncTruncation(_ file: OwnedDescriptor) throws(SpendLogError) {
        groupCommit.beginOutsideSync()
        var failure: SpendLogError?
        do { try FileSystem.fsync(file.fd, path: file.path) } catch { failure = error }
        if options.fsync == .none { failure = nil }
        if let failure, fsyncFailure == nil { fsyncFailure = failure }
        groupCommit.endOutsideSync(failure: failure)
        if let failure { throw failure }
    }

    /// Makes the written files durable per policy. `always` synced under the lock already.
    private func makeDurable(_ writes: [Write], call: inout CallState) throws(SpendLogError) {
        guard options.fsync == .batch, let last = writes.map(\.generation).max() else { return }
        do { try groupCommit.wait(for: last) } catch {
            call.fsyncFailed = true
            throw error
        }
    }

    /// The error of a failed call, after taking back what it wrote: "Nothing was written" when
    /// all of it came out of the log, else the ids that may be in it.
    private func undoing(_ written: [Write], after error: SpendLogError, call: CallState) -> SpendLogError {
        var failed = error
        var kept = error.possiblyWritten
        mutex.withLock {
            if call.fsyncFailed {
                if fsyncFailure == nil { fsyncFailure = groupCommit.failedSync ?? error }
                failed.message +=
                    " This writer appends nothing more: once fsync has failed, the kernel may have dropped unwritten "
                    + "pages, so a later fsync proves nothing about them. Open a new writer (or run the command again)."
            }
            // Batch: everything this writer wrote that no fsync covered is taken back at once
            // (later writes sit after ours in the same files).
            var items = written
            if options.fsync == .batch {
                if fsyncFailure != nil {
                    // Writes an fsync covered before the failure are durable: they stay.
                    // (This call's own are taken back all the same, where nothing follows them.)
                    let durable = groupCommit.synced
                    let mine = Set(written.map(\.key))
                    items = written + pending.values.filter { $0.generation > durable && !mine.contains($0.key) }
                    pending.removeAll()
                } else {
                    for write in written { pending[write.key] = nil }
                }
            }
            items = items.filter { outcome[$0.key] == nil }  // taken back (or not) by another call already
            let back = takeBack(items)
            for item in items { outcome[item.key] = back.contains(item.key) }
            for write in written where outcome[write.key] != true { kept += write.ids.map(\.description) }
        }
        return failed.possiblyWriting(kept)
    }

    /// Takes `writes` back out of their segments where nothing else follows them: per file,
    /// the longest run of them that ends at the end of the file, under the writers' lock.
    /// Returns the keys of the writes taken back. Called with `mutex` held.
    private func takeBack(_ writes: [Write]) -> Set<Write.Key> {
        var back = Set<Write.Key>()
        var byFile: [String: [Write]] = [:]
        for write in writes { byFile[write.file.path, default: []].append(write) }
        for (_, group) in byFile {
            guard let first = group.first, let state = try? dayState(first.day) else { continue }
            guard (try? FileSystem.lock(state.lock.fd, path: state.lock.path)) != nil else { continue }
            defer { FileSystem.unlock(state.lock.fd) }
            guard let status = try? FileSystem.status(first.file.fd, path: first.file.path), status.linkCount > 0
            else { continue }  // sealed since: its lines are in the sealed file
            var cut = status.size
            var taken: [Write.Key] = []
            for write in group.sorted(by: { $0.placement.startOffset > $1.placement.startOffset })
            where write.placement.endOffset == cut {
                cut = write.placement.startOffset
                taken.append(write.key)
            }
            if cut < status.size, cutBack(first.file, to: cut) { back.formUnion(taken) }
        }
        return back
    }

    // MARK: - Record ids

    /// Takes the exclusive lock of `day`'s folder that ``appendOnce(contentsOf:)`` holds from its
    /// check to its last write.
    private func lockDayFolder(_ day: String) throws(SpendLogError) -> OwnedDescriptor {
        let folder = directory.dayFolderPath(day)
        try FileSystem.makeDirectories(folder)
        let lock = OwnedDescriptor(try FileSystem.open(folder, O_RDONLY | O_DIRECTORY), path: folder)
        try FileSystem.lock(lock.fd, path: folder)
        return lock
    }

    /// Which of `wanted` are ids of records in the segments of `day`.
    private func recordedIDs(inDay day: String, among wanted: Set<RecordID>) throws(SpendLogError) -> Set<RecordID> {
        guard !wanted.isEmpty else { return [] }
        let reader = LogReader(directory: directory)
        var found = Set<RecordID>()
        for segment in try reader.segments(inFolder: SegmentName.dayFolderPrefix + day, day: day) {
            _ = try reader.readLines(segment) { line, offset throws(SpendLogError) in
                let id = try LogReader.recordID(of: line, in: segment, at: offset)
                if wanted.contains(id) { found.insert(id) }
            }
        }
        return found
    }

    /// The error of an append refused because an earlier fsync of this writer failed.
    static func refused(after failure: SpendLogError) -> SpendLogError {
        var refused = failure
        refused.message =
            "Nothing was written: this writer stopped appending after a failed fsync. \(failure.message) "
            + "Open a new writer (or run the command again)."
        return refused
    }

    // MARK: - Segments

    /// How many days' folders, locks and segments a writer keeps open between appends. Past it,
    /// the least recently used day is closed (its next append opens it again), so that a batch over
    /// years of days keeps one descriptor open per day it writes (its segment, until the call
    /// ends), two with ``appendOnce(contentsOf:)`` (also the day folder's lock), instead of two
    /// and three. A call that must take lines back out of a day closed meanwhile opens it again;
    /// if that fails, the lines stay and the error names their ids.
    static let openDaysKept = 8

    /// The state of `day`, open. Called with `mutex` held.
    private func dayState(_ day: String) throws(SpendLogError) -> DayState {
        dayUses += 1
        if let state = lastDayState, state.day == day {
            state.lastUse = dayUses
            return state
        }
        if let state = days[day] {
            state.lastUse = dayUses
            lastDayState = state
            return state
        }
        if days.count >= LogWriter.openDaysKept, let oldest = days.values.min(by: { $0.lastUse < $1.lastUse }) {
            days[oldest.day] = nil
            if lastDayState === oldest { lastDayState = nil }
        }
        let folder = directory.dayFolderPath(day)
        try FileSystem.makeDirectories(folder)
        let lockPath = folder + "/" + SegmentName.lockFileName(host: options.host)
        let handle = OwnedDescriptor(try FileSystem.open(folder, O_RDONLY | O_DIRECTORY), path: folder)
        let fd = try FileSystem.open(lockPath, O_RDWR | O_CREAT)
        let state = DayState(day: day, folder: folder, handle: handle, lock: OwnedDescriptor(fd, path: lockPath))
        state.lastUse = dayUses
        days[day] = state
        lastDayState = state
        return state
    }

    /// `YYYY-MM-DD` of `utcDay`.
    private func dayName(_ utcDay: Int64) -> String {
        mutex.withLock {
            if let last = lastDayName, last.day == utcDay { return last.name }
            let name = Timestamp.dayString(utcDay: utcDay)
            lastDayName = (utcDay, name)
            return name
        }
    }

    /// The segment to append to, with the writers' lock held: the cached one if it is still the
    /// live file, else found on disk (finishing interrupted seals, sealing orphans) or created.
    private func currentSegment(_ state: DayState) throws(SpendLogError) -> OpenSegment {
        guard let segment = try findSegment(state, create: true) else {
            throw SpendLogError(
                code: .io, message: "Could not create a segment in '\(state.folder)'.", path: state.folder)
        }
        return segment
    }

    /// Like ``currentSegment(_:)``, but with `create` false returns nil instead of starting a new
    /// segment. The segment's ``OpenSegment/size`` is the file's size now.
    private func findSegment(_ state: DayState, create: Bool) throws(SpendLogError) -> OpenSegment? {
        if let segment = state.segment {
            let status = try FileSystem.status(segment.file.fd, path: segment.file.path)
            // Still the live file: linked, not retired, and not shadowed by its sealed form (a seal
            // killed between its rename and its unlink leaves both; readers take the sealed one,
            // and recovery removes the other, so nothing may be appended to it).
            let shadowed =
                try FileSystem.status(named: segment.sealedName, in: state.handle.fd, path: segment.sealedPath) != nil
            if status.linkCount > 0 && !status.isRetired && !shadowed {
                // Still where this writer's last write ended: nobody appended since, so no torn line.
                segment.size =
                    status.size == segment.wholeLinesEnd ? status.size : try cutTornTail(segment.file, size: status.size)
                segment.wholeLinesEnd = segment.size
                return segment
            }
            state.segment = nil  // sealed (or being sealed) by another process
        }
        let names = try FileSystem.listDirectory(state.folder) ?? []
        try SegmentSealer.recoverInterruptedSeals(in: state.folder, day: state.day, names: names, host: options.host)
        let remaining = try FileSystem.listDirectory(state.folder) ?? []
        var active: [SegmentName] = []
        var highest = -1
        for file in remaining {
            // Retention removed this host's segments up to this one: never reuse their names.
            if let retired = SegmentName.retiredMarker(file, day: state.day), retired.host == options.host {
                highest = max(highest, retired.sequence)
            }
            guard let (name, sealed) = SegmentName.parse(fileName: file, day: state.day), name.host == options.host
            else { continue }
            highest = max(highest, name.sequence)
            if !sealed { active.append(name) }
        }
        active.sort()
        // Only the highest sequence is appended to; a lower active one was orphaned by a
        // rotation that was interrupted after the next segment was created. Seal it.
        for orphan in active where orphan.sequence < highest {
            try SegmentSealer.seal(orphan, in: state.folder)
        }
        if let live = active.last, live.sequence == highest {
            let path = state.folder + "/" + live.activeFileName
            let fd = try FileSystem.open(path, O_RDWR | O_APPEND)
            let file = OwnedDescriptor(fd, path: path)
            let status = try FileSystem.status(fd, path: path)
            if status.isRetired {
                // Lines were taken back out of it: sealed as it is, and the next one started.
                try SegmentSealer.seal(live, in: state.folder)
                return create ? try newSegment(state, sequence: highest + 1) : nil
            }
            let size = try cutTornTail(file, size: status.size)
            let created = FileSystem.birthTimeMs(fd) ?? Timestamp.now().millisecondsSinceEpoch
            let segment = OpenSegment(
                name: live, in: state.folder, file: file, createdMs: created, size: size, wholeLinesEnd: size)
            state.segment = segment
            return segment
        }
        guard create else { return nil }
        return try newSegment(state, sequence: highest + 1)
    }

    private func newSegment(_ state: DayState, sequence: Int) throws(SpendLogError) -> OpenSegment {
        let name = SegmentName(day: state.day, host: options.host, sequence: sequence)
        let path = state.folder + "/" + name.activeFileName
        let fd = try FileSystem.open(path, O_RDWR | O_APPEND | O_CREAT | O_EXCL)
        // The new file's directory entry must be durable before any record in it is acknowledged.
        try FileSystem.fsyncDirectory(state.folder)
        let segment = OpenSegment(
            name: name, in: state.folder, file: OwnedDescriptor(fd, path: path),
            createdMs: Timestamp.now().millisecondsSinceEpoch, size: 0, wholeLinesEnd: 0)
        state.segment = segment
        return segment
    }

    /// A writer killed in the middle of `write()` can leave a line without its `\n`. It was never
    /// acknowledged, and no reader treats it as a record, so it is cut off before the next append
    /// (the one truncation the format allows, docs/FORMAT.md "Recovery").
    /// Returns the file's size afterwards.
    private func cutTornTail(_ file: OwnedDescriptor, size: Int64) throws(SpendLogError) -> Int64 {
        guard size > 0 else { return size }
        var last: UInt8 = 0
        let n = try withUnsafeMutableBytes(of: &last) { raw throws(SpendLogError) -> Int in
            try FileSystem.pread(file.fd, into: raw, at: size - 1, path: file.path)
        }
        guard n == 1, last != 0x0A else { return size }
        let keep = try SegmentSealer.completeLength(file.fd, size: size, path: file.path)
        try FileSystem.truncate(file.fd, to: keep, path: file.path)
        try syncTruncation(file)
        return keep
    }

    private func rotate(_ state: DayState, _ segment: OpenSegment) throws(SpendLogError) {
        FaultInjection.reach("rotate.start")
        try SegmentSealer.seal(segment.name, in: state.folder)
        state.segment = nil
    }

    private func sealActiveSegments(only due: (String, (size: Int64, createdMs: Int64)) -> Bool) throws(SpendLogError) {
        guard let folders = try FileSystem.listDirectory(directory.segmentsPath) else { return }
        for folder in folders.sorted() {
            guard let day = SegmentName.day(fromFolder: folder) else { continue }
            let folderPath = directory.segmentsPath + "/" + folder
            let files = try FileSystem.listDirectory(folderPath) ?? []
            let ours = files.contains { file in
                guard let (name, kind) = SegmentName.parseFile(file, day: day) else { return false }
                return name.host == options.host && kind != .sealed
            }
            guard ours else { continue }
            mutex.lock()
            defer { mutex.unlock() }
            let state = try dayState(day)
            try FileSystem.lock(state.lock.fd, path: state.lock.path)
            defer { FileSystem.unlock(state.lock.fd) }
            // Also recovers interrupted seals and seals orphans; never starts a new segment.
            guard let segment = try findSegment(state, create: false) else { continue }
            if due(day, (segment.size, segment.createdMs)) {
                try SegmentSealer.seal(segment.name, in: state.folder)
                state.segment = nil
            }
        }
    }
}
