/// What a row of `stats` is grouped by: a dimension of the record, a calendar bucket (in the
/// query's zone), or the value of one of the record's tags.
public enum GroupKey: Sendable, Hashable, CaseIterable, RawRepresentable {
    /// A field of the record, or a calendar bucket of the query's zone: `day` (`2026-11-23`),
    /// ISO `week` (`2026-W48`), `month` (`2026-11`).
    case project, model, provider, user, caller, role, task, status, day, week, month
    /// The value of the tag `key` (`tag:team`); records without it form their own group.
    case tag(String)

    /// The keys without a parameter; `tag:<key>` comes besides them.
    public static let allCases: [GroupKey] = [
        .project, .model, .provider, .user, .caller, .role, .task, .status, .day, .week, .month,
    ]

    /// `model`, `day`, `tag:team`. A `tag:` key is not checked here (``Query`` refuses a bad one).
    public init?(rawValue: String) {
        if rawValue.hasPrefix("tag:") {
            self = .tag(String(rawValue.dropFirst(4)))
            return
        }
        guard let key = GroupKey.allCases.first(where: { $0.rawValue == rawValue }) else { return nil }
        self = key
    }

    public var rawValue: String {
        switch self {
        case .project: "project"
        case .model: "model"
        case .provider: "provider"
        case .user: "user"
        case .caller: "caller"
        case .role: "role"
        case .task: "task"
        case .status: "status"
        case .day: "day"
        case .week: "week"
        case .month: "month"
        case .tag(let key): "tag:" + key
        }
    }

    /// The record field this key groups by; nil for time and tag keys.
    public var dimension: Dimension? { Dimension(rawValue: rawValue) }
    /// Whether the key is a calendar bucket (`day`, `week`, `month`).
    public var isTime: Bool { self == .day || self == .week || self == .month }
    /// The tag key of a `tag:` group.
    public var tagKey: String? {
        if case .tag(let key) = self { return key }
        return nil
    }
}

/// A `stats` question: totals per group over the records that match `filter` (bounds `[since, until)`).
public struct StatsQuery: Sendable {
    /// The keys of each row, in order; empty: one row, the total.
    public var groupBy: [GroupKey]
    /// Which records are counted.
    public var filter: RecordFilter
    /// Leave out records not folded into the index yet (active and sealed-but-unindexed segments).
    public var indexedOnly: Bool
    /// The zone of `day`, `week` and `month` groups (the bounds are instants and need none).
    public var timeZone: ZoneInfo

    /// A question: group by `groupBy`, over the records `filter` matches, time groups in `timeZone`.
    public init(
        groupBy: [GroupKey] = [], filter: RecordFilter = .all, indexedOnly: Bool = false, timeZone: ZoneInfo = .utc
    ) {
        self.groupBy = groupBy
        self.filter = filter
        self.indexedOnly = indexedOnly
        self.timeZone = timeZone
    }

    /// Whether the rollups cannot answer it: a tag or session is kept by no cube.
    var needsRecords: Bool { filter.needsRecords || groupBy.contains { $0.tagKey != nil } }

    /// Whether time groups fall on local days that are not UTC days.
    var isZoned: Bool { groupBy.contains(where: \.isTime) && !timeZone.isUTC }
}

/// One group of a ``StatsResult``: its key values and its sums.
public struct StatsRow: Sendable, Equatable {
    /// One value per ``StatsQuery/groupBy`` key; nil where records had no value. Time keys are
    /// labels of the query's zone: `2026-11-23`, `2026-W48`, `2026-11`.
    public var keys: [String?]
    /// The group's sums.
    public var metrics: RollupMetrics
}

/// Where an answer came from, for `--explain` and the benchmarks.
public struct QueryTrace: Sendable {
    /// The index generation the rollups were read from; nil when none was used.
    public var generation: String?
    /// The rollup cube that answered; nil when the answer came from the records.
    public var cube: String?
    /// Rollup cells read.
    public var rollupCells = 0
    /// Segments scanned for records the index does not hold (or for all records).
    public var rawSegments = 0
    /// Records read from those segments.
    public var rawRecords = 0
    /// Lines of indexed segments read for part of their day (the edges of a range the rollups
    /// do not hold, or a range within a day): every line of the frames whose times reach into
    /// that part (docs/FORMAT.md, "Frames").
    public var linesFromFrames = 0
    /// Indexed segments read whole for part of their day: the index knows no frames of them.
    public var segmentsReadWithoutFrames = 0
    /// Damaged segments left out of the answer.
    public var problems: [SpendLogError] = []
    /// Records read raw whose id appeared earlier in their day, counted once.
    public var duplicates = 0
    /// The damage that made the answer come from the segments instead of the index.
    public var indexDamage: SpendLogError?
    /// Records of segments removed by retention that this question needed to read (their sums
    /// are in the rollups, but not the detail it asks about): left out of the answer.
    public var removedRecordsLeftOut: Int64 = 0
    /// The UTC days (`YYYY-MM-DD`) those left-out records belong to.
    public var removedDaysLeftOut: Set<String> = []
}

/// The answer to a ``StatsQuery``: one row per group.
public struct StatsResult: Sendable {
    /// The query's group keys, the order of each row's ``StatsRow/keys``.
    public var groupBy: [GroupKey]
    /// Sorted: by time keys first (oldest first), then by cost, highest first, then by key bytes.
    public var rows: [StatsRow]
    /// Where the answer came from, and what was left out of it.
    public var trace = QueryTrace()

    /// The sum of every row: the total of the records the filter matches.
    public var total: RollupMetrics {
        var sum = RollupMetrics()
        for row in rows { sum.add(row.metrics) }
        return sum
    }

    static func sorted(_ rows: [StatsRow], groupBy: [GroupKey]) -> [StatsRow] {
        let timeLanes = groupBy.indices.filter { groupBy[$0].isTime }
        return rows.sorted { a, b in
            for lane in timeLanes where a.keys[lane] != b.keys[lane] {
                // Labels of one kind sort in time order as text: zero-padded years, months, weeks, days.
                return (a.keys[lane] ?? "") < (b.keys[lane] ?? "")
            }
            if a.metrics.costNanos != b.metrics.costNanos { return a.metrics.costNanos > b.metrics.costNanos }
            for lane in groupBy.indices {
                let x = a.keys[lane]
                let y = b.keys[lane]
                if bytesEqual(x, y) { continue }
                guard let x else { return true }
                guard let y else { return false }
                return x.utf8.lexicographicallyPrecedes(y.utf8)
            }
            return false
        }
    }

    private static func bytesEqual(_ a: String?, _ b: String?) -> Bool {
        switch (a, b) {
        case (nil, nil): true
        case (let x?, let y?): x.utf8.elementsEqual(y.utf8)
        default: false
        }
    }
}
