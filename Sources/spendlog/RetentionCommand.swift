import ArgumentParser
import SpendLog

struct RetentionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retention",
        abstract: "List, or with --apply remove, old segments the index already holds.",
        usage: "spendlog retention --keep <n>d [--apply] [<options>]",
        discussion: """
            Only whole sealed segments of days wholly older than the horizon (today minus \
            --keep, at 00:00 UTC) are removed, and only those the index lists with their exact \
            bytes: their sums stay in the index, so stats over those months still answers. \
            Active and unindexed segments stay. Refuses, naming the limit, when a limit's \
            window reaches past the horizon. Without --apply nothing is removed. See \
            docs/SCALE.md.
            """)

    @OptionGroup var directory: DirectoryOptions
    @Option(parsing: .unconditional, help: "How many days to keep, like 90d.")
    var keep: String
    @Flag(help: "Remove the segments listed instead of only listing them.")
    var apply = false
    @Flag(help: "Print the plan as JSON.")
    var json = false

    func run() throws {
        guard keep.hasSuffix("d"), let days = Int(keep.dropLast()), days >= 1, days <= 100_000 else {
            throw ValidationError("--keep: a number of days from 1 to 100000 followed by d, like 90d (got '\(keep)').")
        }
        try reportingErrors {
            let log = try directory.open(create: false)
            let now = try budgetClock()
            let retention = Retention(directory: log)
            let plan =
                apply ? try retention.apply(keepDays: days, now: now) : try retention.plan(keepDays: days, now: now)
            var out = OutputBuffer()
            if json {
                let value = JSONValue.object([
                    ("horizon", .string(plan.horizon.dayString)),
                    ("applied", .bool(apply)),
                    ("removable", .array(plan.removable.map { .string($0.path) })),
                    ("bytes", .number(String(plan.removableBytes))),
                    ("records", .number(String(plan.removableRecords))),
                    (
                        "kept",
                        .array(
                            plan.kept.map {
                                .object([("path", .string($0.segment.path)), ("reason", .string($0.reason))])
                            })
                    ),
                    ("blocking_limits", .array(plan.blockingRules.map { .string($0.id) })),
                ])
                out.write(value.jsonText + "\n")
            } else {
                for segment in plan.removable {
                    out.write((apply ? "removed " : "would remove ") + segment.path + "\n")
                }
                for (segment, reason) in plan.kept { out.write("keeps \(segment.path): \(reason)\n") }
                if !plan.kept.isEmpty {
                    out.write(
                        "(Old active segments go once sealed: spendlog seal --due; unindexed ones once indexed: spendlog index.)\n"
                    )
                }
                out.write(
                    "\(apply ? "Removed" : "Would remove") \(plan.removable.count) segments (\(plan.removableRecords) "
                        + "records, \(plan.removableBytes) bytes) of days before \(plan.horizon.dayString); "
                        + "\(plan.kept.count) older segments kept.\n")
            }
            out.flush()
            if !apply, let rule = plan.blockingRules.first {
                printError(
                    "Error: --keep: limit \(rule.id) (\(rule.summary)) counts records from before "
                        + "\(plan.horizon.dayString): --apply would refuse. Keep more days, or delete the limit.")
                throw ExitCode(ExitCodes.usage)
            }
        }
    }
}
