import Dispatch

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
    /// Ids of the day being indexed, from its segments indexed before and those read so far: a
    /// record id twice in a day (a copied segment) is one record, counted once
    /// (docs/FORMAT.md, "Record ids").
    var dayIDs = Set<RecordID>()
    var duplicates = 0

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
        dayIDs.removeAll(keepingCapacity: true)
        if let base, let first = segments.first {
            let day = first.name.day
            for indexed in try reader.segments(inFolder: first.name.dayFolder, day: day)
            where indexed.sealed && base.manifest.covers(indexed) {
                _ = try reader.readLines(indexed) { line, offset throws(SpendLogError) in
                    dayIDs.insert(try LogReader.recordID(of: line, in: indexed, at: offset))
                }
            }
        }
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
        var ids = self.dayIDs
        self.dayIDs = []
        var duplicates = 0
        defer {
            self.scanner = scanner
            self.dayIDs = ids
            self.duplicates += duplicates
        }
        let summary = try reader.readLines(
            segment,
            fileBytes: { bytes in checksum = fnv1a64(bytes.bindMemory(to: UInt8.self), seed: checksum) }
        ) { line, offset throws(SpendLogError) in
            let scanned = try scanner.scan(line, of: segment, at: offset)
            guard ids.insert(try LogReader.recordID(of: line, in: segment, at: offset)).inserted else {
                duplicates += 1
                return
            }
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
