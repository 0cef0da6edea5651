import ArgumentParser
import SpendLog

/// Filters shared by `stats`, `top` and `logs`.
struct QueryFilterOptions: ParsableArguments {
    @Option(help: "Only this project (repeatable).")
    var project: [String] = []
    @Option(help: "Only this model (repeatable).")
    var model: [String] = []
    @Option(help: "Only this provider (repeatable).")
    var provider: [String] = []
    @Option(help: "Only this user (repeatable).")
    var user: [String] = []
    @Option(help: "From this date (2026-11-01, midnight UTC) or RFC 3339 time, inclusive.")
    var since: String?
    @Option(help: "Up to this date or RFC 3339 time, exclusive.")
    var until: String?

    func makeFilter() throws -> RecordFilter {
        var filter = RecordFilter()
        filter.since = try since.map { try Self.parseTime($0, option: "--since") }
        filter.until = try until.map { try Self.parseTime($0, option: "--until") }
        if let since = filter.since, let until = filter.until, since >= until {
            throw ValidationError("--since (\(since.rfc3339)) must be before --until (\(until.rfc3339)).")
        }
        for (values, option) in [
            (project, "--project"), (model, "--model"), (provider, "--provider"), (user, "--user"),
        ] {
            for value in values {
                do { try UsageRecord.validateName(value, field: option) } catch {
                    throw ValidationError("\(option): \(error.reason).")
                }
            }
        }
        filter.projects = Set(project)
        filter.models = Set(model)
        filter.providers = Set(provider)
        filter.users = Set(user)
        return filter
    }

    static func parseTime(_ text: String, option: String) throws -> Timestamp {
        guard let time = Timestamp.parseDateOrTime(text) else {
            let shown = text.count > 40 ? String(text.prefix(40)) + "…" : text
            throw ValidationError(
                "\(option): '\(shown)' is not a date (2026-11-23) or an RFC 3339 time (2026-11-23T10:15:00Z).")
        }
        return time
    }
}

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
            current. Several --by give a cross table (--by day --by model). Rows are sorted by \
            cost, highest first; time groups by time. Bounds are [--since, --until).
            """)

    @OptionGroup var directory: DirectoryOptions
    @Option(
        name: .customLong("by"),
        help: "Group by project, model, provider, user, caller, role, task, status, day, week or month (repeatable).")
    var by: [String] = []
    @OptionGroup var filters: QueryFilterOptions
    @Option(help: "table, json or csv.")
    var format: OutputFormat = .table
    @Flag(name: .customLong("indexed-only"), help: "Leave out records the index does not cover yet.")
    var indexedOnly = false

    func run() throws {
        try reportingErrors {
            let groupBy = try by.map { name -> GroupKey in
                guard let key = GroupKey(rawValue: name) else {
                    throw ValidationError(
                        "--by: '\(name)' is not one of \(GroupKey.allCases.map(\.rawValue).joined(separator: ", ")).")
                }
                return key
            }
            let query = StatsQuery(groupBy: groupBy, filter: try filters.makeFilter(), indexedOnly: indexedOnly)
            let log = try directory.open(create: false)
            let result = try Query(directory: log).stats(query)
            var out = OutputBuffer()
            out.write(StatsOutput.render(result, format: format))
            out.flush()
            noteDuplicates(result.trace.duplicates)
            if let damage = result.trace.indexDamage {
                printError("Warning: \(damage.message) The answer above was computed from the segments instead.")
            }
            try reportProblems(result.trace.problems)
        }
    }
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
    static func columnName(_ key: GroupKey) -> String { key.rawValue.uppercased() }

    static func render(_ result: StatsResult, format: OutputFormat) -> String {
        switch format {
        case .json: json(result)
        case .csv: csv(result)
        case .table: table(result)
        }
    }

    static func json(_ result: StatsResult) -> String {
        let rows = result.rows.map { row -> JSONValue in
            var members: [(key: String, value: JSONValue)] = []
            for (lane, key) in result.groupBy.enumerated() {
                members.append((key.rawValue, row.keys[lane].map { .string($0) } ?? .null))
            }
            members += metricMembers(row.metrics)
            return .object(members)
        }
        return JSONValue.array(rows).jsonText + "\n"
    }

    static func metricMembers(_ m: RollupMetrics) -> [(key: String, value: JSONValue)] {
        [
            ("requests", .number(String(m.requests))),
            ("input_tokens", .number(String(m.inputTokens))),
            ("output_tokens", .number(String(m.outputTokens))),
            ("cached_input_tokens", .number(String(m.cachedInputTokens))),
            ("cache_write_tokens", .number(String(m.cacheWriteTokens))),
            ("reasoning_tokens", .number(String(m.reasoningTokens))),
            ("cost_usd", .number(m.cost.decimalString)),
            ("unpriced_requests", .number(String(m.unpricedRequests))),
            ("errors", .number(String(m.errors))),
            ("avg_latency_ms", m.averageLatencyMs.map { .number(String($0)) } ?? .null),
        ]
    }

    static let metricHeader = [
        "requests", "input_tokens", "output_tokens", "cached_input_tokens", "cache_write_tokens", "reasoning_tokens",
        "cost_usd", "unpriced_requests", "errors", "avg_latency_ms",
    ]

    static func csv(_ result: StatsResult) -> String {
        var text = (result.groupBy.map(\.rawValue) + metricHeader).joined(separator: ",") + "\r\n"
        for row in result.rows {
            let m = row.metrics
            let cells =
                row.keys.map { csvField($0 ?? "") } + [
                    String(m.requests), String(m.inputTokens), String(m.outputTokens), String(m.cachedInputTokens),
                    String(m.cacheWriteTokens), String(m.reasoningTokens), m.cost.decimalString,
                    String(m.unpricedRequests), String(m.errors), m.averageLatencyMs.map { String($0) } ?? "",
                ]
            text += cells.joined(separator: ",") + "\r\n"
        }
        return text
    }

    /// RFC 4180: quoted when it holds a comma, a quote or a line break; the value stays exact.
    static func csvField(_ value: String) -> String {
        guard value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return value }
        var quoted = "\""
        for c in value {
            if c == "\"" { quoted.append("\"") }
            quoted.append(c)
        }
        return quoted + "\""
    }

    static func table(_ result: StatsResult) -> String {
        let rows = result.rows
        let total = result.total
        let showUnpriced = total.unpricedRequests > 0
        let showErrors = total.errors > 0
        let fractionDigits = rows.contains { $0.metrics.costNanos >= 100 * Money.nanosPerDollar } ? 2 : 4
        var header = result.groupBy.map(columnName(_:))
        header += ["REQUESTS", "INPUT", "OUTPUT", "CACHED", "CACHE WRITE", "REASONING", "COST"]
        if showUnpriced { header.append("UNPRICED") }
        if showErrors { header.append("ERRORS") }
        func cells(_ keys: [String], _ m: RollupMetrics) -> [String] {
            var cells = keys
            cells += [
                grouped(m.requests), grouped(m.inputTokens), grouped(m.outputTokens), grouped(m.cachedInputTokens),
                grouped(m.cacheWriteTokens), grouped(m.reasoningTokens),
                "$" + m.cost.formatted(fractionDigits: fractionDigits),
            ]
            if showUnpriced { cells.append(grouped(m.unpricedRequests)) }
            if showErrors { cells.append(grouped(m.errors)) }
            return cells
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
    static func grouped(_ value: Int64) -> String {
        let digits = String(value.magnitude)
        var text = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { text.append(",") }
            text.append(c)
        }
        return value < 0 ? "-" + text : text
    }
}
