import Foundation
import Testing

@testable import SpendLog

/// The scale of a crash, race or corruption run: the short form `make test` runs, or the count
/// `make soak-crash` sets in the environment variable `name`.
func soakCount(_ name: String, default value: Int) -> Int {
    ProcessInfo.processInfo.environment[name].flatMap { Int($0) } ?? value
}

/// A child process started by a crash test, with its output in files beside the log.
final class Child {
    let name: String
    let process: Process
    let stderrPath: String

    init(
        _ name: String, executable: String, _ arguments: [String], environment: [String: String] = [:],
        outputIn folder: String
    ) throws {
        self.name = name
        process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        process.environment = env
        stderrPath = folder + "/\(name).err"
        writeFile(folder + "/\(name).out", Data())
        writeFile(stderrPath, Data())
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: folder + "/\(name).out"))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: stderrPath))
        try process.run()
    }

    func wait() { process.waitForExit() }

    /// SIGKILL, whether from the test or from a fault point inside the child.
    var wasKilled: Bool { process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGKILL }

    /// Ended by a signal other than SIGKILL: a trap or a crash of its own.
    var crashed: Bool { process.terminationReason == .uncaughtSignal && process.terminationStatus != SIGKILL }

    var stderr: String { String(decoding: FileManager.default.bytes(stderrPath), as: UTF8.self) }
}

/// The sums a brute-force scan of the raw segment lines gives, per group.
struct RawSums: Equatable, CustomStringConvertible {
    var requests: Int64 = 0
    var inputTokens: Int64 = 0
    var outputTokens: Int64 = 0
    var costNanos: Int64 = 0

    init() {}

    init(_ metrics: RollupMetrics) {
        requests = metrics.requests
        inputTokens = metrics.inputTokens
        outputTokens = metrics.outputTokens
        costNanos = metrics.costNanos
    }

    var description: String { "\(requests) req, \(inputTokens) in, \(outputTokens) out, \(costNanos) n$" }
}

/// A reading of a log that shares no code with the library's reader: sealed segments are
/// decompressed by the `zstd` program, lines are parsed by Foundation, and costs are converted
/// from their decimal text by hand. It follows docs/FORMAT.md "Reading": `<stem>.jsonl.zst` wins
/// over `<stem>.jsonl`, `.sealing` files are never read, an active segment ends at its last `\n`.
final class BruteForceLog {
    let segmentsPath: String
    /// The lines of sealed segments, by path, size and inode (sealed files never change).
    private var cache: [String: (key: String, lines: [Line])] = [:]

    struct Line {
        var segment: String
        var id: String
        var task: String
        var project: String
        var model: String
        var day: String
        var inputTokens: Int64
        var outputTokens: Int64
        var costNanos: Int64
    }

    init(segmentsPath: String) { self.segmentsPath = segmentsPath }

    /// Every line of every segment, with the segment's path relative to `segments/`.
    func lines() throws -> [Line] {
        var files: [(segment: String, path: String, sealed: Bool)] = []
        for day in filesIn(segmentsPath) {
            let names = filesIn(segmentsPath + "/" + day)
            let sealed = Set(names.filter { $0.hasSuffix(".jsonl.zst") })
            for name in names
            where sealed.contains(name) || (name.hasSuffix(".jsonl") && !sealed.contains(name + ".zst")) {
                files.append((day + "/" + name, segmentsPath + "/" + day + "/" + name, sealed.contains(name)))
            }
        }
        try decompress(files.filter(\.sealed))
        var out: [Line] = []
        for file in files {
            if file.sealed {
                out += cache[file.path]!.lines
                continue
            }
            var text = FileManager.default.bytes(file.path)
            while let last = text.last, last != 0x0A { text.removeLast() }
            out += try parse(text, segment: file.segment)
        }
        return out
    }

    private static func key(_ path: String) -> String {
        var info = stat()
        stat(path, &info)
        return "\(info.st_size)/\(info.st_ino)"
    }

    /// Fills the cache for `paths` with one `zstd -dc` per file, all in one shell, the outputs
    /// separated by a NUL byte (which JSON text never holds).
    private func decompress(_ files: [(segment: String, path: String, sealed: Bool)]) throws {
        let stale = files.filter { cache[$0.path]?.key != Self.key($0.path) }
        let missing = stale.map(\.path)
        guard !missing.isEmpty else { return }
        let result = try runProcess(
            "/bin/sh", ["-c", "for f in \"$@\"; do zstd -dcq \"$f\" || exit 1; printf '\\0'; done", "sh"] + missing)
        guard result.status == 0 else {
            throw CrashCheckFailure("zstd -dc failed (\(result.status)): \(result.stderr)")
        }
        let outputs = Array(result.stdout.utf8).split(separator: 0, omittingEmptySubsequences: false)
        guard outputs.count == missing.count + 1 else {
            throw CrashCheckFailure("zstd -dc gave \(outputs.count - 1) outputs")
        }
        for (file, text) in zip(stale, outputs) {
            cache[file.path] = (Self.key(file.path), try parse(Array(text), segment: file.segment))
        }
    }

    private func parse(_ text: [UInt8], segment: String) throws -> [Line] {
        try text.split(separator: 0x0A).map { try parse(line: Array($0), segment: segment) }
    }

    private func parse(line raw: [UInt8], segment: String) throws -> Line {
        guard let object = try JSONSerialization.jsonObject(with: Data(raw)) as? [String: Any],
            let id = object["id"] as? String, let ts = object["ts"] as? String,
            let project = object["project"] as? String,
            let model = object["model"] as? String, let input = object["input_tokens"] as? Int,
            let output = object["output_tokens"] as? Int
        else {
            throw CrashCheckFailure("a line of \(segment) is not a record: \(String(decoding: raw, as: UTF8.self))")
        }
        return Line(
            segment: segment, id: id, task: object["task"] as? String ?? "", project: project, model: model,
            day: String(ts.prefix(10)), inputTokens: Int64(input), outputTokens: Int64(output),
            costNanos: try Self.costNanos(raw))
    }

    /// The `cost_usd` number of a raw line, as nano-dollars, from its decimal digits.
    static func costNanos(_ raw: [UInt8]) throws -> Int64 {
        let key = Array("\"cost_usd\":".utf8)
        guard let start = (0...(raw.count - key.count)).first(where: { Array(raw[$0..<($0 + key.count)]) == key })
        else { throw CrashCheckFailure("no cost_usd in \(String(decoding: raw, as: UTF8.self))") }
        var whole: Int64 = 0
        var fraction: Int64 = 0
        var fractionDigits = 0
        var inFraction = false
        for byte in raw[(start + key.count)...] {
            if byte == UInt8(ascii: ".") {
                inFraction = true
            } else if byte >= 0x30 && byte <= 0x39 {
                if inFraction {
                    fraction = fraction * 10 + Int64(byte - 0x30)
                    fractionDigits += 1
                } else {
                    whole = whole * 10 + Int64(byte - 0x30)
                }
            } else {
                break
            }
        }
        for _ in fractionDigits..<9 { fraction *= 10 }
        return whole * 1_000_000_000 + fraction
    }
}

struct CrashCheckFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// The sealed segments the current index generation covers, as `day=…/<file>` paths.
func manifestPaths(_ log: LogDirectory) -> Set<String> {
    let index = log.indexPath
    guard let current = FileManager.default.contents(atPath: index + "/CURRENT") else { return [] }
    let generation = String(decoding: current, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    let manifest = String(decoding: FileManager.default.bytes(index + "/" + generation + "/MANIFEST"), as: UTF8.self)
    return Set(
        manifest.split(separator: "\n").dropFirst().compactMap { $0.split(separator: "\t").first.map(String.init) })
}

/// Groups `lines` by the values `key` picks, summing what a rollup cell sums.
func group(_ lines: [BruteForceLog.Line], by key: (BruteForceLog.Line) -> [String?]) -> [[String?]: RawSums] {
    var sums: [[String?]: RawSums] = [:]
    for line in lines {
        var cell = sums[key(line), default: RawSums()]
        cell.requests += 1
        cell.inputTokens += line.inputTokens
        cell.outputTokens += line.outputTokens
        cell.costNanos += line.costNanos
        sums[key(line)] = cell
    }
    return sums
}

/// The rows of a library query in the same shape.
func group(_ result: StatsResult) -> [[String?]: RawSums] {
    var sums: [[String?]: RawSums] = [:]
    for row in result.rows { sums[row.keys] = RawSums(row.metrics) }
    return sums
}
