import ArgumentParser
import SpendLog

#if canImport(Glibc)
    import Glibc
#endif

/// `--dir`, shared by every command.
struct DirectoryOptions: ParsableArguments {
    @Option(
        name: .long,
        help: "The log directory (default: $SPENDLOG_DIR, $XDG_DATA_HOME/spendlog, ~/.local/share/spendlog).")
    var dir: String?

    func validate() throws {
        if let dir { try DirectoryOptions.validate(dir: dir) }
    }

    static func validate(dir: String) throws {
        do { try LogDirectory.validate(path: dir) } catch { throw ValidationError(error.cliMessage) }
    }

    /// Opens (creating when `create`) the log directory.
    func open(create: Bool) throws -> LogDirectory { try DirectoryOptions.open(dir: dir, create: create) }

    /// Opens (creating when `create`) the log at `dir`, else the default log.
    static func open(dir: String?, create: Bool) throws -> LogDirectory {
        let path = try LogDirectory.resolvePath(explicit: dir, environment: ProcessEnvironment.all)
        return try LogDirectory.open(path, create: create)
    }
}

enum ProcessEnvironment {
    /// The environment, read once per process (a command looks several variables up).
    static let all: [String: String] = {
        var count = 0
        while environ[count] != nil { count += 1 }
        // Sized once: growing it would run the standard library's own copy of the resize for
        // [String: String], which finds the dictionary's type by demangling its name, a scan of
        // every conformance record of the binary (docs/PERFORMANCE.md, "CLI start-up").
        var result = [String: String](minimumCapacity: count)
        var pointer = environ
        while let entry = pointer.pointee {
            let bytes = UnsafeBufferPointer(
                start: UnsafeRawPointer(entry).assumingMemoryBound(to: UInt8.self), count: strlen(entry))
            if let eq = bytes.firstIndex(of: UInt8(ascii: "=")) {
                result[String(decoding: bytes[..<eq], as: UTF8.self)] = String(
                    decoding: bytes[(eq + 1)...], as: UTF8.self)
            }
            pointer += 1
        }
        return result
    }()

    /// One variable, without reading the others.
    static func value(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }
}

/// The process exit codes, documented in the root command's help and docs/CLI.md.
enum ExitCodes {
    static let failure: Int32 = 1
    static let usage: Int32 = 64
    static let dataError: Int32 = 65

    /// Arguments arrive as bytes; Swift would silently repair invalid UTF-8 with U+FFFD, which
    /// would then be recorded. Refuse instead, naming the argument.
    static func rejectInvalidUTF8Arguments() {
        for index in 1..<Int(CommandLine.argc) {
            guard let raw = CommandLine.unsafeArgv[index] else { continue }
            let bytes = UnsafeBufferPointer(
                start: UnsafeRawPointer(raw).assumingMemoryBound(to: UInt8.self), count: strlen(raw))
            if String(validating: bytes, as: UTF8.self) == nil {
                let previous = index > 1 ? CommandLine.arguments[index - 1] : ""
                let which = previous.hasPrefix("--") ? "the value of \(previous)" : "argument \(index)"
                printError("Error: \(which) is not valid UTF-8; names and values must be UTF-8 text.")
                exit(usage)
            }
        }
    }
}

extension ExitCodes {
    /// The most arguments a command takes: far more than any invocation needs.
    static let maximumArguments = 1024

    /// The argument parser's time grows with the square of the number of repeated options, so
    /// 10,000 `--tag` flags would take minutes before being refused: count them first.
    static func rejectTooManyArguments() {
        let arguments = CommandLine.arguments.dropFirst()
        let tags = arguments.filter { $0 == "--tag" || $0.hasPrefix("--tag=") }.count
        if tags > RecordSchema.maximumTagCount {
            printError("Error: --tag: \(tags) tags; a record has at most \(RecordSchema.maximumTagCount).")
            exit(usage)
        }
        if arguments.count > maximumArguments {
            printError("Error: \(arguments.count) arguments; a command takes at most \(maximumArguments).")
            exit(usage)
        }
    }
}

/// The flag that sets each field the library names in its errors (it never names flags itself).
enum FlagNames {
    static let byField: [String: String] = [
        "directory": "--dir", "prices": "--prices", "scope": "--scope", "fields": "--scope-fields",
        "type": "--type", "max": "--max", "window": "--window", "tz": "--tz", "soft": "--soft",
        "amount": "--max-usd", "ttl": "--ttl", "by": "--by", "cost_usd": "--cost", "rebuild": "--rebuild",
    ]

    /// `window` → `--window`; a record field `cached_input_tokens` → `--cached-input-tokens`,
    /// `tags.k` → `--tag`.
    static func flag(forField field: String) -> String {
        if let flag = byField[field] { return flag }
        if field.hasPrefix("tags") { return "--tag" }
        return "--" + field.replacingOccurrences(of: "_", with: "-")
    }
}

extension SpendLogError {
    /// The message with the field it names (if any) shown as the flag that sets it.
    var cliMessage: String {
        guard let field else { return message }
        return renamingField(to: FlagNames.flag(forField: field)).message
    }
}

/// Turns library errors into messages and exit codes.
struct CommandFailure: Error, CustomStringConvertible {
    var message: String
    var code: Int32
    var description: String { message }
}

func printError(_ text: String, newline: Bool = true) {
    var line = text
    if newline && !line.hasSuffix("\n") { line += "\n" }
    var bytes = Array(line.utf8)
    var offset = 0
    while offset < bytes.count {
        let n = bytes.withUnsafeMutableBytes { Glibc.write(2, $0.baseAddress! + offset, $0.count - offset) }
        if n <= 0 { break }
        offset += n
    }
}

/// Runs `body`, mapping ``SpendLogError`` to exit codes: invalid input 64, corruption or a
/// foreign format 65, I/O 1.
func withReportedErrors(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as SpendLogError {
        printError("Error: \(error.cliMessage)")
        if error.possiblyWritten.count > 8 {
            printError("Ids that may be in the log:\n" + error.possiblyWritten.joined(separator: "\n"))
        }
        switch error.code {
        case .invalidInput: throw ExitCode(ExitCodes.usage)
        case .corruption, .formatMismatch: throw ExitCode(ExitCodes.dataError)
        case .io: throw ExitCode(ExitCodes.failure)
        }
    }
}

extension ParsableCommand {
    /// See ``withReportedErrors(_:)``.
    func reportingErrors(_ body: () throws -> Void) throws { try withReportedErrors(body) }
}

/// Writes one line to standard output at once (no `print`: its generic path is a measurable part
/// of a one-record append).
func printLine(_ text: String) {
    var buffer = OutputBuffer()
    buffer.write(text + "\n")
    buffer.flush()
}

/// Flushes standard output in large writes.
struct OutputBuffer {
    private var bytes: [UInt8] = []

    mutating func write(_ text: String) {
        bytes.append(contentsOf: text.utf8)
        if bytes.count > 1 << 16 { flush() }
    }

    mutating func write(bytes more: [UInt8]) {
        bytes.append(contentsOf: more)
        if bytes.count > 1 << 16 { flush() }
    }

    mutating func flush() {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(1, $0.baseAddress! + offset, $0.count - offset) }
            if n <= 0 { break }
            offset += n
        }
        bytes.removeAll(keepingCapacity: true)
    }
}
