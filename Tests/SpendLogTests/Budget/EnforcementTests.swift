import Foundation
import Testing

@testable import SpendLog

@Suite struct EnforcementTests {
    @Test func aRefusedAppendWritesNothingAndNamesTheRuleWindowSpendLimitAndRemaining() throws {
        let temp = TemporaryDirectory()
        let log = try temp.log()
        let budget = Budget(directory: log)
        try budget.setLimit(try rule("project=etl", "cost", "1", "day"), now: time("2026-11-23T09:00:00Z"))
        #expect(try enforced(budget, call("0.6", at: "2026-11-23T10:00:00Z")))
        do {
            try budget.appendIfWithinLimits(call("0.5", at: "2026-11-23T10:01:00Z"), now: time("2026-11-23T10:01:00Z"))
            Issue.record("the append should have been refused")
        } catch let refusal as LimitExceeded {
            #expect(refusal.rule.id == "L1")
            #expect(refusal.spent == 600_000_000)
            #expect(refusal.remaining == 400_000_000)
            #expect(
                refusal.description
                    == "Limit L1 (project=etl, cost, day) would be exceeded: $0.6 spent in the current window + $0.5 requested > limit $1; remaining $0.4. Nothing was recorded."
            )
        }
        #expect(try readAll(log).count == 1)
        // Other scopes are not limited.
        #expect(try enforced(budget, call("5", at: "2026-11-23T10:02:00Z", project: "web")))
        #expect(try enforced(budget, call("0.4", at: "2026-11-23T10:03:00Z")))
        #expect(try !enforced(budget, call("0.000000001", at: "2026-11-23T10:04:00Z")))
    }

    @Test func aDailyLimitStartsAfreshAtMidnightUTC() throws {
        let temp = TemporaryDirectory()
        let budget = Budget(directory: try temp.log())
        try budget.setLimit(try rule("global", "cost", "0.01", "day"), now: time("2026-11-23T00:00:00Z"))
        #expect(try enforced(budget, call("0.01", at: "2026-11-23T23:59:59.000Z")))
        #expect(try !enforced(budget, call("0.001", at: "2026-11-23T23:59:59.999Z")))
        #expect(try enforced(budget, call("0.01", at: "2026-11-24T00:00:00.000Z")))
        #expect(try !enforced(budget, call("0.001", at: "2026-11-24T12:00:00.000Z")))
        let status = try budget.status(now: time("2026-11-24T12:00:00Z"))
        #expect(status[0].spent == 10_000_000)
        #expect(status[0].resetsAt == time("2026-11-25T00:00:00Z").millisecondsSinceEpoch)
    }

    @Test func aDailyLimitInATimeZoneRollsOverAtLocalMidnight() throws {
        let temp = TemporaryDirectory()
        let budget = Budget(directory: try temp.log())
        try budget.setLimit(
            try rule("global", "requests", "1", "day", zone: "Asia/Tokyo"), now: time("2026-11-23T00:00:00Z"))
        #expect(try enforced(budget, call("0", at: "2026-11-23T14:00:00Z")))  // 23:00 in Tokyo
        #expect(try !enforced(budget, call("0", at: "2026-11-23T14:59:59.999Z")))
        #expect(try enforced(budget, call("0", at: "2026-11-23T15:00:00Z")))  // midnight in Tokyo
    }

    @Test func aMonthlyLimitRollsOverOnTheFirst() throws {
        let temp = TemporaryDirectory()
        let budget = Budget(directory: try temp.log())
        try budget.setLimit(try rule("global", "cost", "3", "month"), now: time("2026-11-01T00:00:00Z"))
        #expect(try enforced(budget, call("2", at: "2026-11-03T00:00:00Z")))
        #expect(try enforced(budget, call("1", at: "2026-11-30T23:59:59.999Z")))
        #expect(try !enforced(budget, call("0.5", at: "2026-11-30T23:59:59.999Z")))
        #expect(try enforced(budget, call("3", at: "2026-12-01T00:00:00Z")))
    }

    @Test func aRollingWindowLetsSpendAgeOutBucketByBucket() throws {
        let temp = TemporaryDirectory()
        let budget = Budget(directory: try temp.log())
        try budget.setLimit(try rule("global", "cost", "1", "rolling:30m"), now: time("2026-11-23T09:00:00Z"))
        #expect(try enforced(budget, call("0.7", at: "2026-11-23T10:00:10Z")))  // bucket [10:00:00, 10:00:30)
        #expect(try enforced(budget, call("0.3", at: "2026-11-23T10:20:00Z")))
        #expect(try !enforced(budget, call("0.1", at: "2026-11-23T10:30:29.999Z")))
        // At 10:30:30 the first bucket has left the window; 0.3 remains counted.
        #expect(try enforced(budget, call("0.7", at: "2026-11-23T10:30:30Z")))
        #expect(try !enforced(budget, call("0.01", at: "2026-11-23T10:49:59Z")))
        #expect(try !enforced(budget, call("0.3", at: "2026-11-23T10:50:29.999Z")))
        #expect(try enforced(budget, call("0.3", at: "2026-11-23T10:50:30Z")))
        #expect(try budget.status(now: time("2026-11-23T10:50:30Z"))[0].spent == 1_000_000_000)
        #expect(try budget.rebuiltSidecar() == budget.checkpoint(now: time("2026-11-23T10:50:30Z")))
    }

    @Test func requestsAndTokenLimitsCountTheirOwnMetric() throws {
        let temp = TemporaryDirectory()
        let budget = Budget(directory: try temp.log())
        try budget.setLimit(
            try rule("model=gpt-4.1", "total-tokens", "250", "lifetime"), now: time("2026-11-23T09:00:00Z"))
        try budget.setLimit(try rule("global", "requests", "3", "hour"), now: time("2026-11-23T09:00:00Z"))
        #expect(try enforced(budget, call("0", at: "2026-11-23T10:00:00Z")))  // 110 tokens
        #expect(try enforced(budget, call("0", at: "2026-11-23T10:00:01Z")))  // 220
        #expect(try !enforced(budget, call("0", at: "2026-11-23T10:00:02Z")))  // 330 > 250
        #expect(try enforced(budget, call("0", at: "2026-11-23T10:00:03Z", model: "claude-sonnet-4")))
        #expect(try !enforced(budget, call("0", at: "2026-11-23T10:00:04Z", model: "claude-sonnet-4")))  // 4th request
        let status = try budget.status(now: time("2026-11-23T10:00:05Z"))
        #expect(status.map(\.spent) == [220, 3])
    }

    @Test func appendsWithoutEnforcementAreCountedIncludingSealedSegments() throws {
        let temp = TemporaryDirectory()
        let log = try temp.log()
        let budget = Budget(directory: log)
        try budget.setLimit(try rule("global", "cost", "1", "day"), now: time("2026-11-23T09:00:00Z"))
        #expect(try enforced(budget, call("0.25", at: "2026-11-23T10:00:00Z")))
        let plain = LogWriter(directory: log)
        try plain.append(call("0.25", at: "2026-11-23T10:01:00Z"))
        try plain.sealAll()
        try plain.append(call("0.25", at: "2026-11-23T10:02:00Z"))
        #expect(try enforced(budget, call("0.25", at: "2026-11-23T10:03:00Z")))
        #expect(try !enforced(budget, call("0.000000001", at: "2026-11-23T10:04:00Z")))
        // A second budget object (as another process would) sees the same.
        let other = Budget(directory: log)
        #expect(try other.status(now: time("2026-11-23T10:05:00Z"))[0].spent == 1_000_000_000)
        try plain.sealAll()
        #expect(try other.rebuiltSidecar() == other.checkpoint(now: time("2026-11-23T10:05:00Z")))
    }

    @Test func aLimitSetLaterCountsWhatWasAlreadyRecorded() throws {
        let temp = TemporaryDirectory()
        let log = try temp.log()
        try LogWriter(directory: log).append(call("0.75", at: "2026-11-23T08:00:00Z"))
        let budget = Budget(directory: log)
        try budget.setLimit(try rule("global", "cost", "1", "day"), now: time("2026-11-23T09:00:00Z"))
        #expect(try !enforced(budget, call("0.5", at: "2026-11-23T10:00:00Z")))
        #expect(try enforced(budget, call("0.25", at: "2026-11-23T10:00:00Z")))
    }

    @Test func aResetStopsCountingEarlierSpendAndSurvivesARebuild() throws {
        let temp = TemporaryDirectory()
        let log = try temp.log()
        let budget = Budget(directory: log)
        try budget.setLimit(try rule("project=etl", "cost", "1", "lifetime"), now: time("2026-11-23T09:00:00Z"))
        #expect(try enforced(budget, call("0.9", at: "2026-11-23T10:00:00Z")))
        #expect(try !enforced(budget, call("0.2", at: "2026-11-23T10:01:00Z")))
        try budget.reset(scope: try LimitScope.parse("project=etl"), now: time("2026-11-23T11:00:00Z"))
        #expect(try enforced(budget, call("0.2", at: "2026-11-23T11:00:00Z")))
        #expect(throws: SpendLogError.self) { try budget.reset(scope: try LimitScope.parse("project=web")) }
        let (_, differed) = try Budget(directory: log).rebuild(now: time("2026-11-23T11:00:01Z"))
        #expect(!differed)
        #expect(try Budget(directory: log).status(now: time("2026-11-23T11:00:01Z"))[0].spent == 200_000_000)
        try FileManager.default.removeItem(atPath: log.budgetPath + "/sidecar")
        #expect(try Budget(directory: log).status(now: time("2026-11-23T11:00:01Z"))[0].spent == 200_000_000)
    }

    @Test func aSoftLimitWarnsOncePerWindow() throws {
        let temp = TemporaryDirectory()
        let budget = Budget(directory: try temp.log())
        try budget.setLimit(try rule("global", "cost", "1", "day", soft: "0.5"), now: time("2026-11-23T09:00:00Z"))
        func warnings(_ cost: String, _ at: String) throws -> Int {
            try budget.appendIfWithinLimits(call(cost, at: at), now: time(at)).warnings.count
        }
        #expect(try warnings("0.4", "2026-11-23T10:00:00Z") == 0)
        #expect(try warnings("0.1", "2026-11-23T10:01:00Z") == 1)
        #expect(try warnings("0.1", "2026-11-23T10:02:00Z") == 0)
        #expect(
            try Budget(directory: budget.directory).appendIfWithinLimits(
                call("0.1", at: "2026-11-23T10:03:00Z"), now: time("2026-11-23T10:03:00Z")
            ).warnings.isEmpty)
        #expect(try warnings("0.6", "2026-11-24T10:00:00Z") == 1)
    }

    @Test func aDeletedLimitNoLongerApplies() throws {
        let temp = TemporaryDirectory()
        let budget = Budget(directory: try temp.log())
        let added = try budget.setLimit(try rule("global", "requests", "0", "lifetime"))
        #expect(try !enforced(budget, call("0", at: "2026-11-23T10:00:00Z")))
        try budget.deleteLimit(id: added.id)
        #expect(try enforced(budget, call("0", at: "2026-11-23T10:00:00Z")))
        #expect(try budget.limits().isEmpty)
    }

    @Test func aTornJournalLineIsIgnoredAndCutBeforeTheNextEvent() throws {
        let temp = TemporaryDirectory()
        let log = try temp.log()
        try Budget(directory: log).setLimit(try rule("global", "requests", "1", "lifetime"))
        let journal = log.budgetPath + "/journal.jsonl"
        let intact = FileManager.default.bytes(journal)
        writeBytes(intact + Array(#"{"event":"limit.set","at":"2026"#.utf8), to: journal)
        let budget = Budget(directory: log)
        #expect(try budget.limits().count == 1)
        try budget.setLimit(try rule("global", "requests", "5", "day"))
        let text = String(decoding: FileManager.default.bytes(journal), as: UTF8.self)
        #expect(text.split(separator: "\n").count == 2)
        #expect(try budget.limits().map(\.id) == ["L1", "L2"])
    }

    @Test func aBackDatedRecordIsCheckedInTheWindowItCountsIn() throws {
        let temp = TemporaryDirectory()
        let budget = try limitedBudget(temp, try rule("global", "cost", "1", "day"), setAt: "2026-11-22T00:00:00Z")
        let log = budget.directory
        let now = time("2026-11-23T10:00:00Z")
        try budget.appendIfWithinLimits(call("0.9", at: "2026-11-22T10:00:00Z"), now: now)
        do {
            try budget.appendIfWithinLimits(call("0.9", at: "2026-11-22T11:00:00Z"), now: now)
            Issue.record("a second $0.9 on 2026-11-22 passed that day's $1")
        } catch let refusal as LimitExceeded {
            #expect(refusal.spent == 900_000_000)
            #expect(refusal.windowStart == time("2026-11-22T00:00:00Z").millisecondsSinceEpoch)
            #expect(refusal.pastWindow)
            #expect(
                refusal.description.contains(
                    "$0.9 spent in the window of the record's time (from 2026-11-22T00:00:00.000Z) + $0.9 requested"),
                "\(refusal)")
        }
        // Today is untouched by yesterday's spend.
        try budget.appendIfWithinLimits(call("1", at: "2026-11-23T09:59:00Z"), now: now)
        #expect(try loggedSpend(log) == 1_900_000_000)
    }

    @Test func aRollingWindowChecksEveryWindowABackDatedRecordFallsIn() throws {
        let temp = TemporaryDirectory()
        let budget = try limitedBudget(temp, try rule("global", "cost", "1", "rolling:1h"))
        let now = time("2026-11-23T10:00:00Z")
        try budget.appendIfWithinLimits(call("0.6", at: "2026-11-23T10:00:00Z"), now: now)
        // 09:30 shares the window (09:30, 10:30] with the 10:00 record.
        #expect(throws: LimitExceeded.self) {
            try budget.appendIfWithinLimits(call("0.6", at: "2026-11-23T09:30:00Z"), now: now)
        }
        // 08:50 shares no window with it.
        try budget.appendIfWithinLimits(call("0.6", at: "2026-11-23T08:50:00Z"), now: now)
    }

    @Test func aFutureDatedRecordIsRefusedAndNothingIsWritten() throws {
        let temp = TemporaryDirectory()
        let budget = try limitedBudget(temp, try rule("global", "cost", "1", "day"))
        let log = budget.directory
        let now = time("2026-11-23T10:00:00Z")
        try budget.appendIfWithinLimits(call("0.9", at: "2026-11-23T10:00:00Z"), now: now)
        let journal = FileManager.default.bytes(budget.journalPath)
        do {
            try budget.appendIfWithinLimits(call("0.9", at: "2027-11-23T10:00:00Z"), now: now)
            Issue.record("a record dated next year was accepted")
        } catch let error as SpendLogError {
            #expect(error.code == .invalidInput)
            #expect(error.message.hasPrefix("ts: 2027-11-23T10:00:00.000Z is later than the clock"), "\(error.message)")
        }
        // Within the tolerance for clock jitter.
        try budget.appendIfWithinLimits(call("0.1", at: "2026-11-23T10:00:01Z"), now: now)
        #expect(try loggedSpend(log) == 1_000_000_000)
        #expect(FileManager.default.bytes(budget.journalPath) == journal)
        #expect(try budget.status(now: now)[0].spent == 1_000_000_000)
        #expect(try !enforced(budget, call("0.000000001", at: "2026-11-23T10:00:02Z")))
    }

    @Test func countersOfHugeRecordsSaturateInsteadOfTrapping() throws {
        let temp = TemporaryDirectory()
        let budget = try limitedBudget(temp, try rule("global", "total-tokens", "1000", "lifetime"))
        let log = budget.directory
        let huge = UsageRecord(
            timestamp: time("2026-11-23T10:00:00Z"), project: "etl", model: "gpt-4.1",
            inputTokens: RecordSchema.maximumTokenCount, outputTokens: RecordSchema.maximumTokenCount, cost: .zero)
        try LogWriter(directory: log, options: WriterOptions(fsync: .none)).append(
            contentsOf: Array(repeating: huge, count: 600))
        let status = try budget.status(now: time("2026-11-23T10:00:01Z"))[0]
        #expect(status.spent == Int64.max)
        #expect(status.remaining == 0)
        #expect(try !enforced(budget, call("0", at: "2026-11-23T10:00:01Z")))
    }

    @Test func aRecordDatedBeforeTheResetOfItsLimitIsRefused() throws {
        let temp = TemporaryDirectory()
        let budget = try limitedBudget(temp, try rule("project=etl", "cost", "1", "lifetime"))
        #expect(try enforced(budget, call("1", at: "2026-11-23T10:00:00Z")))
        try budget.reset(scope: try LimitScope.parse("project=etl"), now: time("2026-11-23T11:00:00Z"))
        let journal = FileManager.default.bytes(budget.journalPath)
        // Dated before the reset, it would never count against L1.
        #expect {
            try budget.appendIfWithinLimits(call("0.5", at: "2026-11-23T10:59:59Z"), now: time("2026-11-23T11:00:01Z"))
        } throws: { error in
            (error as? SpendLogError)?.message.hasPrefix(
                "ts: 2026-11-23T10:59:59.000Z is before the reset of project=etl at 2026-11-23T11:00:00.000Z") == true
        }
        #expect(try readAll(budget.directory).count == 1)
        #expect(FileManager.default.bytes(budget.journalPath) == journal)
        #expect(try enforced(budget, call("1", at: "2026-11-23T11:00:01Z")))
    }

    @Test func aCorruptSegmentBlocksEnforcementAndSaysHowToUnblockIt() throws {
        let temp = TemporaryDirectory()
        let budget = try limitedBudget(temp, try rule("global", "cost", "1", "day"))
        let writer = LogWriter(directory: budget.directory)
        try writer.append(call("0.1", at: "2026-11-23T10:00:00Z"))
        let segment = try #require(try LogReader(directory: budget.directory).segments().first)
        writeBytes(FileManager.default.bytes(segment.path) + Array("not a record\n".utf8), to: segment.path)
        do {
            try budget.appendIfWithinLimits(call("0.1", at: "2026-11-23T10:01:00Z"), now: time("2026-11-23T10:01:00Z"))
            Issue.record("appended past a segment that cannot be counted")
        } catch let error as SpendLogError {
            #expect(error.code == .corruption)
            #expect(error.path == segment.path)
            #expect(error.message.hasSuffix("then run `spendlog budget rebuild`."), "\(error.message)")
        }
        #expect(try LogReader(directory: budget.directory).segments().count == 1)
        // The rules are read without the log: listing them is not blocked.
        #expect(try budget.limits().map(\.id) == ["L1"])
        #expect(try Budget(directory: budget.directory).limits().map(\.id) == ["L1"])
    }

    /// A damaged journal line is reported with the journal's path, the line's byte offset and
    /// the field that is wrong, in the journal's own words: the library knows no flags.
    @Test(arguments: [
        (#""window":"fortnight","tz":"UTC","max":1"#, "window: unknown window 'fortnight'"),
        (#""window":"day","tz":"UTC","max":-1"#, "max: "),
        (#""window":"day","tz":"UTC","max":1,"soft":7"#, "soft: '7' must be a fraction"),
        (#""window":"day","tz":"../x","max":1"#, "tz: '../x' is not an IANA time zone name"),
    ])
    func aDamagedJournalLineNamesTheFileTheOffsetAndTheField(fields: String, reason: String) throws {
        let temp = TemporaryDirectory()
        let log = try temp.log()
        try FileSystem.makeDirectories(log.budgetPath)
        let journal = log.budgetPath + "/journal.jsonl"
        let good =
            #"{"event":"limit.set","at":"2026-11-23T09:00:00.000Z","id":"L1","scope":"global","type":"cost","window":"day","tz":"UTC","max":1}"#
            + "\n"
        let bad =
            #"{"event":"limit.set","at":"2026-11-23T09:00:00.000Z","id":"L2","scope":"global","type":"cost","#
            + fields + "}\n"
        writeBytes(Array((good + bad).utf8), to: journal)
        do {
            _ = try Budget(directory: log).status(now: time("2026-11-23T10:00:00Z"))
            Issue.record("a damaged journal line was accepted")
        } catch {
            #expect(error.code == .corruption)
            #expect(error.path == journal)
            #expect(error.offset == Int64(good.utf8.count))
            #expect(error.message.hasPrefix("'\(journal)' is corrupt at byte \(good.utf8.count): "), "\(error.message)")
            #expect(error.message.contains(reason), "\(error.message)")
            #expect(!error.message.contains("--"), "names a command-line flag: \(error.message)")
        }
    }

    @Test func aJournalLimitInAZoneThisSystemLacksSaysToInstallZoneDataNotToRemoveTheLine() throws {
        let temp = TemporaryDirectory()
        let log = try temp.log()
        try FileSystem.makeDirectories(log.budgetPath)
        let journal = log.budgetPath + "/journal.jsonl"
        writeBytes(
            Array(
                (#"{"event":"limit.set","at":"2026-11-23T09:00:00.000Z","id":"L1","scope":"global","type":"cost","#
                    + #""max":1,"window":"day","tz":"Nowhere/City"}"# + "\n").utf8), to: journal)
        do {
            _ = try Budget(directory: log).limits()
            Issue.record("a limit in an unknown zone was read")
        } catch {
            #expect(error.offset == 0)
            #expect(error.message.contains("the time zone 'Nowhere/City' of limit L1 cannot be loaded"))
            #expect(error.message.hasSuffix("do not remove the line, it holds a limit."), "\(error.message)")
        }
    }

    @Test func theJournalIsReadInChunksWithTheSameEventsAndEnd() throws {
        let temp = TemporaryDirectory()
        let budget = try limitedBudget(temp, try rule("global", "cost", "10", "day", soft: "0.1"))
        let fields = try LimitScope.parse("project=etl")
        for i in 0..<5 {
            let now = time("2026-11-23T10:00:0\(i)Z")
            let hold = try budget.reserve(fields: fields, amount: dollars("1"), ttlMs: 60_000, now: now)
            try budget.settle(hold.id, record: call("0.5", at: now.rfc3339), now: now)
        }
        let journal = ControlJournal(path: budget.journalPath)
        let whole = FileManager.default.bytes(budget.journalPath)
        writeBytes(whole + Array(#"{"event":"release","#.utf8), to: budget.journalPath)
        func events(chunk: Int, from offset: Int64 = 0) throws -> ([BudgetEvent], Int64) {
            var read: [BudgetEvent] = []
            let end = try journal.read(from: offset, chunkBytes: chunk) { read.append($0) }
            return (read, end)
        }
        let (all, end) = try events(chunk: 1 << 20)
        #expect(all.count == 12)
        #expect(end == Int64(whole.count))
        for chunk in [1, 7, 100, 333] {
            let (chunked, chunkedEnd) = try events(chunk: chunk)
            #expect(chunked == all, "chunks of \(chunk)")
            #expect(chunkedEnd == end)
        }
        let firstLine = Int64(whole.firstIndex(of: 0x0A)! + 1)
        #expect(try events(chunk: 13, from: firstLine).0 == Array(all.dropFirst()))
    }

    @Test func aRecordAheadOfTheClockFromAWriterThatDoesNotEnforceDropsNoCurrentSpend() throws {
        let temp = TemporaryDirectory()
        let budget = try limitedBudget(temp, try rule("global", "cost", "1", "rolling:1h"))
        #expect(try enforced(budget, call("0.9", at: "2026-11-23T09:05:00Z")))
        // Another host's clock is 40 minutes ahead.
        try LogWriter(directory: budget.directory).append(call("0", at: "2026-11-23T10:30:00Z"))
        let now = time("2026-11-23T09:50:00Z")
        #expect(try budget.status(now: now)[0].spent == 900_000_000)
        #expect(throws: LimitExceeded.self) {
            try budget.appendIfWithinLimits(call("0.2", at: now.rfc3339), now: now)
        }
        #expect(try budget.rebuiltSidecar() == budget.checkpoint(now: now))
    }

    @Test func aHoldLongerThanAYearIsRefused() throws {
        let temp = TemporaryDirectory()
        let budget = try limitedBudget(temp, try rule("global", "cost", "1", "day"))
        #expect(throws: SpendLogError.self) {
            try budget.reserve(fields: try LimitScope.parse("project=etl"), amount: .zero, ttlMs: .max)
        }
        #expect(lines(budget.journalPath).count == 1, "only the limit")
    }
}
