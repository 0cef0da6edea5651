import Foundation
import Testing

@testable import SpendLog

/// A log written through the CLI, with records of several days, hosts and projects, each with an
/// explicit `ts` (no test depends on the clock).
struct ExportLog {
    let folder: TemporaryDirectory
    var dir: String { folder.path + "/log" }
    var cursor: String { folder.path + "/cursor" }
    var serial = 0

    init(_ label: String) { folder = TemporaryDirectory(label) }

    /// `count` records through `ingest`, spread over `days` days from 2026-11-20, as `host`.
    mutating func add(_ count: Int, days: Int = 3, host: String = "web", dayOffset: Int = 0) throws {
        var lines: [String] = []
        for _ in 0..<count {
            serial += 1
            let i = serial
            let day = 20 + dayOffset + i % days
            let project = ["etl", "chat, \"beta\"", "search"][i % 3]
            let model = ["gpt-4.1", "claude-sonnet-4", "gemini-2.5-pro"][i % 3 == 0 ? 0 : (i % 5) % 3]
            let cached = i % 4 == 0 ? i % 50 : 0
            let write = i % 6 == 0 ? 3 : 0
            var fields = [
                "\"ts\":\"2026-11-\(day)T\(String(format: "%02d", i % 24)):\(String(format: "%02d", i % 60)):07.\(String(format: "%03d", i % 1000))Z\"",
                "\"project\":\(json(project))", "\"model\":\"\(model)\"", "\"input_tokens\":\(100 + i)",
                "\"output_tokens\":\(i % 97)", "\"cached_input_tokens\":\(cached)", "\"cache_write_tokens\":\(write)",
                "\"reasoning_tokens\":\(i % 97 / 3)", "\"cost_usd\":\(i % 7 == 0 ? "0" : "0.\(String(format: "%06d", i * 37 % 999_983))")",
            ]
            if i % 7 == 0 { fields.append("\"cost_source\":\"unpriced\"") }
            if i % 2 == 0 { fields.append("\"latency_ms\":\(i * 3)") }
            if i % 3 == 1 { fields.append("\"user\":\"u\(i % 4)\"") }
            if i % 11 == 0 { fields.append("\"status\":\"error\"") }
            if i % 5 == 0 { fields.append("\"tags\":{\"env\":\"prod\",\"team\":\"a,b\"}") }
            lines.append("{" + fields.joined(separator: ",") + "}")
        }
        let result = try spendlog(
            ["ingest", "--dir", dir, "-"], input: lines.joined(separator: "\n") + "\n",
            environment: ["SPENDLOG_HOST": host])
        #expect(result.status == 0, "\(result.stderr)")
    }

    func json(_ s: String) -> String { JSONValue.string(s).jsonText }

    @discardableResult
    func run(_ arguments: [String], environment: [String: String] = [:]) throws -> ProcessResult {
        try spendlog(arguments + ["--dir", dir], environment: environment)
    }

    /// Seals the active segments of the hosts ``add(_:days:host:dayOffset:)`` writes as.
    func seal() throws {
        for host in ["web", "api"] {
            let r = try spendlog(["seal", "--dir", dir], environment: ["SPENDLOG_HOST": host])
            #expect(r.status == 0, "\(r.stderr)")
        }
    }

    /// Every record line in the log, as stored (byte-exact), by id.
    func storedLines() throws -> [String: String] {
        var lines: [String: String] = [:]
        let log = try LogDirectory.open(dir, create: false)
        let reader = LogReader(directory: log)
        for segment in try reader.segments() {
            _ = try reader.readLines(segment) { line, _ throws(SpendLogError) in
                let text = String(decoding: line, as: UTF8.self)
                let id = try LogReader.recordID(of: line, in: segment, at: 0).description
                #expect(lines[id] == nil, "id \(id) twice in the log")
                lines[id] = text
            }
        }
        return lines
    }
}

/// The complete lines of an export's output (a killed run may end in a partial one).
func completeLines(_ output: String) -> [String] {
    var lines = output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    lines.removeLast()  // "" after the last "\n", or a partial line
    return lines
}

func recordID(ofLine line: String) -> String {
    let parsed = try? RecordParser.parse(line, mode: .stored)
    return parsed?.record.id.description ?? "not a record: \(line)"
}
