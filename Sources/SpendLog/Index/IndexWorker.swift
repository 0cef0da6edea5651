import Dispatch

#if canImport(Glibc)
    import Glibc
#endif

/// The first error of parallel work.
final class FailureBox: @unchecked Sendable {
    private let lock = PThreadMutex()
    private var recorded: SpendLogError?

    /// The first error recorded (read under the lock: other threads may be recording).
    var first: SpendLogError? { lock.withLock { recorded } }

    func record(_ error: SpendLogError) { lock.withLock { if recorded == nil { recorded = error } } }
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
/// previous generation's), and keeps each day's day cells, packed, for the final merge.
///
/// Memory stays flat in the number of records: a worker holds the hour and day cells of the day
/// it is scanning, and the packed day cells of the days it finished go to its scratch file
/// (``DayCellSpill``) 256 KiB at a time.
final class IndexWorker: @unchecked Sendable {
    let reader: LogReader
    let base: IndexSnapshot?
    let generationPath: String
    var scanner = RecordScanner()
    /// Day cells of the day being scanned, per cube of ``RollupCube/all``, keyed by this worker's ids.
    let dayCells = RollupCube.all.map { _ in CellMap(capacity: 1024) }
    /// Hour cells of the day being scanned, for cubes whose finest cells are hours.
    let hours = RollupCube.all.map { _ in CellMap(capacity: 1024) }
    /// The day cells of finished days, per cube, packed.
    var packed: [PackedDayCells]
    var covered: [IndexManifest.Entry] = []
    /// The hour and frames files this worker wrote.
    var hourFiles: [String] = []
    /// The frames of the segments this worker read, by manifest key.
    var segmentFrames: [String: SegmentFrames.Segment] = [:]
    var bytesRead: Int64 = 0
    var failure: SpendLogError?
    /// Ids of the day being indexed, from its segments indexed before and those read so far: a
    /// record id twice in a day (a copied segment) is one record, counted once
    /// (docs/FORMAT.md, "Record ids").
    var dayIDs = DayIDs()
    /// The day's segments that an earlier run indexed (their ids are in ``dayIDs`` first), and
    /// those this worker has read so far: where ``dayIDs`` reads the ids before a record again.
    var baseDaySegments: [SegmentFile] = []
    var daySegmentsRead: [SegmentFile] = []
    var duplicates = 0
    /// This worker's read buffers, reused for every segment it reads; released when the scan
    /// is over, before the day and month files are written (when memory peaks).
    var readBuffers: SegmentReadBuffers? = SegmentReadBuffers()

    /// Where the hour files' fsyncs go (the index run makes them all at once, at its end).
    let syncs: DeferredSyncs?

    init(
        reader: LogReader, base: IndexSnapshot?, generationPath: String, syncs: DeferredSyncs? = nil,
        dayIDs: DayIDs = DayIDs()
    ) {
        self.reader = reader
        self.syncs = syncs
        self.dayIDs = dayIDs
        self.base = base
        self.generationPath = generationPath
        let spill = DayCellSpill(folder: generationPath)
        packed = RollupCube.all.map { PackedDayCells(dimensions: $0.dimensions.count, spill: spill) }
    }

    /// Ids of this worker's interner mapped to `global`'s.
    func translation(into global: StringInterner) -> [UInt32] {
        var map = [UInt32](repeating: 0, count: scanner.interner.count)
        for id in 1..<scanner.interner.count { map[id] = global.id(for: scanner.interner.strings[id]) }
        return map
    }

    /// Scans the segments of one day, then writes its hour files, folds them into day cells and
    /// packs those.
    func index(day segments: [SegmentFile], counter: ProgressCounter) throws(SpendLogError) {
        dayIDs.removeAll()
        baseDaySegments.removeAll()
        daySegmentsRead.removeAll()
        defer { packDayCells() }
        if let base, let first = segments.first {
            let day = first.name.day
            for indexed in try reader.segments(inFolder: first.name.dayFolder, day: day)
            where indexed.sealed && base.manifest.covers(indexed) {
                baseDaySegments.append(indexed)
            }
            for indexed in baseDaySegments {
                _ = try reader.readLines(indexed, fileBytes: nil, buffers: readBuffers) {
                    line, offset throws(SpendLogError) in
                    dayIDs.add(try LogReader.recordID(of: line, in: indexed, at: offset))
                }
            }
        }
        for segment in segments {
            counter.finished(records: try index(segment))
            daySegmentsRead.append(segment)
        }
        guard let first = segments.first, let start = Timestamp.parseDateOrTime(first.name.day) else { return }
        let day = TimeBuckets.day(ofMilliseconds: start.millisecondsSinceEpoch)
        for (c, cube) in RollupCube.all.enumerated() where cube.finest == .hour {
            let cells = hours[c]
            // The day's new sums go to the day cells first: the previous generation's day and
            // month files already hold what its hour file holds.
            for index in 0..<cells.count {
                var key = cells.keys[index]
                key[0] /= 24
                dayCells[c].add(key, cells.values[index])
            }
            if let old = try base?.hourRollup(cube: cube, day: day) {
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
                RollupFile.encode(cells: cells, cube: cube, granularity: .hour, interner: scanner.interner),
                syncs: syncs)
            hourFiles.append(name)
            cells.removeAll()
        }
    }

    /// Calls `body` with the ids of the day read so far, read again: every id of the day's
    /// segments indexed before and of those this worker read, and of the lines of `segment`
    /// before `offset`. For ``DayIDs`` when its filter cannot tell an id from those before it.
    private func readIDs(before offset: Int64, of segment: SegmentFile, _ body: (RecordID) -> Void)
        throws(SpendLogError)
    {
        func read(_ segment: SegmentFile, before: Int64) throws(SpendLogError) {
            let summary = try reader.readLines(segment) { line, offset throws(SpendLogError) in
                if offset < before { body(try LogReader.recordID(of: line, in: segment, at: offset)) }
            }
            // Sealed segments do not change; one gone since it was read would leave its ids out.
            if summary.records == 0 {
                if let fd = try FileSystem.openIfExists(segment.path, O_RDONLY) {
                    FileSystem.close(fd)
                    return
                }
                throw SpendLogError(
                    code: .io,
                    message: "'\(segment.path)' was removed while the index read its day; nothing was indexed. "
                        + "Index again once segments are no longer removed by hand during a run.",
                    path: segment.path)
            }
        }
        for earlier in baseDaySegments + daySegmentsRead { try read(earlier, before: .max) }
        try read(segment, before: offset)
    }

    /// Moves the day cells of the day just scanned into ``packed``.
    private func packDayCells() {
        for c in 0..<dayCells.count {
            packed[c].append(dayCells[c])
            dayCells[c].removeAll()
        }
    }

    /// Where each cube's cells of a record go, without reference counting in the record loop.
    private struct Sink {
        var hourly: Bool
        var k: Int
        var codes: SIMD8<UInt32>
        var cells: Unmanaged<CellMap>
    }

    func index(_ segment: SegmentFile) throws(SpendLogError) -> Int64 {
        var checksum: UInt64 = 0xcbf2_9ce4_8422_2325
        var records: Int64 = 0
        // Locals, not properties, inside the loop: no dynamic exclusivity check per record.
        var scanner = self.scanner
        var ids = self.dayIDs
        self.dayIDs = DayIDs()
        var duplicates = 0
        var frames = SegmentFrames.Builder()
        let sinks = RollupCube.all.enumerated().map { c, cube in
            var codes = SIMD8<UInt32>(repeating: 0)
            for (lane, code) in cube.codes.enumerated() { codes[lane] = UInt32(code) }
            return Sink(
                hourly: cube.finest == .hour, k: cube.codes.count, codes: codes,
                cells: Unmanaged.passUnretained(cube.finest == .hour ? hours[c] : dayCells[c]))
        }
        defer {
            self.scanner = scanner
            self.dayIDs = ids
            self.duplicates += duplicates
        }
        let summary = try withExtendedLifetime((hours, dayCells)) { () throws(SpendLogError) in
            try sinks.withUnsafeBufferPointer { sinks throws(SpendLogError) in
                try reader.readLines(
                    segment,
                    fileBytes: { bytes in checksum = fnv1a64(bytes.bindMemory(to: UInt8.self), seed: checksum) },
                    buffers: readBuffers,
                    frameEnded: { fileOffset, textOffset, count, atLineStart in
                        frames.frameEnded(
                            fileOffset: fileOffset, textOffset: textOffset, frames: count, atLineStart: atLineStart)
                    }
                ) { line, offset throws(SpendLogError) in
                    let scanned = try scanner.scan(line, of: segment, at: offset)
                    frames.line(scanned.timestampMs)
                    let new = try ids.insert(
                        scanned.id,
                        readPrior: { (each: (RecordID) -> Void) throws(SpendLogError) in
                            try readIDs(before: offset, of: segment, each)
                        })
                    guard new else {
                        duplicates += 1
                        return
                    }
                    let hour = TimeBuckets.hour(ofMilliseconds: scanned.timestampMs)
                    let hourBucket = UInt32(truncatingIfNeeded: hour)
                    let dayBucket = UInt32(truncatingIfNeeded: floorDiv(hour, 24))
                    let lanes = scanned.ids.lanes
                    for sink in sinks {
                        var key = SIMD8<UInt32>(repeating: 0)
                        key[0] = sink.hourly ? hourBucket : dayBucket
                        for lane in 0..<sink.k { key[lane + 1] = lanes[Int(sink.codes[lane])] }
                        sink.cells._withUnsafeGuaranteedRef { $0.add(key, scanned.metrics) }
                    }
                    records += 1
                }
            }
        }
        bytesRead += summary.bytes
        segmentFrames[IndexManifest.key(for: segment)] = frames.finished(fileBytes: segment.size)
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

/// Day cells of finished days, packed as varints (lanes 1… then the sums, zigzag), in runs of
/// one day each: about a quarter of a ``CellMap``'s memory, and read once, day by day, when the
/// day files are written.
/// Where a worker's packed day cells go once they pass their threshold: one scratch file for all
/// of its cubes, made on first use in the generation folder. Appended to by the worker's thread
/// while it scans; read (`pread`) by any thread once the scan is over. After a failure it takes
/// nothing more: the cells stay in memory, and the index is the same.
final class DayCellSpill: @unchecked Sendable {
    let folder: String
    private(set) var file: ScratchFile?
    private var failed = false

    init(folder: String) { self.folder = folder }

    /// Appends `bytes` to the file; their offset in it, or nil when spilling failed, now or before.
    func append(_ bytes: [UInt8]) -> Int64? {
        guard !failed else { return nil }
        do throws(SpendLogError) {
            if file == nil { file = try ScratchFile(in: folder, label: "packed-cells") }
            return try file!.append(bytes)
        } catch {
            failed = true
            return nil
        }
    }
}

struct PackedDayCells {
    /// One day's cells; `start` and `end` count every byte packed, spilled ones included.
    struct Run {
        var day: UInt32
        var start: Int
        var end: Int
        var cells: Int
    }
    let dimensions: Int
    /// The bytes packed since the last spill.
    private(set) var bytes: [UInt8] = []
    private(set) var runs: [Run] = []
    /// Which of the worker's string ids the packed cells use (by id), marked while packing: the
    /// day file's string table, without decoding the cells once more to find out.
    private(set) var usedStrings: [Bool] = []
    /// Where ``bytes`` go each time they reach `spillBytes`: the packed cells of a whole log
    /// would otherwise stay in memory until the day files are written.
    private let spill: DayCellSpill?
    /// Each spilled chunk's first byte (counting every byte packed) and its offset in the spill
    /// file, in order.
    private var chunks: [(start: Int, at: Int64)] = []
    /// Bytes spilled: runs that start below this are in the spill file.
    private var spilled = 0
    /// How many packed bytes are kept in memory before they are spilled.
    let spillBytes: Int

    /// `spill`: where packed cells go once they pass `spillBytes` (nil: they stay in memory).
    init(dimensions: Int, spill: DayCellSpill? = nil, spillBytes: Int = 256 << 10) {
        self.dimensions = dimensions
        self.spill = spill
        self.spillBytes = spillBytes
    }

    /// Packs `cells` (lane 0 a day), one run per day they hold.
    mutating func append(_ cells: CellMap) {
        guard !cells.isEmpty else { return }
        let keys = cells.keys
        let values = cells.values
        var order = Array(0..<cells.count)
        if keys.contains(where: { $0[0] != keys[0][0] }) { order.sort { keys[$0][0] < keys[$1][0] } }
        var run = Run(day: keys[order[0]][0], start: spilled + bytes.count, end: 0, cells: 0)
        for index in order {
            let key = keys[index]
            if key[0] != run.day {
                run.end = spilled + bytes.count
                runs.append(run)
                run = Run(day: key[0], start: spilled + bytes.count, end: 0, cells: 0)
            }
            for lane in 1...dimensions {
                let id = Int(key[lane])
                if id != 0 {
                    if id >= usedStrings.count { usedStrings += repeatElement(false, count: id + 1 - usedStrings.count) }
                    usedStrings[id] = true
                }
            }
            RollupFile.appendCell(&bytes, time: nil, key: key, lanes: dimensions, values[index])
            run.cells += 1
        }
        run.end = spilled + bytes.count
        runs.append(run)
        // Whole runs only: a spill takes every byte packed so far.
        if bytes.count >= spillBytes, let spill, let at = spill.append(bytes) {
            chunks.append((spilled, at))
            spilled += bytes.count
            bytes.removeAll(keepingCapacity: true)
        }
    }

    /// Calls `body` with each cell of `run`: its key (lane 0 the day) and sums. A spilled run is
    /// read back from the spill file.
    func forEachCell(of run: Run, _ body: (SIMD8<UInt32>, RollupMetrics) -> Void) throws(SpendLogError) {
        if run.start >= spilled {
            bytes.withUnsafeBufferPointer { decode(run, $0, from: run.start - spilled, body) }
            return
        }
        guard let file = spill?.file, let chunk = chunks.last(where: { $0.start <= run.start }) else {
            preconditionFailure("a spilled run without a spill file")
        }
        let at = chunk.at + Int64(run.start - chunk.start)
        let read = try FileSystem.pread(file.fd, count: run.end - run.start, at: at, path: file.path)
        guard read.count == run.end - run.start else {
            throw SpendLogError(
                code: .io,
                message: "'\(file.path)' (a scratch file of the index) ends before byte \(at + Int64(run.end - run.start)) of its cells.",
                path: file.path)
        }
        read.withUnsafeBufferPointer { decode(run, $0, from: 0, body) }
    }

    private func decode(
        _ run: Run, _ b: UnsafeBufferPointer<UInt8>, from start: Int, _ body: (SIMD8<UInt32>, RollupMetrics) -> Void
    ) {
        var at = start
        @inline(__always) func varint() -> UInt64 {
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                let byte = b[at]
                at += 1
                value |= UInt64(byte & 0x7F) << shift
                if byte < 0x80 { return value }
                shift += 7
            }
        }
        @inline(__always) func field() -> Int64 {
            let z = varint()
            return Int64(bitPattern: (z >> 1) ^ (0 &- (z & 1)))
        }
        for _ in 0..<run.cells {
            var key = SIMD8<UInt32>(repeating: 0)
            key[0] = run.day
            for lane in 1...dimensions { key[lane] = UInt32(truncatingIfNeeded: varint()) }
            body(key, RollupMetrics(reading: field))
        }
        assert(at - start == run.end - run.start)
    }
}

/// The duplicate check of the day being indexed, in memory that does not grow with the day's
/// records while the day is not huge: a filter (a Bloom filter of 64-byte blocks, 2^21 bits,
/// 8 set per id) says that an id is new, or that it may have been seen. "May have been seen" is
/// settled exactly by reading the ids before it again (``insert(_:readPrior:)``): at 27,000
/// records a day (10M records a year) that happens about once in 350 days, when the id is not a
/// repeat. When it happens again in a day, or once the day holds ``crowded`` ids (when the filter
/// starts to fill), the check turns exact for the rest of the day: the ids before are read
/// into a ``RecordIDSet``, which then grows with the day, as the whole check did before. A copied
/// segment repeats every id, and so makes its day exact at its second record.
struct DayIDs {
    /// 64-bit words of the filter: 2^21 bits, 256 KiB.
    static let filterWords = 1 << 15
    /// Ids in a day past which a "may have been seen" turns the check exact at once.
    static let crowded = 60_000
    private let words: Int
    /// Allocated on first use: an empty `DayIDs` costs nothing (the worker swaps one in while it
    /// reads a segment).
    private var filter: FilterWords?
    private var used = false
    private var count = 0
    /// "May have been seen" answers settled by reading again, this day.
    private var settled = 0
    /// The exact set, from when the check turned exact to the end of the day.
    private(set) var exact: RecordIDSet?

    init(filterWords: Int = DayIDs.filterWords) {
        precondition(filterWords >= 8 && filterWords & (filterWords - 1) == 0)
        words = filterWords
    }

    mutating func removeAll() {
        if used {
            filter?.clear()
            used = false
        }
        count = 0
        settled = 0
        exact = nil
    }

    /// Adds `id`: true when it is new to the day. `readPrior` calls its argument with every id
    /// added before (read again), when the filter cannot tell.
    @inline(__always)
    mutating func insert(
        _ id: RecordID, readPrior: (_ each: (RecordID) -> Void) throws(SpendLogError) -> Void
    ) throws(SpendLogError) -> Bool {
        if exact != nil { return exact!.insert(id) }
        count += 1
        guard mark(id) else { return true }
        if settled == 0 && count < DayIDs.crowded {
            settled += 1
            var repeated = false
            try readPrior { if $0 == id { repeated = true } }
            return !repeated
        }
        var set = RecordIDSet()
        try readPrior { _ = set.insert($0) }
        let new = set.insert(id)
        exact = set
        return new
    }

    /// Adds `id` without asking whether it is new (the ids of segments indexed before, which
    /// ``insert(_:readPrior:)`` reads again whenever it must settle a question).
    mutating func add(_ id: RecordID) {
        if exact != nil {
            _ = exact!.insert(id)
            return
        }
        count += 1
        _ = mark(id)
    }

    /// Sets the filter's bits of `id`; whether they were all set already (it may have been seen).
    @inline(__always)
    private mutating func mark(_ id: RecordID) -> Bool {
        if filter == nil { filter = FilterWords(count: words) }
        used = true
        // One 64-byte block (8 words) per id; 8 bits in it, from 8 nine-bit fields (7 of `b`, one
        // of `a` above the bits that chose the block).
        var a = id.low ^ (id.high &* 0x9E37_79B9_7F4A_7C15)
        a ^= a >> 32
        a = a &* 0xBF58_476D_1CE4_E5B9
        a ^= a >> 29
        var b = id.high ^ (id.low &* 0xC2B2_AE3D_27D4_EB4F)
        b ^= b >> 31
        b = b &* 0x94D0_49BB_1331_11EB
        b ^= b >> 32
        let block = filter!.words + Int(truncatingIfNeeded: a & UInt64(words / 8 - 1)) &* 8
        var missing: UInt64 = 0
        @inline(__always) func probe(_ bits: UInt64) {
            let word = block + Int(truncatingIfNeeded: (bits >> 6) & 7)
            let mask = UInt64(1) << (bits & 63)
            missing |= ~word.pointee & mask
            word.pointee |= mask
        }
        probe(b)
        probe(b >> 9)
        probe(b >> 18)
        probe(b >> 27)
        probe(b >> 36)
        probe(b >> 45)
        probe(b >> 54)
        probe(a >> 40)
        return missing == 0
    }
}

/// The words of a ``DayIDs`` filter, zeroed, freed with the last ``DayIDs`` that holds them.
/// Copies of a ``DayIDs`` share them: a `DayIDs` has one user at a time (the worker moves its
/// own out while it reads a segment, leaving an empty one, which allocates nothing, in its place).
final class FilterWords {
    let words: UnsafeMutablePointer<UInt64>
    let count: Int

    init(count: Int) {
        self.count = count
        words = .allocate(capacity: count)
        words.initialize(repeating: 0, count: count)
    }

    deinit { words.deallocate() }

    func clear() { words.update(repeating: 0, count: count) }
}

/// A set of record ids for the duplicate check: open addressing on the ids' own random bits
/// (UUIDv7 ids are random in their low half), instead of `Set`'s SipHash.
///
/// Its memory is most of what grows with the records of a day (a day of a 10M-record log holds
/// about 27,000 ids), so it is kept small: one array of 16-byte slots, the all-zero id standing
/// for an empty slot (and kept apart in ``holdsZero``), filled to three quarters, and grown by
/// half at a time (a slot is found by multiplying the hash by the capacity, so any capacity
/// works).
struct RecordIDSet {
    private static let empty = RecordID(high: 0, low: 0)
    private var slots = [RecordID](repeating: RecordIDSet.empty, count: 1024)
    /// Whether the all-zero id, which marks empty slots, is in the set.
    private var holdsZero = false
    private(set) var count = 0
    /// Slots in use (the all-zero id is in none).
    private var filled = 0

    var capacity: Int { slots.count }

    @inline(__always)
    private static func slot(_ id: RecordID, capacity: Int) -> Int {
        var h = id.low ^ (id.high &* 0x9E37_79B9_7F4A_7C15)
        h ^= h >> 32
        h = h &* 0xBF58_476D_1CE4_E5B9
        h ^= h >> 29
        return Int(truncatingIfNeeded: h.multipliedFullWidth(by: UInt64(capacity)).high)
    }

    /// Adds `id`; false when it was there already.
    @inline(__always)
    mutating func insert(_ id: RecordID) -> Bool {
        if id == RecordIDSet.empty {
            guard !holdsZero else { return false }
            holdsZero = true
            count += 1
            return true
        }
        let inserted = slots.withUnsafeMutableBufferPointer { slots -> Bool in
            var index = RecordIDSet.slot(id, capacity: slots.count)
            while true {
                let held = slots[index]
                if held.high == 0 && held.low == 0 {
                    slots[index] = id
                    return true
                }
                if held.high == id.high && held.low == id.low { return false }
                index += 1
                if index == slots.count { index = 0 }
            }
        }
        guard inserted else { return false }
        count += 1
        filled += 1
        if filled * 4 > slots.count * 3 { grow() }
        return true
    }

    private mutating func grow() {
        let old = slots
        let capacity = old.count + old.count / 2
        slots = []
        var grown = [RecordID](repeating: RecordIDSet.empty, count: capacity)
        grown.withUnsafeMutableBufferPointer { slots in
            for id in old where id != RecordIDSet.empty {
                var index = RecordIDSet.slot(id, capacity: capacity)
                while slots[index] != RecordIDSet.empty {
                    index += 1
                    if index == capacity { index = 0 }
                }
                slots[index] = id
            }
        }
        slots = grown
    }
}
