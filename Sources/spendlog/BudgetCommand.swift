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
        abstract: "Per limit: spend in the current window, limit, % used, remaining, reset time, held.",
        usage: "spendlog budget status [--dir <dir>] [--format <format>] [<options>]")

    @OptionGroup var directory: DirectoryOptions
    @Option(help: "table or json.")
    var format: TableOrJSON = .table
    @OptionGroup var store: BudgetStoreOptions

    func run() throws {
        try reportingBudgetErrors {
            let log = try directory.open(create: true)
            let statuses: [RuleStatus]
            if let shared = try store.sharedBudget(log) {
                statuses = try shared.status(now: try budgetClock())
            } else {
                statuses = try makeBudget(log).status(now: try budgetClock())
            }
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
        usage: "spendlog budget rebuild [--check] [--from <dir> ...] [<options>]",
        discussion: """
            With --check, exits 65 if the rebuilt counters differ from the live ones (they never should).

            With a budget store, --from names every host's log (gathered, e.g. by `spendlog collect`): \
            the store's counters are recounted from them, each counter that drifted is reported and \
            repaired, and calls counted but never recorded (a crash between the commit and the append) \
            are dropped once older than --pending-grace. With --check, exits 65 if anything drifted.

            Example:
              spendlog budget rebuild --budget-store-file /etc/spendlog/store \\
                  --from /gathered/host-a --from /gathered/host-b
            """)

    @OptionGroup var directory: DirectoryOptions
    @Flag(help: "Report whether the live sidecar differed from the rebuilt one.")
    var check = false
    @OptionGroup var store: BudgetStoreOptions
    @Option(
        parsing: .upToNextOption,
        help: ArgumentHelp("With a budget store: the logs of every host to recount from.", valueName: "dir"))
    var from: [String] = []
    @Option(
        name: .customLong("pending-grace"),
        help: "With --from: how old a count without a record must be to be dropped (0s, 30s, 10m, 2h; default 10m).")
    var pendingGrace: String = "10m"

    func graceMs() throws -> Int64 {
        try parseDuration(pendingGrace, option: "--pending-grace", allowZero: true)
    }

    func validate() throws {
        _ = try graceMs()
        for dir in from {
            do { try LogDirectory.validate(path: dir) } catch { throw ValidationError("--from: " + error.cliMessage) }
        }
    }

    func run() throws {
        try reportingBudgetErrors {
            let log = try directory.open(create: true)
            if let shared = try store.sharedBudget(log) {
                guard !from.isEmpty else {
                    throw ValidationError("--from: give the log of every host that records against the budget store.")
                }
                let logs = try from.map { try LogDirectory.open($0, create: false) }
                let report = try shared.rebuild(from: logs, pendingGraceMs: try graceMs(), now: try budgetClock())
                let limits = try shared.limits()
                let metrics = Dictionary(limits.map { ($0.rule.id, $0.rule.metric) }, uniquingKeysWith: { a, _ in a })
                print(
                    "counted \(report.records) records from \(logs.count) log\(logs.count == 1 ? "" : "s") "
                        + "(\(report.unchecked) marked \(SharedBudget.uncheckedKey))")
                print(
                    "pending counts: \(report.confirmed) confirmed by a record, \(report.dropped) dropped (no record), "
                        + "\(report.inFlight) kept (younger than --pending-grace)")
                for d in report.drift {
                    let m = metrics[d.rule] ?? .requests
                    print(
                        "drift: \(d.rule) bucket \(timeText(d.bucket)): the store had \(m.format(d.stored)), "
                            + "the logs give \(m.format(d.counted)); repaired")
                }
                print(report.drift.isEmpty ? "rebuilt; no drift" : "rebuilt; \(report.drift.count) counters repaired")
                if check && !report.drift.isEmpty { throw ExitCode(ExitCodes.dataError) }
                return
            }
            guard from.isEmpty else {
                throw ValidationError(
                    "--from: recounting from several logs needs a budget store (--budget-store-file, "
                        + "SPENDLOG_BUDGET_STORE or the log's budget/store).")
            }
            let result = try makeBudget(log).rebuild(now: try budgetClock())
            if check && result.differed {
                printError(
                    "Error: the live budget counters differed from a rebuild; the sidecar now holds the rebuilt ones.")
                throw ExitCode(ExitCodes.dataError)
            }
            print(check ? "rebuilt; the live counters were identical" : "rebuilt")
        }
    }
}
