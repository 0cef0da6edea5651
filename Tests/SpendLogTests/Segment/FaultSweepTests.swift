import Foundation
import SystemPackage
import Testing

@testable import SpendLog

/// Every write, fsync, rename, open, flock and ftruncate of each operation fails in turn, at its
/// 1st, 2nd, … call, with EIO, ENOSPC or EDQUOT (through the errno seam), until the operation
/// runs without reaching the fault. Each outcome must keep the promise of docs/FORMAT.md, "What
/// an error promises": a success wrote exactly its records; a failure wrote nothing, or only
/// records whose ids its error names; derived state (index, checkpoint) never disagrees with a
/// recount. `make soak` runs every errno at every call; this runs one errno per call, in turn.
@Suite struct FaultSweepTests {
    static let syscalls: [Syscall.Name] = [.write, .fsync, .rename, .open, .flock, .ftruncate, .link, .unlink]
    static let errnos: [Errno] = [.ioError, .noSpace, .diskQuotaExceeded]
    static let now = Timestamp.parse("2026-11-24T12:00:00Z")!
    /// Every errno at every call (`SPENDLOG_SOAK=1`), or one per call in turn.
    static let exhaustive = ProcessInfo.processInfo.environment["SPENDLOG_SOAK"] != nil

    struct Tally {
        var cases = 0
        var faults = 0
        var failures = 0
        var possiblyWritten = 0
    }

    func record(_ i: Int, day: String = "2026-11-24") -> UsageRecord {
        var record = sampleRecord(i, at: "\(day)T10:00:00.000Z")
        record.cost = Money(nanos: Int64(i + 1) * 1_000_000)
        return record
    }

    /// A log with records of two days, one sealed segment, an index and a limit.
    func prepared(_ temp: TemporaryDirectory) throws -> LogDirectory {
        let log = try temp.log()
        let writer = LogWriter(directory: log, options: WriterOptions(fsync: .none))
        try writer.append(contentsOf: [record(0, day: "2026-11-23"), record(1, day: "2026-11-23")])
        try writer.sealAll()
        try writer.append(contentsOf: [record(2), record(3)])
        _ = try Indexer(directory: log).run()
        try Budget(directory: log).setLimit(
            LimitRule(scope: .global, metric: .cost, window: try LimitWindow.parse("lifetime"), maximum: 1_000_000_000),
            now: Self.now)
        return log
    }

    func ids(_ log: LogDirectory) throws -> [String] { try readAll(log).map(\.id.description) }

    /// Runs `operation` with each syscall failing at each call until it no longer reaches the
    /// fault, then calls `check` with the log before, the outcome, and the log.
    func sweep(
        _ name: String, _ tally: inout Tally,
        operation: (_ log: LogDirectory, _ before: [String]) throws -> [String],
        check: (_ before: [String], _ outcome: Result<[String], SpendLogError>, _ log: LogDirectory) throws -> Void
    ) throws {
        for (s, syscall) in Self.syscalls.enumerated() {
            var call = 1
            while call <= 60 {
                var reached = false
                let errnos = Self.exhaustive ? Self.errnos : [Self.errnos[(s + call) % Self.errnos.count]]
                for errno in errnos {
                    let temp = TemporaryDirectory()
                    let log = try prepared(temp)
                    let before = try ids(log)
                    var outcome: Result<[String], SpendLogError> = .success([])
                    let failed = FaultInjection.failing(syscall, with: errno, onCall: call, under: temp.path) {
                        do { outcome = .success(try operation(log, before)) } catch let error as SpendLogError {
                            outcome = .failure(error)
                        } catch {
                            Issue.record("\(name): \(syscall)@\(call): not a SpendLogError: \(error)")
                        }
                    }
                    tally.cases += 1
                    guard failed > 0 else { continue }
                    reached = true
                    tally.faults += 1
                    if case .failure(let error) = outcome {
                        tally.failures += 1
                        tally.possiblyWritten += error.possiblyWritten.count
                        #expect(
                            error.code != .io || error.errno == errno || error.message.contains("\(errno)"),
                            "\(name): \(syscall)@\(call) \(errno): \(error.message)")
                    }
                    try check(before, outcome, log)
                }
                if !reached { break }
                call += 1
            }
        }
    }

    /// The log after an append of `attempted`: all of them on success; on failure, none, or
    /// only ids the error names, each once.
    func expectAppendPromise(
        _ label: String, before: [String], attempted: [String], _ outcome: Result<[String], SpendLogError>,
        _ log: LogDirectory
    ) throws {
        let after = try ids(log)
        #expect(Set(after).count == after.count, "\(label): a record appears twice")
        #expect(Set(before).isSubset(of: Set(after)), "\(label): a record was lost")
        let added = Set(after).subtracting(before)
        switch outcome {
        case .success:
            #expect(added == Set(attempted), "\(label): the success did not write exactly its records")
        case .failure(let error):
            #expect(
                added.isSubset(of: Set(error.possiblyWritten)),
                "\(label): records written that the error does not name: \(error.message)")
            if error.possiblyWritten.isEmpty {
                #expect(error.message.hasPrefix("Nothing was written"), "\(label): \(error.message)")
            }
        }
        // Derived state agrees with a recount, and the log reads clean.
        let budget = Budget(directory: log)
        #expect(try budget.checkpoint(now: Self.now) == (try budget.rebuiltSidecar()), "\(label): budget")
        #expect(try LogVerifier(directory: log).verify().problems.isEmpty, "\(label): verify")
    }

    @Test func appendsIngestsAndEnforcedAppendsKeepTheirPromise() throws {
        var tally = Tally()
        for policy in FsyncPolicy.allCases {
            let batch = [record(10), record(11, day: "2026-11-25")]
            try sweep("append \(policy)", &tally) { log, _ in
                try LogWriter(directory: log, options: WriterOptions(fsync: policy)).append(contentsOf: batch)
                    .records.map(\.id.description)
            } check: { before, outcome, log throws in
                try expectAppendPromise(
                    "append \(policy)", before: before, attempted: batch.map(\.id.description), outcome, log)
            }
        }
        let retried = [record(2), record(12)]
        try sweep("appendOnce", &tally) { log, before in
            var again = retried
            again[0].id = RecordID.parse(before[2])!  // in the log already
            return try LogWriter(directory: log).appendOnce(contentsOf: again).records.map(\.id.description)
        } check: { before, outcome, log throws in
            try expectAppendPromise(
                "appendOnce", before: before, attempted: (try? outcome.get()) ?? [retried[1].id.description],
                outcome, log)
        }
        let enforced = record(13)
        try sweep("enforced append", &tally) { log, _ in
            let budget = Budget(directory: log)
            budget.checkpointIntervalBytes = 0
            return [try budget.appendIfWithinLimits(enforced, now: Self.now).record.id.description]
        } check: { before, outcome, log throws in
            try expectAppendPromise(
                "enforced append", before: before, attempted: [enforced.id.description], outcome, log)
        }
        #expect(tally.faults > 50)
        print("fault sweep (appends): \(tally.cases) cases, \(tally.faults) faults reached, \(tally.failures) failed")
    }

    @Test func sealIndexAndJournalChangesKeepTheirPromise() throws {
        var tally = Tally()
        try sweep("seal", &tally) { log, _ in
            try LogWriter(directory: log).sealAll()
            return []
        } check: { before, _, log throws in
            // A seal never loses or repeats a record, whatever failed.
            #expect(try ids(log) == before, "seal")
            #expect(try LogVerifier(directory: log).verify().problems.isEmpty, "seal: verify")
        }
        try sweep("index", &tally) { log, _ in
            try LogWriter(directory: log).sealAll()
            _ = try Indexer(directory: log).run()
            return []
        } check: { _, _, log throws in
            // Whatever generation is current answers like a scan of the records it covers.
            let query = Query(directory: log)
            let indexed = StatsQuery(groupBy: [.project, .day], indexedOnly: false)
            #expect(try query.stats(indexed).rows == (try query.statsByScanning(indexed)).rows, "index")
            #expect(try LogVerifier(directory: log).verify().problems.isEmpty, "index: verify")
        }
        let rule = LimitRule(scope: .global, metric: .requests, window: try LimitWindow.parse("day"), maximum: 5)
        try sweep("limit set", &tally) { log, _ in
            [try Budget(directory: log).setLimit(rule, now: Self.now).id]
        } check: { _, outcome, log throws in
            let budget = Budget(directory: log)
            let rules = try budget.limits()
            switch outcome {
            case .success(let added): #expect(rules.map(\.id) == ["L1"] + added, "limit set")
            case .failure(let error):
                if error.message.hasPrefix("Nothing was written") {
                    #expect(rules.map(\.id) == ["L1"], "limit set: a failed change is in force: \(error.message)")
                } else {
                    #expect(error.message.contains("may be in the journal"), "limit set: \(error.message)")
                }
            }
            #expect(try budget.checkpoint(now: Self.now) == (try budget.rebuiltSidecar()), "limit set: budget")
        }
        try sweep("budget status", &tally) { log, _ in
            _ = try Budget(directory: log).status(now: Self.now)
            return []
        } check: { _, outcome, _ throws in
            // A read: only reading can fail it (open, flock), never writing the checkpoint.
            if case .failure(let error) = outcome {
                #expect(!error.message.contains("sidecar"), "budget status failed on its checkpoint: \(error.message)")
            }
        }
        print("fault sweep (seal, index, journal): \(tally.cases) cases, \(tally.faults) faults reached")
    }
}
