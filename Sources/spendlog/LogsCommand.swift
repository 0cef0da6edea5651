import ArgumentParser
import SpendLog

struct LogsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logs", abstract: "List raw records, newest first.",
        usage: "spendlog logs [<options>]")

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case table, json, jsonl, csv
    }

    @OptionGroup var directory: DirectoryOptions
    @OptionGroup var filters: QueryFilterOptions
    @Option(parsing: .unconditional, help: "How many records (default 50).")
    var limit: String = "50"
    @Option(parsing: .unconditional, help: "Skip this many of the newest matching records first.")
    var offset: String = "0"
    @Option(help: "table, json (an array), jsonl (one record per line, as stored) or csv.")
    var format: Format = .table

    func run() throws {
        try reportingErrors {
            guard let limitValue = Int(limit), limitValue >= 0 else {
                throw ValidationError("--limit: must be a whole number, 0 or more (got '\(limit)').")
            }
            guard let offsetValue = Int(offset), offsetValue >= 0 else {
                throw ValidationError("--offset: must be a whole number, 0 or more (got '\(offset)').")
            }
            let log = try directory.open(create: false)
            let page = try Query(directory: log).logs(
                filter: try filters.makeFilter(), limit: limitValue, offset: offsetValue)
            var out = OutputBuffer()
            switch format {
            case .jsonl:
                for record in page.records { out.write(bytes: record.jsonLine()) }
            case .json:
                out.write(QueryJSON.records(page.records))
            case .csv:
                out.write(
                    "ts,id,project,model,provider,input_tokens,output_tokens,cached_input_tokens,cache_write_tokens,reasoning_tokens,cost_usd,cost_source,latency_ms,user,caller,role,task,status\r\n"
                )
                for r in page.records {
                    let cells = [
                        r.timestamp.rfc3339, r.id.description, r.project, r.model, r.provider, String(r.inputTokens),
                        String(r.outputTokens), String(r.cachedInputTokens), String(r.cacheWriteTokens),
                        String(r.reasoningTokens), r.cost.decimalString, r.costSource.rawValue,
                        r.latencyMs.map { String($0) } ?? "", r.user ?? "", r.caller ?? "", r.role ?? "", r.task ?? "",
                        r.status?.rawValue ?? "",
                    ]
                    out.write(cells.map(StatsOutput.csvField(_:)).joined(separator: ",") + "\r\n")
                }
            case .table:
                let rows = page.records.map { r in
                    [
                        r.timestamp.rfc3339, r.project, r.model, StatsOutput.grouped(r.inputTokens),
                        StatsOutput.grouped(r.outputTokens),
                        costCell(r, repriced: page.repriced[r.id]), r.status?.rawValue ?? "",
                        r.user ?? "",
                    ]
                }
                out.write(
                    TextTable.render(
                        header: ["TIME", "PROJECT", "MODEL", "IN", "OUT", "COST", "STATUS", "USER"], rows: rows,
                        rightAligned: [3, 4, 5]))
                if page.records.isEmpty { out.write("(no records match)\n") }
            }
            out.flush()
            try reportProblems(page.problems)
        }
    }
}

/// The COST cell of `logs` and `tail`: an unpriced record priced later by an adjustment shows the
/// adjustment's cost.
func costCell(_ record: UsageRecord, repriced: Money?) -> String {
    if let repriced { return "$" + repriced.decimalString + " (repriced)" }
    return record.costSource == .unpriced ? "unpriced" : "$" + record.cost.decimalString
}
