import ArgumentParser
import SpendLog

struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check every segment: zstd checksums, JSON, record rules, day folders, duplicate ids.",
        discussion: "Prints a summary; exits 65 and names the file and byte offset of each problem found.")

    @OptionGroup var directory: DirectoryOptions

    func run() throws {
        try reportingErrors {
            let log = try directory.open(create: false)
            let report = try LogVerifier(directory: log).verify()
            for problem in report.problems { printError("Problem: \(problem)") }
            for note in report.notes { printError("Note: \(note)") }
            print(
                "\(report.segmentsChecked) segments (\(report.sealedSegments) sealed, \(report.activeSegments) active), \(report.records) records\(report.adjustments > 0 ? " (\(report.adjustments) adjustments)" : ""), \(report.problems.count) problem\(report.problems.count == 1 ? "" : "s")"
            )
            if !report.problems.isEmpty { throw ExitCode(ExitCodes.dataError) }
        }
    }
}
