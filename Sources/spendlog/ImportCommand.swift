import ArgumentParser
import SpendLog

extension PeerKind: ExpressibleByArgument {}

struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import the calls and limits of an llm-toll or llm-accounting database.",
        usage: "spendlog import --from llm-toll|llm-accounting [<options>] <database>",
        discussion: """
            Reads the SQLite database read-only. Each call becomes a record with its own time \
            (in UTC), tokens and cost as stored (floats to the nearest nano-dollar), \
            cost_source provided and the tags imported_from, import_source and import_row. \
            Record ids derive from the database's identity and the row id, so importing again \
            writes nothing. llm-accounting's usage limits become spendlog limits where they \
            map; what does not map (and llm-toll's budgets, whose maximum it does not store) \
            is listed. docs/IMPORT.md has the details.
            """)

    @OptionGroup var directory: DirectoryOptions
    @Option(help: "The program that wrote the database: llm-toll or llm-accounting.")
    var from: PeerKind
    @Argument(help: "The SQLite database (llm-toll: ~/.llm_toll.db; llm-accounting: data/accounting.sqlite).")
    var database: String
    @Option(
        name: .customLong("source-tz"),
        help: "IANA zone of timestamps stored without an offset (both peers store UTC).")
    var sourceTZ: String = "UTC"
    @Option(
        name: .customLong("source-id"),
        help: "The source's identity for record ids (default: derived from the database's first call).")
    var sourceID: String?
    @Option(name: .customLong("default-project"), help: "The project of calls stored without one.")
    var defaultProject: String = PeerImport.defaultProject
    @Flag(name: .customLong("dry-run"), help: "Print what would be imported; write nothing.")
    var dryRun = false
    @OptionGroup var durability: FsyncOption

    func validate() throws {
        _ = try durability.policy()
        if let sourceID {
            do { try UsageRecord.validateName(sourceID, field: "source-id") } catch {
                throw ValidationError("--source-id \(error.reason)")
            }
        }
        do { try UsageRecord.validateName(defaultProject, field: "default-project") } catch {
            throw ValidationError("--default-project \(error.reason)")
        }
    }

    func run() throws {
        try reportingBudgetErrors {
            let zone: ZoneInfo
            do throws(SpendLogError) { zone = try ZoneInfo.named(sourceTZ) } catch {
                printError("Error: --source-tz: \(error.message)")
                throw ExitCode(ExitCodes.usage)
            }
            let plan = try PeerImport.read(
                path: database, peer: from, zone: zone, sourceID: sourceID, defaultProject: defaultProject)
            print("source: \(from.rawValue) database '\(database)', identity \(plan.sourceID)")
            for skip in plan.skipped.prefix(1000) {
                printError("skipped: \(skip.table) id \(skip.row): \(skip.reason)")
            }
            if plan.skipped.count > 1000 { printError("… and \(plan.skipped.count - 1000) more skipped rows") }
            for note in plan.notes { print("note: " + note) }
            var limitsSet = 0
            var limitsAlready = 0
            var written = 0
            var already = 0
            if !dryRun {
                let log = try directory.open(create: true)
                var options = WriterOptions()
                options.fsync = try durability.policy()
                if !plan.records.isEmpty {
                    let receipt = try LogWriter(directory: log, options: options).appendOnce(contentsOf: plan.records)
                    written = receipt.records.count
                    already = receipt.alreadyRecorded.count
                }
                if !plan.limits.isEmpty {
                    let budget = makeBudget(log, writerOptions: options)
                    let existing = try budget.limits()
                    let now = try budgetClock()
                    for (source, rule) in plan.limits {
                        if existing.contains(where: {
                            $0.scope == rule.scope && $0.metric == rule.metric && $0.window == rule.window
                                && $0.maximum == rule.maximum
                        }) {
                            limitsAlready += 1
                            print("limit: \(source) → \(rule.summary) (already set)")
                            continue
                        }
                        let added = try budget.setLimit(rule, now: now)
                        limitsSet += 1
                        print("limit: \(source) → \(added.id) \(added.summary)")
                    }
                }
            } else {
                for (source, rule) in plan.limits { print("limit: \(source) → \(rule.summary)") }
            }
            for item in plan.unmapped { print("not mapped: \(item.source): \(item.reason)") }
            let s = { (n: Int) in n == 1 ? "" : "s" }
            if dryRun {
                print(
                    "dry run: read \(plan.rowsRead) row\(s(plan.rowsRead)), would import \(plan.records.count), "
                        + "skipped \(plan.skipped.count); limits: \(plan.limits.count) mapped, "
                        + "\(plan.unmapped.count) not mapped; nothing was written")
            } else {
                print(
                    "read \(plan.rowsRead) row\(s(plan.rowsRead)), imported \(written), already recorded \(already), "
                        + "skipped \(plan.skipped.count); limits: \(limitsSet) set, \(limitsAlready) already set, "
                        + "\(plan.unmapped.count) not mapped")
            }
        }
    }
}
