import Foundation
import Testing

@testable import SpendLog

/// A process killed at each step of check-and-append and of the sidecar replacement (the fault
/// seam, SIGKILL): after the next process takes the lock, the counters equal the sum of the log
/// and a rebuild.
@Suite struct BudgetCrashTests {
    static let points = [
        "budget.locked", "budget.afterCheck", "append.afterWrite", "budget.afterAppend",
        "budget.sidecar.afterTempWrite", "budget.sidecar.beforeRename", "budget.sidecar.afterRename",
        "budget.journal.afterWrite",
    ]

    func append(_ dir: String, _ cost: String, environment: [String: String] = [:]) throws -> ProcessResult {
        try runProcess(
            TestPaths.binary,
            [
                "append", "--enforce", "--dir", dir, "--project", "etl", "--model", "gpt-4.1", "--input-tokens", "10",
                "--output-tokens", "1", "--cost", cost,
            ],
            environment: environment.merging(["SPENDLOG_NOW": "2026-11-23T10:00:00Z"]) { a, _ in a })
    }

    @Test(arguments: points)
    func aCrashAtAnyStepCountsTheSpendExactlyOnce(point: String) throws {
        let temp = TemporaryDirectory()
        let log = try temp.log()
        try Budget(directory: log).setLimit(
            try rule("project=etl", "cost", "1", "day", soft: "0.5"), now: time("2026-11-23T09:00:00Z"))
        #expect(try append(log.path, "0.2").status == 0)
        #expect(try append(log.path, "0.2").status == 0)
        // The third append crosses the soft threshold, so it also writes a journal event.
        let crashed = try append(log.path, "0.2", environment: ["SPENDLOG_CRASH_AT": point])
        #expect(crashed.status != 0, "not killed at \(point)")
        #expect(crashed.stdout.isEmpty)
        let recorded = try loggedSpend(log)
        let written = point == "budget.locked" || point == "budget.afterCheck" ? 400_000_000 : 600_000_000
        #expect(recorded == Int64(written))
        let budget = Budget(directory: log)
        let now = time("2026-11-23T10:00:01Z")
        #expect(try budget.status(now: now)[0].spent == recorded)
        #expect(try budget.rebuiltSidecar() == budget.checkpoint(now: now))
        // And the next enforced append sees exactly what is left.
        let remaining = 1_000_000_000 - recorded
        #expect(try !enforced(budget, call(Money(nanos: remaining + 1).decimalString, at: "2026-11-23T10:00:02Z")))
        #expect(try enforced(budget, call(Money(nanos: remaining).decimalString, at: "2026-11-23T10:00:02Z")))
    }

    @Test func aCrashBetweenSettlingAndFreeingTheHoldOverCountsUntilReleasedNeverUnder() throws {
        let temp = TemporaryDirectory()
        let log = try temp.log()
        let budget = Budget(directory: log)
        try budget.setLimit(try rule("project=etl", "cost", "1", "day"), now: time("2026-11-23T09:00:00Z"))
        let env = ["SPENDLOG_NOW": "2026-11-23T10:00:00Z"]
        let reserved = try spendlog(
            ["reserve", "--dir", log.path, "--scope-fields", "project=etl,model=gpt-4.1", "--max-usd", "0.5"],
            environment: env)
        #expect(reserved.status == 0, "\(reserved.stderr)")
        let id = reserved.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let crashed = try spendlog(
            [
                "settle", id, "--dir", log.path, "--project", "etl", "--model", "gpt-4.1", "--input-tokens", "5",
                "--output-tokens", "5", "--cost", "0.3",
            ],
            environment: env.merging(["SPENDLOG_CRASH_AT": "budget.settle.afterAppend"]) { a, _ in a })
        #expect(crashed.status != 0)
        let now = time("2026-11-23T10:00:01Z")
        var status = try budget.status(now: now)[0]
        #expect(status.spent == 300_000_000)
        #expect(status.held == 500_000_000)
        try budget.release(id, now: now)
        status = try budget.status(now: now)[0]
        #expect(status.spent == 300_000_000)
        #expect(status.held == 0)
    }

    @Test func aReserveKilledBeforePrintingItsIdHoldsUntilItsDeadlineNeverLonger() throws {
        let temp = TemporaryDirectory()
        let log = try temp.log()
        let budget = Budget(directory: log)
        try budget.setLimit(try rule("project=etl", "cost", "1", "day"), now: time("2026-11-23T09:00:00Z"))
        let crashed = try spendlog(
            [
                "reserve", "--dir", log.path, "--scope-fields", "project=etl", "--max-usd", "0.5", "--ttl", "5m",
            ],
            environment: ["SPENDLOG_NOW": "2026-11-23T10:00:00Z", "SPENDLOG_CRASH_AT": "budget.journal.afterWrite"])
        #expect(crashed.status != 0)
        #expect(crashed.stdout.isEmpty)
        // Nobody knows the id, so nobody can release it: it counts until its deadline.
        var status = try budget.status(now: time("2026-11-23T10:04:59Z"))[0]
        #expect(status.held == 500_000_000)
        #expect(status.spent == 0)
        #expect(try budget.rebuiltSidecar() == budget.checkpoint(now: time("2026-11-23T10:04:59Z")))
        status = try budget.status(now: time("2026-11-23T10:05:00Z"))[0]
        #expect(status.held == 0)
    }
}
