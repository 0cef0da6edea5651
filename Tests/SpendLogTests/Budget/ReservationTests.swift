import Foundation
import Testing

@testable import SpendLog

@Suite struct ReservationTests {
    let fields = try! LimitScope.parse("project=etl,model=gpt-4.1")

    func budget(_ temp: TemporaryDirectory, max: String = "1") throws -> Budget {
        let budget = Budget(directory: try temp.log())
        try budget.setLimit(try rule("project=etl", "cost", max, "day"), now: time("2026-11-23T09:00:00Z"))
        return budget
    }

    @Test func aHoldCountsAgainstTheLimitUntilSettledWithTheRealCost() throws {
        let temp = TemporaryDirectory()
        let budget = try budget(temp)
        let now = time("2026-11-23T10:00:00Z")
        let hold = try budget.reserve(fields: fields, amount: dollars("0.7"), ttlMs: 600_000, now: now)
        #expect(try !enforced(budget, call("0.4", at: "2026-11-23T10:00:01Z")))
        #expect(throws: LimitExceeded.self) {
            try budget.reserve(fields: fields, amount: dollars("0.31"), ttlMs: 600_000, now: now)
        }
        var status = try budget.status(now: now)
        #expect(status[0].held == 700_000_000)
        #expect(status[0].remaining == 300_000_000)
        try budget.settle(hold.id, record: call("0.5", at: "2026-11-23T10:00:02Z"), now: time("2026-11-23T10:00:02Z"))
        status = try budget.status(now: time("2026-11-23T10:00:03Z"))
        #expect(status[0].held == 0)
        #expect(status[0].spent == 500_000_000)
        #expect(try readAll(budget.directory).map(\.cost) == [dollars("0.5")])
        #expect(throws: SpendLogError.self) {
            try budget.settle(hold.id, record: call("0.5", at: "2026-11-23T10:00:04Z"))
        }
        #expect(try readAll(budget.directory).count == 1)
        #expect(try budget.rebuiltSidecar() == budget.checkpoint(now: time("2026-11-23T10:00:05Z")))
    }

    @Test func aReleasedHoldFreesItsAmountWithoutARecord() throws {
        let temp = TemporaryDirectory()
        let budget = try budget(temp)
        let now = time("2026-11-23T10:00:00Z")
        let hold = try budget.reserve(fields: fields, amount: dollars("1"), ttlMs: 600_000, now: now)
        #expect(try !enforced(budget, call("0.1", at: "2026-11-23T10:00:01Z")))
        try budget.release(hold.id, now: now)
        #expect(try enforced(budget, call("1", at: "2026-11-23T10:00:02Z")))
        #expect(try budget.reservations(now: now).isEmpty)
    }

    @Test func aHoldExpiresAtItsDeadline() throws {
        let temp = TemporaryDirectory()
        let budget = try budget(temp)
        _ = try budget.reserve(fields: fields, amount: dollars("1"), ttlMs: 60_000, now: time("2026-11-23T10:00:00Z"))
        #expect(try !enforced(budget, call("0.1", at: "2026-11-23T10:00:59.999Z")))
        #expect(try enforced(budget, call("0.1", at: "2026-11-23T10:01:00Z")))
        let journal = String(decoding: FileManager.default.bytes(budget.journalPath), as: UTF8.self)
        #expect(journal.contains(#""event":"expire","at":"2026-11-23T10:01:00.000Z""#))
        #expect(journal.contains(#""reason":"deadline""#))
    }

    @Test func aHoldExpiresWhenItsHolderIsKilled() throws {
        let temp = TemporaryDirectory()
        let log = try temp.log()
        let budget = Budget(directory: log)
        try budget.setLimit(try rule("project=etl", "cost", "1", "day"))
        let now = time("2026-11-23T10:00:00Z")
        let holder = try launchHarness(
            ["hold", "--dir", log.path, "--fields", "project=etl,model=gpt-4.1", "--usd", "0.9", "--now", now.rfc3339],
            output: temp.path + "/hold")
        // Wait for the holder to report its reservation (it then waits to be killed).
        var id = ""
        while id.isEmpty && holder.isRunning {
            usleep(10_000)
            id = lines(temp.path + "/hold").first ?? ""
        }
        #expect(id.hasPrefix("R"))
        #expect(try budget.status(now: now)[0].held == 900_000_000)
        #expect(try !enforced(budget, call("0.2", at: now.rfc3339)))
        kill(holder.processIdentifier, SIGKILL)
        holder.waitForExit()
        #expect(try budget.status(now: now)[0].held == 0)
        #expect(try enforced(budget, call("0.2", at: now.rfc3339)))
        let journal = String(decoding: FileManager.default.bytes(budget.journalPath), as: UTF8.self)
        #expect(journal.contains(#""reason":"holder-exited""#))
        #expect(try budget.rebuiltSidecar() == budget.checkpoint(now: now))
    }

    @Test func aHoldOfAnotherHostExpiresOnlyByItsDeadline() throws {
        let temp = TemporaryDirectory()
        let budget = try budget(temp)
        let elsewhere = HolderProcess(pid: 999_999, startTicks: 1, host: "another-host")
        _ = try budget.reserve(
            fields: fields, amount: dollars("1"), ttlMs: 60_000, holder: elsewhere, now: time("2026-11-23T10:00:00Z"))
        #expect(try budget.status(now: time("2026-11-23T10:00:30Z"))[0].held == 1_000_000_000)
        #expect(try budget.status(now: time("2026-11-23T10:01:00Z"))[0].held == 0)
    }

    @Test func aSettleDearerThanItsHoldIsRecordedAndLaterAppendsAreRefused() throws {
        let temp = TemporaryDirectory()
        let budget = try budget(temp)
        let now = time("2026-11-23T10:00:00Z")
        let hold = try budget.reserve(fields: fields, amount: dollars("0.5"), ttlMs: 600_000, now: now)
        #expect(try enforced(budget, call("0.5", at: "2026-11-23T10:00:01Z")))
        // The call cost more than estimated: the money is spent, so it is recorded anyway.
        try budget.settle(hold.id, record: call("0.8", at: "2026-11-23T10:00:02Z"), now: time("2026-11-23T10:00:02Z"))
        let status = try budget.status(now: time("2026-11-23T10:00:03Z"))[0]
        #expect(status.spent == 1_300_000_000)
        #expect(status.remaining == 0)
        #expect(try !enforced(budget, call("0", at: "2026-11-23T10:00:04Z")))
    }

    @Test func aSettleOutsideTheHoldsFieldsIsCheckedAgainstTheRulesTheHoldDidNotCover() throws {
        let temp = TemporaryDirectory()
        let budget = try budget(temp)
        let now = time("2026-11-23T10:00:00Z")
        try budget.setLimit(try rule("model=gpt-4.1", "cost", "0.1", "day"), now: now)
        try budget.setLimit(try rule("project=web", "cost", "0", "day"), now: now)
        // The hold names only the project: the model rule is not held, so settling checks it.
        let hold = try budget.reserve(
            fields: try LimitScope.parse("project=etl"), amount: dollars("0.5"), ttlMs: 600_000, now: now)
        #expect(throws: LimitExceeded.self) {
            try budget.settle(hold.id, record: call("0.2", at: "2026-11-23T10:00:01Z"), now: now)
        }
        // A record of another project than the hold's is checked against that project's rules.
        #expect(throws: LimitExceeded.self) {
            try budget.settle(hold.id, record: call("0.05", at: "2026-11-23T10:00:01Z", project: "web"), now: now)
        }
        #expect(try readAll(budget.directory).isEmpty)
        #expect(try budget.reservations(now: now).map(\.id) == [hold.id])
        try budget.settle(hold.id, record: call("0.05", at: "2026-11-23T10:00:01Z"), now: now)
        #expect(try budget.status(now: now).map(\.spent) == [50_000_000, 50_000_000, 0])
    }

    /// A paid call is recorded once, under one lock hold, whatever became of its hold: past a
    /// rule the hold did not cover (the hold freed), or after the hold expired (nothing to free);
    /// a plain settle of an expired hold still refuses and writes nothing.
    @Test func aPaidCallIsRecordedPastAnUncoveredRuleAndAfterItsHoldExpired() throws {
        let temp = TemporaryDirectory()
        let budget = try budget(temp)
        let now = time("2026-11-23T10:00:00Z")
        try budget.setLimit(try rule("model=gpt-4.1", "cost", "0.1", "day"), now: now)
        let scope = try LimitScope.parse("project=etl")
        let hold = try budget.reserve(fields: scope, amount: dollars("0.5"), ttlMs: 600_000, now: now)
        let dear = call("0.2", at: "2026-11-23T10:00:01Z")
        try budget.settlePaidCall(hold.id, record: dear, now: now)
        #expect(try budget.reservations(now: now).isEmpty)

        let short = try budget.reserve(fields: scope, amount: dollars("0.1"), ttlMs: 1000, now: now)
        let later = time("2026-11-23T10:00:05Z")
        let late = call("0.05", at: "2026-11-23T10:00:04Z")
        #expect(throws: SpendLogError.self) { try budget.settle(short.id, record: late, now: later) }
        #expect(try readAll(budget.directory).map(\.id) == [dear.id])
        try budget.settlePaidCall(short.id, record: late, now: later)
        #expect(try readAll(budget.directory).map(\.id) == [dear.id, late.id])
        // project=etl, model=gpt-4.1: both calls counted once each; no hold left.
        #expect(try budget.status(now: later).map(\.spent) == [250_000_000, 250_000_000])
        #expect(try budget.status(now: later).map(\.held) == [0, 0])
    }

    @Test func aHoldIsRefusedByATokenOrCostRuleWithNothingLeft() throws {
        let temp = TemporaryDirectory()
        let budget = try budget(temp, max: "0")
        let now = time("2026-11-23T10:00:00Z")
        do {
            _ = try budget.reserve(fields: fields, amount: .zero, ttlMs: 600_000, now: now)
            Issue.record("a hold against an exhausted limit was accepted")
        } catch let refusal as LimitExceeded {
            #expect(refusal.description.contains("$0 requested ≥ limit $0; remaining $0"), "\(refusal)")
        }
        try budget.setLimit(try rule("project=etl", "total-tokens", "110", "day"), now: now)
        try budget.deleteLimit(id: "L1", now: now)
        let hold = try budget.reserve(fields: fields, amount: dollars("1"), ttlMs: 600_000, now: now)
        try budget.settle(hold.id, record: call("0.1", at: "2026-11-23T10:00:01Z"), now: time("2026-11-23T10:00:01Z"))
        #expect(throws: LimitExceeded.self) {
            try budget.reserve(fields: fields, amount: dollars("1"), ttlMs: 600_000, now: time("2026-11-23T10:00:02Z"))
        }
    }
}
