/// One value of a report table, kept exact; how it reads for people is ``display(zone:)``.
public enum ReportValue: Sendable, Equatable {
    /// A name (nil: records without one, shown `(none)`, JSON `null`).
    case text(String?)
    /// A count.
    case int(Int64)
    /// Nano-dollars.
    case money(Int64)
    /// A fraction in ten-thousandths (4123 = 0.4123); nil when undefined (nothing to divide by).
    case fraction(Int64?)
    /// A change in hundredths of a percent (1234 = +12.34%); nil when there was nothing before.
    case change(Int64?)
    /// An exact decimal given as text (`percent_used`: `81.25`).
    case decimal(String)
    /// Milliseconds since the epoch; nil when there is none.
    case time(Int64?)

    /// The exact value as text: what `data-value`, CSV and JSON hold. Empty for absent values.
    public var exact: String {
        switch self {
        case .text(let s): s ?? ""
        case .int(let n): String(n)
        case .money(let nanos): Money(nanos: nanos).decimalString
        case .fraction(let f): f.map { ReportFormat.fixed($0, scale: 10_000, digits: 4) } ?? ""
        case .change(let c): c.map { ReportFormat.fixed($0, scale: 100, digits: 2) } ?? ""
        case .decimal(let d): d
        case .time(let t): t.map { Timestamp(millisecondsSinceEpoch: $0).rfc3339 } ?? ""
        }
    }

    /// The value in JSON: money as an exact decimal string, counts and fractions as numbers, absent
    /// values as null.
    public var json: JSONValue {
        switch self {
        case .text(let s): s.map { .string($0) } ?? .null
        case .int: .number(exact)
        case .money: .string(exact)
        case .fraction(let f): f == nil ? .null : .number(exact)
        case .change(let c): c == nil ? .null : .number(exact)
        case .decimal: .number(exact)
        case .time(let t): t == nil ? .null : .string(exact)
        }
    }

    /// For people: `$1,234.57`, `1,234,567`, `41.2%`, `+12.3%`, `2026-11-23 10:15`.
    public func display(zone: ZoneInfo) -> String {
        switch self {
        case .text(let s): s ?? "(none)"
        case .int(let n): ReportFormat.grouped(n)
        case .money(let nanos): ReportFormat.money(nanos)
        case .fraction(let f): f.map { ReportFormat.fixed($0, scale: 100, digits: 1, rounding: true) + "%" } ?? "–"
        case .change(let c): c.map(ReportFormat.change) ?? "–"
        case .decimal(let d): d + "%"
        case .time(let t): t.map { ReportFormat.localTime($0, zone: zone) } ?? "–"
        }
    }

    /// Whether the value is a number (aligned right in tables); names and times are not.
    public var isNumeric: Bool {
        switch self {
        case .text, .time: false
        default: true
        }
    }
}

/// A column of a ``ReportTable``.
public struct ReportColumn: Sendable {
    /// The JSON key and CSV header (`cost_usd`); for a column of a group, the group's member name.
    public var key: String
    /// The header people read.
    public var header: String
    /// Columns with the same group are one JSON object under that name (`cost_by_model`).
    public var group: String?

    /// A column named `key` in JSON and CSV and `header` for people, in `group` if given.
    public init(_ key: String, _ header: String, group: String? = nil) {
        self.key = key
        self.header = header
        self.group = group
    }
}

/// A section of the report as a table: what the Markdown and CSV forms print, what the HTML shows
/// under each chart, and what the JSON form holds (one object per row).
public struct ReportTable: Sendable {
    /// `by_project`: the `--section` name and the JSON key.
    public var id: String
    /// The section's heading for people.
    public var title: String
    /// The columns, in order.
    public var columns: [ReportColumn]
    /// The rows, one value per column.
    public var rows: [[ReportValue]]
    /// A line under the title for people.
    public var note: String?

    /// The rows as JSON objects; grouped columns nested.
    public var json: JSONValue {
        .array(
            rows.map { row in
                var members: [(key: String, value: JSONValue)] = []
                var groups: [String: [(key: String, value: JSONValue)]] = [:]
                var groupOrder: [String] = []
                for (column, value) in zip(columns, row) {
                    if let group = column.group {
                        if groups[group] == nil { groupOrder.append(group) }
                        groups[group, default: []].append((column.key, value.json))
                    } else {
                        members.append((column.key, value.json))
                    }
                }
                for group in groupOrder { members.append((group, .object(groups[group] ?? []))) }
                return .object(members)
            })
    }
}

extension ReportData {
    /// The section names, in the order the report shows them.
    public static let sectionIDs = [
        "totals", "change", "projection", "unpriced", "daily", "by_project", "by_model", "token_mix", "top_users",
        "top_callers", "top_tasks", "errors_by_model", "budgets",
    ]

    static let metricColumns: [ReportColumn] = [
        ReportColumn("requests", "Requests"), ReportColumn("input_tokens", "Input tokens"),
        ReportColumn("output_tokens", "Output tokens"), ReportColumn("cached_input_tokens", "Cache reads"),
        ReportColumn("cache_write_tokens", "Cache writes"), ReportColumn("reasoning_tokens", "Reasoning"),
        ReportColumn("cost_usd", "Cost"), ReportColumn("unpriced_requests", "Unpriced"),
        ReportColumn("errors", "Errors"), ReportColumn("avg_latency_ms", "Avg latency ms"),
    ]

    static func metricValues(_ m: RollupMetrics) -> [ReportValue] {
        [
            .int(m.requests), .int(m.inputTokens), .int(m.outputTokens), .int(m.cachedInputTokens),
            .int(m.cacheWriteTokens), .int(m.reasoningTokens), .money(m.costNanos), .int(m.unpricedRequests),
            .int(m.errors), m.averageLatencyMs.map { .int($0) } ?? .text(nil),
        ]
    }

    /// Every section that has a table, in ``sectionIDs`` order.
    public func tables() -> [ReportTable] { Self.sectionIDs.compactMap(table(_:)) }

    /// The table of one section; nil for an unknown name.
    public func table(_ id: String) -> ReportTable? {
        let totalCost = totals.costNanos
        func grouped(_ id: String, _ title: String, _ keyName: String, _ keyHeader: String, _ rows: [ReportRow])
            -> ReportTable
        {
            ReportTable(
                id: id, title: title,
                columns: [ReportColumn(keyName, keyHeader), ReportColumn("share", "Share of cost")]
                    + Self.metricColumns + [ReportColumn("total_tokens", "Total tokens")],
                rows: rows.map { row in
                    [.text(row.key), .fraction(ReportMath.share(row.metrics.costNanos, of: totalCost))]
                        + Self.metricValues(row.metrics)
                        + [.int(row.metrics.inputTokens &+ row.metrics.outputTokens)]
                })
        }
        switch id {
        case "totals":
            return ReportTable(
                id: id, title: "Totals",
                columns: [ReportColumn("period", "Period"), ReportColumn("since", "From"), ReportColumn("until", "To")]
                    + Self.metricColumns + [ReportColumn("total_tokens", "Total tokens")],
                rows: [
                    [
                        .text("current"), .time(period.since.millisecondsSinceEpoch),
                        .time(period.until.millisecondsSinceEpoch),
                    ] + Self.metricValues(totals) + [.int(totals.inputTokens &+ totals.outputTokens)],
                    [
                        .text("previous"), .time(period.previousSince.millisecondsSinceEpoch),
                        .time(period.previousUntil.millisecondsSinceEpoch),
                    ] + Self.metricValues(previousTotals)
                        + [.int(previousTotals.inputTokens &+ previousTotals.outputTokens)],
                ])
        case "change":
            let pairs: [(String, ReportValue, ReportValue, Int64, Int64)] = [
                ("cost_usd", .money(totals.costNanos), .money(previousTotals.costNanos), totals.costNanos,
                 previousTotals.costNanos),
                ("requests", .int(totals.requests), .int(previousTotals.requests), totals.requests,
                 previousTotals.requests),
                ("total_tokens", .int(totals.inputTokens &+ totals.outputTokens),
                 .int(previousTotals.inputTokens &+ previousTotals.outputTokens),
                 totals.inputTokens &+ totals.outputTokens, previousTotals.inputTokens &+ previousTotals.outputTokens),
                ("errors", .int(totals.errors), .int(previousTotals.errors), totals.errors, previousTotals.errors),
            ]
            return ReportTable(
                id: id, title: "Change against the previous period",
                columns: [
                    ReportColumn("metric", "Metric"), ReportColumn("current", "This period"),
                    ReportColumn("previous", "Previous period"), ReportColumn("change_percent", "Change"),
                ],
                rows: pairs.map { [.text($0.0), $0.1, $0.2, .change(ReportMath.change(from: $0.4, to: $0.3))] })
        case "projection":
            guard let p = projection else { return nil }
            return ReportTable(
                id: id, title: "Month-end projection",
                columns: [
                    ReportColumn("month", "Month"), ReportColumn("from", "Rate from"), ReportColumn("until", "Rate to"),
                    ReportColumn("month_end", "Month ends"), ReportColumn("spent_usd", "Spent"),
                    ReportColumn("rate_per_day_usd", "Per day"), ReportColumn("projected_usd", "Projected"),
                ],
                rows: [
                    [
                        .text(p.month), .time(p.from.millisecondsSinceEpoch), .time(p.until.millisecondsSinceEpoch),
                        .time(p.monthEnd.millisecondsSinceEpoch), .money(p.spentNanos), .money(p.ratePerDayNanos),
                        .money(p.projectedNanos),
                    ]
                ],
                note: "The spend of the month so far, plus the same rate per hour for the rest of the month.")
        case "unpriced":
            return ReportTable(
                id: id, title: "Unpriced models",
                columns: [
                    ReportColumn("model", "Model"), ReportColumn("unpriced_requests", "Unpriced requests"),
                    ReportColumn("requests", "Requests"),
                ],
                rows: unpriced.map { [.text($0.key), .int($0.metrics.unpricedRequests), .int($0.metrics.requests)] },
                note: "Their cost is not in the totals. Add a price, then run `spendlog reprice --apply`.")
        case "daily":
            var columns = [
                ReportColumn("day", "Day"), ReportColumn("requests", "Requests"),
                ReportColumn("total_tokens", "Total tokens"), ReportColumn("cost_usd", "Cost"),
            ]
            for model in chartModels { columns.append(ReportColumn(model, model, group: "cost_by_model")) }
            if chartHasOther { columns.append(ReportColumn("(other)", "other", group: "cost_by_model")) }
            return ReportTable(
                id: id, title: "Daily cost (\(timeZone.name))", columns: columns,
                rows: daily.map { d in
                    [
                        .text(d.day), .int(d.metrics.requests), .int(d.metrics.inputTokens &+ d.metrics.outputTokens),
                        .money(d.metrics.costNanos),
                    ] + d.costByChartModel.map { .money($0) }
                })
        case "by_project": return grouped(id, "Cost by project", "project", "Project", byProject)
        case "by_model": return grouped(id, "Cost by model", "model", "Model", byModel)
        case "top_users":
            var t = grouped(id, "Top users", "user", "User", topUsers)
            t.note = "The \(topUsers.count) highest of \(userCount)."
            return t
        case "top_callers":
            var t = grouped(id, "Top callers", "caller", "Caller", topCallers)
            t.note = "The \(topCallers.count) highest of \(callerCount)."
            return t
        case "top_tasks":
            var t = grouped(id, "Top tasks", "task", "Task", topTasks)
            t.note = "The \(topTasks.count) highest of \(taskCount)."
            return t
        case "token_mix":
            let m = totals
            let parts: [(String, String, Int64)] = [
                ("uncached_input", "Uncached input", m.inputTokens &- m.cachedInputTokens &- m.cacheWriteTokens),
                ("cache_read", "Cache reads", m.cachedInputTokens),
                ("cache_write", "Cache writes", m.cacheWriteTokens),
                ("output", "Output (not reasoning)", m.outputTokens &- m.reasoningTokens),
                ("reasoning", "Reasoning", m.reasoningTokens),
            ]
            let all = m.inputTokens &+ m.outputTokens
            return ReportTable(
                id: id, title: "Token mix",
                columns: [
                    ReportColumn("kind", "Kind"), ReportColumn("label", "Tokens of"), ReportColumn("tokens", "Tokens"),
                    ReportColumn("share", "Share"),
                ],
                rows: parts.map { [.text($0.0), .text($0.1), .int($0.2), .fraction(ReportMath.share($0.2, of: all))] },
                note: ReportMath.share(m.cachedInputTokens, of: m.inputTokens).map {
                    "Cache reads were \(ReportValue.fraction($0).display(zone: .utc)) of input tokens; they are "
                        + "billed at a fraction of the input price."
                })
        case "errors_by_model":
            return ReportTable(
                id: id, title: "Error rate by model",
                columns: [
                    ReportColumn("model", "Model"), ReportColumn("requests", "Requests"),
                    ReportColumn("errors", "Errors"), ReportColumn("error_rate", "Error rate"),
                ],
                rows: byModel.map { r in
                    [
                        .text(r.key), .int(r.metrics.requests), .int(r.metrics.errors),
                        .fraction(ReportMath.share(r.metrics.errors, of: r.metrics.requests)),
                    ]
                })
        case "budgets":
            return ReportTable(
                id: id, title: "Budget utilisation",
                columns: [
                    ReportColumn("id", "Limit"), ReportColumn("scope", "Scope"), ReportColumn("type", "Type"),
                    ReportColumn("window", "Window"), ReportColumn("tz", "Zone"), ReportColumn("max", "Hard limit"),
                    ReportColumn("soft", "Soft threshold"), ReportColumn("spent", "Spent"), ReportColumn("held", "Held"),
                    ReportColumn("remaining", "Remaining"), ReportColumn("percent_used", "Used"),
                    ReportColumn("window_start", "Window start"), ReportColumn("resets_at", "Resets"),
                ],
                rows: budgets.map { s in
                    let r = s.rule
                    func amount(_ v: Int64) -> ReportValue { r.metric == .cost ? .money(v) : .int(v) }
                    let soft: ReportValue =
                        r.softPartsPerMillion.map {
                            amount(ReportData.rounded(Int128(r.maximum) * Int128($0), over: 1_000_000))
                        } ?? .text(nil)
                    return [
                        .text(r.id), .text(r.scope.description), .text(r.metric.rawValue), .text(r.window.name),
                        .text(r.window.zoneName), amount(r.maximum), soft, amount(s.spent), amount(s.held),
                        amount(s.remaining), .decimal(s.percentUsed), .time(s.windowStart), .time(s.resetsAt),
                    ]
                },
                note: budgetProblem ?? (budgets.isEmpty ? "No limits are set." : nil))
        default: return nil
        }
    }
}

/// Number formats for people. Exact values stay in ``ReportValue/exact``.
public enum ReportFormat {
    /// 1234567 → "1,234,567".
    public static func grouped(_ value: Int64) -> String {
        let digits = Array(String(value.magnitude).utf8)
        var text: [UInt8] = []
        text.reserveCapacity(digits.count + digits.count / 3 + 1)
        if value < 0 { text.append(UInt8(ascii: "-")) }
        for (i, digit) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { text.append(UInt8(ascii: ",")) }
            text.append(digit)
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// `$1,234.57` (whole cents from a dollar up), `$0.0123` below a dollar, `$0` for nothing.
    public static func money(_ nanos: Int64) -> String {
        if nanos == 0 { return "$0" }
        let digits = nanos.magnitude >= UInt64(Money.nanosPerDollar) ? 2 : 4
        let text = Money(nanos: nanos).formatted(fractionDigits: digits)
        let negative = text.hasPrefix("-")
        let body = negative ? String(text.dropFirst()) : text
        let dot = body.firstIndex(of: ".") ?? body.endIndex
        let whole = grouped(Int64(body[..<dot]) ?? 0)
        return (negative ? "-$" : "$") + whole + body[dot...]
    }

    /// `$1.23M`, `$45.6K`, `$12.34` for headline figures.
    public static func compactMoney(_ nanos: Int64) -> String {
        let dollars = nanos / Money.nanosPerDollar
        if dollars.magnitude >= 1_000_000 {
            return "$" + fixed(ReportData.rounded(Int128(nanos), over: 10_000 * Int128(Money.nanosPerDollar)),
                scale: 100, digits: 2) + "M"
        }
        if dollars.magnitude >= 10_000 {
            return "$" + fixed(ReportData.rounded(Int128(nanos), over: 100 * Int128(Money.nanosPerDollar)),
                scale: 10, digits: 1) + "K"
        }
        return money(nanos)
    }

    /// 1234567 → "1.23M", 45600 → "45.6K", 999 → "999".
    public static func compact(_ value: Int64) -> String {
        let m = value.magnitude
        if m >= 1_000_000_000 { return fixed(ReportData.rounded(Int128(value), over: 10_000_000), scale: 100, digits: 2) + "B" }
        if m >= 1_000_000 { return fixed(ReportData.rounded(Int128(value), over: 10_000), scale: 100, digits: 2) + "M" }
        if m >= 10_000 { return fixed(ReportData.rounded(Int128(value), over: 100), scale: 10, digits: 1) + "K" }
        return grouped(value)
    }

    /// `value / scale` with `digits` decimals (`scale` = 10^digits unless `rounding`, which
    /// rounds to `digits` first): fixed(4123, 10000, 4) = "0.4123".
    public static func fixed(_ value: Int64, scale: Int64, digits: Int, rounding: Bool = false) -> String {
        var v = value
        var s = scale
        if rounding {
            var target: Int64 = 1
            for _ in 0..<digits { target *= 10 }
            if target < scale {
                v = ReportData.rounded(Int128(value), over: Int128(scale / target))
                s = target
            }
        }
        let negative = v < 0
        let whole = v.magnitude / UInt64(s)
        let fraction = v.magnitude % UInt64(s)
        var text = (negative ? "-" : "") + String(whole)
        if digits > 0 {
            let f = String(fraction)
            text += "." + String(repeating: "0", count: max(0, digits - f.count)) + f
        }
        return text
    }

    /// 1234 → "+12.3%", -50 → "−0.5%".
    public static func change(_ hundredths: Int64) -> String {
        let text = fixed(hundredths.magnitude > 0 ? hundredths : 0, scale: 100, digits: 1, rounding: true)
        if hundredths > 0 { return "+" + text + "%" }
        if hundredths < 0 { return "−" + text.dropFirst() + "%" }
        return "0.0%"
    }

    /// `2026-11-23 10:15` in `zone`.
    public static func localTime(_ ms: Int64, zone: ZoneInfo) -> String {
        let local = ms + zone.offset(at: ms)
        let day = floorDiv(local, Timestamp.millisecondsPerDay)
        let minutes = (local - day * Timestamp.millisecondsPerDay) / 60_000
        return TimeBuckets.dayLabel(day) + " " + pad(minutes / 60, 2) + ":" + pad(minutes % 60, 2)
    }
}
