/// Answers questions about a log from its rollups plus whatever the index has not folded in yet
/// (docs/FORMAT.md, "Queries"). Answers equal a scan of every record (``statsByScanning(_:)``),
/// whatever the state of the index.
public struct Query: Sendable {
    /// The log the questions are about.
    public let directory: LogDirectory

    /// A query over the log at `directory`; nothing is read until a question is asked.
    public init(directory: LogDirectory) { self.directory = directory }

    /// Totals per group of `query`'s records, as `spendlog stats` answers them: from the current
    /// index generation's rollups plus a scan of every segment not folded in yet (none with
    /// ``StatsQuery/indexedOnly``). A damaged index is ignored (the answer comes from the segments,
    /// ``QueryTrace/indexDamage`` says why); damaged segments are left out and listed in
    /// ``QueryTrace/problems``. Refuses an invalid filter or group key, naming it.
    public func stats(_ query: StatsQuery) throws(SpendLogError) -> StatsResult {
        try validate(query)
        var attempt = 0
        while true {
            attempt += 1
            let snapshot: IndexSnapshot?
            do { snapshot = try IndexSnapshot.open(directory) } catch {
                return try answeredWithoutIndex(query, damage: error)
            }
            do {
                return try stats(query, snapshot: snapshot)
            } catch {
                // The generation was replaced and removed by a concurrent `index` mid-query.
                if let snapshot, !FileSystem.isDirectory(snapshot.path), attempt < 5 { continue }
                if error.code == .corruption, error.path?.hasPrefix(directory.indexPath + "/") == true {
                    return try answeredWithoutIndex(query, damage: error)
                }
                throw error
            }
        }
    }

    /// The index is derived data: when it is damaged, the answer comes from the segments alone
    /// (slower, and right), and says why (``QueryTrace/indexDamage``).
    private func answeredWithoutIndex(_ query: StatsQuery, damage: SpendLogError) throws(SpendLogError)
        -> StatsResult
    {
        guard damage.code == .corruption else { throw damage }
        var result = try stats(query, snapshot: nil)
        result.trace.indexDamage = damage
        return result
    }

    private func validate(_ query: StatsQuery) throws(SpendLogError) {
        guard Set(query.groupBy).count == query.groupBy.count else {
            throw .invalid(
                field: "by",
                "each dimension may be given once (got \(query.groupBy.map(\.rawValue).joined(separator: ", ")))."
            )
        }
        guard query.groupBy.count <= 15 else { throw .invalid(field: "by", "at most 15 dimensions.") }
        for key in query.groupBy {
            if let tag = key.tagKey { try RecordFilter.checkName(tag, field: "by") }
        }
        try query.filter.validate()
    }

    private func stats(_ query: StatsQuery, snapshot: IndexSnapshot?) throws(SpendLogError) -> StatsResult {
        let filter = query.filter
        let accumulator = RowAccumulator(query)
        var trace = QueryTrace()
        trace.generation = snapshot?.generation
        let since = filter.since?.millisecondsSinceEpoch
        let until = filter.until?.millisecondsSinceEpoch
        if let since, let until, since >= until {
            return StatsResult(groupBy: query.groupBy, rows: [], trace: trace)
        }

        let needed = Set(query.groupBy.compactMap(\.dimension)).union(filter.dimensions)
        let allowMonths = !query.groupBy.contains(.day) && !query.groupBy.contains(.week)
        // Tags and sessions are in no cube: every record is read.
        // Bounds on UTC midnights and UTC days: no part of the range needs hour cells.
        let wholeDays = !query.isZoned
            && [since, until].allSatisfy { $0.map { floorMod($0, Timestamp.millisecondsPerDay) == 0 } ?? true }
        var cube: RollupCube? = nil
        if let snapshot, !query.needsRecords {
            // Only a cube the generation keeps (one of an earlier version lacks `model`).
            var kept: [RollupCube] = []
            for cube in RollupCube.all where try snapshot.has(cube) { kept.append(cube) }
            cube = RollupCube.covering(needed, wholeDays: wholeDays, kept: kept.contains)
        }
        let plan = TimePlan(
            since: since, until: until, finest: cube?.finest ?? .hour, allowMonths: allowMonths,
            zone: query.isZoned ? query.timeZone : nil)
        let useRollups = cube != nil && plan.usesRollups

        if let snapshot, let cube, useRollups {
            trace.cube = cube.name
            // Cells are summed as each file is decoded. Damage found partway through a file throws
            // out of this call, and the answer is made again without the index (``stats(_:)``).
            // Cells of times the plan does not give to this granularity are passed over, not
            // decoded: the adder sums every cell it is given.
            func sum(_ granularity: Granularity, day: Int64? = nil, month: Int64? = nil) throws(SpendLogError) {
                var adder: RowAccumulator.CellAdder? = nil
                _ = try snapshot.forEachCell(
                    cube: cube, granularity: granularity, day: day, month: month,
                    keeping: { plan.owns(granularity, Int64($0)) },
                    header: { header, _ in adder = RowAccumulator.CellAdder(accumulator, header: header) },
                    cell: { key, metrics in adder!.add(key, metrics) })
                trace.rollupCells += adder?.used ?? 0
            }
            if plan.months != nil { try sum(.month) }
            if plan.needsDayCells {
                // Only the day files of the months that have days to take from day cells.
                for (_, month) in try snapshot.dayFiles(cube: cube) where month.map(plan.needsDayCells(ofMonth:)) ?? true {
                    try sum(.day, month: month)
                }
            }
            var hourDays = plan.hourFileDays
            if plan.zone != nil, let hours = plan.hours, cube.finest == .hour {
                // Every day's hours come from hour cells: the days the generation has hour files for.
                hourDays = try snapshot.hourFileDays(cube: cube).filter { day in
                    (hours.lo.map { (day + 1) * 24 > $0 } ?? true) && (hours.hi.map { day * 24 < $0 } ?? true)
                }
            }
            for day in hourDays { try sum(.hour, day: day) }
        }

        let reader = LogReader(directory: directory)
        let segments = try reader.segments(days: { filter.mayMatch(day: $0) })
        let covers = segments.map { snapshot?.manifest.covers($0) ?? false }
        // Per day, indexed segments first, as the indexer reads them: a record id that appears
        // again in an unindexed segment (a copy) is counted once, from the index. The ids of
        // indexed segments not read for the edges are needed only on days with unindexed sealed
        // segments (copies arrive sealed; a day's own are indexed soon after sealing).
        let order = segments.indices.sorted {
            (segments[$0].name.day, covers[$0] ? 0 : 1, $0) < (segments[$1].name.day, covers[$1] ? 0 : 1, $1)
        }
        // Indexed segments gone from disk (removed by retention): only the rollups hold their
        // records. A question that needs the records themselves for their day (a tag, a session,
        // a pairing no cube keeps, a zone's edge hours) cannot count them, and says so.
        // A question the rollups answer whole reads no records, and lacks none.
        let readsRecords = !useRollups || plan.zone != nil || !plan.rawEdges.isEmpty
        if readsRecords, let snapshot, !snapshot.manifest.entries.isEmpty {
            let present = Set(segments.map { IndexManifest.key(for: $0) })
            for (key, entry) in snapshot.manifest.entries where !present.contains(key) {
                guard let folder = key.split(separator: "/").first,
                    let day = SegmentName.day(fromFolder: String(folder)), filter.mayMatch(day: day)
                else { continue }
                if useRollups, let start = Timestamp.parseDateOrTime(day),
                    !plan.edgesOverlap(day: TimeBuckets.day(ofMilliseconds: start.millisecondsSinceEpoch))
                {
                    continue
                }
                trace.removedRecordsLeftOut += entry.records
                trace.removedDaysLeftOut.insert(day)
            }
        }
        // The frames of the indexed segments of each month read from: only those reaching into
        // the part of the day asked are read.
        var framesByMonth: [String: SegmentFrames?] = [:]
        let readBuffers = SegmentReadBuffers()
        let unindexedSealedDays = Set(
            segments.indices.filter { !covers[$0] && segments[$0].sealed }.map {
                segments[$0].name.day
            })
        for i in order {
            let segment = segments[i]
            let covered = covers[i]
            if covered && useRollups {
                guard let start = Timestamp.parseDateOrTime(segment.name.day),
                    plan.edgesOverlap(day: TimeBuckets.day(ofMilliseconds: start.millisecondsSinceEpoch))
                else {
                    if unindexedSealedDays.contains(segment.name.day) {
                        do { try accumulator.noteIDs(of: segment, reader: reader) } catch {
                            guard error.code == .corruption else { throw error }
                            trace.problems.append(error)
                        }
                    }
                    continue
                }
            } else if !covered && query.indexedOnly {
                continue
            }
            let edgesOnly = covered && useRollups
            // An indexed segment read for part of its day: only its frames that reach into that part.
            var runs: [SegmentFrames.Run]? = nil
            if covered, let snapshot, edgesOnly || since != nil || until != nil {
                let month = String(segment.name.day.prefix(7))
                if framesByMonth[month] == nil { framesByMonth[month] = .some(try snapshot.frames(day: month)) }
                if let frames = framesByMonth[month]!, let entry = frames.segments[IndexManifest.key(for: segment)],
                    entry.fileBytes == segment.size
                {
                    runs = SegmentFrames.runs(of: entry) { earliest, latest in
                        if let since, latest < since { return false }
                        if let until, earliest >= until { return false }
                        return !edgesOnly || plan.edgesOverlap(from: earliest, through: latest)
                    }
                } else {
                    trace.segmentsReadWithoutFrames += 1
                }
            }
            // Read for its edges on a day with unindexed sealed segments (copies): after its edge
            // records, the ids of all its records (the rollups counted them), so that a copy of one
            // is not counted again.
            func noteIDsForCopies() throws(SpendLogError) {
                guard edgesOnly && unindexedSealedDays.contains(segment.name.day) else { return }
                do { try accumulator.noteIDs(of: segment, reader: reader) } catch {
                    guard error.code == .corruption else { throw error }
                    trace.problems.append(error)
                }
            }
            if runs?.isEmpty == true {
                try noteIDsForCopies()
                continue
            }
            trace.rawSegments += 1
            do {
                let (records, frameLines) = try accumulator.scan(
                    segment, reader: reader, runs: runs, buffers: readBuffers, validated: edgesOnly
                ) { ms in
                    if let since, ms < since { return false }
                    if let until, ms >= until { return false }
                    return !edgesOnly || plan.inEdges(ms)
                }
                trace.rawRecords += records
                trace.linesFromFrames += frameLines
            } catch {
                guard error.code == .corruption else { throw error }
                if runs != nil, let snapshot {
                    // Read at the index's offsets: the frames file may be wrong, not the segment. The
                    // answer is made again without the index, which reads the segment whole and names
                    // its damage if it is the segment's.
                    let framesPath = snapshot.path + "/" + SegmentFrames.fileName(day: segment.name.day)
                    throw SegmentFrames.damaged(
                        framesPath, 0,
                        "the frames it gives for '\(IndexManifest.key(for: segment))' do not read (\(error.message))")
                }
                trace.problems.append(error)
            }
            try noteIDsForCopies()
        }
        trace.duplicates = accumulator.duplicates
        return StatsResult(
            groupBy: query.groupBy, rows: StatsResult.sorted(accumulator.rows(), groupBy: query.groupBy), trace: trace)
    }

    /// The reference answer: every record read and grouped, no index involved. Slow on big logs;
    /// the tests hold ``stats(_:)`` to it.
    public func statsByScanning(_ query: StatsQuery) throws(SpendLogError) -> StatsResult {
        try validate(query)
        var groups: [[[UInt8]?]: (keys: [String?], metrics: RollupMetrics)] = [:]
        var trace = QueryTrace()
        try LogReader(directory: directory).forEachRecord(
            matching: query.filter, onCorruption: { trace.problems.append($0) }
        ) {
            record throws(SpendLogError) in
            if query.indexedOnly { return }
            let keys = query.groupBy.map { key -> String? in
                if let dimension = key.dimension { return dimension.value(in: record) }
                if let tag = key.tagKey { return record.tags[tag] }
                let day = query.timeZone.localDay(ofMilliseconds: record.timestamp.millisecondsSinceEpoch)
                switch key {
                case .day: return TimeBuckets.dayLabel(day)
                case .week: return TimeBuckets.weekLabel(TimeBuckets.weekStart(ofDay: day))
                default: return TimeBuckets.monthLabel(TimeBuckets.month(ofDay: day))
                }
            }
            let byteKeys = keys.map { $0.map { Array($0.utf8) } }
            groups[byteKeys, default: (keys, RollupMetrics())].metrics.add(RollupMetrics(record: record))
            trace.rawRecords += 1
        }
        let rows = groups.values.map { StatsRow(keys: $0.keys, metrics: $0.metrics) }
        return StatsResult(groupBy: query.groupBy, rows: StatsResult.sorted(rows, groupBy: query.groupBy), trace: trace)
    }
}

/// Sums rollup cells and raw records into rows keyed by interned values and time buckets.
final class RowAccumulator {
    let groupBy: [GroupKey]
    /// The dimension of each ``groupBy`` key (nil for time and tag keys), worked out once: a
    /// key's ``GroupKey/dimension`` goes through its name, too slow for every cell and record.
    private let groupDimensions: [Dimension?]
    let filter: RecordFilter
    /// Tags or sessions are asked about: every record is parsed in full and matched by ``filter``.
    let needsRecords: Bool
    /// The zone of time groups; nil for UTC.
    let zone: ZoneInfo?
    var scanner = RecordScanner()
    var interner: StringInterner { scanner.interner }
    /// Allowed ids per filtered dimension (by code); nil = no filter on it.
    private var allowed: [Set<UInt32>?] = Array(repeating: nil, count: Dimension.allCases.count)
    /// The rows: one lane per group key (a time bucket or a value id), the lanes past them 0.
    private let rowSums = SumMap<SIMD16<UInt32>>()
    /// Ids of the records read raw in the current day: a copy is counted once.
    private var day = ""
    private var seen = Set<RecordID>()
    private(set) var duplicates = 0

    init(_ query: StatsQuery) {
        groupBy = query.groupBy
        groupDimensions = query.groupBy.map(\.dimension)
        filter = query.filter
        needsRecords = query.needsRecords
        zone = query.isZoned ? query.timeZone : nil
        for dimension in Dimension.allCases {
            let values = query.filter.values(of: dimension)
            if !values.isEmpty { allowed[Int(dimension.code)] = Set(values.map { scanner.interner.id(for: $0) }) }
        }
    }

    /// The row lane of a time key for a bucket of `granularity`.
    @inline(__always)
    private func timeLane(_ key: GroupKey, granularity: Granularity, time: Int64) -> UInt32 {
        let day: Int64
        if let zone {
            // A cell on one local day (``TimePlan``): the local day of its start.
            let unit = granularity == .hour ? TimeBuckets.millisecondsPerHour : Timestamp.millisecondsPerDay
            return timeLane(key, localDay: zone.localDay(ofMilliseconds: time * unit))
        }
        switch granularity {
        case .month: return UInt32(truncatingIfNeeded: time)  // only `month` rows come from month cells
        case .day: day = time
        case .hour: day = floorDiv(time, 24)
        }
        return timeLane(key, localDay: day)
    }

    @inline(__always)
    private func timeLane(_ key: GroupKey, localDay day: Int64) -> UInt32 {
        switch key {
        case .day: return UInt32(truncatingIfNeeded: day)
        case .week: return UInt32(truncatingIfNeeded: TimeBuckets.weekStart(ofDay: day))
        default: return UInt32(truncatingIfNeeded: TimeBuckets.month(ofDay: day))
        }
    }

    /// Sums the cells of a rollup file as they are decoded: `header` is the file without its cells
    /// (``RollupFile/forEachCell(_:path:checkedOnly:keeping:header:cell:)``), whose `keeping` gives
    /// it only the cells of times the plan takes from this file's granularity.
    final class CellAdder {
        private let rows: RowAccumulator
        private let granularity: Granularity
        private let translate: [UInt32]
        private let filters: [(lane: Int, allowed: Set<UInt32>)]
        /// Per row lane, what fills it: > 0 that file lane, -1 the cell's time, 0 nothing (a tag).
        private let sources: [Int]
        private(set) var used = 0
        private var timeCache: (Int64, [UInt32])? = nil

        init(_ rows: RowAccumulator, header: RollupFile) {
            self.rows = rows
            granularity = header.granularity
            translate = header.strings.map { $0.isEmpty ? UInt32(0) : rows.interner.id(for: $0) }
            var lanes = [Int](repeating: 0, count: Dimension.allCases.count)  // dimension code → file lane
            for (lane, dimension) in header.dimensions.enumerated() { lanes[Int(dimension.code)] = lane + 1 }
            filters = rows.allowed.enumerated().compactMap { code, set in set.map { (lanes[code], $0) } }
            sources = rows.groupBy.indices.map { index in
                rows.groupDimensions[index].map { lanes[Int($0.code)] } ?? (rows.groupBy[index].isTime ? -1 : 0)
            }
        }

        @inline(__always)
        func add(_ key: SIMD8<UInt32>, _ metrics: RollupMetrics) {
            let time = Int64(key[0])
            for (lane, set) in filters where !set.contains(translate[Int(key.lane(lane))]) { return }
            if timeCache?.0 != time {
                timeCache = (
                    time,
                    rows.groupBy.map { $0.isTime ? rows.timeLane($0, granularity: granularity, time: time) : 0 }
                )
            }
            var row = SIMD16<UInt32>(repeating: 0)
            for lane in 0..<sources.count {
                let source = sources[lane]
                if source > 0 {
                    row.setLane(lane, translate[Int(key.lane(source))])
                } else if source < 0 {
                    row.setLane(lane, timeCache!.1[lane])
                }
            }
            rows.rowSums.add(row, metrics)
            used += 1
        }
    }

    /// Takes note of the ids of `segment`'s records (counted from the index) without adding them.
    func noteIDs(of segment: SegmentFile, reader: LogReader) throws(SpendLogError) {
        enterDay(segment.name.day)
        _ = try reader.readLines(segment) { line, offset throws(SpendLogError) in
            seen.insert(try LogReader.recordID(of: line, in: segment, at: offset))
        }
    }

    private func enterDay(_ next: String) {
        guard next != day else { return }
        day = next
        seen.removeAll(keepingCapacity: true)
    }

    /// Adds the records of `segment` whose time passes `include`; returns how many. Lines of a
    /// `validated` segment (one the indexer has read whole) whose time fails `include` are skipped
    /// without being parsed.
    /// `runs`: only those frames of the segment are read (``SegmentFrames``); returns the records
    /// added, and how many lines those frames held.
    func scan(
        _ segment: SegmentFile, reader: LogReader, runs: [SegmentFrames.Run]? = nil,
        buffers: SegmentReadBuffers? = nil, validated: Bool, include: (Int64) -> Bool
    ) throws(SpendLogError) -> (records: Int, frameLines: Int) {
        var count = 0
        enterDay(segment.name.day)
        func body(_ line: UnsafeBufferPointer<UInt8>, _ offset: Int64) throws(SpendLogError) {
            if validated, let ms = RecordScanner.leadingTimestampMs(line), !include(ms) { return }
            if needsRecords {
                if try addParsed(line, of: segment, at: offset, include: include) { count += 1 }
                return
            }
            let record = try scanner.scan(line, of: segment, at: offset)
            guard include(record.timestampMs) else { return }
            guard seen.insert(try LogReader.recordID(of: line, in: segment, at: offset)).inserted else {
                duplicates += 1
                return
            }
            for code in 0..<allowed.count {
                if let set = allowed[code], !set.contains(record.ids[Dimension.allCases[code]]) { return }
            }
            var row = SIMD16<UInt32>(repeating: 0)
            for (lane, group) in groupBy.enumerated() {
                if let dimension = groupDimensions[lane] {
                    row.setLane(lane, record.ids[dimension])
                } else {
                    row.setLane(lane, timeLane(group, localDay: localDay(record.timestampMs)))
                }
            }
            rowSums.add(row, record.metrics)
            count += 1
        }
        if let runs {
            let lines = try reader.readLines(segment, runs: runs, buffers: buffers ?? SegmentReadBuffers(), body)
            return (count, lines)
        }
        _ = try reader.readLines(segment, fileBytes: nil, buffers: buffers, body)
        return (count, 0)
    }

    @inline(__always)
    private func localDay(_ ms: Int64) -> Int64 {
        zone?.localDay(ofMilliseconds: ms) ?? TimeBuckets.day(ofMilliseconds: ms)
    }

    /// Adds the record on `line`, parsed in full, when it passes `include` and ``filter``; true if added.
    private func addParsed(
        _ line: UnsafeBufferPointer<UInt8>, of segment: SegmentFile, at offset: Int64, include: (Int64) -> Bool
    ) throws(SpendLogError) -> Bool {
        let record: UsageRecord
        do throws(RecordParseError) {
            record = try RecordParser.parse(line, mode: .stored).record
        } catch {
            throw LogReader.invalidLine(error, in: segment, at: offset)
        }
        let ms = record.timestamp.millisecondsSinceEpoch
        guard include(ms) else { return false }
        guard seen.insert(record.id).inserted else {
            duplicates += 1
            return false
        }
        guard filter.matches(record) else { return false }
        let scanned = scanner.scanned(record)
        var row = SIMD16<UInt32>(repeating: 0)
        for (lane, group) in groupBy.enumerated() {
            if let dimension = groupDimensions[lane] {
                row.setLane(lane, scanned.ids[dimension])
            } else if let tag = group.tagKey {
                row.setLane(lane, interner.id(for: record.tags[tag]))
            } else {
                row.setLane(lane, timeLane(group, localDay: localDay(ms)))
            }
        }
        rowSums.add(row, scanned.metrics)
        return true
    }

    func rows() -> [StatsRow] {
        zip(rowSums.keys, rowSums.values).map { key, metrics in
            let keys = groupBy.enumerated().map { lane, group -> String? in
                let value = key[lane]
                switch group {
                case .day: return TimeBuckets.dayLabel(Int64(Int32(bitPattern: value)))
                case .week: return TimeBuckets.weekLabel(Int64(Int32(bitPattern: value)))
                case .month: return TimeBuckets.monthLabel(Int64(Int32(bitPattern: value)))
                default: return value == 0 ? nil : interner.strings[Int(value)]
                }
            }
            return StatsRow(keys: keys, metrics: metrics)
        }
    }
}

