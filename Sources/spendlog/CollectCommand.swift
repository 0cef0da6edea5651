import ArgumentParser
import SpendLog

struct CollectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "collect",
        abstract: "Copy the sealed segments of other hosts' logs into one log.",
        usage: "spendlog collect <source> ... --into <dir> [--since <day>]",
        discussion: """
            Copies every sealed segment (.jsonl.zst) of each source log that the destination \
            does not hold yet, each through a temporary name in its day folder: written, \
            fsynced, decompressed in full with its zstd checksum, then linked into place. \
            Safe to run again (identical segments are skipped) and while the destination \
            is indexed or queried. A same-named segment with other bytes is reported, never \
            overwritten. Active segments are not copied: seal them on their host first \
            (spendlog seal). See docs/SCALE.md.
            """)

    @Argument(help: "Log directories to copy from.")
    var sources: [String]
    @Option(name: .customLong("into"), help: "The log directory to copy into (created if missing).")
    var into: String
    @Option(help: "Only days from this one on (YYYY-MM-DD): keeps regular runs to recent days.")
    var since: String?
    @Flag(help: "Print what was done as JSON.")
    var json = false

    func validate() throws {
        guard !sources.isEmpty else { throw ValidationError("Name at least one log directory to copy from.") }
        if let since, Timestamp.parseDateOrTime(since)?.dayString != since {
            throw ValidationError("--since: a day like 2026-11-23 (got '\(since)').")
        }
        for path in sources + [into] {
            do { try LogDirectory.validate(path: path) } catch { throw ValidationError(error.cliMessage) }
        }
    }

    func run() throws {
        try reportingErrors {
            let destination = try LogDirectory.open(into, create: true)
            var total = CollectReport()
            var out = OutputBuffer()
            for path in sources {
                let source = try LogDirectory.open(path, create: false)
                let report = try Collector(destination: destination).collect(from: source, since: since)
                total.copied += report.copied
                total.bytesCopied += report.bytesCopied
                total.alreadyPresent += report.alreadyPresent
                total.alreadyRetired += report.alreadyRetired
                total.problems += report.problems
                if !json {
                    out.write(
                        "\(source.path): copied \(report.copied.count) segments (\(report.bytesCopied) bytes), "
                            + "\(report.alreadyPresent) already present"
                            + (report.alreadyRetired > 0
                                ? ", \(report.alreadyRetired) already indexed and retired" : "")
                            + (report.problems.isEmpty ? "" : ", \(report.problems.count) not copied") + ".\n")
                }
            }
            if json {
                let value = JSONValue.object([
                    ("copied", .array(total.copied.map { .string($0) })),
                    ("bytes_copied", .number(String(total.bytesCopied))),
                    ("already_present", .number(String(total.alreadyPresent))),
                    ("already_retired", .number(String(total.alreadyRetired))),
                    ("problems", .array(total.problems.map { .string($0) })),
                ])
                out.write(value.jsonText + "\n")
            }
            out.flush()
            for problem in total.problems { printError("Problem: \(problem)") }
            if !total.problems.isEmpty { throw ExitCode(ExitCodes.dataError) }
        }
    }
}
