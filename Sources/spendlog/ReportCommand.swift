import ArgumentParser
import Glibc
import SpendLog

enum ReportOutputFormat: String, ExpressibleByArgument, CaseIterable {
    case html, md, csv, json
}

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "A report to read or share: HTML, Markdown, CSV or JSON.",
        usage: "spendlog report [--format <format>] [--out <file>] [<options>]",
        discussion: """
            By default the current calendar month so far (in --tz), compared with the same span of \
            the previous month; with --since/--until, that period against the one of the same \
            length just before. HTML is one self-contained file (no network, no scripts) that \
            prints cleanly; CSV is one table, chosen with --section: \
            \(ReportData.sectionIDs.joined(separator: ", ")). The JSON schema is in docs/REPORTS.md.
            """)

    @OptionGroup var directory: DirectoryOptions
    @Option(help: "html, md, csv or json.")
    var format: ReportOutputFormat = .html
    @Option(help: "Write the report to this file (replaced whole) instead of standard output.")
    var out: String?
    @Option(help: "The report's title.")
    var title: String?
    @Option(help: "The table CSV holds (see below).")
    var section: String?
    @OptionGroup var filters: QueryFilterOptions
    @OptionGroup var zone: TimeZoneOption

    func validate() throws {
        if format == .csv {
            guard let section else {
                throw ValidationError(
                    "--section: CSV holds one table; choose one of \(ReportData.sectionIDs.joined(separator: ", ")).")
            }
            guard ReportData.sectionIDs.contains(section) else {
                throw ValidationError(
                    "--section: '\(QueryFilterOptions.shown(section))' is not one of "
                        + ReportData.sectionIDs.joined(separator: ", ") + ".")
            }
        } else if section != nil {
            throw ValidationError("--section: only --format csv takes a section; the other formats hold them all.")
        }
        if let title {
            do { try UsageRecord.validateName(title, field: "--title") } catch {
                throw ValidationError("--title: \(error.reason).")
            }
        }
        if let out {
            guard !out.isEmpty else { throw ValidationError("--out: give a file name.") }
            let folder = out.lastIndex(of: "/").map { String(out[..<$0]) } ?? "."
            var info = stat()
            if stat(folder.isEmpty ? "/" : folder, &info) != 0 || (info.st_mode & S_IFMT) != S_IFDIR {
                throw ValidationError("--out: the folder '\(QueryFilterOptions.shown(folder))' does not exist.")
            }
            if stat(out, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR {
                throw ValidationError("--out: '\(QueryFilterOptions.shown(out))' is a directory; give a file name.")
            }
        }
    }

    func run() throws {
        try reportingBudgetErrors {
            let timeZone = try zone.zone()
            let filter = try filters.makeFilter(zone: timeZone)
            let now = try budgetClock()
            let log = try directory.open(create: false)
            var progress = ProgressLine()
            let data: ReportData
            do {
                data = try ReportData.build(
                    directory: log, filter: filter, timeZone: timeZone, now: now, title: title ?? "LLM spend report",
                    progress: { step, of, what in progress.show("report: \(step)/\(of) \(what)…") })
            } catch {
                progress.clear()
                throw error
            }
            progress.show("report: rendering…")
            let text: String
            switch format {
            case .html: text = data.html()
            case .md: text = data.markdown()
            case .json: text = data.json()
            case .csv: text = data.csv(section: section ?? "") ?? ""
            }
            progress.clear()
            if let out {
                try ReportData.write(text, to: out)
            } else {
                var buffer = OutputBuffer()
                buffer.write(text)
                buffer.flush()
            }
        }
    }
}

/// A progress line on standard error, shown only on a terminal and only once the work has taken
/// more than a second.
struct ProgressLine {
    private let start = ProgressLine.monotonicMs()
    private let enabled = isatty(2) == 1
    private var shown = false

    static func monotonicMs() -> Int64 {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Int64(t.tv_sec) * 1000 + Int64(t.tv_nsec) / 1_000_000
    }

    mutating func show(_ text: String) {
        guard enabled, ProgressLine.monotonicMs() - start > 1000 else { return }
        printError("\r\u{1B}[K" + text, newline: false)
        shown = true
    }

    mutating func clear() {
        guard shown else { return }
        printError("\r\u{1B}[K", newline: false)
        shown = false
    }
}
