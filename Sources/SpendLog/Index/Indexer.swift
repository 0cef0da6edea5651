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
                        message:
                            "A rebuild would drop \(deleted.count) indexed segment(s) deleted since they were indexed "
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

        // Work is split by day: a segment holds records of one day only, so the worker that takes
        // a day writes that day's hour files itself, and only day cells are merged afterwards.
        var byDay: [String: [SegmentFile]] = [:]
        for segment in pending { byDay[segment.name.day, default: []].append(segment) }
        let units = byDay.keys.sorted().map { byDay[$0]! }
        let cubes = RollupCube.all
        let workers = (0..<max(1, options.threads)).map { _ in
            IndexWorker(reader: reader, base: base, generationPath: generationPath)
        }
        try IndexWorker.process(
            units, workers: workers, counter: ProgressCounter(total: pending.count, callback: progress))

        let global = StringInterner()
        let sums = cubes.map { _ in CubeSums() }
        if let base {
            for (c, cube) in cubes.enumerated() {
                if let file = try base.rollup(cube: cube, granularity: .day) {
                    add(file, into: sums[c].days, interner: global)
                }
                if let file = try base.rollup(cube: cube, granularity: .month) {
                    add(file, into: sums[c].months, interner: global)
                }
            }
        }
        let translations = workers.map { $0.translation(into: global) }
        // The interner is only read from here on: cubes are merged and written in parallel.
        let failures = FailureBox()
        DispatchQueue.concurrentPerform(iterations: cubes.count) { c in
            let cube = cubes[c]
            let state = sums[c]
            let k = cube.dimensions.count
            for (w, worker) in workers.enumerated() {
                let translate = translations[w]
                let cells = worker.days[c]
                for index in 0..<cells.count {
                    var key = cells.keys[index]
                    for lane in 1...k { key[lane] = translate[Int(key[lane])] }
                    let metrics = cells.values[index]
                    state.days.add(key, metrics)
                    key[0] = UInt32(truncatingIfNeeded: TimeBuckets.month(ofDay: Int64(key[0])))
                    state.months.add(key, metrics)
                }
            }
            do throws(SpendLogError) {
                try FileSystem.writeNewFile(
                    generationPath + "/" + RollupFile.fileName(cube: cube, granularity: .day),
                    RollupFile.encode(cells: state.days, cube: cube, granularity: .day, interner: global))
                try FileSystem.writeNewFile(
                    generationPath + "/" + RollupFile.fileName(cube: cube, granularity: .month),
                    RollupFile.encode(cells: state.months, cube: cube, granularity: .month, interner: global))
            } catch {
                failures.record(error)
            }
        }
        if let failure = failures.first { throw failure }

        var writtenHourFiles = Set<String>()
        for worker in workers {
            writtenHourFiles.formUnion(worker.hourFiles)
            for entry in worker.covered {
                manifest.entries[entry.path] = entry
                report.segmentsIndexed += 1
                report.recordsIndexed += entry.records
            }
            report.bytesRead += worker.bytesRead
            report.fastLines += worker.scanner.fastLines
            report.fullLines += worker.scanner.fullLines
        }
        if let base {
            for name in try FileSystem.listDirectory(base.path) ?? []
            where name.hasSuffix(".roll") && !writtenHourFiles.contains(name) {
                if name.contains(".\(Granularity.hour.fileLabel).") {
                    try FileSystem.link(base.path + "/" + name, generationPath + "/" + name)
                }
            }
        }
        try FileSystem.writeNewFile(generationPath + "/" + IndexSnapshot.manifestFileName, manifest.encoded())
        try FileSystem.fsyncDirectory(generationPath)
        FaultInjection.reach("index.afterWriteGeneration")
        try FileSystem.replaceAtomically(
            indexPath + "/" + IndexSnapshot.currentFileName, contents: Array((generation + "\n").utf8))
        FaultInjection.reach("index.afterSwitch")
        try removeOldGenerations(keeping: [generation, previous?.generation].compactMap { $0 })

        report.generation = generation
        report.segmentsCovered = manifest.entries.count
        report.recordsCovered = manifest.totalRecords
        return report
    }

    private func add(_ file: RollupFile, into cells: CellMap, interner: StringInterner) {
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
    let days = CellMap(capacity: 4096)
    let months = CellMap(capacity: 1024)
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

/// One thread's share of an index run. It takes whole days: scans their segments with its own
/// interner (threads share nothing while scanning), writes each day's hour files (merged with the
/// previous generation's), and keeps day cells for the final merge.
final class IndexWorker: @unchecked Sendable {
    let reader: LogReader
    let base: IndexSnapshot?
    let generationPath: String
    var scanner = RecordScanner()
    /// Day cells per cube of ``RollupCube/all``, keyed by this worker's ids.
    var days = RollupCube.all.map { _ in CellMap(capacity: 4096) }
    /// Hour cells of the day being scanned, for cubes whose finest cells are hours.
    var hours = RollupCube.all.map { _ in CellMap(capacity: 4096) }
    var covered: [IndexManifest.Entry] = []
    var hourFiles: [String] = []
    var bytesRead: Int64 = 0
    var failure: SpendLogError?

    init(reader: LogReader, base: IndexSnapshot?, generationPath: String) {
        self.reader = reader
        self.base = base
        self.generationPath = generationPath
    }

    /// Ids of this worker's interner mapped to `global`'s.
    func translation(into global: StringInterner) -> [UInt32] {
        var map = [UInt32](repeating: 0, count: scanner.interner.count)
        for id in 1..<scanner.interner.count { map[id] = global.id(for: scanner.interner.strings[id]) }
        return map
    }

    /// Scans the segments of one day, then writes its hour files and folds them into day cells.
    func index(day segments: [SegmentFile], counter: ProgressCounter) throws(SpendLogError) {
        for segment in segments { counter.finished(records: try index(segment)) }
        guard let first = segments.first, let start = Timestamp.parseDateOrTime(first.name.day) else { return }
        let day = TimeBuckets.day(ofMilliseconds: start.millisecondsSinceEpoch)
        for (c, cube) in RollupCube.all.enumerated() where cube.finest == .hour {
            let cells = hours[c]
            // The day's new sums go to the day cells first: the previous generation's day and
            // month files already hold what its hour file holds.
            for index in 0..<cells.count {
                var key = cells.keys[index]
                key[0] /= 24
                days[c].add(key, cells.values[index])
            }
            if let old = try base?.rollup(cube: cube, granularity: .hour, day: day) {
                let translate = old.strings.map { $0.isEmpty ? UInt32(0) : scanner.interner.id(for: $0) }
                for (index, key) in old.keys.enumerated() {
                    var cell = key
                    for lane in 1...cube.dimensions.count { cell[lane] = translate[Int(key[lane])] }
                    cells.add(cell, old.metrics[index])
                }
            }
            guard !cells.isEmpty else { continue }
            let name = RollupFile.fileName(cube: cube, granularity: .hour, day: day)
            try FileSystem.writeNewFile(
                generationPath + "/" + name,
                RollupFile.encode(cells: cells, cube: cube, granularity: .hour, interner: scanner.interner))
            hourFiles.append(name)
            cells.removeAll()
        }
    }

    func index(_ segment: SegmentFile) throws(SpendLogError) -> Int64 {
        var checksum: UInt64 = 0xcbf2_9ce4_8422_2325
        var records: Int64 = 0
        // Locals, not properties, inside the loop: no dynamic exclusivity check per record.
        let days = self.days
        let hours = self.hours
        var scanner = self.scanner
        defer { self.scanner = scanner }
        let summary = try reader.readLines(
            segment,
            fileBytes: { bytes in checksum = fnv1a64(bytes.bindMemory(to: UInt8.self), seed: checksum) }
        ) { line, offset throws(SpendLogError) in
            let scanned = try scanner.scan(line, of: segment, at: offset)
            let hour = TimeBuckets.hour(ofMilliseconds: scanned.timestampMs)
            let day = UInt32(truncatingIfNeeded: floorDiv(hour, 24))
            for c in 0..<days.count {
                let cube = RollupCube.all[c]
                if cube.finest == .hour {
                    hours[c].add(
                        cube.cellKey(time: UInt32(truncatingIfNeeded: hour), ids: scanned.ids.lanes), scanned.metrics)
                } else {
                    days[c].add(cube.cellKey(time: day, ids: scanned.ids.lanes), scanned.metrics)
                }
            }
            records += 1
        }
        bytesRead += summary.bytes
        covered.append(
            IndexManifest.Entry(
                path: IndexManifest.key(for: segment), bytes: segment.size, checksum: checksum, records: records))
        return records
    }

    /// Indexes `units` (the segments of one day each) on every worker's thread, each taking the
    /// next day when it is free.
    static func process(_ units: [[SegmentFile]], workers: [IndexWorker], counter: ProgressCounter)
        throws(SpendLogError)
    {
        let queue = SegmentQueue(units)
        DispatchQueue.concurrentPerform(iterations: workers.count) { w in
            let worker = workers[w]
            while worker.failure == nil, let unit = queue.next() {
                do throws(SpendLogError) {
                    try worker.index(day: unit, counter: counter)
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
    private var segments: [[SegmentFile]]
    private var position = 0

    init(_ segments: [[SegmentFile]]) { self.segments = segments }

    func next() -> [SegmentFile]? {
        lock.withLock {
            guard position < segments.count else { return nil }
            position += 1
            return segments[position - 1]
        }
    }

    func stop() { lock.withLock { position = segments.count } }
}
