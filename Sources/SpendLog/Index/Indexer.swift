import Dispatch

#if canImport(Glibc)
import Glibc
#endif

/// What `spendlog index` did.
public struct IndexReport: Sendable {
    public var segmentsIndexed = 0
    public var recordsIndexed: Int64 = 0
    /// Decompressed bytes read.
    public var bytesRead: Int64 = 0
    /// Segments the index covers now, including earlier runs.
    public var segmentsCovered = 0
    public var recordsCovered: Int64 = 0
    /// The generation written; nil when the index was already up to date.
    public var generation: String?
    /// Lines read by the fast path and by the full parser.
    public var fastLines = 0
    public var fullLines = 0
}

public struct IndexProgress: Sendable {
    public var segmentsDone: Int
    public var segmentsTotal: Int
    public var records: Int64
}

public struct IndexOptions: Sendable {
    /// Start from nothing instead of the current generation.
    public var rebuild = false
    /// Let `rebuild` drop the contribution of indexed segments that have since been deleted.
    public var allowDroppingDeleted = false
    public var threads = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))

    public init(rebuild: Bool = false) { self.rebuild = rebuild }
}

/// Folds sealed segments into rollups (docs/FORMAT.md, "Index"): incremental, atomic, and a
/// rebuild gives byte-identical files.
///
/// Each run writes a new generation folder — new rollup files for what changed, hard links for
/// what did not — fsyncs it, then switches `index/CURRENT` to it with an atomic replace. A crash
/// at any point leaves the previous generation current and valid; queries never see a mix.
public final class Indexer: Sendable {
    public let directory: LogDirectory

    public init(directory: LogDirectory) { self.directory = directory }

    public func run(
        _ options: IndexOptions = IndexOptions(), progress: (@Sendable (IndexProgress) -> Void)? = nil
    ) throws(SpendLogError) -> IndexReport {
        let indexPath = directory.indexPath
        if try FileSystem.makeDirectory(indexPath) { try FileSystem.fsyncDirectory(directory.path) }
        let lockPath = indexPath + "/lock"
        let lockFD = try FileSystem.open(lockPath, O_RDWR | O_CREAT)
        defer { FileSystem.close(lockFD) }
        try FileSystem.lock(lockFD, path: lockPath)

        let previous = try IndexSnapshot.open(directory)
        let reader = LogReader(directory: directory)
        let segments = try reader.segments().filter(\.sealed)
        var manifest = IndexManifest()
        if let previous {
            if options.rebuild {
                let onDisk = Set(segments.map(IndexManifest.key(for:)))
                let deleted = previous.manifest.entries.keys.filter { !onDisk.contains($0) }.sorted()
                if !deleted.isEmpty && !options.allowDroppingDeleted {
                    throw SpendLogError(
                        code: .invalidInput,
                        message: "A rebuild would drop \(deleted.count) indexed segment(s) deleted since they were indexed "
                            + "(first: \(deleted[0])); the current index still holds their sums. "
                            + "Run `spendlog index` without --rebuild, or add --allow-dropping-deleted.")
                }
            } else {
                manifest = previous.manifest
            }
        }
        let base = options.rebuild ? nil : previous
        let pending = segments.filter { !manifest.covers($0) }
        var report = IndexReport()
        if pending.isEmpty && base != nil {
            report.segmentsCovered = manifest.entries.count
            report.recordsCovered = manifest.totalRecords
            return report
        }

        let generationNumber = try nextGenerationNumber()
        let generation = IndexSnapshot.generationPrefix + pad(Int64(generationNumber), 6)
        let generationPath = indexPath + "/" + generation
        try? FileSystem.removeFolder(generationPath)
        try FileSystem.makeDirectory(generationPath)

        let global = StringInterner()
        let cubes = RollupCube.all
        let sums = cubes.map { _ in CubeSums() }
        if let base {
            for (c, cube) in cubes.enumerated() {
                if let file = try base.rollup(cube: cube, granularity: .day) { add(file, into: &sums[c].days, interner: global) }
                if let file = try base.rollup(cube: cube, granularity: .month) { add(file, into: &sums[c].months, interner: global) }
            }
        }

        // Month by month, so memory holds one month of hour cells whatever the log's size.
        var byMonth: [Int64: [SegmentFile]] = [:]
        for segment in pending {
            let day = Timestamp.parseDateOrTime(segment.name.day).map { TimeBuckets.day(ofMilliseconds: $0.millisecondsSinceEpoch) } ?? 0
            byMonth[TimeBuckets.month(ofDay: day), default: []].append(segment)
        }
        let workers = (0..<max(1, options.threads)).map { _ in IndexWorker(reader: reader) }
        let counter = ProgressCounter(total: pending.count, callback: progress)
        var writtenHourFiles = Set<String>()
        for month in byMonth.keys.sorted() {
            try IndexWorker.process(byMonth[month]!, workers: workers, counter: counter)
            let translations = workers.map { $0.translation(into: global) }
            // Hour files are per day: the days this batch touches get new files, merged with the
            // previous generation's; the others are hard-linked below.
            for (c, cube) in cubes.enumerated() where cube.finest == .hour {
                var touched = Set<Int64>()
                for worker in workers {
                    for key in worker.cubes[c].keys { touched.insert(Int64(key[0] / 24)) }
                }
                sums[c].hourFiles = [:]
                for day in touched {
                    var cells = CellMap()
                    if let old = try base?.rollup(cube: cube, granularity: .hour, day: day) {
                        add(old, into: &cells, interner: global)
                    }
                    sums[c].hourFiles[day] = cells
                }
            }
            // The interner is only read from here on: cubes are merged and written in parallel.
            let failures = FailureBox()
            DispatchQueue.concurrentPerform(iterations: cubes.count) { c in
                let cube = cubes[c]
                let state = sums[c]
                let k = cube.dimensions.count
                for (w, worker) in workers.enumerated() {
                    let translate = translations[w]
                    let cells = worker.cubes[c]
                    for index in 0..<cells.count {
                        var key = cells.keys[index]
                        for lane in 1...k { key[lane] = translate[Int(key[lane])] }
                        let metrics = cells.values[index]
                        var day = key[0]
                        if cube.finest == .hour {
                            day /= 24
                            state.hourFiles[Int64(day)]!.add(key, metrics)
                            key[0] = day
                        }
                        state.days.add(key, metrics)
                        key[0] = UInt32(truncatingIfNeeded: TimeBuckets.month(ofDay: Int64(day)))
                        state.months.add(key, metrics)
                    }
                }
                for (day, cells) in state.hourFiles {
                    let name = RollupFile.fileName(cube: cube, granularity: .hour, day: day)
                    do throws(SpendLogError) {
                        try FileSystem.writeNewFile(
                            generationPath + "/" + name,
                            RollupFile.encode(cells: cells, cube: cube, granularity: .hour, interner: global))
                    } catch {
                        failures.record(error)
                    }
                }
            }
            if let failure = failures.first { throw failure }
            for (c, cube) in cubes.enumerated() {
                for day in sums[c].hourFiles.keys {
                    writtenHourFiles.insert(RollupFile.fileName(cube: cube, granularity: .hour, day: day))
                }
                sums[c].hourFiles = [:]
            }
            for worker in workers {
                for entry in worker.covered {
                    manifest.entries[entry.path] = entry
                    report.segmentsIndexed += 1
                    report.recordsIndexed += entry.records
                }
                report.bytesRead += worker.bytesRead
                report.fastLines += worker.scanner.fastLines
                report.fullLines += worker.scanner.fullLines
                worker.reset()
            }
        }
        if let base {
            for name in try FileSystem.listDirectory(base.path) ?? [] where name.hasSuffix(".roll") && !writtenHourFiles.contains(name) {
                if name.contains(".\(Granularity.hour.fileLabel).") {
                    try FileSystem.link(base.path + "/" + name, generationPath + "/" + name)
                }
            }
        }
        for (c, cube) in cubes.enumerated() {
            try FileSystem.writeNewFile(
                generationPath + "/" + RollupFile.fileName(cube: cube, granularity: .day),
                RollupFile.encode(cells: sums[c].days, cube: cube, granularity: .day, interner: global))
            try FileSystem.writeNewFile(
                generationPath + "/" + RollupFile.fileName(cube: cube, granularity: .month),
                RollupFile.encode(cells: sums[c].months, cube: cube, granularity: .month, interner: global))
        }
        try FileSystem.writeNewFile(generationPath + "/" + IndexSnapshot.manifestFileName, manifest.encoded())
        try FileSystem.fsyncDirectory(generationPath)
        FaultInjection.reach("index.afterWriteGeneration")
        try LogDirectory.writeFileAtomically(
            indexPath + "/" + IndexSnapshot.currentFileName, contents: Array((generation + "\n").utf8))
        FaultInjection.reach("index.afterSwitch")
        try removeOldGenerations(keeping: [generation, previous?.generation].compactMap { $0 })

        report.generation = generation
        report.segmentsCovered = manifest.entries.count
        report.recordsCovered = manifest.totalRecords
        return report
    }

    private func add(_ file: RollupFile, into cells: inout CellMap, interner: StringInterner) {
        let translate = file.strings.map { $0.isEmpty ? 0 : interner.id(for: $0) }
        let k = file.dimensions.count
        for (index, key) in file.keys.enumerated() {
            var cell = key
            for lane in 1...k { cell[lane] = translate[Int(key[lane])] }
            cells.add(cell, file.metrics[index])
        }
    }

    private func generations() throws(SpendLogError) -> [(name: String, number: Int)] {
        (try FileSystem.listDirectory(directory.indexPath) ?? []).compactMap { name in
            guard name.hasPrefix(IndexSnapshot.generationPrefix),
                let n = Int(name.dropFirst(IndexSnapshot.generationPrefix.count))
            else { return nil }
            return (name, n)
        }
    }

    private func nextGenerationNumber() throws(SpendLogError) -> Int {
        (try generations().map(\.number).max() ?? 0) + 1
    }

    /// Keeps the new generation and the one before it (a query may still be reading it).
    private func removeOldGenerations(keeping: [String]) throws(SpendLogError) {
        for (name, _) in try generations() where !keeping.contains(name) {
            try FileSystem.removeFolder(directory.indexPath + "/" + name)
        }
        try FileSystem.fsyncDirectory(directory.indexPath)
    }
}

/// One cube's sums during a run; each cube is merged and written by one thread.
final class CubeSums: @unchecked Sendable {
    /// Hour cells of the days the current batch touches, by day.
    var hourFiles: [Int64: CellMap] = [:]
    var days = CellMap(capacity: 4096)
    var months = CellMap(capacity: 1024)
}

/// The first error of parallel work.
final class FailureBox: @unchecked Sendable {
    private let lock = PThreadMutex()
    private(set) var first: SpendLogError?

    func record(_ error: SpendLogError) { lock.withLock { if first == nil { first = error } } }
}

/// Counts finished segments across workers and reports progress.
final class ProgressCounter: @unchecked Sendable {
    private let lock = PThreadMutex()
    private var done = 0
    private var records: Int64 = 0
    let total: Int
    let callback: (@Sendable (IndexProgress) -> Void)?

    init(total: Int, callback: (@Sendable (IndexProgress) -> Void)?) {
        self.total = total
        self.callback = callback
    }

    func finished(records count: Int64) {
        guard let callback else { return }
        let progress = lock.withLock { () -> IndexProgress in
            done += 1
            records += count
            return IndexProgress(segmentsDone: done, segmentsTotal: total, records: records)
        }
        callback(progress)
    }
}

/// One thread's share of an index run: it scans whole segments into hour cells keyed by all
/// eight dimensions, with its own interner, so threads share nothing while scanning.
final class IndexWorker: @unchecked Sendable {
    let reader: LogReader
    var scanner = RecordScanner()
    /// Cells at each cube's finest granularity (``RollupCube/all`` order), keyed by this worker's ids.
    var cubes = RollupCube.all.map { _ in CellMap(capacity: 4096) }
    var covered: [IndexManifest.Entry] = []
    var bytesRead: Int64 = 0
    var failure: SpendLogError?

    init(reader: LogReader) { self.reader = reader }

    func reset() {
        for c in cubes.indices { cubes[c].removeAll() }
        covered.removeAll()
        bytesRead = 0
    }

    /// Ids of this worker's interner mapped to `global`'s.
    func translation(into global: StringInterner) -> [UInt32] {
        var map = [UInt32](repeating: 0, count: scanner.interner.count)
        for id in 1..<scanner.interner.count { map[id] = global.id(for: scanner.interner.strings[id]) }
        return map
    }

    func index(_ segment: SegmentFile) throws(SpendLogError) -> Int64 {
        var checksum: UInt64 = 0xcbf2_9ce4_8422_2325
        var records: Int64 = 0
        // Locals, not properties, inside the loop: no dynamic exclusivity check per record.
        let cubes = self.cubes
        var scanner = self.scanner
        self.cubes = []
        defer {
            self.cubes = cubes
            self.scanner = scanner
        }
        let summary = try reader.readLines(
            segment,
            fileBytes: { bytes in checksum = fnv1a64(bytes.bindMemory(to: UInt8.self), seed: checksum) }
        ) { line, offset throws(SpendLogError) in
            let scanned: ScannedRecord
            do throws(RecordParseError) {
                scanned = try scanner.scan(line)
            } catch {
                throw SpendLogError.corruption(
                    path: segment.path, offset: offset + Int64(error.offset),
                    "in the decompressed text, line is not a valid record: \(error.description)")
            }
            let hour = TimeBuckets.hour(ofMilliseconds: scanned.timestampMs)
            let day = UInt32(truncatingIfNeeded: floorDiv(hour, 24))
            for c in 0..<cubes.count {
                let cube = RollupCube.all[c]
                let time = cube.finest == .hour ? UInt32(truncatingIfNeeded: hour) : day
                cubes[c].add(cube.cellKey(time: time, ids: scanned.ids.lanes), scanned.metrics)
            }
            records += 1
        }
        bytesRead += summary.bytes
        covered.append(
            IndexManifest.Entry(path: IndexManifest.key(for: segment), bytes: segment.size, checksum: checksum, records: records))
        return records
    }

    /// Indexes `segments` on every worker's thread, each taking the next segment when it is free.
    static func process(_ segments: [SegmentFile], workers: [IndexWorker], counter: ProgressCounter) throws(SpendLogError) {
        let queue = SegmentQueue(segments)
        DispatchQueue.concurrentPerform(iterations: workers.count) { w in
            let worker = workers[w]
            while worker.failure == nil, let segment = queue.next() {
                do throws(SpendLogError) {
                    let records = try worker.index(segment)
                    counter.finished(records: records)
                } catch {
                    worker.failure = error
                    queue.stop()
                }
            }
        }
        if let failure = workers.compactMap(\.failure).first { throw failure }
    }
}

final class SegmentQueue: @unchecked Sendable {
    private let lock = PThreadMutex()
    private var segments: [SegmentFile]
    private var position = 0

    init(_ segments: [SegmentFile]) { self.segments = segments }

    func next() -> SegmentFile? {
        lock.withLock {
            guard position < segments.count else { return nil }
            position += 1
            return segments[position - 1]
        }
    }

    func stop() { lock.withLock { position = segments.count } }
}
