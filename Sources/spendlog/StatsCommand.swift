import ArgumentParser
import SpendLog

enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case table, json, csv
}

/// `--format` of the commands that have no CSV form.
enum TableOrJSON: String, ExpressibleByArgument, CaseIterable {
    case table, json
}

struct StatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Totals per group: requests, tokens and exact cost.",
        usage: "spendlog stats [--by <by> ...] [<options>]",
        discussion: """
            Answers from the index plus every record not indexed yet, so results are always \
            current. Several --by give a cross table (--by day --by model); --by tag:KEY groups by \
            a tag's value. Rows are sorted by cost, highest first; time groups by time, in --tz. \
            Bounds are [--since, --until). --columns chooses the metric columns: \
            \(StatsColumn.allCases.map(\.rawValue).joined(separator: ", ")).
            """)

    @OptionGroup var directory: DirectoryOptions
    @Option(
        name: .customLong("by"),
        help:
            "Group by project, model, provider, user, caller, role, task, status, tag:KEY, day, week or month (repeatable)."
    )
    var by: [String] = []
    @OptionGroup var filters: QueryFilterOptions
    @OptionGroup var zone: TimeZoneOption
    @Option(help: "Metric columns to show, comma-separated, in order (repeatable; see below).")
    var columns: [String] = []
    @Option(help: "table, json or csv.")
    var format: OutputFormat = .table
    @Flag(name: .customLong("indexed-only"), help: "Leave out records the index does not cover yet.")
    var indexedOnly = false

    func run() throws {
        try reportingErrors {
            let groupBy = try StatsOutput.groupKeys(by)
            let columnList = try StatsColumn.parse(columns)
            let timeZone = try zone.zone()
            let query = StatsQuery(
                groupBy: groupBy, filter: try filters.makeFilter(zone: timeZone), indexedOnly: indexedOnly,
                timeZone: timeZone)
            let log = try directory.open(create: false)
            let result = try Query(directory: log).stats(query)
            var out = OutputBuffer()
            out.write(StatsOutput.render(result, format: format, columns: columnList))
            out.flush()
            noteDuplicates(result.trace.duplicates)
            noteRemoved(result.trace)
            if let damage = result.trace.indexDamage {
                printError("Warning: \(damage.message) The answer above was computed from the segments instead.")
            }
            try reportProblems(result.trace.problems)
        }
    }
}

/// Records removed by retention that a question needed in detail: left out, and said so.
func noteRemoved(_ trace: QueryTrace) {
    guard trace.removedRecordsLeftOut > 0 else { return }
    let days = trace.removedDaysLeftOut.sorted()
    let span = days.count == 1 ? days[0] : "\(days.first!) to \(days.last!), \(days.count) days"
    printError(
        "Warning: \(trace.removedRecordsLeftOut) record(s) of \(span) are not in the answer above: retention removed "
            + "their segments, and the index keeps their sums but not what this question asks about (a tag, a "
            + "session, a pairing of keys, or hours at a zone's day edge). Questions the index answers (`--by` "
            + "project, model, day, …) still count them.")
}

/// Records whose id appeared earlier in their day (a copied segment), counted once.
func noteDuplicates(_ count: Int) {
    guard count > 0 else { return }
    printError(
        "Note: \(count) record\(count == 1 ? "" : "s") appeared a second time (the same id in one day) and "
            + "\(count == 1 ? "was" : "were") counted once; `spendlog verify` names where.")
}

/// Damaged segments left out of an answer: each on stderr, then exit 65.
func reportProblems(_ problems: [SpendLogError]) throws {
    guard !problems.isEmpty else { return }
    for problem in problems { printError("Warning: \(problem.message)") }
    printError("Warning: the answer above leaves out the damaged data listed.")
    throw ExitCode(ExitCodes.dataError)
}

/// Tables for people, JSON and CSV with exact values.
enum StatsOutput {
    static func columnName(_ key: GroupKey) -> String {
        if let tag = key.tagKey { return "TAG:" + tag }
        return key.rawValue.uppercased()
    }

    /// `--by` values: a dimension, a time bucket or `tag:KEY`.
    static func groupKeys(_ names: [String]) throws -> [GroupKey] {
        do throws(SpendLogError) { return try QueryParameters.groupKeys(names, naming: .flags) } catch {
            throw ValidationError(error.message)
        }
    }

    static func render(_ result: StatsResult, format: OutputFormat, columns: [StatsColumn]? = nil) -> String {
        switch format {
        case .json: QueryJSON.stats(result, columns: columns ?? StatsColumn.standard)
        case .csv: csv(result, columns: columns ?? StatsColumn.standard)
        case .table: table(result, columns: columns)
        }
    }

    static func csv(_ result: StatsResult, columns: [StatsColumn] = StatsColumn.standard) -> String {
        var text =
            (result.groupBy.map { csvField($0.rawValue) } + columns.map(\.rawValue)).joined(separator: ",") + "\r\n"
        for row in result.rows {
            let cells = row.keys.map { csvField($0 ?? "") } + columns.map { $0.csv(row.metrics) }
            text += cells.joined(separator: ",") + "\r\n"
        }
        return text
    }

    /// RFC 4180: quoted when it holds a comma, a quote or a line break; the value stays exact.
    static func csvField(_ value: String) -> String { CSV.field(value) }

    /// `columns`: the metric columns; nil for the standard ones, where unpriced and errors are
    /// shown only when some record has them.
    static func table(_ result: StatsResult, columns chosen: [StatsColumn]? = nil) -> String {
        let rows = result.rows
        let total = result.total
        let showUnpriced = total.unpricedRequests > 0
        let columns =
            chosen ?? [
                .requests, .input_tokens, .output_tokens, .cached_input_tokens, .cache_write_tokens,
                .reasoning_tokens, .cost_usd,
            ] + (showUnpriced ? [.unpriced_requests] : []) + (total.errors > 0 ? [.errors] : [])
        let fractionDigits = rows.contains { $0.metrics.costNanos >= 100 * Money.nanosPerDollar } ? 2 : 4
        let header = result.groupBy.map(columnName(_:)) + columns.map(\.header)
        func cells(_ keys: [String], _ m: RollupMetrics) -> [String] {
            keys + columns.map { $0.table(m, fractionDigits: fractionDigits) }
        }
        var lines = rows.map { row in cells(row.keys.map { $0 ?? "(none)" }, row.metrics) }
        if rows.count > 1 || result.groupBy.isEmpty {
            let label = result.groupBy.isEmpty ? [] : ["TOTAL"] + Array(repeating: "", count: result.groupBy.count - 1)
            if !result.groupBy.isEmpty { lines.append(cells(label, total)) } else { lines = [cells([], total)] }
        }
        let first = result.groupBy.count
        var text = TextTable.render(header: header, rows: lines, rightAligned: Set(first..<header.count))
        if rows.isEmpty && !result.groupBy.isEmpty { text += "(no records match)\n" }
        if showUnpriced {
            text +=
                "\n\(grouped(total.unpricedRequests)) request(s) are unpriced: their model has no price, so their cost "
                + "is not in COST. Add a price, then `spendlog reprice --apply`.\n"
        }
        return text
    }

    /// 1234567 → "1,234,567".
    static func grouped(_ value: Int64) -> String { ReportFormat.grouped(value) }
}
