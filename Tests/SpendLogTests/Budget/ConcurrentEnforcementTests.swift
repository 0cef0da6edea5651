import Foundation
import Testing

@testable import SpendLog

/// Eight real processes race enforced appends against one limit, and one of them is killed with
/// SIGKILL at a different step each round (through the fault seam, so the kill lands exactly
/// between two system calls). Rounds use fsync `none` to keep the suite fast, except round 0,
/// which uses `always`. The killed process checkpoints after every append, so that the kill
/// also lands inside sidecar replacements; the others checkpoint every 64 KiB of log.
@Suite(.serialized) struct ConcurrentEnforcementTests {
    static let killPoints = [
        "budget.afterAppend", "budget.sidecar.afterTempWrite", "budget.sidecar.afterRename", "append.afterWrite",
        "budget.afterCheck", "budget.locked", "budget.sidecar.beforeRename",
    ]

    /// The racers' clock, so that the day window is the same whatever day the suite runs.
    static let now = Timestamp.parse("2026-11-23T10:00:00Z")!

    struct Round {
        var accepted: [Int64] = []
        var refused: [Int64] = []
        var killedStatus: Int32 = 0
        var killedAccepted = 0
    }

    func race(_ log: LogDirectory, in temp: TemporaryDirectory, round: Int, costs: (Int64, Int64)) throws -> Round {
        let killAt = 1 + round
        func launch(_ p: Int) throws -> Process {
            try launchHarness(
                [
                    "enforce", "--dir", log.path, "--count", "500", "--seed", String(round * 100 + p),
                    "--fsync", round == 0 ? "always" : "none", "--min-nanos", String(costs.0), "--max-nanos",
                    String(costs.1), "--now", Self.now.rfc3339,
                ]
                    + (p == 0 ? ["--checkpoint-bytes", "0"] : []),
                output: temp.path + "/out\(p)",
                environment: p == 0
                    ? ["SPENDLOG_CRASH_AT": "\(Self.killPoints[round % Self.killPoints.count])@\(killAt)"] : [:])
        }
        // The doomed process starts first and is let through `killAt - 1` appends before the others
        // start, so that it certainly reaches its kill point however the race is scheduled.
        let doomed = try launch(0)
        while doomed.isRunning && lines(temp.path + "/out0").count < killAt - 1 { usleep(1000) }
        let processes = try [doomed] + (1..<8).map { try launch($0) }
        for process in processes { process.waitForExit() }
        var result = Round()
        result.killedStatus = processes[0].terminationStatus
        result.killedAccepted = lines(temp.path + "/out0").filter { $0.hasPrefix("ok") }.count
        #expect(processes.dropFirst().allSatisfy { $0.terminationStatus == 0 })
        for p in 0..<8 {
            for line in lines(temp.path + "/out\(p)") {
                let parts = line.split(separator: " ")
                if parts[0] == "ok" {
                    result.accepted.append(Int64(parts[1])!)
                } else {
                    result.refused.append(Int64(parts[1])!)
                }
            }
        }
        return result
    }

    @Test func eightProcessesNeverOverspendACostLimitEvenWhenOneIsKilled() throws {
        for round in 0..<20 {
            let temp = TemporaryDirectory()
            let log = try temp.log()
            let limit: Int64 = 1_000_000_000
            try Budget(directory: log).setLimit(try rule("global", "cost", "1", "day"))
            let result = try race(log, in: temp, round: round, costs: (100_000, 1_000_000))
            #expect(result.killedStatus != 0, "round \(round): the process was not killed")
            let recorded = try loggedSpend(log)
            #expect(recorded <= limit, "round \(round): overspent, \(recorded) > \(limit)")
            #expect(!result.refused.isEmpty)
            #expect(limit - recorded < result.refused.min()!, "round \(round): refused a cost that fitted")
            // Every acknowledged append is in the log (an unacknowledged one may be, from the kill).
            #expect(result.accepted.reduce(0, +) <= recorded)
            let budget = Budget(directory: log)
            let live = try budget.checkpoint(now: Self.now)
            #expect(try budget.rebuiltSidecar() == live, "round \(round): sidecar differs from a rebuild")
            #expect(try budget.status(now: Self.now)[0].spent == recorded)
        }
    }

    @Test func eightProcessesGetExactlyTheAllowedNumberOfRequests() throws {
        for round in 0..<20 {
            let temp = TemporaryDirectory()
            let log = try temp.log()
            try Budget(directory: log).setLimit(try rule("global", "requests", "1000", "lifetime"))
            let result = try race(log, in: temp, round: round, costs: (0, 1000))
            #expect(result.killedStatus != 0, "round \(round): not killed, \(result.killedAccepted) accepted")
            #expect(try readAll(log).count == 1000, "round \(round)")
            #expect(result.accepted.count >= 999 && result.accepted.count <= 1000)
            let budget = Budget(directory: log)
            #expect(try budget.rebuiltSidecar() == budget.checkpoint(now: Self.now), "round \(round)")
        }
    }
}
