import ArgumentParser
import SpendLog

#if canImport(Glibc)
    import Glibc
#endif

struct IndexCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "index",
        abstract: "Fold sealed segments into the rollups that queries read.",
        usage: "spendlog index [--rebuild] [<options>]",
        discussion: """
            Reads only sealed segments the index does not cover yet, and replaces the index \
            atomically: a crash leaves the previous index in place. Queries are always current \
            without it (they read what is not indexed yet); indexing keeps them fast. \
            See docs/FORMAT.md, "Index".
            """)

    @OptionGroup var directory: DirectoryOptions
    @Flag(help: "Rebuild from every segment instead of adding to the current index.")
    var rebuild = false
    @Flag(
        name: .customLong("allow-dropping-deleted"),
        help: "With --rebuild: drop the sums of indexed segments deleted since.")
    var allowDroppingDeleted = false
    @Option(parsing: .unconditional, help: "Threads to scan with (default: one per core).")
    var threads: String?
    @Flag(help: "Print what was indexed as JSON.")
    var json = false

    func run() throws {
        Indexer.returnFreedBuffersToTheSystem()
        try reportingErrors {
            var options = IndexOptions(rebuild: rebuild)
            options.allowDroppingDeleted = allowDroppingDeleted
            if let threads {
                guard let n = Int(threads), (1...256).contains(n) else {
                    throw ValidationError("--threads: must be a whole number from 1 to 256 (got '\(threads)').")
                }
                options.threads = n
            }
            let log = try directory.open(create: false)
            let showProgress = isatty(2) == 1
            let started = Timestamp.now()
            let report: IndexReport
            do {
                report = try Indexer(directory: log).run(options, progress: showProgress ? Self.printProgress : nil)
            } catch let error as SpendLogError where error.field == "rebuild" {
                var refused = error
                refused.message += " (Leave out --rebuild, or add --allow-dropping-deleted.)"
                throw refused
            }
            if showProgress { printError("\r\u{1B}[K", newline: false) }
            let seconds = Double(Timestamp.now().millisecondsSinceEpoch - started.millisecondsSinceEpoch) / 1000
            var out = OutputBuffer()
            if json {
                let value = JSONValue.object([
                    ("segments_indexed", .number(String(report.segmentsIndexed))),
                    ("records_indexed", .number(String(report.recordsIndexed))),
                    ("bytes_read", .number(String(report.bytesRead))),
                    ("segments_covered", .number(String(report.segmentsCovered))),
                    ("records_covered", .number(String(report.recordsCovered))),
                    ("duplicates", .number(String(report.duplicates))),
                    ("generation", report.generation.map { .string($0) } ?? .null),
                ])
                out.write(value.jsonText + "\n")
            } else if report.generation == nil {
                out.write(
                    "Index is up to date: \(report.segmentsCovered) segments, \(report.recordsCovered) records.\n")
            } else {
                out.write(
                    "Indexed \(report.segmentsIndexed) segments (\(report.recordsIndexed) records, "
                        + "\(report.bytesRead / 1_000_000) MB) in \(String(format1: seconds)) s; "
                        + "the index covers \(report.segmentsCovered) segments, \(report.recordsCovered) records.\n")
            }
            out.flush()
            noteDuplicates(report.duplicates)
        }
    }

    @Sendable static func printProgress(_ progress: IndexProgress) {
        printError(
            "\r\u{1B}[Kindexing: \(progress.segmentsDone)/\(progress.segmentsTotal) segments, \(progress.records) records",
            newline: false)
    }
}

extension String {
    /// One decimal, for durations shown to people.
    init(format1 value: Double) {
        let tenths = Int((value * 10).rounded())
        self = "\(tenths / 10).\(tenths % 10)"
    }
}
