/// What a row of `stats` is grouped by: a dimension of the record, or a UTC calendar bucket.
public enum GroupKey: String, CaseIterable, Sendable, Hashable {
    case project, model, provider, user, caller, role, task, status, day, week, month

    public var dimension: Dimension? { Dimension(rawValue: rawValue) }
    public var isTime: Bool { dimension == nil }
}

/// A `stats` question: totals per group over the records that match `filter` (bounds `[since, until)`).
public struct StatsQuery: Sendable {
    public var groupBy: [GroupKey]
    public var filter: RecordFilter
    /// Leave out records not folded into the index yet (active and sealed-but-unindexed segments).
    public var indexedOnly: Bool

    public init(groupBy: [GroupKey] = [], filter: RecordFilter = .all, indexedOnly: Bool = false) {
        self.groupBy = groupBy
        self.filter = filter
        self.indexedOnly = indexedOnly
    }
}

public struct StatsRow: Sendable, Equatable {
    /// One value per ``StatsQuery/groupBy`` key; nil where records had no value. Time keys are
    /// labels: `2026-11-23`, `2026-W48`, `2026-11`.
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
