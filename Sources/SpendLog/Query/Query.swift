/// Answers questions about a log from its rollups plus whatever the index has not folded in yet
/// (docs/FORMAT.md, "Queries"). Answers equal a scan of every record (``statsByScanning(_:)``),
/// whatever the state of the index.
public struct Query: Sendable {
    public let directory: LogDirectory

    public init(directory: LogDirectory) { self.directory = directory }

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
    }

    private func stats(_ query: StatsQuery, snapshot: IndexSnapshot?) throws(SpendLogError) -> StatsResult {
        let filter = query.filter
        let accumulator = RowAccumulator(groupBy: query.groupBy, filter: filter)
        var trace = QueryTrace()
        trace.generation = snapshot?.generation
        let since = filter.since?.millisecondsSinceEpoch
        let until = filter.until?.millisecondsSinceEpoch
        if let since, let until, since >= until {
            return StatsResult(groupBy: query.groupBy, rows: [], trace: trace)
        }

        var needed = Set(query.groupBy.compactMap(\.dimension))
        if !filter.projects.isEmpty { needed.insert(.project) }
        if !filter.models.isEmpty { needed.insert(.model) }
        if !filter.providers.isEmpty { needed.insert(.provider) }
        if !filter.users.isEmpty { needed.insert(.user) }
        let allowMonths = !query.groupBy.contains(.day) && !query.groupBy.contains(.week)
        let cube = snapshot == nil ? nil : RollupCube.covering(needed)
        let plan = TimePlan(since: since, until: until, finest: cube?.finest ?? .hour, allowMonths: allowMonths)
        let useRollups = cube != nil && plan.usesRollups

        if let snapshot, let cube, useRollups {
            trace.cube = cube.name
            var files: [RollupFile] = []
            if plan.months != nil, let file = try snapshot.rollup(cube: cube, granularity: .month) {
                files.append(file)
            }
            if plan.needsDayCells, let file = try snapshot.rollup(cube: cube, granularity: .day) { files.append(file) }
            for day in plan.hourFileDays {
                if let file = try snapshot.rollup(cube: cube, granularity: .hour, day: day) { files.append(file) }
            }
            for file in files { trace.rollupCells += accumulator.add(file, plan: plan) }
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
            trace.rawSegments += 1
            do {
                trace.rawRecords += try accumulator.scan(segment, reader: reader, validated: edgesOnly) { ms in
                    if let since, ms < since { return false }
                    if let until, ms >= until { return false }
                    return !edgesOnly || plan.inEdges(ms)
                }
            } catch {
                guard error.code == .corruption else { throw error }
                trace.problems.append(error)
            }
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
                let day = TimeBuckets.day(ofMilliseconds: record.timestamp.millisecondsSinceEpoch)
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
    var scanner = RecordScanner()
    var interner: StringInterner { scanner.interner }
    /// Allowed ids per filtered dimension (by code); nil = no filter on it.
    private var allowed: [Set<UInt32>?] = Array(repeating: nil, count: Dimension.allCases.count)
    private var rowsByKey: [SIMD16<UInt32>: RollupMetrics] = [:]
    /// Ids of the records read raw in the current day: a copy is counted once.
    private var day = ""
    private var seen = Set<RecordID>()
    private(set) var duplicates = 0

    init(groupBy: [GroupKey], filter: RecordFilter) {
        self.groupBy = groupBy
        func ids(_ values: Set<String>) -> Set<UInt32>? {
            values.isEmpty ? nil : Set(values.map { scanner.interner.id(for: $0) })
        }
        allowed[Int(Dimension.project.code)] = ids(filter.projects)
        allowed[Int(Dimension.model.code)] = ids(filter.models)
        allowed[Int(Dimension.provider.code)] = ids(filter.providers)
        allowed[Int(Dimension.user.code)] = ids(filter.users)
    }

    /// The row lane of a time key for a bucket of `granularity`.
    @inline(__always)
    private func timeLane(_ key: GroupKey, granularity: Granularity, time: Int64) -> UInt32 {
        let day: Int64
        switch granularity {
        case .month: return UInt32(truncatingIfNeeded: time)  // only `month` rows come from month cells
        case .day: day = time
        case .hour: day = floorDiv(time, 24)
        }
        switch key {
        case .day: return UInt32(truncatingIfNeeded: day)
        case .week: return UInt32(truncatingIfNeeded: TimeBuckets.weekStart(ofDay: day))
        default: return UInt32(truncatingIfNeeded: TimeBuckets.month(ofDay: day))
        }
    }

    /// Adds the cells of `file` that `plan` gives to rollups; returns how many.
    func add(_ file: RollupFile, plan: TimePlan) -> Int {
        let translate = file.strings.map { $0.isEmpty ? UInt32(0) : interner.id(for: $0) }
        var lanes = [Int](repeating: 0, count: Dimension.allCases.count)  // dimension code → file lane
        for (lane, dimension) in file.dimensions.enumerated() { lanes[Int(dimension.code)] = lane + 1 }
        let filters = allowed.enumerated().compactMap { code, set in set.map { (lanes[code], $0) } }
        var used = 0
        var timeCache: (Int64, [UInt32])? = nil
        cells: for (index, key) in file.keys.enumerated() {
            let time = Int64(key[0])
            guard plan.owns(file.granularity, time) else { continue }
            for (lane, set) in filters where !set.contains(translate[Int(key[lane])]) { continue cells }
            if timeCache?.0 != time {
                timeCache = (
                    time, groupBy.map { $0.isTime ? timeLane($0, granularity: file.granularity, time: time) : 0 }
                )
            }
            var row = SIMD16<UInt32>(repeating: 0)
            for (lane, group) in groupBy.enumerated() {
                if let dimension = group.dimension {
                    row[lane] = translate[Int(key[lanes[Int(dimension.code)]])]
                } else {
                    row[lane] = timeCache!.1[lane]
                }
            }
            rowsByKey[row, default: RollupMetrics()].add(file.metrics[index])
            used += 1
        }
        return used
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
    func scan(_ segment: SegmentFile, reader: LogReader, validated: Bool, include: (Int64) -> Bool)
        throws(SpendLogError) -> Int
    {
        var count = 0
        enterDay(segment.name.day)
        _ = try reader.readLines(segment) { line, offset throws(SpendLogError) in
            if validated, let ms = RecordScanner.leadingTimestampMs(line), !include(ms) { return }
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
                if let dimension = group.dimension {
                    row[lane] = record.ids[dimension]
                } else {
                    row[lane] = timeLane(
                        group, granularity: .day, time: TimeBuckets.day(ofMilliseconds: record.timestampMs))
                }
            }
            rowsByKey[row, default: RollupMetrics()].add(record.metrics)
            count += 1
        }
        return count
    }

    func rows() -> [StatsRow] {
        rowsByKey.map { key, metrics in
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
