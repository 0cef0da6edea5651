/// What a row of `stats` is grouped by: a dimension of the record, a calendar bucket (in the
/// query's zone), or the value of one of the record's tags.
public enum GroupKey: Sendable, Hashable, CaseIterable, RawRepresentable {
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

    public var dimension: Dimension? { Dimension(rawValue: rawValue) }
    public var isTime: Bool { self == .day || self == .week || self == .month }
    /// The tag key of a `tag:` group.
    public var tagKey: String? {
        if case .tag(let key) = self { return key }
        return nil
    }
}

/// A `stats` question: totals per group over the records that match `filter` (bounds `[since, until)`).
public struct StatsQuery: Sendable {
    public var groupBy: [GroupKey]
    public var filter: RecordFilter
    /// Leave out records not folded into the index yet (active and sealed-but-unindexed segments).
    public var indexedOnly: Bool
    /// The zone of `day`, `week` and `month` groups (the bounds are instants and need none).
    public var timeZone: ZoneInfo

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

public struct StatsRow: Sendable, Equatable {
    /// One value per ``StatsQuery/groupBy`` key; nil where records had no value. Time keys are
    /// labels of the query's zone: `2026-11-23`, `2026-W48`, `2026-11`.
    public var keys: [String?]
    public var metrics: RollupMetrics
}

/// Where an answer came from, for `--explain` and the benchmarks.
public struct QueryTrace: Sendable {
    public var generation: String?
    public var cube: String?
    public var rollupCells = 0
    public var rawSegments = 0
    public var rawRecords = 0
    /// Damaged segments left out of the answer.
    public var problems: [SpendLogError] = []
    /// Records read raw whose id appeared earlier in their day, counted once.
    public var duplicates = 0
    /// The damage that made the answer come from the segments instead of the index.
    public var indexDamage: SpendLogError?
    /// Records of segments removed by retention that this question needed to read (their sums
    /// are in the rollups, but not the detail it asks about): left out of the answer.
    public var removedRecordsLeftOut: Int64 = 0
    public var removedDaysLeftOut: Set<String> = []
}

public struct StatsResult: Sendable {
    public var groupBy: [GroupKey]
    /// Sorted: by time keys first (oldest first), then by cost, highest first, then by key bytes.
    public var rows: [StatsRow]
    public var trace = QueryTrace()

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
