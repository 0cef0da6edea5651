import ArgumentParser
import SpendLog

struct SealCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seal",
        abstract: "Seal active segments into zstd files now.",
        discussion:
            "Seals every active segment of this host, or with --due only those past their size or age limit or of an earlier day (for a periodic job)."
    )

    @OptionGroup var directory: DirectoryOptions
    @Flag(help: "Seal only segments that are due (size, age, or an earlier day).")
    var due = false

    func run() throws {
        try reportingErrors {
            let log = try directory.open(create: false)
            let writer = LogWriter(directory: log)
            if due { try writer.sealDue() } else { try writer.sealAll() }
        }
    }
}
