import ArgumentParser
import SpendLog

#if canImport(Glibc)
    import Glibc
#endif

struct IngestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest",
        abstract: "Record many calls from JSON lines (a file, or - for standard input).",
        usage: "spendlog ingest [<options>] [<file>]",
        discussion: """
            Each line is a record in the log's format (docs/FORMAT.md); v, id and ts are \
            filled in when absent. All or nothing: if any line is invalid, every bad line is \
            reported as 'line N: field: reason' and nothing is written (exit 65). With \
            --skip-invalid the valid lines are written and the others reported. The whole \
            input is one group commit, and all or nothing: if writing fails, what was written \
            is taken back, or the error lists the ids that may be in the log. A line whose id \
            is already in the log (or earlier in the input) is a retry: noted, not written again. Lines without cost_usd are priced from the price table \
            (docs/PRICING.md).
            """)

    @OptionGroup var directory: DirectoryOptions
    @Argument(help: "File of JSON lines, or - for standard input.")
    var file: String = "-"
    @Flag(name: .customLong("skip-invalid"), help: "Write the valid lines and report the invalid ones.")
    var skipInvalid = false
    @OptionGroup var durability: FsyncOption
    @OptionGroup var pricing: PriceFileOption
    @OptionGroup var requirePrice: RequirePriceOption

    func validate() throws { _ = try durability.policy() }

    func run() throws {
        try reportingErrors {
            let batch = IngestBatch(
                try readInputBytes(file), now: Timestamp.now(), prices: try pricing.table(),
                requirePrice: requirePrice.required)
            for row in batch.unpriced.rows {
                printError(
                    "Warning: \(row.requests) line\(row.requests == 1 ? "" : "s") of model '\(row.model)': "
                        + RecordPricer.unpricedWarning(model: row.model))
            }
            for note in batch.pricingNotes { printError("Note: " + note) }
            let problems = batch.problems
            let shown = problems.prefix(1000)
            for problem in shown { printError(problem.description) }
            if problems.count > shown.count { printError("… and \(problems.count - shown.count) more invalid lines") }
            if !problems.isEmpty && !skipInvalid {
                printError(
                    "Error: \(problems.count) invalid line\(problems.count == 1 ? "" : "s"); nothing was written. Fix them, or pass --skip-invalid to write the valid lines."
                )
                throw ExitCode(ExitCodes.dataError)
            }
            let log = try directory.open(create: true)
            var options = WriterOptions()
            options.fsync = try durability.policy()
            let writer = LogWriter(directory: log, options: options)
            var written = batch.records
            var already: [UsageRecord] = []
            if !written.isEmpty {
                let receipt =
                    batch.givesIDs ? try writer.appendOnce(contentsOf: written) : try writer.append(contentsOf: written)
                written = receipt.records
                already = receipt.alreadyRecorded
            }
            for record in already.prefix(1000) {
                printError("Note: id \(record.id) is already in the log (or earlier in the input); not written again.")
            }
            if already.count > 1000 { printError("Note: … and \(already.count - 1000) more already recorded") }
            print(
                "ingested \(written.count) record\(written.count == 1 ? "" : "s")"
                    + (already.isEmpty ? "" : ", \(already.count) already recorded")
                    + (problems.isEmpty
                        ? "" : ", skipped \(problems.count) invalid line\(problems.count == 1 ? "" : "s")"))
            if !problems.isEmpty { throw ExitCode(ExitCodes.dataError) }
        }
    }
}
