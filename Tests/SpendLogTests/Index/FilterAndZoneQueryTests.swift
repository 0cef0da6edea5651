import Foundation
import Testing

@testable import SpendLog

/// The filters on every field, `tag:` groups and local-day groups in zones with DST changes and
/// half-hour offsets, held to a fold over the records the test wrote, with local days from
/// Foundation's calendar: no code of the query is shared with the expected answer.
@Suite struct FilterAndZoneQueryTests {
    static let zones = ["UTC", "Asia/Kolkata", "Australia/Adelaide", "America/New_York"]
    /// Local midnights near DST changes: New York 2026-03-08 and 2026-11-01, Adelaide 2026-04-05
    /// and 2026-10-04; Kolkata has none (+05:30 all year).
    static let changeDays = ["2026-03-08", "2026-04-05", "2026-10-04", "2026-11-01"]

    /// Records clustered within three hours of local midnights of the zones around the changes,
    /// and a few on other days, with every optional field sometimes absent.
    static func records(count: Int, rng: inout SplitMix) -> [UsageRecord] {
        var midnights: [Int64] = []
        for zoneName in zones.dropFirst() {
            let zone = TimeZone(identifier: zoneName)!
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = zone
            for day in changeDays {
                let utc = Timestamp.parse(day + "T00:00:00Z")!.millisecondsSinceEpoch
                for shift in -1...1 {
                    let date = Date(timeIntervalSince1970: Double(utc) / 1000 + Double(shift) * 86_400)
                    let parts = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: date)
                    let local = calendar.date(from: DateComponents(year: parts.year, month: parts.month, day: parts.day))!
                    midnights.append(Int64(local.timeIntervalSince1970 * 1000))
                }
            }
        }
        return (0..<count).map { i in
            let ms: Int64
            if i % 10 == 0 {
                ms = Timestamp.parse("2026-01-01T00:00:00Z")!.millisecondsSinceEpoch
                    + Int64.random(in: 0..<(330 * Timestamp.millisecondsPerDay), using: &rng)
            } else {
                ms = midnights.randomElement(using: &rng)! + Int64.random(in: -10_800_000..<10_800_000, using: &rng)
            }
            let input = Int64.random(in: 0...9_000, using: &rng)
            var r = UsageRecord(
                timestamp: Timestamp(millisecondsSinceEpoch: ms), project: ["etl", "bot"].randomElement(using: &rng)!,
                model: ["gpt-4.1", "claude-sonnet-4-5", "o3"].randomElement(using: &rng)!,
                inputTokens: input, outputTokens: Int64.random(in: 0...900, using: &rng),
                cachedInputTokens: Int64.random(in: 0...input, using: &rng),
                cost: Money(nanos: Int64.random(in: 0...9_000_000_000, using: &rng)))
            if Bool.random(using: &rng) { r.user = ["u1", "u2"].randomElement(using: &rng)! }
            if Bool.random(using: &rng) { r.caller = ["api", "batch", "cron"].randomElement(using: &rng)! }
            if Bool.random(using: &rng) { r.role = ["planner", "writer"].randomElement(using: &rng)! }
            if Bool.random(using: &rng) { r.task = ["triage", "sql"].randomElement(using: &rng)! }
            if Bool.random(using: &rng) { r.session = ["s1", "s2", "s3"].randomElement(using: &rng)! }
            if Int.random(in: 0..<3, using: &rng) > 0 { r.status = Bool.random(using: &rng) ? .ok : .error }
            if Int.random(in: 0..<4, using: &rng) > 0 { r.tags["team"] = ["search", "ads", ""].randomElement(using: &rng)! }
            if Bool.random(using: &rng) { r.tags["env"] = ["prod", "dev"].randomElement(using: &rng)! }
            return r
        }
    }

    /// A random question over every kind of filter, group and zone.
    static func query(_ rng: inout SplitMix) throws -> StatsQuery {
        let keys: [GroupKey] = [.day, .week, .month, .model, .caller, .role, .status, .tag("team"), .tag("env"), .project]
        var groupBy: [GroupKey] = []
        for key in keys.shuffled(using: &rng).prefix(Int.random(in: 0...2, using: &rng)) { groupBy.append(key) }
        if Bool.random(using: &rng), !groupBy.contains(where: \.isTime) { groupBy.append(.day) }
        var f = RecordFilter()
        if Int.random(in: 0..<3, using: &rng) == 0 {
            let a = Timestamp.parse(changeDays.randomElement(using: &rng)! + "T00:00:00Z")!.millisecondsSinceEpoch
                + Int64.random(in: -40..<40, using: &rng) * 1_800_000
            f.since = Timestamp(millisecondsSinceEpoch: a)
            f.until = Timestamp(millisecondsSinceEpoch: a + Int64.random(in: 1..<200, using: &rng) * 1_800_000 + 17)
        }
        switch Int.random(in: 0..<9, using: &rng) {
        case 0: f.callers = ["api", "cron"]
        case 1: f.roles = ["writer"]
        case 2: f.tasks = ["sql"]
        case 3: f.statuses = ["error"]
        case 4: f.sessions = ["s2"]
        case 5: f.tags = ["team": ["search", ""]]
        case 6: f.tags = ["team": ["ads"], "env": ["prod"]]
        case 7: f.callers = ["batch"]; f.projects = ["etl"]
        default: break
        }
        let zone = try ZoneInfo.named(zones.randomElement(using: &rng)!)
        return StatsQuery(groupBy: groupBy, filter: f, timeZone: zone)
    }

    /// The expected rows: key labels → (requests, input, cached, cost), by a plain fold.
    static func expected(_ records: [UsageRecord], _ q: StatsQuery) -> [[String?]: [Int64]] {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: q.timeZone.name)!
        var iso = Calendar(identifier: .iso8601)
        iso.timeZone = calendar.timeZone
        var seen = Set<RecordID>()
        var rows: [[String?]: [Int64]] = [:]
        for r in records where seen.insert(r.id).inserted {
            let f = q.filter
            if let s = f.since, r.timestamp < s { continue }
            if let u = f.until, r.timestamp >= u { continue }
            func ok(_ set: Set<String>, _ v: String?) -> Bool { set.isEmpty || v.map(set.contains) == true }
            guard ok(f.projects, r.project), ok(f.callers, r.caller), ok(f.roles, r.role), ok(f.tasks, r.task),
                ok(f.statuses, r.status?.rawValue), ok(f.sessions, r.session),
                f.tags.allSatisfy({ ok($0.value, r.tags[$0.key]) })
            else { continue }
            let date = Date(timeIntervalSince1970: Double(r.timestamp.millisecondsSinceEpoch) / 1000)
            let c = calendar.dateComponents([.year, .month, .day], from: date)
            let w = iso.dateComponents([.yearForWeekOfYear, .weekOfYear], from: date)
            let key = q.groupBy.map { g -> String? in
                switch g {
                case .day: String(format: "%04d-%02d-%02d", c.year!, c.month!, c.day!)
                case .week: String(format: "%04d-W%02d", w.yearForWeekOfYear!, w.weekOfYear!)
                case .month: String(format: "%04d-%02d", c.year!, c.month!)
                case .project: r.project
                case .model: r.model
                case .caller: r.caller
                case .role: r.role
                case .status: r.status?.rawValue
                case .tag(let k): r.tags[k]
                default: "?"
                }
            }
            var sums = rows[key] ?? [0, 0, 0, 0]
            sums[0] += 1
            sums[1] += r.inputTokens
            sums[2] += r.cachedInputTokens
            sums[3] += r.cost.nanos
            rows[key] = sums
        }
        return rows
    }

    func check(_ log: LogDirectory, _ records: [UsageRecord], _ rng: inout SplitMix, count: Int, stage: String) throws {
        let query = Query(directory: log)
        for _ in 0..<count {
            let q = try Self.query(&rng)
            let fast = try query.stats(q)
            #expect(fast.trace.problems.isEmpty)
            var got: [[String?]: [Int64]] = [:]
            for row in fast.rows {
                got[row.keys] = [row.metrics.requests, row.metrics.inputTokens, row.metrics.cachedInputTokens, row.metrics.costNanos]
            }
            let want = Self.expected(records, q)
            #expect(got == want, "\(stage): \(describe(q)) tz \(q.timeZone.name) filter \(q.filter.tags) \(q.filter.callers) \(q.filter.sessions)")
            #expect(fast.rows == (try query.statsByScanning(q)).rows)
        }
    }

    @Test func filtersTagsAndZonesEqualAFoldOverTheRecordsOnIndexedAndUnindexedMixes() throws {
        let dir = TemporaryDirectory()
        let log = try dir.log()
        var rng = SplitMix(state: 77)
        let records = Self.records(count: 3000, rng: &rng)
        var options = WriterOptions(fsync: .none)
        options.maxSegmentBytes = 20_000
        let writer = LogWriter(directory: log, options: options)
        _ = try writer.append(contentsOf: Array(records[..<2000]))
        try writer.sealAll()
        _ = try Indexer(directory: log).run()
        _ = try writer.append(contentsOf: Array(records[2000..<2600]))
        try writer.sealAll()
        _ = try writer.append(contentsOf: Array(records[2600...]))
        writer.close()
        try check(log, records, &rng, count: 35, stage: "indexed, sealed and active")
        _ = try Indexer(directory: log).run()
        try check(log, records, &rng, count: 35, stage: "mostly indexed")
    }

    /// Around New York's change to daylight time (2026-03-08 07:00Z) and Kolkata's and
    /// Adelaide's midnights, a record on each side of each local midnight lands on its own day.
    @Test func recordsEitherSideOfLocalMidnightsFallOnTheirLocalDays() throws {
        let dir = TemporaryDirectory()
        let log = try dir.log()
        let cases: [(String, String, String)] = [
            ("Asia/Kolkata", "2026-03-07T18:29:59.999Z", "2026-03-07"), ("Asia/Kolkata", "2026-03-07T18:30:00.000Z", "2026-03-08"),
            ("Australia/Adelaide", "2026-04-04T13:29:59.999Z", "2026-04-04"), ("Australia/Adelaide", "2026-04-04T13:30:00.000Z", "2026-04-05"),
            // Adelaide leaves daylight time (+10:30 → +09:30) on 2026-04-05 at 03:00 local (16:30Z on the 4th).
            ("Australia/Adelaide", "2026-04-05T14:29:59.999Z", "2026-04-05"), ("Australia/Adelaide", "2026-04-05T14:30:00.000Z", "2026-04-06"),
            ("America/New_York", "2026-03-08T04:59:59.999Z", "2026-03-07"), ("America/New_York", "2026-03-08T05:00:00.000Z", "2026-03-08"),
            ("America/New_York", "2026-03-09T03:59:59.999Z", "2026-03-08"), ("America/New_York", "2026-03-09T04:00:00.000Z", "2026-03-09"),
        ]
        let writer = LogWriter(directory: log, options: WriterOptions(fsync: .none))
        for (i, c) in cases.enumerated() {
            _ = try writer.append(
                UsageRecord(
                    timestamp: Timestamp.parse(c.1)!, project: "p\(i)", model: "gpt-4.1", inputTokens: 1, outputTokens: 1,
                    cost: Money(nanos: 1)))
        }
        try writer.sealAll()
        writer.close()
        _ = try Indexer(directory: log).run()
        for (i, c) in cases.enumerated() {
            let result = try Query(directory: log).stats(
                StatsQuery(
                    groupBy: [.day], filter: RecordFilter(projects: ["p\(i)"]), timeZone: try ZoneInfo.named(c.0)))
            #expect(result.rows.map { $0.keys[0] } == [c.2], "\(c.0) \(c.1)")
        }
        // Hours that hold no local midnight come from hour cells; Kolkata's 18:00Z hours from records.
        let kolkata = try Query(directory: log).stats(StatsQuery(groupBy: [.day], timeZone: try ZoneInfo.named("Asia/Kolkata")))
        #expect(kolkata.trace.rollupCells > 0 && kolkata.trace.rawRecords == 2)
    }

    @Test func badFilterValuesAreRefusedNamingTheField() throws {
        let dir = TemporaryDirectory()
        let log = try dir.log()
        var f = RecordFilter()
        f.tags = ["": ["x"]]
        #expect { try Query(directory: log).stats(StatsQuery(filter: f)) } throws: { ($0 as? SpendLogError)?.field == "tag" }
        f = RecordFilter()
        f.statuses = ["fine"]
        #expect { try Query(directory: log).stats(StatsQuery(filter: f)) } throws: { ($0 as? SpendLogError)?.field == "status" }
        #expect { try Query(directory: log).stats(StatsQuery(groupBy: [.tag("")])) } throws: { ($0 as? SpendLogError)?.field == "by" }
        #expect { try ZoneInfo.named("Mars/Base") } throws: { ($0 as? SpendLogError)?.field == "tz" }
    }

    @Test func derivedColumnsAreExactAndRounded() {
        var m = RollupMetrics()
        m.requests = 3
        m.costNanos = 1_000_000_001
        m.inputTokens = 3
        m.cachedInputTokens = 2
        #expect(m.costPer1kRequests == Money(nanos: 333_333_333_667))
        #expect(m.cacheHitShareTenThousandths == 6667)
        m.requests = 0
        m.inputTokens = 0
        #expect(m.costPer1kRequests == nil && m.cacheHitShareTenThousandths == nil)
        m.requests = 1
        m.costNanos = .max
        #expect(m.costPer1kRequests == Money(nanos: .max))
    }
}
