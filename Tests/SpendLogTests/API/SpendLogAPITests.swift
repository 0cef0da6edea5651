import Foundation
import Testing

@testable import SpendLog

#if canImport(Glibc)
    import Glibc
#endif

/// Holds the writers' lock of a day folder, as another writer would: appends to that day wait.
private final class HeldDayLock {
    let fd: Int32

    init(_ log: LogDirectory, day: String, host: String) throws {
        let folder = log.dayFolderPath(day)
        try FileSystem.makeDirectories(folder)
        fd = Glibc.open(folder + "/" + SegmentName.lockFileName(host: host), O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        #expect(fd >= 0)
        #expect(flock(fd, LOCK_EX) == 0)
    }

    func release() {
        flock(fd, LOCK_UN)
        Glibc.close(fd)
    }
}

private struct StreamCut: ChargedCallError {
    var responseBody: [UInt8]
}

private struct Refused: Error {}

@Suite struct SpendLogAPITests {
    func options(_ fsync: FsyncPolicy) -> WriterOptions {
        var options = WriterOptions(fsync: fsync)
        options.host = "api"
        return options
    }

    /// A real Anthropic Messages response (Fixtures/provider-responses), whose usage costs $0.001137.
    func anthropicBody() throws -> [UInt8] {
        Array(
            try #require(
                FileManager.default.contents(atPath: TestPaths.fixtures + "/provider-responses/anthropic_messages.json")))
    }

    func record(_ i: Int, day: String = "2026-11-23", project: String? = nil) -> UsageRecord {
        let ts = Timestamp(millisecondsSinceEpoch: time(day + "T10:00:00Z").millisecondsSinceEpoch + Int64(i))
        return UsageRecord(
            timestamp: ts, project: project ?? "p\(i % 3)", model: "gpt-4.1", inputTokens: 10, outputTokens: 1,
            cost: dollars("0.001"))
    }

    /// 1,000 tasks append while another writer holds the day's lock: every append is queued and
    /// none is answered (none is durable yet), while a task of pure computation still runs to its
    /// end on the cooperative pool. Once the lock is free, every record is in the log once, written
    /// in at most 3 group commits (the one that was waiting for the lock, then batches of ≤ 512).
    @Test(arguments: [FsyncPolicy.always, .batch])
    func concurrentAppendsShareCommitsAndLeaveThePoolFree(fsync: FsyncPolicy) async throws {
        let temp = TemporaryDirectory()
        let log = try SpendLog(directory: temp.path + "/log", options: options(fsync))
        let lock = try HeldDayLock(log.directory, day: "2026-11-23", host: "api")
        let records = (0..<1000).map { record($0) }
        let written = try await withThrowingTaskGroup(of: RecordID.self) { group in
            for r in records { group.addTask { try await log.append(r).id } }
            while log.appendCounts.queued < records.count { await Task.yield() }
            let sum = await Task { (1...100_000).reduce(0, &+) }.value
            #expect(sum == 5_000_050_000)
            #expect(log.appendCounts.answered == 0)
            lock.release()
            var ids: [RecordID] = []
            for try await id in group { ids.append(id) }
            return ids
        }
        #expect(written.count == 1000)
        #expect(Set(written) == Set(records.map(\.id)))
        let stored = try readAll(log.directory)
        #expect(stored.count == 1000)
        #expect(Set(stored.map(\.id)) == Set(records.map(\.id)))
        let counts = log.appendCounts
        #expect(counts.answered == 1000)
        #expect(counts.commits <= 3, "\(counts)")
        await log.close()
    }

    /// The fsync of a group commit fails: every append of the batch fails with the writer's
    /// error, which says nothing was written (the writer took its lines back), and so do the
    /// later ones (the writer appends nothing after a failed fsync). Nothing is in the log.
    @Test func aFailedFsyncFailsEveryAppendOfItsBatch() async throws {
        let temp = TemporaryDirectory()
        let log = try SpendLog(directory: temp.path + "/log", options: options(.always))
        let lock = try HeldDayLock(log.directory, day: "2026-11-23", host: "api")
        let records = (0..<200).map { record($0) }
        let failures = try await withThrowingTaskGroup(of: SpendLogError?.self) { group in
            for r in records {
                group.addTask {
                    do throws(SpendLogError) {
                        try await log.append(r)
                        return nil
                    } catch {
                        return error
                    }
                }
            }
            while log.appendCounts.queued < records.count { await Task.yield() }
            // The 1st fsync under the log is the new segment's folder, the 2nd the batch's data.
            FaultInjection.failing(.fsync, with: .ioError, onCall: 2, under: log.directory.path) {
                lock.release()
                // The writer thread does the work; this only waits for its answers.
                while log.appendCounts.answered < records.count { usleep(1000) }
            }
            var failures: [SpendLogError] = []
            for try await failure in group { if let failure { failures.append(failure) } }
            return failures
        }
        #expect(failures.count == records.count)
        #expect(failures.allSatisfy { $0.possiblyWritten.isEmpty && $0.message.contains("Nothing was written") })
        #expect(failures.allSatisfy { $0.errno == .ioError })
        // A later append is refused too, before it writes anything.
        await #expect(throws: SpendLogError.self) { () async throws in try await log.append(record(999)) }
        #expect(try readAll(log.directory).isEmpty)
        await log.close()
    }

    @Test func anAppendAfterCloseIsRefusedAndAnInvalidRecordFailsAlone() async throws {
        let temp = TemporaryDirectory()
        let log = try SpendLog(directory: temp.path + "/log", options: options(.always))
        var bad = record(1)
        bad.inputTokens = -1
        // Good appends queued behind the day lock with the bad one in their midst: the bad one is
        // refused before it is queued, the others go in one commit.
        let lock = try HeldDayLock(log.directory, day: "2026-11-23", host: "api")
        let goods = (10..<20).map { record($0) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for r in goods { group.addTask { try await log.append(r) } }
            while log.appendCounts.queued < goods.count { await Task.yield() }
            await #expect(throws: SpendLogError.self) { () async throws in try await log.append(bad) }
            #expect(log.appendCounts.queued == goods.count, "the bad append was never queued")
            lock.release()
            try await group.waitForAll()
        }
        #expect(log.appendCounts.commits <= 2)
        let good = record(2)
        try await log.append(good)
        await log.close()
        await #expect(throws: SpendLogError.self) { () async throws in try await log.append(record(3)) }
        #expect(Set(try readAll(log.directory).map(\.id)) == Set((goods + [good]).map(\.id)))
    }

    /// A retry with the same ids writes nothing twice, concurrent retries of one id write it
    /// once, and a normal append queued beside them is still written.
    @Test func appendOnceWritesEachIdOnce() async throws {
        let temp = TemporaryDirectory()
        let log = try SpendLog(directory: temp.path + "/log", options: options(.always))
        let r = (0...5).map { record($0) }
        let result = try await log.appendOnce(contentsOf: [r[1], r[2]])
        #expect(result.written.map(\.id) == [r[1].id, r[2].id])
        #expect(result.alreadyRecorded.isEmpty)
        let retry = try await log.appendOnce(contentsOf: [r[1], r[2], r[3], r[3]])
        #expect(retry.written.map(\.id) == [r[3].id])
        #expect(retry.alreadyRecorded.map(\.id) == [r[1].id, r[2].id, r[3].id])
        let written = try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<20 { group.addTask { try await log.appendOnce(r[4]) } }
            group.addTask { try await log.append(r[5]); return false }
            var written = 0
            for try await wrote in group where wrote { written += 1 }
            return written
        }
        #expect(written == 1)
        let stored = try readAll(log.directory).map(\.id)
        #expect(stored.count == 5)
        #expect(Set(stored) == Set(r[1...].map(\.id)))
        await log.close()
    }

    @Test func appendIfWithinLimitsRefusesNamingTheLimitWhatIsLeftAndTheReset() async throws {
        let temp = TemporaryDirectory()
        let log = try SpendLog(directory: temp.path + "/log", options: options(.always))
        let limit = try await log.setLimit(
            try rule("project=etl", "cost", "1", "day"), now: time("2026-11-23T09:00:00Z"))
        try await log.appendIfWithinLimits(
            call("0.60", at: "2026-11-23T10:00:00Z"), now: time("2026-11-23T10:00:00Z"))
        do throws(BudgetError) {
            try await log.appendIfWithinLimits(
                call("0.60", at: "2026-11-23T11:00:00Z"), now: time("2026-11-23T11:00:00Z"))
            Issue.record("accepted past the limit")
        } catch .limitExceeded(let refusal) {
            #expect(refusal.rule.id == limit.id)
            #expect(refusal.remaining == dollars("0.4").nanos)
            #expect(refusal.resetsAt == time("2026-11-24T00:00:00Z").millisecondsSinceEpoch)
        } catch .failed(let error) {
            Issue.record("refused by the log instead of the limit: \(error)")
        }
        // An invalid record is the log's refusal, not the limit's, and names the field.
        var bad = call("0.10", at: "2026-11-23T11:00:00Z")
        bad.outputTokens = -1
        do throws(BudgetError) {
            try await log.appendIfWithinLimits(bad, now: time("2026-11-23T11:00:00Z"))
            Issue.record("accepted an invalid record")
        } catch {
            guard case .failed(let failure) = error else { Issue.record("\(error)"); return }
            #expect(failure.code == .invalidInput)
            #expect(failure.message.contains("output_tokens"), "\(failure.message)")
        }
        let status = try await log.budgetStatus(now: time("2026-11-23T11:00:00Z"))
        #expect(status.count == 1)
        #expect(status.first?.spent == dollars("0.6").nanos)
        #expect(status.first?.resetsAt == time("2026-11-24T00:00:00Z").millisecondsSinceEpoch)
        #expect(try readAll(log.directory).count == 1)
    }

    @Test func reserveSettleAndRelease() async throws {
        let temp = TemporaryDirectory()
        let log = try SpendLog(directory: temp.path + "/log", options: options(.always))
        let now = time("2026-11-23T10:00:00Z")
        try await log.setLimit(try rule("project=etl", "cost", "1", "day"), now: time("2026-11-23T09:00:00Z"))
        let scope = try LimitScope.parse("project=etl")
        let hold = try await log.reserve(fields: scope, amount: dollars("0.7"), now: now)
        do throws(BudgetError) {
            _ = try await log.reserve(fields: scope, amount: dollars("0.5"), now: now)
            Issue.record("held past the limit")
        } catch {
            #expect(error.limitExceeded?.remaining == dollars("0.3").nanos, "\(error)")
        }
        try await log.settle(hold.id, record: call("0.2", at: "2026-11-23T10:00:00Z"), now: now)
        // The hold is freed: 0.5 fits beside the 0.2 spent.
        let second = try await log.reserve(fields: scope, amount: dollars("0.5"), now: now)
        var status = try await log.budgetStatus(now: now)
        #expect(status.first?.spent == dollars("0.2").nanos)
        #expect(status.first?.held == dollars("0.5").nanos)
        try await log.release(second.id, now: now)
        status = try await log.budgetStatus(now: now)
        #expect(status.first?.held == 0)
        #expect(try readAll(log.directory).count == 1)
    }

    @Test func statsAndRecordsAgreeWithTheCommandLine() async throws {
        let temp = TemporaryDirectory()
        let dir = temp.path + "/log"
        let log = try SpendLog(directory: dir, options: options(.batch))
        var appended: [UsageRecord] = []
        for (n, day) in ["2026-11-21", "2026-11-22", "2026-11-23"].enumerated() {
            let batch = (0..<(10 + n)).map { record($0, day: day) }
            appended += try await log.append(contentsOf: batch)
        }
        let stats = try await log.stats(groupBy: [.project])
        let cli = try spendlog(["stats", "--dir", dir, "--by", "project", "--format", "json"])
        #expect(cli.status == 0, "\(cli.stderr)")
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(cli.stdout.utf8)) as? [[String: Any]])
        #expect(rows.count == stats.rows.count)
        for row in stats.rows {
            let other = try #require(rows.first { $0["project"] as? String == row.keys[0] })
            #expect((other["requests"] as? NSNumber)?.int64Value == row.metrics.requests)
            #expect((other["input_tokens"] as? NSNumber)?.int64Value == row.metrics.inputTokens)
            let cost = (other["cost_usd"] as? NSNumber)?.doubleValue ?? -1
            #expect(abs(cost - Double(row.metrics.costNanos) / 1e9) < 1e-9)
        }
        #expect(stats.total.requests == Int64(appended.count))

        var listed: [UsageRecord] = []
        for try await record in log.records() { listed.append(record) }
        let newestFirst = appended.sorted { ($0.timestamp, $0.id) > ($1.timestamp, $1.id) }
        #expect(listed.map(\.id) == newestFirst.map(\.id))

        var p0: [UsageRecord] = []
        let filter = RecordFilter(since: time("2026-11-22T00:00:00Z"), projects: ["p0"])
        for try await record in log.records(matching: filter) { p0.append(record) }
        let scoped = try await log.stats(groupBy: [], filter: filter)
        #expect(Int64(p0.count) == scoped.total.requests)
        #expect(p0.allSatisfy { $0.project == "p0" && $0.timestamp >= time("2026-11-22T00:00:00Z") })
        let cliScoped = try spendlog([
            "stats", "--dir", dir, "--project", "p0", "--since", "2026-11-22T00:00:00Z", "--format", "json",
        ])
        #expect(cliScoped.status == 0, "\(cliScoped.stderr)")
        let scopedRows = try #require(
            try JSONSerialization.jsonObject(with: Data(cliScoped.stdout.utf8)) as? [[String: Any]])
        #expect((scopedRows.first?["requests"] as? NSNumber)?.intValue == p0.count)
        await log.close()
    }

    @Test func trackRecordsAFailedCallWithKnownUsageAsAnError() async throws {
        let temp = TemporaryDirectory()
        let log = try SpendLog(directory: temp.path + "/log", options: options(.always))
        let body = try anthropicBody()
        await #expect(throws: StreamCut.self) { () async throws in
            _ = try await log.track(project: "app") { () async throws -> [UInt8] in throw StreamCut(responseBody: body) }
        }
        // No usage known: nothing recorded, unless asked for a record of the failure.
        await #expect(throws: Refused.self) { () async throws in
            _ = try await log.track(project: "app", model: "gpt-4.1") { () async throws -> [UInt8] in throw Refused() }
        }
        await #expect(throws: Refused.self) { () async throws in
            _ = try await log.track(project: "app", model: "gpt-4.1", recordUnchargedFailures: true) {
                () async throws -> [UInt8] in throw Refused()
            }
        }
        let ok = try await log.track(project: "app", configure: { $0.user = "ann" }) { body }
        #expect(ok.value == body)
        #expect(ok.record.status == .ok)

        let stored = try readAll(log.directory)
        #expect(stored.count == 3)
        let charged = try #require(stored.first { $0.status == .error && $0.inputTokens > 0 })
        #expect(charged.model == "claude-sonnet-4-5-20250929")
        #expect(charged.inputTokens == 249)
        #expect(charged.outputTokens == 26)
        #expect(charged.cost.decimalString == "0.001137")
        #expect(charged.latencyMs != nil)
        let uncharged = try #require(stored.first { $0.status == .error && $0.inputTokens == 0 })
        #expect(uncharged.model == "gpt-4.1")
        #expect(uncharged.outputTokens == 0)
        #expect(uncharged.cost == .zero)
        #expect(stored.contains { $0.id == ok.record.id && $0.user == "ann" })
        await log.close()
    }

    /// The hold is taken before the call: a call that does not fit is never made; one that
    /// fits is settled with its real cost; one that fails without usage frees its hold.
    @Test func trackWithinLimitsHoldsBeforeTheCallAndSettlesAfter() async throws {
        let temp = TemporaryDirectory()
        let log = try SpendLog(directory: temp.path + "/log", options: options(.always))
        let body = try anthropicBody()
        try await log.setLimit(try rule("project=app", "cost", "0.003", "lifetime"))
        let scope = try LimitScope.parse("project=app")
        let first = try await log.trackWithinLimits(scope: scope, estimate: dollars("0.002"), project: "app") { body }
        #expect(first.record.cost.decimalString == "0.001137")
        var calls = 0
        do {
            // The Anthropic body costs 0.001137: 0.001137 spent + 0.002 held > 0.003.
            _ = try await log.trackWithinLimits(scope: scope, estimate: dollars("0.002"), project: "app") {
                () async throws -> [UInt8] in
                calls += 1
                return body
            }
            Issue.record("called past the limit")
        } catch let error as BudgetError {
            #expect(error.limitExceeded?.remaining == dollars("0.001863").nanos, "\(error)")
        }
        #expect(calls == 0)
        await #expect(throws: Refused.self) { () async throws in
            _ = try await log.trackWithinLimits(scope: scope, estimate: dollars("0.001"), project: "app") {
                () async throws -> [UInt8] in throw Refused()
            }
        }
        let status = try await log.budgetStatus()
        #expect(status.first?.held == 0)
        #expect(status.first?.spent == dollars("0.001137").nanos)
        #expect(try readAll(log.directory).map(\.id) == [first.record.id])
        await log.close()
    }

    /// The call was paid for whatever happened to its hold meanwhile: a hold that expired during
    /// a long call, a limit the hold did not cover that has no room left, a call that failed with
    /// its usage known — each is recorded once, and no hold is left behind.
    @Test func trackWithinLimitsRecordsEveryPaidCall() async throws {
        let temp = TemporaryDirectory()
        let log = try SpendLog(directory: temp.path + "/log", options: options(.always))
        let body = try anthropicBody()
        try await log.setLimit(try rule("project=app", "cost", "1", "lifetime"))
        // A limit on the model, which a hold on the project does not cover: no room at all.
        try await log.setLimit(try rule("model=claude-sonnet-4-5-20250929", "cost", "0.0001", "lifetime"))
        let scope = try LimitScope.parse("project=app")

        // The hold lives 1 ms; the call takes 50. (usleep, not Task.sleep: under libfaketime a
        // task's sleep can outlast the test.)
        let slow = try await log.trackWithinLimits(scope: scope, estimate: dollars("0.01"), ttlMs: 1, project: "app") {
            usleep(50_000)
            return body
        }
        // The model's limit refuses the settle: the call is recorded all the same.
        let refused = try await log.trackWithinLimits(scope: scope, estimate: dollars("0.01"), project: "app") { body }
        // The stream was cut after its usage: recorded with status error.
        await #expect(throws: StreamCut.self) { () async throws in
            _ = try await log.trackWithinLimits(scope: scope, estimate: dollars("0.01"), project: "app") {
                () async throws -> [UInt8] in throw StreamCut(responseBody: body)
            }
        }
        let stored = try readAll(log.directory)
        #expect(stored.count == 3)
        #expect(Set(stored.map(\.id)).isSuperset(of: [slow.record.id, refused.record.id]))
        #expect(stored.filter { $0.status == .error }.count == 1)
        let status = try await log.budgetStatus()
        #expect(status.allSatisfy { $0.held == 0 }, "\(status.map(\.held))")
        #expect(status.first { $0.rule.scope == scope }?.spent == dollars("0.003411").nanos)
        await log.close()
    }

    @Test func theDefaultLogIsTheOneTheCommandLineUses() async throws {
        let temp = TemporaryDirectory()
        let named = try SpendLog.default(environment: ["SPENDLOG_DIR": temp.path + "/a", "HOME": temp.path])
        #expect(named.directory.path == temp.path + "/a")
        let xdg = try SpendLog.default(environment: ["XDG_DATA_HOME": temp.path + "/data", "HOME": temp.path])
        #expect(xdg.directory.path == temp.path + "/data/spendlog")
        let home = try SpendLog.default(environment: ["HOME": temp.path])
        #expect(home.directory.path == temp.path + "/.local/share/spendlog")
        #expect(throws: SpendLogError.self) { () throws in _ = try SpendLog.default(environment: [:]) }
    }
}
