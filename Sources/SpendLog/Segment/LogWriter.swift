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

public struct WriterOptions: Sendable {
    public var fsync: FsyncPolicy = .always
    /// Group commit bounds for ``FsyncPolicy/batch``. A delay of 0 never waits: measured, any
    /// fixed wait costs a lone appender more than it saves in fsyncs.
    public var batchMaxRecords = 512
    public var batchMaxDelayMs = 0
    /// Rotation: seal the active segment before it passes this size…
    public var maxSegmentBytes: Int64 = 64 << 20
    /// …or once it is this old.
    public var maxSegmentAgeMs: Int64 = 3_600_000
    /// The `<host>` of segment names: `$SPENDLOG_HOST`, else the host name, made file-name safe.
    public var host: String = WriterOptions.defaultHost()

    public init() {}

    public init(fsync: FsyncPolicy) { self.fsync = fsync }

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
    public struct Placement: Sendable {
        public var segment: SegmentName
        public var startOffset: Int64
        public var endOffset: Int64
        public var records: Int
    }

    public var placements: [Placement]
    public var records: [UsageRecord]
}

/// Appends records to the log: one JSON line each, in the active segment of the record's own
/// UTC day, whole lines only, under the day's writer lock (docs/FORMAT.md, "Writing").
///
/// One `LogWriter` may be shared by many threads; many processes may append to the same log at
/// once. Their lines interleave whole: every append of a batch is one `write()` under an
/// exclusive `flock` on `<day folder>/<host>.lock`, after checking that no killed writer left a
/// torn line behind.
public final class LogWriter: @unchecked Sendable {
    public let directory: LogDirectory
    public let options: WriterOptions

    private let mutex = PThreadMutex()
    private var days: [String: DayState] = [:]
    /// Set by the first failed fsync: the writer appends nothing after it (see ``GroupCommit``).
    private var fsyncFailure: SpendLogError?
    private let groupCommit: GroupCommit

    final class DayState {
        let day: String
        let folder: String
        let lock: OwnedDescriptor
        var segment: OpenSegment?

        init(day: String, folder: String, lock: OwnedDescriptor) {
            self.day = day
            self.folder = folder
            self.lock = lock
        }
    }

    struct OpenSegment {
        var name: SegmentName
        var file: OwnedDescriptor
        var createdMs: Int64
    }

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
    @discardableResult
    public func append(contentsOf records: [UsageRecord]) throws(SpendLogError) -> AppendReceipt {
        for (index, record) in records.enumerated() {
            do {
                try record.validate()
            } catch {
                let which = records.count > 1 ? "record \(index + 1): " : ""
                throw SpendLogError(code: .invalidInput, message: "\(which)\(error.field): \(error.reason)")
            }
        }
        var byDay: [Int64: [UsageRecord]] = [:]
        for record in records { byDay[record.timestamp.utcDay, default: []].append(record) }

        var placements: [AppendReceipt.Placement] = []
        var written: [OwnedDescriptor] = []
        for day in byDay.keys.sorted() {
            // One write() per chunk of whole lines, each chunk small enough to respect rotation.
            var bytes: [UInt8] = []
            var count = 0
            var line: [UInt8] = []
            let dayString = Timestamp.dayString(utcDay: day)
            for record in byDay[day]! {
                line.removeAll(keepingCapacity: true)
                record.appendJSONLine(to: &line)
                if count > 0 && Int64(bytes.count + line.count) > options.maxSegmentBytes {
                    let (placement, file) = try write(day: dayString, bytes: bytes, count: count)
                    placements.append(placement)
                    written.append(file)
                    bytes.removeAll(keepingCapacity: true)
                    count = 0
                }
                bytes.append(contentsOf: line)
                count += 1
            }
            let (placement, file) = try write(day: dayString, bytes: bytes, count: count)
            placements.append(placement)
            written.append(file)
        }
        try makeDurable(written)
        return AppendReceipt(placements: placements, records: records)
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
        }
    }

    // MARK: - Writing

    private func write(day: String, bytes: [UInt8], count: Int) throws(SpendLogError) -> (
        AppendReceipt.Placement, OwnedDescriptor
    ) {
        mutex.lock()
        defer { mutex.unlock() }
        if let fsyncFailure { throw LogWriter.refused(after: fsyncFailure) }
        let state = try dayState(day)
        try FileSystem.lock(state.lock.fd, path: state.lock.path)
        defer { FileSystem.unlock(state.lock.fd) }
        FaultInjection.reach("append.locked")

        var segment = try currentSegment(state)
        var size = try FileSystem.status(segment.file.fd, path: segment.file.path).size
        let now = Timestamp.now().millisecondsSinceEpoch
        if size > 0
            && (size + Int64(bytes.count) > options.maxSegmentBytes
                || now - segment.createdMs >= options.maxSegmentAgeMs)
        {
            try rotate(state, segment)
            segment = try currentSegment(state)
            size = 0
        }
        do {
            try FileSystem.writeAll(segment.file.fd, bytes, path: segment.file.path)
        } catch {
            // Never leave part of a batch behind: cut back to where this write began.
            try? FileSystem.truncate(segment.file.fd, to: size, path: segment.file.path)
            throw error
        }
        FaultInjection.reach("append.afterWrite")
        if options.fsync == .always {
            do { try FileSystem.fsync(segment.file.fd, path: segment.file.path) } catch {
                fsyncFailure = error
                throw GroupCommit.notDurable(error)
            }
        }
        let placement = AppendReceipt.Placement(
            segment: segment.name, startOffset: size, endOffset: size + Int64(bytes.count), records: count)
        return (placement, segment.file)
    }

    /// Makes the written files durable per policy. `always` synced under the lock already.
    private func makeDurable(_ files: [OwnedDescriptor]) throws(SpendLogError) {
        guard options.fsync == .batch else { return }
        do { try groupCommit.commit(files) } catch {
            // The commit keeps its own failure; the writer's stops appends before they write.
            let failure = groupCommit.failedSync ?? error
            mutex.withLock { if fsyncFailure == nil { fsyncFailure = failure } }
            throw error
        }
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

    private func dayState(_ day: String) throws(SpendLogError) -> DayState {
        if let state = days[day] { return state }
        let folder = directory.dayFolderPath(day)
        try FileSystem.makeDirectories(folder)
        let lockPath = folder + "/" + SegmentName.lockFileName(host: options.host)
        let fd = try FileSystem.open(lockPath, O_RDWR | O_CREAT)
        let state = DayState(day: day, folder: folder, lock: OwnedDescriptor(fd, path: lockPath))
        days[day] = state
        return state
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

    /// Like ``currentSegment(_:)``, but with `create` false returns nil instead of starting a new segment.
    private func findSegment(_ state: DayState, create: Bool) throws(SpendLogError) -> OpenSegment? {
        if let segment = state.segment {
            let status = try FileSystem.status(segment.file.fd, path: segment.file.path)
            if status.linkCount > 0 {
                try cutTornTail(segment.file, size: status.size)
                return segment
            }
            state.segment = nil  // sealed by another process
        }
        let names = try FileSystem.listDirectory(state.folder) ?? []
        try SegmentSealer.recoverInterruptedSeals(in: state.folder, day: state.day, names: names, host: options.host)
        let remaining = try FileSystem.listDirectory(state.folder) ?? []
        var active: [SegmentName] = []
        var highest = -1
        for file in remaining {
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
            try cutTornTail(file, size: status.size)
            let created = FileSystem.birthTimeMs(fd) ?? Timestamp.now().millisecondsSinceEpoch
            let segment = OpenSegment(name: live, file: file, createdMs: created)
            state.segment = segment
            return segment
        }
        guard create else { return nil }
        let name = SegmentName(day: state.day, host: options.host, sequence: highest + 1)
        let path = state.folder + "/" + name.activeFileName
        let fd = try FileSystem.open(path, O_RDWR | O_APPEND | O_CREAT | O_EXCL)
        // The new file's directory entry must be durable before any record in it is acknowledged.
        try FileSystem.fsyncDirectory(state.folder)
        let segment = OpenSegment(
            name: name, file: OwnedDescriptor(fd, path: path), createdMs: Timestamp.now().millisecondsSinceEpoch)
        state.segment = segment
        return segment
    }

    /// A writer killed in the middle of `write()` can leave a line without its `\n`. It was never
    /// acknowledged, and no reader treats it as a record, so it is cut off before the next append
    /// (the one truncation the format allows, docs/FORMAT.md "Recovery").
    private func cutTornTail(_ file: OwnedDescriptor, size: Int64) throws(SpendLogError) {
        guard size > 0 else { return }
        var last: UInt8 = 0
        let n = try withUnsafeMutableBytes(of: &last) { raw throws(SpendLogError) -> Int in
            try FileSystem.pread(file.fd, into: raw, at: size - 1, path: file.path)
        }
        guard n == 1, last != 0x0A else { return }
        let keep = try SegmentSealer.completeLength(file.fd, size: size, path: file.path)
        try FileSystem.truncate(file.fd, to: keep, path: file.path)
        try FileSystem.fsync(file.fd, path: file.path)
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
            let status = try FileSystem.status(segment.file.fd, path: segment.file.path)
            if due(day, (status.size, segment.createdMs)) {
                try SegmentSealer.seal(segment.name, in: state.folder)
                state.segment = nil
            }
        }
    }
}
