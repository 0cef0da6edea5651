import CSystemShims
import Dispatch
import SystemPackage

#if canImport(Glibc)
    import Glibc
#endif

/// What `spendlog index` did.
public struct IndexReport: Sendable {
    /// Sealed segments read and folded in by this run.
    public var segmentsIndexed = 0
    /// Records folded in by this run.
    public var recordsIndexed: Int64 = 0
    /// Decompressed bytes read.
    public var bytesRead: Int64 = 0
    /// Segments the index covers now, including earlier runs.
    public var segmentsCovered = 0
    /// Records the index covers now, including earlier runs.
    public var recordsCovered: Int64 = 0
    /// The generation written; nil when the index was already up to date.
    public var generation: String?
    /// Lines read by the fast path and by the full parser.
    public var fastLines = 0
    /// Lines read by the full parser (the fast path could not take them).
    public var fullLines = 0
    /// Records left out because their id appeared earlier in their day (a copied segment):
    /// counted once. `spendlog verify` names them.
    public var duplicates = 0
}

/// How far a run is, for a progress line.
public struct IndexProgress: Sendable {
    /// Segments folded in so far.
    public var segmentsDone: Int
    /// Segments this run reads in all.
    public var segmentsTotal: Int
    /// Records folded in so far.
    public var records: Int64
}

/// How an index run works.
public struct IndexOptions: Sendable {
    /// Start from nothing instead of the current generation.
    public var rebuild = false
    /// Let `rebuild` drop the contribution of indexed segments that have since been deleted.
    public var allowDroppingDeleted = false
    /// Threads that read segments; by default one per processor online.
    public var threads = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    /// Words of each day's duplicate filter (``DayIDs``); tests make it small, so that ids it
    /// cannot tell apart are common.
    var dayIDFilterWords = DayIDs.filterWords

    /// Options for an incremental run, or a rebuild from nothing.
    public init(rebuild: Bool = false) { self.rebuild = rebuild }
}

/// Folds sealed segments into rollups (docs/FORMAT.md, "Index"): incremental, atomic, and a
/// rebuild gives byte-identical files.
///
/// Each run writes a new generation folder — new rollup files for what changed, hard links for
/// what did not — fsyncs it, then switches `index/CURRENT` to it with an atomic replace. A crash
/// at any point leaves the previous generation current and valid; queries never see a mix.
public final class Indexer: Sendable {
    /// The log indexed.
    public let directory: LogDirectory
    var generations: IndexGenerations { IndexGenerations(indexPath: directory.indexPath) }

    /// An indexer of `directory`.
    public init(directory: LogDirectory) { self.directory = directory }

    /// What a run starts from: the manifest it extends, the generation whose files it builds on
    /// (none for a rebuild), and the sealed segments it has to read.
    struct Plan {
        var manifest = IndexManifest()
        var base: IndexSnapshot?
        var previous: IndexSnapshot?
        var pending: [SegmentFile] = []
    }

    /// Makes the large blocks an index run frees — each segment's read buffers and zstd window —
    /// go back to the system when freed. glibc raises its mmap threshold past such blocks and
    /// then keeps them in each thread's heap, so a run's peak memory would grow with the number
    /// of segments read. The setting is process-wide, so it is the program's to make: the
    /// `spendlog index` command makes it; an app that indexes may.
    public static func returnFreedBuffersToTheSystem() {
        _ = spendlog_set_mmap_threshold(256 * 1024)
    }

    /// Folds every sealed segment the index does not cover yet into a new generation and makes it
    /// current, under `index/lock`; returns what it did. An index already up to date is left as it
    /// is. Active segments are not indexed: queries read them raw.
    public func run(
        _ options: IndexOptions = IndexOptions(), progress: (@Sendable (IndexProgress) -> Void)? = nil
    ) throws(SpendLogError) -> IndexReport {
        let lock = try lockIndex()
        defer { FileSystem.close(lock) }
        try generations.removeStaleTemporaries()
        var plan = try makePlan(options)
        var report = IndexReport()
        if plan.pending.isEmpty && plan.base != nil {
            report.segmentsCovered = plan.manifest.entries.count
            report.recordsCovered = plan.manifest.totalRecords
            return report
        }
        let generation = try generations.create()
        let generationPath = generations.path(of: generation)
        // The generation's files are fsynced together, before the manifest that makes it whole.
        let syncs = DeferredSyncs()
        let workers = try scan(plan, into: generationPath, options: options, syncs: syncs, progress: progress)
        try writeDayAndMonthRollups(workers, base: plan.base, into: generationPath, syncs: syncs)
        var written = collect(workers, into: &plan.manifest, report: &report)
        written.formUnion(try writeFrames(workers, base: plan.base, into: generationPath, syncs: syncs))
        try linkUnchangedHourFiles(of: plan.base, except: written, into: generationPath)
        try syncs.syncAll()
        try commit(generation, manifest: plan.manifest, keeping: plan.previous?.generation)
        report.generation = generation
        report.segmentsCovered = plan.manifest.entries.count
        report.recordsCovered = plan.manifest.totalRecords
        return report
    }

    /// `index/lock`, held for the whole run: one indexer at a time.
    private func lockIndex() throws(SpendLogError) -> FileDescriptor {
        let indexPath = directory.indexPath
        try FileSystem.makeDirectories(indexPath)
        let lockPath = indexPath + "/lock"
        let fd = try FileSystem.open(lockPath, O_RDWR | O_CREAT)
        do { try FileSystem.lock(fd, path: lockPath) } catch {
            FileSystem.close(fd)
            throw error
        }
        return fd
    }

    /// The sealed segments not covered yet, on top of the current generation (or of nothing, for
    /// a rebuild, which refuses to drop the sums of deleted segments unless allowed).
    private func makePlan(_ options: IndexOptions) throws(SpendLogError) -> Plan {
        var plan = Plan()
        plan.previous = try IndexSnapshot.open(directory)
        let segments = try LogReader(directory: directory).segments().filter(\.sealed)
        if let previous = plan.previous {
            // A generation of an earlier version lacks the cubes added since (`model`): their sums
            // can only be made by reading every segment again, so the run is a rebuild.
            var lacking: [RollupCube] = []
            for cube in RollupCube.all where try !previous.has(cube) { lacking.append(cube) }
            if options.rebuild || !lacking.isEmpty {
                let onDisk = Set(segments.map(IndexManifest.key(for:)))
                let deleted = previous.manifest.entries.keys.filter { !onDisk.contains($0) }.sorted()
                if !deleted.isEmpty && !options.allowDroppingDeleted {
                    let why =
                        options.rebuild
                        ? "" : "the index lacks the rollups of \(lacking.map(\.name).joined(separator: ", ")) (made by an earlier version), which only a rebuild makes; a rebuild "
                    throw SpendLogError.invalid(
                        field: "rebuild",
                        why + "would drop \(deleted.count) indexed segment(s) deleted since they were indexed (by `spendlog retention` or by hand) "
                            + "(first: \(deleted[0])); the current index still holds their sums. "
                            + (options.rebuild
                                ? "Index without rebuilding, or allow dropping the deleted segments."
                                : "Rebuild and allow dropping the deleted segments, or keep the index as it is."))
                }
            } else {
                plan.manifest = previous.manifest
                plan.base = previous
            }
        }
        plan.pending = segments.filter { !plan.manifest.covers($0) }
        return plan
    }

    /// Reads the pending segments on every thread. Work is split by day: a segment holds records
    /// of one day only, so the worker that takes a day writes that day's hour files itself, and
    /// only day cells are merged afterwards.
    private func scan(
        _ plan: Plan, into generationPath: String, options: IndexOptions, syncs: DeferredSyncs,
        progress: (@Sendable (IndexProgress) -> Void)?
    ) throws(SpendLogError) -> [IndexWorker] {
        var byDay: [String: [SegmentFile]] = [:]
        for segment in plan.pending { byDay[segment.name.day, default: []].append(segment) }
        let units = byDay.keys.sorted().map { byDay[$0]! }
        let reader = LogReader(directory: directory)
        let workers = (0..<max(1, options.threads)).map { _ in
            IndexWorker(
                reader: reader, base: plan.base, generationPath: generationPath, syncs: syncs,
                dayIDs: DayIDs(filterWords: options.dayIDFilterWords))
        }
        try IndexWorker.process(
            units, workers: workers, counter: ProgressCounter(total: plan.pending.count, callback: progress))
        for worker in workers { worker.readBuffers = nil }
        return workers
    }

    /// Merges the workers' day cells with the base generation's day and month files, one cube per
    /// thread, and writes the new day and month files. Day files are written one day at a time:
    /// only one day's cells are unpacked at once.
    private func writeDayAndMonthRollups(
        _ workers: [IndexWorker], base: IndexSnapshot?, into generationPath: String, syncs: DeferredSyncs
    ) throws(SpendLogError)
    {
        let cubes = RollupCube.all
        let global = StringInterner()
        // The previous generation's day cells are read a month file at a time (twice: for the
        // strings they use, then to merge), not all at once: at 10M records they are 100 MB.
        var baseDayFiles: [BaseDayCells?] = cubes.map { _ in nil }
        var baseMonthFiles: [RollupFile?] = cubes.map { _ in nil }
        if let base {
            for (c, cube) in cubes.enumerated() {
                baseDayFiles[c] = try BaseDayCells(base, cube: cube)
                baseMonthFiles[c] = try base.rollup(cube: cube, granularity: .month)
            }
        }
        let baseDays = baseDayFiles
        let baseMonths = baseMonthFiles
        let baseDayTranslations = baseDays.map { days in days.map { translation(of: $0.header, into: global) } ?? [] }
        let baseMonthTranslations = baseMonths.map { file in file.map { translation(of: $0, into: global) } ?? [] }
        let translations = workers.map { $0.translation(into: global) }
        // The interner is only read from here on: cubes are merged and written in parallel.
        let failures = FailureBox()
        DispatchQueue.concurrentPerform(iterations: cubes.count) { c in
            let cube = cubes[c]
            let k = cube.dimensions.count
            let baseDay = baseDays[c]
            let baseDayTranslate = baseDayTranslations[c]
            // Every day's runs, in day order (a day is one worker's, but need not be).
            var runs: [(day: UInt32, worker: Int, run: PackedDayCells.Run)] = []
            for (w, worker) in workers.enumerated() {
                for run in worker.packed[c].runs { runs.append((run.day, w, run)) }
            }
            runs.sort { ($0.day, $0.worker, $0.run.start) < ($1.day, $1.worker, $1.run.start) }
            do throws(SpendLogError) {
                // The string table: every value a day cell uses.
                var used = [Bool](repeating: false, count: global.count)
                for (w, worker) in workers.enumerated() {
                    let translate = translations[w]
                    for (id, isUsed) in worker.packed[c].usedStrings.enumerated() where isUsed {
                        used[Int(translate[id])] = true
                    }
                }
                try baseDay?.forEachKey { key in
                    for lane in 1...k where key[lane] != 0 { used[Int(baseDayTranslate[Int(key[lane])])] = true }
                }
                let sortedIDs = RollupFile.sortedByBytes(
                    (1..<global.count).lazy.filter { used[$0] }.map { UInt32($0) }, interner: global)
                var remap = [UInt32](repeating: 0, count: global.count)
                for (position, id) in sortedIDs.enumerated() { remap[Int(id)] = UInt32(position + 1) }

                let months = CellMap(capacity: 1024)
                if let file = baseMonths[c] { add(file, into: months, translate: baseMonthTranslations[c]) }
                let strings = sortedIDs.map { global.strings[Int($0)] }
                // Base day cells in day order, a month file at a time.
                var baseCells = baseDay?.inDayOrder()
                // One day file per month, each with the cube's whole string table, written as it is
                // made, a mebibyte at a time: its size grows with the log, and memory must not.
                var dayFile: (month: Int64, fd: FileDescriptor, path: String, encoder: RollupFile.Encoder)? = nil
                defer { if let dayFile { FileSystem.close(dayFile.fd) } }
                func finishDayFile() throws(SpendLogError) {
                    guard let open = dayFile else { return }
                    dayFile = nil
                    defer { FileSystem.close(open.fd) }
                    try open.encoder.finish(into: open.fd, path: open.path, syncs: syncs)
                }
                let day = CellMap(capacity: 1024)
                var mapped: [SIMD8<UInt32>] = []
                var r = 0
                while true {
                    let baseNext = try baseCells?.day() ?? UInt32.max
                    guard r < runs.count || baseNext != UInt32.max else { break }
                    let next = min(r < runs.count ? runs[r].day : UInt32.max, baseNext)
                    while r < runs.count && runs[r].day == next {
                        let translate = translations[runs[r].worker]
                        try workers[runs[r].worker].packed[c].forEachCell(of: runs[r].run) { key, metrics in
                            var cell = key
                            for lane in 1...k { cell[lane] = translate[Int(key[lane])] }
                            day.add(cell, metrics)
                            cell[0] = UInt32(truncatingIfNeeded: TimeBuckets.month(ofDay: Int64(cell[0])))
                            months.add(cell, metrics)
                        }
                        r += 1
                    }
                    while let base = try baseCells?.next(onDay: next) {
                        var cell = base.key
                        for lane in 1...k { cell[lane] = baseDayTranslate[Int(base.key[lane])] }
                        day.add(cell, base.metrics)
                    }
                    let month = TimeBuckets.month(ofDay: Int64(next))
                    if dayFile?.month != month {
                        try finishDayFile()
                        let path = generationPath + "/" + RollupFile.fileName(cube: cube, granularity: .day, month: month)
                        let fd = try FileSystem.open(path, O_RDWR | O_CREAT | O_TRUNC)
                        dayFile = (
                            month, fd, path,
                            RollupFile.Encoder(cube: cube, granularity: .day, strings: strings, cells: 0)
                        )
                    }
                    mapped.removeAll(keepingCapacity: true)
                    for key in day.keys {
                        var cell = SIMD8<UInt32>(repeating: 0)
                        cell[0] = key[0]
                        for lane in 1...k { cell[lane] = remap[Int(key[lane])] }
                        mapped.append(cell)
                    }
                    let values = day.values
                    for index in mapped.withUnsafeBufferPointer({ RollupFile.fileOrder($0, dimensions: k) }) {
                        dayFile!.encoder.append(mapped[index], values[index])
                    }
                    day.removeAll()
                    if dayFile!.encoder.pendingBytes >= 1 << 20 {
                        try dayFile!.encoder.drain(into: dayFile!.fd, path: dayFile!.path)
                    }
                }
                try finishDayFile()
                try FileSystem.writeNewFile(
                    generationPath + "/" + RollupFile.fileName(cube: cube, granularity: .month),
                    RollupFile.encode(cells: months, cube: cube, granularity: .month, interner: global), syncs: syncs)
            } catch {
                failures.record(error)
            }
        }
        if let failure = failures.first { throw failure }
    }

    /// The ids of `file`'s strings in `interner` (0 stays 0: absent).
    private func translation(of file: RollupFile, into interner: StringInterner) -> [UInt32] {
        file.strings.map { $0.isEmpty ? 0 : interner.id(for: $0) }
    }

    /// Adds the segments the workers read to the manifest and the report; returns the hour files
    /// they wrote.
    private func collect(_ workers: [IndexWorker], into manifest: inout IndexManifest, report: inout IndexReport)
        -> Set<String>
    {
        var written = Set<String>()
        for worker in workers {
            written.formUnion(worker.hourFiles)
            for entry in worker.covered {
                manifest.entries[entry.path] = entry
                report.segmentsIndexed += 1
                report.recordsIndexed += entry.records
            }
            report.bytesRead += worker.bytesRead
            report.fastLines += worker.scanner.fastLines
            report.fullLines += worker.scanner.fullLines
            report.duplicates += worker.duplicates
        }
        return written
    }

    /// The frames files of the months the workers read segments of: the base generation's entries
    /// and the new ones (docs/FORMAT.md, "Frames"); returns their names.
    private func writeFrames(
        _ workers: [IndexWorker], base: IndexSnapshot?, into generationPath: String, syncs: DeferredSyncs
    ) throws(SpendLogError) -> Set<String>
    {
        var byMonth: [String: [(String, SegmentFrames.Segment)]] = [:]
        for worker in workers {
            for (key, segment) in worker.segmentFrames { byMonth[SegmentFrames.month(ofKey: key), default: []].append((key, segment)) }
        }
        var names = Set<String>()
        for (month, segments) in byMonth {
            let name = SegmentFrames.fileName(day: month)
            var frames = try base?.frames(day: month) ?? SegmentFrames()
            for (key, segment) in segments { frames.segments[key] = segment }
            try FileSystem.writeNewFile(generationPath + "/" + name, frames.encoded(), syncs: syncs)
            names.insert(name)
        }
        return names
    }

    /// Hour files of days and frames files of months nothing was added to are the base
    /// generation's: hard links.
    private func linkUnchangedHourFiles(
        of base: IndexSnapshot?, except written: Set<String>, into generationPath: String
    )
        throws(SpendLogError)
    {
        guard let base else { return }
        for name in try FileSystem.listDirectory(base.path) ?? [] where !written.contains(name) {
            guard RollupFile.isHourFile(name) || SegmentFrames.isFramesFile(name) else { continue }
            try FileSystem.link(base.path + "/" + name, generationPath + "/" + name)
        }
    }

    /// Writes the manifest, makes the generation durable, switches `CURRENT` to it, and removes
    /// the generations before the one it replaced.
    private func commit(_ generation: String, manifest: IndexManifest, keeping previous: String?)
        throws(SpendLogError)
    {
        let path = generations.path(of: generation)
        try FileSystem.writeNewFile(path + "/" + IndexSnapshot.manifestFileName, manifest.encoded())
        try FileSystem.fsyncDirectory(path)
        FaultInjection.reach("index.afterWriteGeneration")
        try generations.switchCurrent(to: generation)
        FaultInjection.reach("index.afterSwitch")
        try generations.removeAll(keeping: [generation, previous].compactMap { $0 })
    }

    private func add(_ file: RollupFile, into cells: CellMap, translate: [UInt32]) {
        let k = file.dimensions.count
        for (index, key) in file.keys.enumerated() {
            var cell = key
            for lane in 1...k { cell[lane] = translate[Int(key[lane])] }
            cells.add(cell, file.metrics[index])
        }
    }
}
