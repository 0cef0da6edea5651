import ArgumentParser
import SpendLog

struct TopCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "top", abstract: "Rank models or projects by cost, with their share of the total.",
        usage: "spendlog top [--by <by>] [<options>]")

    @OptionGroup var directory: DirectoryOptions
    @Option(
        help: "What to rank: model, project, provider, user, caller, role, task, status or tag:KEY (a tag's values).")
    var by: String = "model"
    @OptionGroup var filters: QueryFilterOptions
    @Option(parsing: .unconditional, help: "How many rows (default 10).")
    var limit: String = "10"
    @Option(help: "table, json or csv.")
    var format: OutputFormat = .table

    func run() throws {
        try reportingErrors {
            guard let n = Int(limit), n > 0 else {
                throw ValidationError("--limit: must be a whole number above 0 (got '\(limit)').")
            }
            let key = try StatsOutput.groupKeys([by])[0]
            guard !key.isTime else {
                throw ValidationError("--by: top ranks values, not periods; use `spendlog stats --by \(by)`.")
            }
            let log = try directory.open(create: false)
            let result = try Query(directory: log).stats(StatsQuery(groupBy: [key], filter: try filters.makeFilter()))
            let total = result.total
            let shown = result.rows.prefix(n)
            var out = OutputBuffer()
            /// Percent of the total cost with two decimals, for display ("-" when nothing cost anything).
            func percent(_ m: RollupMetrics) -> String {
                guard total.costNanos > 0 else { return "-" }
                let bp = Int64((Double(m.costNanos) / Double(total.costNanos) * 10_000).rounded())
                return "\(bp / 100).\(pad2(bp % 100))"
            }
            func share(_ m: RollupMetrics) -> String {
                let p = percent(m)
                return p == "-" ? p : p + "%"
            }
            switch format {
            case .json:
                let rows = shown.enumerated().map { rank, row -> JSONValue in
                    var members: [(key: String, value: JSONValue)] = [
                        ("rank", .number(String(rank + 1))), (key.rawValue, row.keys[0].map { .string($0) } ?? .null),
                    ]
                    members += StatsColumn.standard.map { ($0.rawValue, $0.json(row.metrics)) }
                    members.append(
                        (
                            "share",
                            .number(
                                total.costNanos > 0
                                    ? String(format4: Double(row.metrics.costNanos) / Double(total.costNanos)) : "0")
                        ))
                    return .object(members)
                }
                out.write(JSONValue.array(rows).jsonText + "\n")
            case .csv:
                out.write("rank,\(key.rawValue),requests,cost_usd,share_percent\r\n")
                for (rank, row) in shown.enumerated() {
                    out.write(
                        "\(rank + 1),\(StatsOutput.csvField(row.keys[0] ?? "")),\(row.metrics.requests),\(row.metrics.cost.decimalString),\(percent(row.metrics))\r\n"
                    )
                }
            case .table:
                let digits = shown.contains { $0.metrics.costNanos >= 100 * Money.nanosPerDollar } ? 2 : 4
                var rows = shown.enumerated().map { rank, row in
                    [
                        String(rank + 1), row.keys[0] ?? "(none)", StatsOutput.grouped(row.metrics.requests),
                        "$" + row.metrics.cost.formatted(fractionDigits: digits), share(row.metrics),
                    ]
                }
                if result.rows.count > n {
                    var rest = RollupMetrics()
                    for row in result.rows.dropFirst(n) { rest.add(row.metrics) }
                    rows.append([
                        "", "(\(result.rows.count - n) more)", StatsOutput.grouped(rest.requests),
                        "$" + rest.cost.formatted(fractionDigits: digits), share(rest),
                    ])
                }
                rows.append([
                    "", "TOTAL", StatsOutput.grouped(total.requests),
                    "$" + total.cost.formatted(fractionDigits: digits),
                    total.costNanos > 0 ? "100.00%" : "-",
                ])
                out.write(
                    TextTable.render(
                        header: ["#", StatsOutput.columnName(key), "REQUESTS", "COST", "SHARE"], rows: rows,
                        rightAligned: [0, 2, 3, 4]))
                if total.unpricedRequests > 0 {
                    out.write(
                        "\n\(StatsOutput.grouped(total.unpricedRequests)) request(s) are unpriced and not in COST (see `spendlog stats --by model`).\n"
                    )
                }
            }
            out.flush()
            try reportProblems(result.trace.problems)
        }
    }
}

func pad2(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }

extension String {
    /// Four decimals, for shares in JSON.
    init(format4 value: Double) {
        let scaled = Int64((value * 10_000).rounded())
        let fraction = String(scaled % 10_000)
        self = "\(scaled / 10_000)." + String(repeating: "0", count: 4 - fraction.count) + fraction
    }
}
