import ArgumentParser
import SpendLog

struct LimitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "limit",
        abstract: "Set, list and delete spending limits.",
        subcommands: [LimitSetCommand.self, LimitListCommand.self, LimitDeleteCommand.self])
}

struct LimitSetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set",
        abstract: "Add a limit and print its id.",
        usage: "spendlog limit set --scope S --type T --max M --window W [<options>]",
        discussion: """
            Examples:
              spendlog limit set --scope project=etl --type cost --max 25 --window day \\
                  --soft 0.8
              spendlog limit set --scope global --type requests --max 1000 \\
                  --window rolling:1h
              spendlog limit set --scope project=etl,model=gpt-4.1 --type total-tokens \\
                  --max 5000000 --window month --tz Europe/Berlin
            """)

    @OptionGroup var directory: DirectoryOptions
    @Option(help: "global, or key=value[,key=value…] with keys project, model, provider, user, caller, tag:KEY.")
    var scope: String
    @Option(help: "cost (USD), requests, input-tokens, output-tokens or total-tokens.")
    var type: String
    @Option(parsing: .unconditional, help: "The hard maximum: exact USD for cost, a whole number otherwise.")
    var max: String
    @Option(help: "lifetime, hour, day, week (from Monday), month, or rolling:<n>m|h|d.")
    var window: String
    @Option(help: "IANA time zone of calendar windows (default UTC).")
    var tz: String = "UTC"
    @Option(
        parsing: .unconditional, help: "Soft threshold: a fraction of --max (0.8 or 80%) that warns once per window.")
    var soft: String?
    @Option(
        name: .customLong("on-store-failure"),
        help: ArgumentHelp(
            "With a budget store: fail-closed (refuse calls while it is unreachable; the default) or fail-open "
                + "(record them, marked budget_unchecked, to be counted by `budget rebuild --from`)."))
    var onStoreFailure: String?
    @OptionGroup var store: BudgetStoreOptions

    func policy() throws -> StoreFailurePolicy {
        guard let onStoreFailure else { return .failClosed }
        guard let policy = StoreFailurePolicy(rawValue: onStoreFailure) else {
            throw ValidationError("--on-store-failure: must be fail-closed or fail-open (got '\(onStoreFailure)').")
        }
        return policy
    }

    func rule() throws -> LimitRule {
        do {
            return try LimitRule.parse(scope: scope, type: type, maximum: max, window: window, zone: tz, soft: soft)
        } catch {
            throw ValidationError(error.cliMessage)
        }
    }

    func validate() throws {
        _ = try rule()
        _ = try policy()
    }

    func run() throws {
        try reportingBudgetErrors {
            let parsed = try rule()
            let log = try directory.open(create: true)
            if let shared = try store.sharedBudget(log) {
                let added: SharedLimit
                do { added = try shared.setLimit(parsed, policy: try policy(), now: try budgetClock()) } catch let e
                    as SpendLogError
                { throw e.renamingField(to: "--" + (e.field ?? "")) }
                print(added.rule.id)
                return
            }
            if onStoreFailure != nil {
                throw ValidationError(
                    "--on-store-failure: applies to limits kept in a budget store; none is configured "
                        + "(--budget-store-file, SPENDLOG_BUDGET_STORE or the log's budget/store).")
            }
            let budget = makeBudget(log)
            let added = try budget.setLimit(parsed, now: try budgetClock())
            print(added.id)
        }
    }
}

struct LimitListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List the limits.",
        usage: "spendlog limit list [--dir <dir>] [--format <format>] [<options>]")

    @OptionGroup var directory: DirectoryOptions
    @Option(help: "table or json.")
    var format: TableOrJSON = .table

    @OptionGroup var store: BudgetStoreOptions

    func run() throws {
        try reportingBudgetErrors {
            let log = try directory.open(create: true)
            if let shared = try store.sharedBudget(log) {
                let limits = try shared.limits()
                if format == .json {
                    print(
                        JSONValue.array(
                            limits.map { .object(ruleMembers($0.rule) + [("policy", .string($0.policy.rawValue))]) }
                        ).jsonText)
                    return
                }
                let rows = limits.map { l in
                    [
                        l.rule.id, l.rule.scope.description, l.rule.metric.rawValue,
                        l.rule.metric.format(l.rule.maximum),
                        l.rule.window.description, l.policy.rawValue,
                    ]
                }
                print(
                    TextTable.render(header: ["ID", "SCOPE", "TYPE", "MAX", "WINDOW", "ON STORE FAILURE"], rows: rows),
                    terminator: "")
                return
            }
            let rules = try makeBudget(log).limits()
            if format == .json {
                print(JSONValue.array(rules.map { .object(ruleMembers($0)) }).jsonText)
                return
            }
            let rows = rules.map { rule in
                [
                    rule.id, rule.scope.description, rule.metric.rawValue, rule.metric.format(rule.maximum),
                    rule.window.description, softText(rule),
                ]
            }
            print(
                TextTable.render(header: ["ID", "SCOPE", "TYPE", "MAX", "WINDOW", "SOFT"], rows: rows), terminator: "")
        }
    }
}

func softText(_ rule: LimitRule) -> String {
    rule.softPartsPerMillion.map { Money(nanos: $0 * 1000).decimalString } ?? "-"
}

/// A limit as JSON members: id, scope, type, max, window, tz, and soft when set.
func ruleMembers(_ rule: LimitRule) -> [(key: String, value: JSONValue)] { QueryJSON.ruleMembers(rule) }

struct LimitDeleteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete", abstract: "Delete a limit by id (L1, L2, …).")

    @OptionGroup var directory: DirectoryOptions
    @Argument(help: "The limit's id, as `limit list` shows it.")
    var id: String

    @OptionGroup var store: BudgetStoreOptions

    func validate() throws {
        try validateID(id, prefix: "L", kind: "a limit id like L1", hint: "`spendlog limit list` shows them.")
    }

    func run() throws {
        try reportingBudgetErrors {
            let log = try directory.open(create: true)
            if let shared = try store.sharedBudget(log) {
                try shared.deleteLimit(id: id)
                return
            }
            try makeBudget(log).deleteLimit(id: id, now: try budgetClock())
        }
    }
}
