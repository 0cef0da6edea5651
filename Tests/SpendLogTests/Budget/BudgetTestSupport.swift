import Foundation
import Testing

@testable import SpendLog

func time(_ text: String) -> Timestamp { Timestamp.parse(text)! }

func dollars(_ text: String) -> Money { try! Money.parse(text) }

/// A record of `cost` dollars at `ts` (the enforced append's clock is passed separately).
func call(_ cost: String, at ts: String, project: String = "etl", model: String = "gpt-4.1") -> UsageRecord {
    UsageRecord(
        timestamp: time(ts), project: project, model: model, inputTokens: 100, outputTokens: 10, cost: dollars(cost))
}

func rule(_ scope: String, _ type: String, _ max: String, _ window: String, zone: String = "UTC", soft: String? = nil)
    throws -> LimitRule
{
    try LimitRule.parse(scope: scope, type: type, maximum: max, window: window, zone: zone, soft: soft)
}

/// A budget over a fresh log with one rule, set at `setAt`.
func limitedBudget(_ temp: TemporaryDirectory, _ limit: LimitRule, setAt: String = "2026-11-23T09:00:00Z") throws
    -> Budget
{
    let budget = Budget(directory: try temp.log())
    try budget.setLimit(limit, now: time(setAt))
    return budget
}

/// Appends through the budget at the record's own time; true when accepted.
@discardableResult
func enforced(_ budget: Budget, _ record: UsageRecord) throws -> Bool {
    do {
        try budget.appendIfWithinLimits(record, now: record.timestamp)
        return true
    } catch is LimitExceeded {
        return false
    }
}

/// Sum of the costs of every record in the log.
func loggedSpend(_ log: LogDirectory) throws -> Int64 { try readAll(log).reduce(0) { $0 + $1.cost.nanos } }

/// Starts `spendlog-harness` with its stdout in `output`.
func launchHarness(_ arguments: [String], output: String, environment: [String: String] = [:]) throws -> Process {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: TestPaths.harness)
    process.arguments = arguments
    var env = ProcessInfo.processInfo.environment
    for (key, value) in environment { env[key] = value }
    process.environment = env
    writeFile(output, Data())
    process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
    try process.run()
    return process
}

func lines(_ path: String) -> [String] {
    String(decoding: FileManager.default.bytes(path), as: UTF8.self).split(separator: "\n").map(String.init)
}
