import Foundation
import Testing

@testable import SpendLog

/// Random logs and random questions: every answer from rollups + unindexed records must equal a
/// scan of every record, whatever state the index is in.
struct RandomLog {
    var rng: SplitMix
    let start = Timestamp.parse("2026-01-20T00:00:00Z")!.millisecondsSinceEpoch
    let spanDays: Int64 = 75  // crosses three month boundaries
    static let projects = ["etl", "support-bot", "données", "research", "a,b\"c"]
    static let models = [
        "gpt-4.1", "claude-sonnet-4-5", "gemini-2.5-flash", "o3", "mystery-model", "us.anthropic.claude-3-7",
    ]
    static let users = ["u1", "u2", "u3", "ünï"]
    static let callers = ["api", "batch"]
    static let roles = ["planner", "writer"]
    static let tasks = ["digest", "triage", "sql"]

    mutating func record(day: Int64? = nil) -> UsageRecord {
        let d = day ?? Int64.random(in: 0..<spanDays, using: &rng)
        let ms =
            start + d * Timestamp.millisecondsPerDay + Int64.random(in: 0..<Timestamp.millisecondsPerDay, using: &rng)
        let input = Int64.random(in: 0...50_000, using: &rng)
        let output = Int64.random(in: 0...5_000, using: &rng)
        let cached = Int64.random(in: 0...input / 2, using: &rng)
        var r = UsageRecord(
            timestamp: Timestamp(millisecondsSinceEpoch: ms), project: RandomLog.projects.randomElement(using: &rng)!,
            model: RandomLog.models.randomElement(using: &rng)!,
            provider: Int.random(in: 0..<5, using: &rng) == 0 ? "azure.ai.openai" : nil,
            inputTokens: input, outputTokens: output, cachedInputTokens: cached,
            cacheWriteTokens: Int64.random(in: 0...(input - cached) / 4, using: &rng),
            reasoningTokens: Int64.random(in: 0...output, using: &rng),
            cost: Int.random(in: 0..<6, using: &rng) == 0
                ? nil : Money(nanos: Int64.random(in: 0...90_000_000_000, using: &rng)))
        if Bool.random(using: &rng) { r.user = RandomLog.users.randomElement(using: &rng)! }
        if Bool.random(using: &rng) { r.caller = RandomLog.callers.randomElement(using: &rng)! }
        if Bool.random(using: &rng) { r.role = RandomLog.roles.randomElement(using: &rng)! }
        if Bool.random(using: &rng) { r.task = RandomLog.tasks.randomElement(using: &rng)! }
        if Int.random(in: 0..<3, using: &rng) > 0 { r.status = Int.random(in: 0..<10, using: &rng) == 0 ? .error : .ok }
        if Bool.random(using: &rng) { r.latencyMs = Int64.random(in: 0...60_000, using: &rng) }
        if Int.random(in: 0..<10, using: &rng) == 0 { r.tags = ["env": "prod"] }
        return r
    }

    /// A time bound: aligned on a month, day or hour, or anywhere, or absent.
    mutating func bound() -> Timestamp? {
        let d = Int64.random(in: -3..<(spanDays + 3), using: &rng)
        var ms = start + d * Timestamp.millisecondsPerDay
        switch Int.random(in: 0..<6, using: &rng) {
        case 0: return nil
        case 1:
            ms =
                TimeBuckets.firstDay(ofMonth: TimeBuckets.month(ofDay: TimeBuckets.day(ofMilliseconds: ms)))
                * Timestamp.millisecondsPerDay
        case 2: break
        case 3: ms += Int64.random(in: 0..<24, using: &rng) * TimeBuckets.millisecondsPerHour
        default: ms += Int64.random(in: 0..<Timestamp.millisecondsPerDay, using: &rng)
        }
        return Timestamp(millisecondsSinceEpoch: ms)
    }

    mutating func query() -> StatsQuery {
        var keys = GroupKey.allCases.shuffled(using: &rng)
        keys = Array(keys.prefix(Int.random(in: 0...2, using: &rng)))
        var filter = RecordFilter()
        var a = bound()
        var b = bound()
        if let x = a, let y = b, x > y { swap(&a, &b) }
        filter.since = a
        filter.until = b
        if Int.random(in: 0..<4, using: &rng) == 0 {
            filter.projects = [RandomLog.projects.randomElement(using: &rng)!]
        }
        if Int.random(in: 0..<5, using: &rng) == 0 {
            filter.models = Set(RandomLog.models.shuffled(using: &rng).prefix(2))
        }
        if Int.random(in: 0..<8, using: &rng) == 0 { filter.providers = ["anthropic", "azure.ai.openai"] }
        if Int.random(in: 0..<6, using: &rng) == 0 { filter.users = [RandomLog.users.randomElement(using: &rng)!] }
        return StatsQuery(groupBy: keys, filter: filter)
    }
}

func describe(_ q: StatsQuery) -> String {
    "by \(q.groupBy.map(\.rawValue)) since \(q.filter.since?.rfc3339 ?? "-") until \(q.filter.until?.rfc3339 ?? "-") "
        + "projects \(q.filter.projects.sorted()) models \(q.filter.models.sorted()) providers \(q.filter.providers.sorted()) users \(q.filter.users.sorted())"
}

/// Asserts that `count` random queries (and a few fixed ones) agree with a full scan.
func expectQueriesMatchScan(
    _ log: LogDirectory, _ generator: inout RandomLog, count: Int, stage: String,
    sourceLocation: SourceLocation = #_sourceLocation
) throws {
    let query = Query(directory: log)
    var queries = (0..<count).map { _ in generator.query() }
    queries += [
        StatsQuery(), StatsQuery(groupBy: [.project]), StatsQuery(groupBy: [.day, .model]),
        StatsQuery(groupBy: [.week]),
        StatsQuery(groupBy: [.month, .user]), StatsQuery(groupBy: [.task, .status]),
    ]
    for q in queries {
        let fast = try query.stats(q)
        let scan = try query.statsByScanning(q)
        #expect(fast.trace.problems.isEmpty && scan.trace.problems.isEmpty, sourceLocation: sourceLocation)
        #expect(
            fast.rows == scan.rows,
            "\(stage): \(describe(q)) — \(fast.rows.count) rows vs \(scan.rows.count); cube \(fast.trace.cube ?? "none")",
            sourceLocation: sourceLocation)
    }
}

func generationFiles(_ log: LogDirectory) throws -> [String: [UInt8]] {
    let snapshot = try #require(try IndexSnapshot.open(log))
    var files: [String: [UInt8]] = [:]
    for name in filesIn(snapshot.path) { files[name] = FileManager.default.bytes(snapshot.path + "/" + name) }
    return files
}

@Suite struct IndexQueryTests {
    /// Writes `count` random records with two writers (two hosts), rotating small segments.
    func write(_ log: LogDirectory, _ generator: inout RandomLog, count: Int, seal: Bool) throws {
        for host in ["alpha", "beta"] {
            var options = WriterOptions(fsync: .none)
            options.host = host
            options.maxSegmentBytes = 24_000
            let writer = LogWriter(directory: log, options: options)
            _ = try writer.append(contentsOf: (0..<count / 2).map { _ in generator.record() })
            if seal { try writer.sealAll() }
            writer.close()
        }
    }

    /// A torn last line on every active segment, as a killed writer leaves it.
    func tearActiveTails(_ log: LogDirectory) throws {
        for segment in try LogReader(directory: log).segments() where !segment.sealed {
            let handle = try #require(FileHandle(forWritingAtPath: segment.path))
            handle.seekToEndOfFile()
            handle.write(Data(#"{"v":1,"id":"019a6f3c-5b2e-7c41-8d2a-3f9"#.utf8))
            try handle.close()
        }
    }

    @Test func everyQueryEqualsAFullScanBeforeAndAfterIndexingRebuildingAndAppending() throws {
        let dir = TemporaryDirectory()
        let log = try dir.log()
        var generator = RandomLog(rng: SplitMix(state: 2026))
        try write(log, &generator, count: 2400, seal: true)
        try write(log, &generator, count: 600, seal: false)
        try tearActiveTails(log)
        try expectQueriesMatchScan(log, &generator, count: 30, stage: "no index")

        let first = try Indexer(directory: log).run()
        #expect(first.segmentsIndexed > 10)
        #expect(first.recordsIndexed > 2000 && first.recordsIndexed < 3000)
        try expectQueriesMatchScan(log, &generator, count: 40, stage: "indexed")
        let indexed = try generationFiles(log)

        let rebuilt = try Indexer(directory: log).run(IndexOptions(rebuild: true))
        #expect(rebuilt.recordsIndexed == first.recordsIndexed)
        #expect(try generationFiles(log) == indexed, "a rebuild gives byte-identical files")

        // More records: new days and days already indexed, some sealed, some active.
        try write(log, &generator, count: 800, seal: true)
        try write(log, &generator, count: 400, seal: false)
        try expectQueriesMatchScan(log, &generator, count: 30, stage: "appended, not indexed")
        let second = try Indexer(directory: log).run()
        #expect(second.segmentsIndexed > 0)
        #expect(second.recordsCovered == first.recordsCovered + second.recordsIndexed)
        try expectQueriesMatchScan(log, &generator, count: 40, stage: "indexed again")
        let incremental = try generationFiles(log)
        _ = try Indexer(directory: log).run(IndexOptions(rebuild: true))
        #expect(try generationFiles(log) == incremental, "incremental and rebuilt indexes are byte-identical")
        try expectQueriesMatchScan(log, &generator, count: 20, stage: "rebuilt")
    }

    @Test func indexingAgainReadsOnlyNewSegments() throws {
        let dir = TemporaryDirectory()
        let log = try dir.log()
        var generator = RandomLog(rng: SplitMix(state: 7))
        try write(log, &generator, count: 400, seal: true)
        let first = try Indexer(directory: log).run()
        let again = try Indexer(directory: log).run()
        #expect(again.generation == nil && again.segmentsIndexed == 0)
        #expect(again.recordsCovered == first.recordsCovered)
        try write(log, &generator, count: 40, seal: true)
        let third = try Indexer(directory: log).run()
        #expect(third.recordsIndexed == 40)
        #expect(third.recordsCovered == first.recordsCovered + 40)
    }

    @Test func indexedOnlyLeavesOutWhatTheIndexDoesNotCover() throws {
        let dir = TemporaryDirectory()
        let log = try dir.log()
        var generator = RandomLog(rng: SplitMix(state: 8))
        try write(log, &generator, count: 300, seal: true)
        _ = try Indexer(directory: log).run()
        try write(log, &generator, count: 100, seal: false)
        let query = Query(directory: log)
        let all = try query.stats(StatsQuery())
        let indexedOnly = try query.stats(StatsQuery(indexedOnly: true))
        #expect(all.total.requests == 400)
        #expect(indexedOnly.total.requests == 300)
    }

    @Test func deletedSegmentsKeepTheirSumsAndARebuildRefusesToDropThem() throws {
        let dir = TemporaryDirectory()
        let log = try dir.log()
        var generator = RandomLog(rng: SplitMix(state: 9))
        try write(log, &generator, count: 600, seal: true)
        _ = try Indexer(directory: log).run()
        let before = try Query(directory: log).stats(StatsQuery(groupBy: [.month, .project]))
        let victim = try #require(try LogReader(directory: log).segments().first)
        try FileManager.default.removeItem(atPath: victim.path)
        let after = try Query(directory: log).stats(StatsQuery(groupBy: [.month, .project]))
        #expect(after.rows == before.rows, "retention does not change the rollups")
        #expect(try Indexer(directory: log).run().generation == nil)

        #expect {
            try Indexer(directory: log).run(IndexOptions(rebuild: true))
        } throws: { error in
            let e = error as? SpendLogError
            return e?.code == .invalidInput && e!.message.contains(victim.name.dayFolder)
        }
        var options = IndexOptions(rebuild: true)
        options.allowDroppingDeleted = true
        let dropped = try Indexer(directory: log).run(options)
        #expect(dropped.recordsCovered < before.total.requests)
    }

    @Test func aDamagedRollupFileIsNamedAndTheAnswerComesFromTheSegments() throws {
        let dir = TemporaryDirectory()
        let log = try dir.log()
        var generator = RandomLog(rng: SplitMix(state: 10))
        try write(log, &generator, count: 200, seal: true)
        _ = try Indexer(directory: log).run()
        let snapshot = try #require(try IndexSnapshot.open(log))
        let path = snapshot.path + "/core.month.roll"
        var bytes = FileManager.default.bytes(path)
        bytes[bytes.count / 2] ^= 0x40
        writeBytes(bytes, to: path)
        // The index is derived data: the answer comes from the segments, and names the damage.
        let answer = try Query(directory: log).stats(StatsQuery(groupBy: [.project]))
        #expect(answer.rows == (try Query(directory: log).statsByScanning(StatsQuery(groupBy: [.project]))).rows)
        let e = try #require(answer.trace.indexDamage)
        #expect(e.code == .corruption && e.message.contains(path) && e.message.contains("index --rebuild"))
        _ = try Indexer(directory: log).run(IndexOptions(rebuild: true))
        #expect(try Query(directory: log).stats(StatsQuery()).total.requests == 200)
    }

    @Test func rollupFilesRoundTrip() throws {
        let interner = StringInterner()
        let cells = CellMap()
        let a = interner.id(for: "etl")
        let b = interner.id(for: "données")
        var m = RollupMetrics()
        m.requests = 3
        m.costNanos = 1_234_567_890
        m.latencySumMs = 99
        cells.add(SIMD8(5, b, a, 0, 1, 0, 0, 0), m)
        cells.add(SIMD8(4, a, a, b, 0, 0, 0, 0), m)
        cells.add(SIMD8(4, a, a, b, 0, 0, 0, 0), m)
        let bytes = RollupFile.encode(cells: cells, cube: .core, granularity: .day, interner: interner)
        let file = try RollupFile.decode(bytes, path: "x")
        #expect(file.granularity == .day)
        #expect(file.dimensions == [.project, .model, .provider, .status])
        #expect(file.strings == ["", "donn\u{E9}es", "etl"].sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
        #expect(file.keys.count == 2)
        #expect(file.keys[0][0] == 4 && file.metrics[0].requests == 6 && file.metrics[0].costNanos == 2_469_135_780)
        #expect(file.metrics[1] == m)
        for cut in [0, 10, bytes.count - 1] {
            #expect(throws: SpendLogError.self) { try RollupFile.decode(Array(bytes.prefix(cut)), path: "x") }
        }

        // Keeping some time buckets: their cells only, asked once per bucket; the file is checked whole.
        var asked: [UInt32] = []
        let kept = try RollupFile.decode(bytes, path: "x") { time in
            asked.append(time)
            return time == 5
        }
        #expect(asked == [4, 5])
        #expect(kept.strings == file.strings && kept.keys == [file.keys[1]] && kept.metrics == [file.metrics[1]])
        #expect(throws: SpendLogError.self) {
            try RollupFile.decode(Array(bytes.prefix(bytes.count - 1)), path: "x") { _ in false }
        }
    }

    @Test func rollupFilesKeepExtremeSumsAndRefuseDamageThatPassesTheChecksum() throws {
        let interner = StringInterner()
        let cells = CellMap()
        let a = interner.id(for: "etl")
        var extreme = RollupMetrics()
        extreme.requests = .max
        extreme.inputTokens = .min
        extreme.outputTokens = -1
        extreme.costNanos = 1 << 62
        extreme.latencyCount = 127
        cells.add(SIMD8(0, a, 0, 0, 0, 0, 0, 0), extreme)
        cells.add(SIMD8(UInt32.max, a, a, a, a, 0, 0, 0), extreme)
        cells.add(SIMD8(200_000, 0, a, 0, 0, 0, 0, 0), RollupMetrics())
        let bytes = RollupFile.encode(cells: cells, cube: .core, granularity: .hour, interner: interner)
        let file = try RollupFile.decode(bytes, path: "x")
        #expect(file.keys.map { $0[0] } == [0, 200_000, UInt32.max])
        #expect(file.metrics == [extreme, RollupMetrics(), extreme])

        // Damage with a recomputed checksum: the structure checks must catch it or decode something
        // well-formed, and never read past the end.
        func resealed(_ body: [UInt8]) -> [UInt8] {
            var out = body
            RollupFile.append(&out, body.withUnsafeBufferPointer { fnv1a64($0) })
            return out
        }
        let body = Array(bytes.dropLast(8))
        #expect(throws: SpendLogError.self) { try RollupFile.decode(resealed(body.dropLast()), path: "x") }
        #expect(throws: SpendLogError.self) { try RollupFile.decode(resealed(body + [0]), path: "x") }
        // Damage is refused, or decodes to something well-formed. Decoding that keeps the first
        // time bucket only refuses the same damage (the same error, at the same byte): the cells it
        // leaves out are checked as closely as those it keeps.
        func check(_ damaged: [UInt8]) {
            let whole: Result<RollupFile, SpendLogError> = Result { () throws(SpendLogError) in
                try RollupFile.decode(resealed(damaged), path: "x")
            }
            if case .success(let decoded) = whole {
                #expect(decoded.keys.allSatisfy { key in (1...4).allSatisfy { Int(key[$0]) < decoded.strings.count } })
            }
            let firstOnly: Result<RollupFile, SpendLogError> = Result { () throws(SpendLogError) in
                try RollupFile.decode(resealed(damaged), path: "x") { $0 == 0 }
            }
            switch (whole, firstOnly) {
            case (.success(let decoded), .success(let kept)):
                let first = decoded.keys.indices.filter { decoded.keys[$0][0] == 0 }
                #expect(kept.keys == first.map { decoded.keys[$0] } && kept.metrics == first.map { decoded.metrics[$0] })
            case (.failure(let error), .failure(let keptError)):
                #expect(error.message == keptError.message)
            default:
                Issue.record("decoding whole gave \(whole), keeping the first bucket \(firstOnly)")
            }
        }
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            var damaged = body
            for _ in 0..<Int.random(in: 1...3, using: &generator) {
                damaged[Int.random(in: 4..<damaged.count, using: &generator)] = UInt8.random(
                    in: 0...255, using: &generator)
            }
            check(damaged)
        }
        // Every byte set to the values at the edges of a varint's checks.
        for position in 4..<body.count {
            for value: UInt8 in [0, 1, 2, 0x7F, 0x80, 0x81, 0xFF] {
                var damaged = body
                damaged[position] = value
                check(damaged)
            }
        }
    }

    @Test(arguments: [
        ("2026-11-23", "2026-W48"), ("2021-01-03", "2020-W53"), ("2024-12-30", "2025-W01"), ("1970-01-01", "1970-W01"),
        ("2027-01-01", "2026-W53"), ("2026-01-01", "2026-W01"),
    ])
    func isoWeeksFollowTheStandard(day: String, week: String) throws {
        let d = TimeBuckets.day(ofMilliseconds: try #require(Timestamp.parseDateOrTime(day)).millisecondsSinceEpoch)
        #expect(TimeBuckets.weekLabel(TimeBuckets.weekStart(ofDay: d)) == week)
    }

    @Test func timePlansSplitRangesAtMonthDayAndHourBoundaries() throws {
        func ms(_ t: String) -> Int64 { Timestamp.parse(t)!.millisecondsSinceEpoch }
        let plan = TimePlan(
            since: ms("2026-10-30T05:30:00Z"), until: ms("2026-12-02T03:00:00Z"), finest: .hour, allowMonths: true)
        #expect(plan.rawEdges.map(\.lo) == [ms("2026-10-30T05:30:00Z")])
        #expect(plan.rawEdges.map(\.hi) == [ms("2026-10-30T06:00:00Z")])
        let nov = TimeBuckets.month(ofDay: TimeBuckets.day(ofMilliseconds: ms("2026-11-01T00:00:00Z")))
        #expect(plan.owns(.month, nov) && !plan.owns(.month, nov - 1) && !plan.owns(.month, nov + 1))
        let dec1 = TimeBuckets.day(ofMilliseconds: ms("2026-12-01T00:00:00Z"))
        #expect(plan.owns(.day, dec1) && !plan.owns(.day, dec1 + 1) && !plan.owns(.day, dec1 - 1))
        let hour = TimeBuckets.hour(ofMilliseconds: ms("2026-12-02T02:00:00Z"))
        #expect(plan.owns(.hour, hour) && !plan.owns(.hour, hour + 1))
        #expect(plan.hourFileDays == [TimeBuckets.day(ofMilliseconds: ms("2026-10-30T00:00:00Z")), dec1 + 1])
        #expect(plan.needsDayCells)
        #expect(!TimePlan(since: nil, until: nil, finest: .hour, allowMonths: true).needsDayCells)
        let inside = TimePlan(
            since: ms("2026-10-30T05:10:00Z"), until: ms("2026-10-30T05:50:00Z"), finest: .hour, allowMonths: true)
        #expect(!inside.usesRollups && inside.rawEdges.count == 1)
        let dayCube = TimePlan(since: ms("2026-10-30T05:10:00Z"), until: nil, finest: .day, allowMonths: true)
        #expect(dayCube.rawEdges.map(\.hi) == [ms("2026-10-31T00:00:00Z")] && dayCube.hours == nil)
    }
}
