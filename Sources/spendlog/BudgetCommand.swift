import ArgumentParser
import SpendLog

struct BudgetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "budget",
        abstract: "Show spend against the limits, reset a scope, rebuild the counters.",
        subcommands: [BudgetStatusCommand.self, BudgetResetCommand.self, BudgetRebuildCommand.self])
}

struct BudgetStatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Per limit: spend in the current window, limit, % used, remaining, reset time, held.")

    @OptionGroup var directory: DirectoryOptions
    @Option(help: "table or json.")
    var format: TableOrJSON = .table

    func run() throws {
        try reportingBudgetErrors {
            let statuses = try makeBudget(try directory.open(create: true)).status(now: try budgetClock())
            if format == .json {
                var out = OutputBuffer()
                out.write(QueryJSON.budget(statuses))
                out.flush()
                return
            }
            let rows = statuses.map { s in
                let m = s.rule.metric
                return [
                    s.rule.id, s.rule.scope.description, m.rawValue, s.rule.window.description, m.format(s.spent),
                    m.format(s.rule.maximum), s.percentUsed + "%", m.format(s.remaining), m.format(s.held),
                    timeText(s.resetsAt),
                ]
            }
            let header = ["ID", "SCOPE", "TYPE", "WINDOW", "SPENT", "LIMIT", "USED", "REMAINING", "HELD", "RESETS"]
            print(TextTable.render(header: header, rows: rows), terminator: "")
        }
    }
}

struct BudgetResetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reset",
        abstract: "Stop counting everything recorded so far for the limits of a scope.",
        discussion: "Records with a time before the reset no longer count for those limits; a rebuild keeps it so.")

    @OptionGroup var directory: DirectoryOptions
    @Option(help: "The scope of the limits to reset, exactly as `limit list` shows it.")
    var scope: String

    func validate() throws {
        do { _ = try LimitScope.parse(scope) } catch { throw ValidationError(error.cliMessage) }
    }

    func run() throws {
        try reportingBudgetErrors {
            let budget = makeBudget(try directory.open(create: true))
            try budget.reset(scope: try LimitScope.parse(scope), now: try budgetClock())
        }
    }
}

struct BudgetRebuildCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rebuild",
        abstract: "Recount the sidecar from the control journal and the whole log.",
        discussion: "With --check, exits 65 if the rebuilt counters differ from the live ones (they never should).")

    @OptionGroup var directory: DirectoryOptions
    @Flag(help: "Report whether the live sidecar differed from the rebuilt one.")
    var check = false

    func run() throws {
        try reportingBudgetErrors {
            let result = try makeBudget(try directory.open(create: true)).rebuild(now: try budgetClock())
            if check && result.differed {
                printError(
                    "Error: the live budget counters differed from a rebuild; the sidecar now holds the rebuilt ones.")
                throw ExitCode(ExitCodes.dataError)
            }
            print(check ? "rebuilt; the live counters were identical" : "rebuilt")
        }
    }
}
