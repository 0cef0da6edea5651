import ArgumentParser
import SpendLog

#if canImport(Glibc)
    import Glibc
#endif

struct IngestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest",
        abstract: "Record many calls from JSON lines (a file, or - for standard input).",
        usage: "spendlog ingest [<options>] [<file>]",
        discussion: """
            Each line is a record in the log's format (docs/FORMAT.md); v, id and ts are \
            filled in when absent. All or nothing: if any line is invalid, every bad line is \
            reported as 'line N: field: reason' and nothing is written (exit 65). With \
            --skip-invalid the valid lines are written and the others reported. The whole \
            input is one group commit. Lines without cost_usd are priced from the price table \
            (docs/PRICING.md).
            """)

    @OptionGroup var directory: DirectoryOptions
    @Argument(help: "File of JSON lines, or - for standard input.")
    var file: String = "-"
    @Flag(name: .customLong("skip-invalid"), help: "Write the valid lines and report the invalid ones.")
    var skipInvalid = false
    @OptionGroup var durability: FsyncOption
    @OptionGroup var pricing: PriceFileOption

    func run() throws {
        try reportingErrors {
            let input = try readInput()
            let now = Timestamp.now()
            var records: [UsageRecord] = []
            var lineNumbers: [Int] = []
            var unpricedIndices: [Int] = []
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
                        if parsed.costMissing { unpricedIndices.append(records.count) }
                        records.append(parsed.record)
                        lineNumbers.append(lineNumber)
                    } catch {
                        problems.append("line \(lineNumber): \(error.description)")
                    }
                }
            }
            // Lines without cost_usd are priced from the table, as `append` prices a call without --cost;
            // a line that cannot be priced is an invalid line.
            if !unpricedIndices.isEmpty {
                let failed = try priceRecords(&records, at: unpricedIndices, table: try pricing.table())
                for index in failed.keys.sorted() { problems.append("line \(lineNumbers[index]): \(failed[index]!)") }
                for index in failed.keys.sorted(by: >) { records.remove(at: index) }
            }
            let shown = problems.prefix(1000)
            for problem in shown { printError(problem) }
            if problems.count > shown.count { printError("… and \(problems.count - shown.count) more invalid lines") }
            if !problems.isEmpty && !skipInvalid {
                printError(
                    "Error: \(problems.count) invalid line\(problems.count == 1 ? "" : "s"); nothing was written. Fix them, or pass --skip-invalid to write the valid lines."
                )
                throw ExitCode(ExitCodes.dataError)
            }
            let log = try directory.open(create: true)
            var options = WriterOptions()
            options.fsync = try durability.policy()
            let writer = LogWriter(directory: log, options: options)
            if !records.isEmpty { try writer.append(contentsOf: records) }
            print(
                "ingested \(records.count) record\(records.count == 1 ? "" : "s")"
                    + (problems.isEmpty
                        ? "" : ", skipped \(problems.count) invalid line\(problems.count == 1 ? "" : "s")"))
            if !problems.isEmpty { throw ExitCode(ExitCodes.dataError) }
        }
    }

    private func readInput() throws -> [UInt8] { try readInputBytes(file) }

    /// One warning per unpriced model and one note per fallback, not one per line. Returns the
    /// records that could not be priced, by index, with the reason.
    private func priceRecords(_ records: inout [UsageRecord], at indices: [Int], table: PriceTable) throws -> [Int:
        String]
    {
        let pricer = RecordPricer(table: table)
        var unpriced: [(model: String, count: Int)] = []
        var notes: [String] = []
        var failed: [Int: String] = [:]
        for index in indices {
            let outcome: RecordPricer.Outcome
            do { outcome = try pricer.price(&records[index]) } catch {
                failed[index] = error.message
                continue
            }
            if case .priced(let breakdown) = outcome {
                for note in breakdown.notes where !notes.contains(note) { notes.append(note) }
            }
            if case .unpriced = outcome {
                if let i = unpriced.firstIndex(where: { $0.model == records[index].model }) {
                    unpriced[i].count += 1
                } else {
                    unpriced.append((records[index].model, 1))
                }
            }
        }
        for (model, count) in unpriced {
            printError(
                "Warning: \(count) line\(count == 1 ? "" : "s") of model '\(model)': "
                    + RecordPricer.unpricedWarning(model: model))
        }
        for note in notes { printError("Note: " + note) }
        return failed
    }
}
