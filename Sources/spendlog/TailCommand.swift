import ArgumentParser
import SpendLog

struct TailCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tail", abstract: "Show the most recent records, newest last.",
        usage: "spendlog tail [-n <n>] [<options>]")

    @OptionGroup var directory: DirectoryOptions
    @Option(name: .short, help: "How many records.")
    var n: Int = 10
    @Option(help: "Only this project (repeatable).")
    var project: [String] = []
    @Option(help: "Only this model (repeatable).")
    var model: [String] = []
    @Flag(help: "Print the records as JSON lines.")
    var json = false

    func validate() throws {
        guard n >= 0 else { throw ValidationError("-n: must not be negative.") }
    }

    func run() throws {
        try reportingErrors {
            let log = try directory.open(create: false)
            let reader = LogReader(directory: log)
            let filter = RecordFilter(projects: Set(project), models: Set(model))
            let segments = try reader.segments()
            let days = Array(Set(segments.map(\.name.day))).sorted(by: >)
            var found: [UsageRecord] = []
            var corrupt = false
            // Days partition records by their time: once N are found, earlier days cannot hold newer ones.
            for day in days where found.count < n {
                for segment in segments where segment.name.day == day {
                    do {
                        _ = try reader.readSegment(segment) { record, _ in
                            if filter.matches(record) { found.append(record) }
                        }
                    } catch let error as SpendLogError where error.code == .corruption {
                        printError("Warning: \(error.message)")
                        corrupt = true
                    }
                }
            }
            found.sort { ($0.timestamp, $0.id) < ($1.timestamp, $1.id) }
            var out = OutputBuffer()
            if json {
                for record in found.suffix(n) { out.write(bytes: record.jsonLine()) }
            } else {
                let rows = found.suffix(n).map { r in
                    [
                        r.timestamp.rfc3339, r.project, r.model, String(r.inputTokens), String(r.outputTokens),
                        r.costSource == .unpriced ? "unpriced" : "$" + r.cost.decimalString, r.id.description,
                    ]
                }
                out.write(
                    TextTable.render(
                        header: ["TIME", "PROJECT", "MODEL", "IN", "OUT", "COST", "ID"], rows: rows,
                        rightAligned: [3, 4, 5]))
            }
            out.flush()
            if corrupt { throw ExitCode(ExitCodes.dataError) }
        }
    }
}

/// Aligned plain-text tables for people.
enum TextTable {
    static func render(header: [String], rows: [[String]], rightAligned: Set<Int> = []) -> String {
        var widths = header.map(\.count)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        func line(_ cells: [String]) -> String {
            var text = ""
            for (i, cell) in cells.enumerated() {
                let padding = String(repeating: " ", count: widths[i] - cell.count)
                if i > 0 { text += "  " }
                text += rightAligned.contains(i) ? padding + cell : (i == cells.count - 1 ? cell : cell + padding)
            }
            return text + "\n"
        }
        return line(header) + rows.map(line).joined()
    }
}
