import ArgumentParser
import SpendLog

#if canImport(Glibc)
    import Glibc
#endif

struct ReserveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reserve",
        abstract: "Hold an estimated cost against the limits before a call; print the reservation id.",
        usage: "spendlog reserve --scope-fields <fields> --max-usd <usd> [<options>]",
        discussion: """
            The hold counts against every limit whose scope the fields cover until \
            `spendlog settle ID` records the real call, `spendlog release ID` frees it, the \
            holder process exits, or --ttl passes. The holder is the calling process (the \
            parent of spendlog) unless --holder-pid says. Exits 3 when the hold does not fit.

            Example:
              id=$(spendlog reserve --scope-fields project=etl,model=gpt-4.1 \\
                  --max-usd 0.50 --ttl 10m)
            """)

    @OptionGroup var directory: DirectoryOptions
    @Option(
        name: .customLong("scope-fields"),
        help: "The call's fields: key=value[,key=value…] (project, model, provider, user, caller, tag:KEY).")
    var scopeFields: String
    @Option(name: .customLong("max-usd"), parsing: .unconditional, help: "The most the call may cost, in USD.")
    var maxUSD: String
    @Option(help: "How long the hold lasts at most: 30s, 10m, 2h, 1d.")
    var ttl: String = "10m"
    @Option(
        name: .customLong("holder-pid"), help: "The process whose exit ends the hold (default: the parent process).")
    var holderPID: Int32?
    @OptionGroup var store: BudgetStoreOptions

    func parsed() throws -> (LimitScope, Money, Int64) {
        let fields: LimitScope
        do { fields = try LimitScope.parse(scopeFields, field: "fields") } catch {
            throw ValidationError(error.cliMessage)
        }
        guard !fields.fields.isEmpty else {
            throw ValidationError("--scope-fields: give the call's fields, e.g. project=etl,model=gpt-4.1.")
        }
        let amount: Money
        do { amount = try Money.parse(maxUSD) } catch {
            throw ValidationError("--max-usd: '\(maxUSD.prefix(40))' \(error.description).")
        }
        if let holderPID {
            guard holderPID > 0 else { throw ValidationError("--holder-pid: must be a process id above 0.") }
            guard HolderProcess.process(holderPID).mayBeAlive else {
                throw ValidationError(
                    "--holder-pid: no process \(holderPID) is running on this host; its hold would end at once.")
            }
        }
        return (fields, amount, try parseDuration(ttl, option: "--ttl"))
    }

    func validate() throws { _ = try parsed() }

    func run() throws {
        try reportingBudgetErrors {
            let (fields, amount, ttlMs) = try parsed()
            let log = try directory.open(create: true)
            if let shared = try store.sharedBudget(log) {
                print(try shared.reserve(fields: fields, amount: amount, ttlMs: ttlMs, now: try budgetClock()).id)
                return
            }
            let budget = makeBudget(log)
            let reservation = try budget.reserve(
                fields: fields, amount: amount, ttlMs: ttlMs, holder: .process(holderPID ?? getppid()),
                now: try budgetClock())
            print(reservation.id)
        }
    }
}

struct SettleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "settle",
        abstract: "Record the real call of a reservation and free its hold; print the record id.",
        discussion: """
            Takes the same flags as `append`. The record is written whatever it costs \
            against the limits the hold covered (the money is spent: a call dearer than its \
            estimate can take them past their maximum). Limits the hold did not cover \
            (fields --scope-fields did not give, or that differ) are checked as with \
            `append --enforce`: exits 3 and writes nothing when one would be exceeded; the \
            hold stays open.

            Example:
              spendlog settle "$id" --project etl --model gpt-4.1 --input-tokens 1200 \\
                  --output-tokens 300 --cost 0.0048
            """)

    @OptionGroup var directory: DirectoryOptions
    @Argument(help: "The reservation id printed by `reserve`.")
    var id: String
    @OptionGroup var recording: RecordingOptions
    @OptionGroup var store: BudgetStoreOptions

    func validate() throws { try validateReservationID(id) }

    func run() throws {
        try reportingBudgetErrors {
            let now = try budgetClock()
            var built = try recording.makePricedRecord()
            if recording.record.ts == nil { built.timestamp = now }
            var options = WriterOptions()
            options.fsync = try recording.durability.policy()
            let log = try directory.open(create: true)
            if let shared = try store.sharedBudget(log, writerOptions: options) {
                let outcome = try shared.settle(id, record: built, now: now)
                printSharedOutcome(outcome)
                print(outcome.record.id)
                return
            }
            let budget = makeBudget(log, writerOptions: options)
            let result = try budget.settle(id, record: built, now: now)
            printWarnings(result.warnings)
            print(result.record.id)
        }
    }
}

struct ReleaseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "release", abstract: "Free a reservation's hold without recording a call.")

    @OptionGroup var directory: DirectoryOptions
    @Argument(help: "The reservation id printed by `reserve`.")
    var id: String
    @OptionGroup var store: BudgetStoreOptions

    func validate() throws { try validateReservationID(id) }

    func run() throws {
        try reportingBudgetErrors {
            let log = try directory.open(create: true)
            if let shared = try store.sharedBudget(log) {
                try shared.release(id, now: try budgetClock())
                return
            }
            try makeBudget(log).release(id, now: try budgetClock())
        }
    }
}
