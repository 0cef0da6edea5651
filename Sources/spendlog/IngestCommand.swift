import ArgumentParser
import SpendLog

#if canImport(Glibc)
import Glibc
#endif

struct IngestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest",
        abstract: "Record many calls from JSON lines (a file, or - for standard input).",
        discussion: """
            Each line is a record in the log's format (docs/FORMAT.md); v, id and ts are filled in
            when absent. All or nothing: if any line is invalid, every bad line is reported as
            'line N: field: reason' and nothing is written (exit 65). With --skip-invalid the valid
            lines are written and the others reported. The whole input is one group commit.
            """)

    @OptionGroup var directory: DirectoryOptions
    @Argument(help: "File of JSON lines, or - for standard input.")
    var file: String = "-"
    @Flag(name: .customLong("skip-invalid"), help: "Write the valid lines and report the invalid ones.")
    var skipInvalid = false
    @OptionGroup var durability: FsyncOption

    func run() throws {
        try reportingErrors {
            let input = try readInput()
            let now = Timestamp.now()
            var records: [UsageRecord] = []
            var problems: [String] = []
            var lineNumber = 0
            input.withUnsafeBufferPointer { bytes in
                var start = 0
                while start < bytes.count {
                    lineNumber += 1
                    var end = start
                    while end < bytes.count && bytes[end] != 0x0A { end += 1 }
                    var line = UnsafeBufferPointer(rebasing: bytes[start..<end])
                    if line.last == 0x0D { line = UnsafeBufferPointer(rebasing: line.dropLast()) }
                    start = end + 1
                    if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
                    do throws(RecordParseError) {
                        let parsed = try RecordParser.parse(line, mode: .input(now: now))
                        records.append(parsed.record)
                    } catch {
                        problems.append("line \(lineNumber): \(error.description)")
                    }
                }
            }
            let shown = problems.prefix(1000)
            for problem in shown { printError(problem) }
            if problems.count > shown.count { printError("… and \(problems.count - shown.count) more invalid lines") }
            if !problems.isEmpty && !skipInvalid {
                printError("Error: \(problems.count) invalid line\(problems.count == 1 ? "" : "s"); nothing was written. Fix them, or pass --skip-invalid to write the valid lines.")
                throw ExitCode(ExitCodes.dataError)
            }
            let log = try directory.open(create: true)
            var options = WriterOptions()
            options.fsync = try durability.policy()
            let writer = LogWriter(directory: log, options: options)
            if !records.isEmpty { try writer.append(contentsOf: records) }
            print("ingested \(records.count) record\(records.count == 1 ? "" : "s")" + (problems.isEmpty ? "" : ", skipped \(problems.count) invalid line\(problems.count == 1 ? "" : "s")"))
            if !problems.isEmpty { throw ExitCode(ExitCodes.dataError) }
        }
    }

    private func readInput() throws -> [UInt8] {
        let fd: Int32
        if file == "-" {
            fd = 0
        } else {
            if file.split(separator: "/", omittingEmptySubsequences: false).contains("..") {
                throw SpendLogError(code: .invalidInput, message: "FILE: '\(file)' contains a '..' component; give the path without '..'.")
            }
            fd = Glibc.open(file, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else {
                throw SpendLogError(code: .invalidInput, message: "Could not open '\(file)': \(String(cString: strerror(errno))).")
            }
        }
        defer { if fd != 0 { Glibc.close(fd) } }
        var data: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress!, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw SpendLogError(code: .io, message: "Could not read '\(file == "-" ? "standard input" : file)': \(String(cString: strerror(errno))).")
            }
            if n == 0 { break }
            data.append(contentsOf: chunk[0..<n])
        }
        return data
    }
}
