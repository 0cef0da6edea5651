import ArgumentParser
import SpendLog

struct RepriceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reprice",
        abstract: "Price calls recorded unpriced, with today's price table, by appending adjustments.",
        usage: "spendlog reprice [--since <since>] [--apply] [<options>]",
        discussion: """
            Without --apply, lists what it would price and writes nothing. With --apply, appends \
            one adjustment per record (docs/FORMAT.md, "Adjustments"): a line in the record's day \
            folder that adds the cost; sealed segments are not rewritten. stats, the index and \
            budgets count it; requests and tokens do not change. A record is adjusted once: \
            repricing again writes nothing. Records with a provided or priced cost are never \
            repriced; records the table still has no price for are listed and left unpriced.
            """)

    @OptionGroup var directory: DirectoryOptions
    @OptionGroup var filters: QueryFilterOptions
    @OptionGroup var pricing: PriceFileOption
    @OptionGroup var durability: FsyncOption
    @Flag(help: "Append the adjustments (default: a dry run that writes nothing).")
    var apply = false
    @Option(help: "table or json.")
    var format: TableOrJSON = .table

    func validate() throws { _ = try durability.policy() }

    func run() throws {
        try reportingErrors {
            let filter = try filters.makeFilter()
            let table = try pricing.table()
            let log = try directory.open(create: false)
            let repricer = Repricer(directory: log, table: table)
            let plan = try repricer.plan(filter: filter)
            for note in plan.notes { printError("Note: " + note) }
            for problem in plan.problems { printError("Warning: \(problem.message)") }
            for message in plan.unusable { printError("Warning: not repriced: \(message)") }
            if apply && !plan.problems.isEmpty {
                // A damaged segment may hold adjustments this run cannot see.
                printError(
                    "Error: nothing was written: the damaged data listed may hold records or adjustments. Repair "
                        + "the files or move them out of the log, then reprice again.")
                throw ExitCode(ExitCodes.dataError)
            }
            var written: [UsageRecord] = []
            var already: [UsageRecord] = []
            if apply && !plan.adjustments.isEmpty {
                var options = WriterOptions()
                options.fsync = try durability.policy()
                let receipt = try repricer.apply(plan, writer: LogWriter(directory: log, options: options))
                written = receipt.records
                already = receipt.alreadyRecorded
            }
            var out = OutputBuffer()
            out.write(
                format == .json
                    ? RepriceOutput.json(plan, applied: apply, written: written.count, already: already.count)
                    : RepriceOutput.table(plan, applied: apply, written: written.count, already: already.count))
            out.flush()
            if !plan.problems.isEmpty { throw ExitCode(ExitCodes.dataError) }
        }
    }
}

enum RepriceOutput {
    static func table(_ plan: Repricer.Plan, applied: Bool, written: Int, already: Int) -> String {
        var text = ""
        let count = plan.adjustments.count
        if count > 0 {
            text += TextTable.render(
                header: ["TIME", "RECORD", "PROJECT", "MODEL", "COST"],
                rows: plan.adjustments.map {
                    [$0.timestamp.rfc3339, $0.adjusts?.description ?? "", $0.project, $0.model, "$" + $0.cost.decimalString]
                }, rightAligned: [4])
        }
        let records = "\(count) unpriced record\(count == 1 ? "" : "s")"
        if !applied {
            text += "Would price \(records): $\(plan.total.decimalString). Nothing was written; --apply records it.\n"
        } else {
            text += "Priced \(records): $\(plan.total.decimalString) in \(written) adjustment\(written == 1 ? "" : "s")"
            text += already > 0 ? " (\(already) written meanwhile by another run, not again).\n" : ".\n"
        }
        if plan.alreadyRepriced > 0 {
            text += "\(plan.alreadyRepriced) record\(plan.alreadyRepriced == 1 ? " was" : "s were") repriced before.\n"
        }
        let still = plan.stillUnpriced.sortedRows
        if !still.isEmpty {
            let models = still.map { "\($0.model) (\($0.requests))" }.joined(separator: ", ")
            text +=
                "\(plan.stillUnpriced.totalRequests) record(s) are still unpriced, no price for: \(models). Add "
                + "prices to your price file (docs/PRICING.md) and reprice again.\n"
        }
        return text
    }

    static func json(_ plan: Repricer.Plan, applied: Bool, written: Int, already: Int) -> String {
        let adjustments = plan.adjustments.map { a -> JSONValue in
            .object([
                ("id", .string(a.id.description)), ("adjusts", .string(a.adjusts?.description ?? "")),
                ("ts", .string(a.timestamp.rfc3339)), ("project", .string(a.project)), ("model", .string(a.model)),
                ("cost_usd", .number(a.cost.decimalString)),
            ])
        }
        let still = plan.stillUnpriced.sortedRows.map { row -> JSONValue in
            .object([("model", .string(row.model)), ("requests", .number(String(row.requests)))])
        }
        let document = JSONValue.object([
            ("applied", .bool(applied)), ("adjustments", .array(adjustments)),
            ("cost_usd", .number(plan.total.decimalString)), ("written", .number(String(written))),
            ("written_by_another_run", .number(String(already))),
            ("already_repriced", .number(String(plan.alreadyRepriced))), ("still_unpriced", .array(still)),
        ])
        return document.jsonText + "\n"
    }
}
