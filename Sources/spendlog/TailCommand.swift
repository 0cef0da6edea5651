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
            let page = try Query(directory: log).tail(
                filter: RecordFilter(projects: Set(project), models: Set(model)), count: n)
            for problem in page.problems { printError("Warning: \(problem.message)") }
            var out = OutputBuffer()
            if json {
                for record in page.records { out.write(bytes: record.jsonLine()) }
            } else {
                let rows = page.records.map { r in
                    [
                        r.timestamp.rfc3339, r.project, r.model, String(r.inputTokens), String(r.outputTokens),
                        costCell(r, repriced: page.repriced[r.id]), r.id.description,
                    ]
                }
                out.write(
                    TextTable.render(
                        header: ["TIME", "PROJECT", "MODEL", "IN", "OUT", "COST", "ID"], rows: rows,
                        rightAligned: [3, 4, 5]))
            }
            out.flush()
            noteDuplicates(page.duplicates)
            if !page.problems.isEmpty { throw ExitCode(ExitCodes.dataError) }
        }
    }
}
