/// What `spendlog report` shows (docs/REPORTS.md): totals and their change against the previous
/// period, daily cost by model, cost by project and model, the token mix, the top users, callers
/// and tasks, error rates, budget utilisation, a month-end projection and the unpriced models.
/// Every number comes from ``Query/stats(_:)`` with the report's filter and zone, so it equals
/// `spendlog stats` for the same question; sums of rows are exact integers.
public struct ReportData: Sendable {
    /// The report's heading.
    public var title: String
    /// The clock the period was taken from.
    public var generatedAt: Timestamp
    /// The zone of the report's days, weeks and months, and of the times it prints.
    public var timeZone: ZoneInfo
    /// The records reported on: the period's bounds, and the other fields as for `stats`.
    public var filter: RecordFilter
    /// `[since, until)` of the report and of the period it is compared with.
    public var period: ReportPeriod
    /// The sums of the period.
    public var totals: RollupMetrics
    /// The sums of the period it is compared with (``ReportPeriod/previousSince``…``ReportPeriod/previousUntil``).
    public var previousTotals: RollupMetrics
    /// Every local day of the period, oldest first, with its cost per chart model.
    public var daily: [ReportDay]
    /// The models the daily chart stacks (the highest cost first, at most ``chartModelLimit``), and
    /// whether an "other" band holds the rest.
    public var chartModels: [String]
    /// Whether the daily chart has an "other" band for the models past ``chartModelLimit``.
    public var chartHasOther: Bool
    /// Sorted by cost, highest first, then by key bytes (as `stats`).
    public var byProject: [ReportRow]
    /// Cost and usage per model, sorted as ``byProject``.
    public var byModel: [ReportRow]
    /// The first ``topLimit`` rows of `stats --by user` (and caller, task).
    public var topUsers: [ReportRow]
    /// The first ``topLimit`` rows of `stats --by caller`.
    public var topCallers: [ReportRow]
    /// The first ``topLimit`` rows of `stats --by task`.
    public var topTasks: [ReportRow]
    /// How many users, callers and tasks there were in all (a record without one counts as one).
    public var userCount: Int
    /// How many callers there were in all (records without one count as one).
    public var callerCount: Int
    /// How many tasks there were in all (records without one count as one).
    public var taskCount: Int
    /// Every limit's state at ``generatedAt``; empty when there are none or they could not be read
    /// (``budgetProblem``).
    public var budgets: [RuleStatus]
    /// Why the limits could not be read (a log the reader may not write to, a damaged journal):
    /// the report is made without them and says so; derived state never fails a report.
    public var budgetProblem: String? = nil
    /// The month-end projection; nil when the report's end is not in the current month.
    public var projection: ReportProjection?

    /// The most models the daily chart stacks one by one.
    public static let chartModelLimit = 8
    /// The rows of each top-users, top-callers and top-tasks table.
    public static let topLimit = 10

    /// The models with unpriced requests, most first.
    public var unpriced: [ReportRow] {
        byModel.filter { $0.metrics.unpricedRequests > 0 }.sorted {
            $0.metrics.unpricedRequests != $1.metrics.unpricedRequests
                ? $0.metrics.unpricedRequests > $1.metrics.unpricedRequests
                : ($0.key ?? "").utf8.lexicographicallyPrecedes(($1.key ?? "").utf8)
        }
    }
}

/// One group of a report table: its value (nil: records without it) and its sums.
public struct ReportRow: Sendable, Equatable {
    /// The group's value; nil for records without one (shown `(none)`).
    public var key: String?
    /// The group's sums.
    public var metrics: RollupMetrics

    /// A row for `key` with `metrics`.
    public init(key: String?, metrics: RollupMetrics) {
        self.key = key
        self.metrics = metrics
    }
}

/// One local day: the day's totals and the cost of each chart model (``ReportData/chartModels``
/// order, then "other" when there is one).
public struct ReportDay: Sendable, Equatable {
    /// The local day, `YYYY-MM-DD` in the report's zone.
    public var day: String
    /// The day's sums.
    public var metrics: RollupMetrics
    /// The day's cost of each chart model, nano-dollars, in ``ReportData/chartModels`` order, then
    /// the "other" band when there is one.
    public var costByChartModel: [Int64]
}

/// The report's bounds and those of the period it is compared with, as instants.
public struct ReportPeriod: Sendable, Equatable {
    /// The first instant of the report.
    public var since: Timestamp
    /// The first instant after the report.
    public var until: Timestamp
    /// The first instant of the period compared with.
    public var previousSince: Timestamp
    /// The first instant after the period compared with.
    public var previousUntil: Timestamp
    /// No bounds were given: the current calendar month so far, compared with the same span of the
    /// previous month.
    public var isMonthToDate: Bool

    /// The period of a report. Without bounds: from the start of the current month in `zone` to
    /// `now`, against the previous month from its start for as long (at most the whole month).
    /// With `since` only, up to `now`; with `until` only, from the start of the month of its last
    /// instant. Given bounds are compared with the span of the same length just before them.
    public static func resolve(since: Timestamp?, until: Timestamp?, now: Timestamp, zone: ZoneInfo)
        throws(SpendLogError) -> ReportPeriod
    {
        if since == nil && until == nil {
            let start = monthStart(containing: now.millisecondsSinceEpoch, zone: zone, offset: 0)
            let previous = monthStart(containing: now.millisecondsSinceEpoch, zone: zone, offset: -1)
            let end = max(now.millisecondsSinceEpoch, start + 1)
            // The same local day of the month and wall-clock time in the previous month (a daylight
            // saving change between them moves the instant, not the clock), at most its end.
            let day = Timestamp.millisecondsPerDay
            let daysIn = zone.localDay(ofMilliseconds: end) - zone.localDay(ofMilliseconds: start)
            let clock = floorMod(end + zone.offset(at: end), day)
            let previousEnd = zone.startOfLocalDay(zone.localDay(ofMilliseconds: previous) + daysIn) + clock
            return ReportPeriod(
                since: Timestamp(millisecondsSinceEpoch: start), until: Timestamp(millisecondsSinceEpoch: end),
                previousSince: Timestamp(millisecondsSinceEpoch: previous),
                previousUntil: Timestamp(millisecondsSinceEpoch: min(previousEnd, start)),
                isMonthToDate: true)
        }
        let end = until ?? now
        let start =
            since
            ?? Timestamp(
                millisecondsSinceEpoch: monthStart(containing: end.millisecondsSinceEpoch - 1, zone: zone, offset: 0))
        guard start < end else {
            throw .invalid(
                field: "since", "the report's start (\(start.rfc3339)) must be before its end (\(end.rfc3339)).")
        }
        let length = end.millisecondsSinceEpoch - start.millisecondsSinceEpoch
        return ReportPeriod(
            since: start, until: end,
            previousSince: Timestamp(millisecondsSinceEpoch: max(0, start.millisecondsSinceEpoch - length)),
            previousUntil: start, isMonthToDate: false)
    }

    /// The first instant of the local month `offset` months from the one holding `ms`.
    public static func monthStart(containing ms: Int64, zone: ZoneInfo, offset: Int64) -> Int64 {
        let day = zone.localDay(ofMilliseconds: ms)
        let month = TimeBuckets.month(ofDay: day) + offset
        return zone.startOfLocalDay(TimeBuckets.firstDay(ofMonth: month))
    }
}

/// The cost of the month holding the report's end, projected to the month's end from the run rate
/// of the report's part of that month.
public struct ReportProjection: Sendable, Equatable {
    /// `2026-11`, in the report's zone.
    public var month: String
    /// The part of the month the rate is taken from: `[from, until)`.
    public var from: Timestamp
    /// The end of the part of the month the rate is taken from (excluded).
    public var until: Timestamp
    /// The first instant of the next month, in the report's zone.
    public var monthEnd: Timestamp
    /// Spent in `[from, until)`, nano-dollars.
    public var spentNanos: Int64
    /// Spent per 24 hours at that rate, rounded to the nano-dollar.
    public var ratePerDayNanos: Int64
    /// `spent` + the rate × the time left to `monthEnd`, rounded to the nano-dollar.
    public var projectedNanos: Int64
}

extension ReportData {
    /// Steps of ``build(directory:filter:timeZone:now:title:includeBudgets:progress:)`` for a
    /// progress line: `(step, of)`.
    public typealias Progress = (_ step: Int, _ of: Int, _ what: String) -> Void

    /// Builds a report over `directory`. `filter`'s bounds, when given, are the period's; the
    /// other fields choose records as for `stats`. `now` is the clock (the default period ends
    /// there). Budgets are read only when the log has a control journal.
    public static func build(
        directory: LogDirectory, filter: RecordFilter, timeZone: ZoneInfo, now: Timestamp, title: String,
        includeBudgets: Bool = true, progress: Progress? = nil
    ) throws(SpendLogError) -> ReportData {
        try filter.validate()
        let period = try ReportPeriod.resolve(since: filter.since, until: filter.until, now: now, zone: timeZone)
        let query = Query(directory: directory)
        var current = filter
        current.since = period.since
        current.until = period.until
        var previous = filter
        previous.since = period.previousSince
        previous.until = period.previousUntil
        let steps = 6
        func stats(_ step: Int, _ what: String, _ groupBy: [GroupKey], _ f: RecordFilter) throws(SpendLogError)
            -> StatsResult
        {
            progress?(step, steps, what)
            return try query.stats(StatsQuery(groupBy: groupBy, filter: f, timeZone: timeZone))
        }

        let cells = try stats(1, "cost by day, project and model", [.day, .project, .model], current)
        let users = try stats(2, "users", [.user], current)
        let callers = try stats(3, "callers", [.caller], current)
        let tasks = try stats(4, "tasks", [.task], current)
        let before = try stats(5, "the previous period", [], previous)

        var byDay: [String: RollupMetrics] = [:]
        var byProject: [String: RollupMetrics] = [:]
        var byModel: [String: RollupMetrics] = [:]
        var dayModel: [String: [String: RollupMetrics]] = [:]
        var totals = RollupMetrics()
        for row in cells.rows {
            let day = row.keys[0] ?? ""
            let project = row.keys[1] ?? ""
            let model = row.keys[2] ?? ""
            byDay[day, default: RollupMetrics()].add(row.metrics)
            byProject[project, default: RollupMetrics()].add(row.metrics)
            byModel[model, default: RollupMetrics()].add(row.metrics)
            dayModel[day, default: [:]][model, default: RollupMetrics()].add(row.metrics)
            totals.add(row.metrics)
        }
        let projectRows = sortedRows(byProject.map { ReportRow(key: $0.key, metrics: $0.value) })
        let modelRows = sortedRows(byModel.map { ReportRow(key: $0.key, metrics: $0.value) })
        let chartModels = modelRows.prefix(chartModelLimit).compactMap(\.key)
        let chartHasOther = modelRows.count > chartModelLimit

        // Every local day of the period, with the days that had no records.
        var daily: [ReportDay] = []
        let firstDay = timeZone.localDay(ofMilliseconds: period.since.millisecondsSinceEpoch)
        let lastDay = timeZone.localDay(ofMilliseconds: period.until.millisecondsSinceEpoch - 1)
        var day = firstDay
        while day <= lastDay {
            let label = TimeBuckets.dayLabel(day)
            let models = dayModel[label] ?? [:]
            var costs = chartModels.map { models[$0]?.costNanos ?? 0 }
            if chartHasOther {
                var other: Int64 = 0
                for (model, m) in models where !chartModels.contains(model) { other &+= m.costNanos }
                costs.append(other)
            }
            daily.append(ReportDay(day: label, metrics: byDay[label] ?? RollupMetrics(), costByChartModel: costs))
            day += 1
        }

        var budgets: [RuleStatus] = []
        var budgetProblem: String?
        if includeBudgets {
            progress?(6, steps, "budgets")
            do throws(SpendLogError) {
                budgets = try Budget(directory: directory).peekStatus(now: now)
            } catch {
                budgetProblem = "The limits could not be read: \(error.message)"
            }
        }

        func top(_ result: StatsResult) -> [ReportRow] {
            result.rows.prefix(topLimit).map { ReportRow(key: $0.keys[0], metrics: $0.metrics) }
        }
        return ReportData(
            title: title, generatedAt: now, timeZone: timeZone, filter: filter, period: period, totals: totals,
            previousTotals: before.total, daily: daily, chartModels: chartModels, chartHasOther: chartHasOther,
            byProject: projectRows, byModel: modelRows, topUsers: top(users), topCallers: top(callers),
            topTasks: top(tasks), userCount: users.rows.count, callerCount: callers.rows.count,
            taskCount: tasks.rows.count, budgets: budgets, budgetProblem: budgetProblem,
            projection: projection(period: period, zone: timeZone, daily: daily, now: now))
    }

    /// As `stats` sorts rows: cost, highest first, then key bytes.
    static func sortedRows(_ rows: [ReportRow]) -> [ReportRow] {
        rows.sorted { a, b in
            if a.metrics.costNanos != b.metrics.costNanos { return a.metrics.costNanos > b.metrics.costNanos }
            return (a.key ?? "").utf8.lexicographicallyPrecedes((b.key ?? "").utf8)
        }
    }

    /// The month holding the report's last instant, projected from the rate of the report's part
    /// of it. The spend of that part is the sum of its local days (a local month is whole days).
    static func projection(period: ReportPeriod, zone: ZoneInfo, daily: [ReportDay], now: Timestamp)
        -> ReportProjection?
    {
        let last = period.until.millisecondsSinceEpoch - 1
        let monthStart = ReportPeriod.monthStart(containing: last, zone: zone, offset: 0)
        let monthEnd = ReportPeriod.monthStart(containing: last, zone: zone, offset: 1)
        let from = max(period.since.millisecondsSinceEpoch, monthStart)
        // The run rate is over the time that has passed: a period ending in the future has seen
        // only its part up to now.
        let until = min(period.until.millisecondsSinceEpoch, max(now.millisecondsSinceEpoch, from + 1))
        guard until > from else { return nil }
        let firstLabel = TimeBuckets.dayLabel(zone.localDay(ofMilliseconds: monthStart))
        var spent: Int64 = 0
        for day in daily where day.day >= firstLabel { spent &+= day.metrics.costNanos }
        let elapsed = until - from
        let rate = rounded(Int128(spent) * Int128(Timestamp.millisecondsPerDay), over: Int128(elapsed))
        let projected = spent &+ rounded(Int128(spent) * Int128(monthEnd - until), over: Int128(elapsed))
        return ReportProjection(
            month: TimeBuckets.monthLabel(TimeBuckets.month(ofDay: zone.localDay(ofMilliseconds: last))),
            from: Timestamp(millisecondsSinceEpoch: from), until: Timestamp(millisecondsSinceEpoch: until),
            monthEnd: Timestamp(millisecondsSinceEpoch: monthEnd), spentNanos: spent, ratePerDayNanos: rate,
            projectedNanos: projected)
    }

    /// `value / divisor` (divisor > 0) rounded half away from zero, clamped to 64 bits.
    static func rounded(_ value: Int128, over divisor: Int128) -> Int64 {
        let magnitude = value.magnitude
        var q = magnitude / divisor.magnitude
        let r = magnitude % divisor.magnitude
        if r * 2 >= divisor.magnitude { q += 1 }
        let clamped = Int64(clamping: q)
        return value < 0 ? -clamped : clamped
    }
}

/// Shares and rates of report rows, exact to the ten-thousandth.
public enum ReportMath {
    /// `part / whole` in ten-thousandths (4123 = 41.23%), rounded half up; nil when `whole` ≤ 0.
    public static func share(_ part: Int64, of whole: Int64) -> Int64? {
        guard whole > 0 else { return nil }
        return ReportData.rounded(Int128(part) * 10_000, over: Int128(whole))
    }

    /// The change from `before` to `now` in hundredths of a percent (1234 = +12.34%); nil when
    /// `before` is 0.
    public static func change(from before: Int64, to now: Int64) -> Int64? {
        guard before != 0 else { return nil }
        return ReportData.rounded((Int128(now) - Int128(before)) * 10_000, over: Int128(before))
    }
}

extension ReportData {
    /// Writes a report to `path` all at once: a temporary file in the same folder, renamed over
    /// `path`, so that a failure leaves no file (or the previous one) behind.
    public static func write(_ text: String, to path: String) throws(SpendLogError) {
        try FileSystem.replaceAtomically(path, contents: Array(text.utf8))
    }
}
