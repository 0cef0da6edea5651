import ArgumentParser
import Glibc
import SpendLog

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Stream records to standard output, resuming where the last export stopped.",
        usage: "spendlog export [--cursor <file>] [--format <format>] [<options>]",
        discussion: """
            Without --cursor, every matching record. With --cursor FILE, the records not emitted \
            by an earlier export of that cursor; FILE is replaced once the output is written \
            (at-least-once: an export killed before that emits its records again; ids tell the \
            copies apart). With --pending the new position goes to FILE.pending instead, and \
            `spendlog export --cursor FILE --commit`, run once the batch is stored, makes it the \
            cursor (exactly-once). See docs/SHIPPING.md.
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case jsonl, csv
        case otlpJSON = "otlp-json"
    }

    @OptionGroup var directory: DirectoryOptions
    @OptionGroup var filters: QueryFilterOptions
    @Option(help: "jsonl (records as stored), csv (for PostgreSQL COPY) or otlp-json (OpenTelemetry logs).")
    var format: Format = .jsonl
    @Option(help: "native (the record's keys) or otel (GenAI semantic conventions); otlp-json defaults to otel.")
    var schema: String?
    @Option(help: "The cursor file: export only what earlier exports of it did not.")
    var cursor: String?
    @Option(parsing: .unconditional, help: "At most this many records; the cursor stops after the last one.")
    var limit: String?
    @Flag(help: "Write the new position to <cursor>.pending; --commit makes it the cursor.")
    var pending = false
    @Flag(help: "Make <cursor>.pending the cursor (run after the batch was stored); exports nothing.")
    var commit = false

    func run() throws {
        try reportingErrors {
            let limitValue = try limit.map { text -> Int in
                guard let n = Int(text), n >= 0 else {
                    throw ValidationError("--limit: must be a whole number, 0 or more (got '\(text)').")
                }
                return n
            }
            if (pending || commit) && cursor == nil {
                throw ValidationError("--\(commit ? "commit" : "pending") needs --cursor.")
            }
            if pending && commit { throw ValidationError("--pending and --commit go in separate runs.") }
            if let cursor, cursor.isEmpty || cursor.hasSuffix("/") {
                throw ValidationError("--cursor: '\(cursor)' is not a file name.")
            }
            let schemaValue: ExportSchema
            if let schema {
                guard let value = ExportSchema(rawValue: schema) else {
                    throw ValidationError("--schema: '\(schema)' is not one of native, otel.")
                }
                schemaValue = value
            } else {
                schemaValue = format == .otlpJSON ? .otel : .native
            }
            let cursorFile = cursor.map { ExportCursorFile(path: $0) }
            if commit, let cursorFile {
                let lock = try cursorFile.lock()
                defer { withExtendedLifetime(lock) {} }
                if try cursorFile.commit() == .nothingPending {
                    printError("Note: nothing to commit: '\(cursorFile.pendingPath)' does not exist (committed already, or no batch was exported with --pending).")
                }
                return
            }
            let filter = try filters.makeFilter()
            let log = try directory.open(create: false)
            let filterText = ExportCursor.filterText(filter)
            var lock: ExportCursorLock?
            var start = ExportCursor(filter: filterText)
            var baseChecksum: UInt64 = 0
            if let cursorFile {
                lock = try cursorFile.lock()
                (start, baseChecksum) = try cursorFile.load(filter: filterText)
            }
            defer { withExtendedLifetime(lock) {} }

            var out = ExportOutput()
            var otlpBatch: [UsageRecord] = []
            let version = Spendlog.configuration.version
            if format == .csv { try out.write(Array(ExportFormat.csvHeader(schema: schemaValue).utf8)) }
            let exporter = Exporter(directory: log, cursorName: cursor.map { "The cursor '\($0)'" } ?? "The cursor")
            let result = try exporter.export(from: start, filter: filter, limit: limitValue) {
                line, record throws(SpendLogError) in
                switch format {
                case .jsonl:
                    if schemaValue == .native {
                        try out.write(line)
                        try out.write([0x0A])
                    } else {
                        try out.write(ExportFormat.jsonLine(record, schema: schemaValue))
                    }
                case .csv:
                    try out.write(Array(ExportFormat.csvRow(record).utf8))
                case .otlpJSON:
                    otlpBatch.append(record)
                    if otlpBatch.count == ExportCommand.otlpBatchSize {
                        try out.write(ExportFormat.otlpLine(otlpBatch, schema: schemaValue, scopeVersion: version))
                        otlpBatch.removeAll(keepingCapacity: true)
                    }
                }
            }
            if !otlpBatch.isEmpty {
                try out.write(ExportFormat.otlpLine(otlpBatch, schema: schemaValue, scopeVersion: version))
            }
            try out.finish()
            FaultInjection.reach("export.afterOutput")
            if let cursorFile {
                if pending {
                    try cursorFile.savePending(result.cursor, baseChecksum: baseChecksum)
                } else {
                    try cursorFile.save(result.cursor)
                }
            }
            for note in result.notes { printError("Note: " + note) }
            if let damage = result.stoppedBy {
                printError("Error: \(damage.message)")
                printError(
                    "The \(result.records) record\(result.records == 1 ? "" : "s") before the damage \(result.records == 1 ? "was" : "were") exported"
                        + (cursor == nil ? "." : "; the cursor stops at the damage, so the next export starts there again."))
                throw ExitCode(ExitCodes.dataError)
            }
        }
    }

    /// Log records per `ExportLogsServiceRequest` line.
    static let otlpBatchSize = 100
}

/// Standard output for an export: large writes, and every failure reported (the cursor must not
/// move past output that was not written). A regular file is fsynced before the cursor moves.
struct ExportOutput {
    private var bytes: [UInt8] = []

    mutating func write(_ more: [UInt8]) throws(SpendLogError) {
        bytes.append(contentsOf: more)
        if bytes.count >= 1 << 16 { try flush() }
    }

    mutating func write(_ more: UnsafeBufferPointer<UInt8>) throws(SpendLogError) {
        bytes.append(contentsOf: more)
        if bytes.count >= 1 << 16 { try flush() }
    }

    mutating func flush() throws(SpendLogError) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(1, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 {
                throw SpendLogError(
                    code: .io,
                    message:
                        "Could not write the export to standard output: \(String(cString: strerror(errno))). "
                        + "The cursor was not moved; the same records are exported again next time.")
            }
            offset += n
        }
        bytes.removeAll(keepingCapacity: true)
    }

    mutating func finish() throws(SpendLogError) {
        try flush()
        var st = stat()
        if fstat(1, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG && fsync(1) != 0 {
            throw SpendLogError(
                code: .io,
                message:
                    "Could not fsync the export written to standard output: \(String(cString: strerror(errno))). "
                    + "The cursor was not moved.")
        }
    }
}
