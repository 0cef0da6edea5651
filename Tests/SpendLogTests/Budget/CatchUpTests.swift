import Foundation
import Testing

@testable import SpendLog

/// Catching up looks at every day folder, but lists again only those that changed: a folder
/// whose segments were all sealed and counted is skipped while its modification time holds.
@Suite struct CatchUpTests {
    let oldDay = "2024-01-05"
    /// The quiet folder's modification time, set and put back as this constant: a time read back
    /// through `stat` and written again could differ where the process's clock is shifted.
    static let longAgo = Date(timeIntervalSince1970: 1_700_000_000)

    /// A lifetime limit over a log with one sealed record on an old day whose folder was last
    /// modified long ago, counted once (which marks the folder quiet).
    func quietLog(_ temp: TemporaryDirectory) throws -> (Budget, String) {
        let budget = try limitedBudget(temp, try rule("global", "cost", "10", "lifetime"))
        let writer = LogWriter(directory: budget.directory)
        try writer.append(call("1", at: oldDay + "T10:00:00Z"))
        try writer.sealAll()
        let folder = budget.directory.segmentsPath + "/day=" + oldDay
        try setModified(folder, Self.longAgo)
        #expect(try budget.status(now: time("2026-11-23T10:00:00Z"))[0].spent == 1_000_000_000)
        return (budget, folder)
    }

    func setModified(_ path: String, _ date: Date) throws {
        try FileManager.default.setAttributes([.modificationDate: date], ofItemAtPath: path)
    }

    @Test func aRecordAddedToAQuietDayIsCounted() throws {
        let temp = TemporaryDirectory()
        let (budget, _) = try quietLog(temp)
        try LogWriter(directory: budget.directory).append(call("2", at: oldDay + "T11:00:00Z"))
        #expect(try budget.status(now: time("2026-11-23T10:00:01Z"))[0].spent == 3_000_000_000)
        #expect(try !enforced(budget, call("7.000000001", at: "2026-11-23T10:00:02Z")))
        #expect(try enforced(budget, call("7", at: "2026-11-23T10:00:02Z")))
        #expect(try budget.rebuiltSidecar() == budget.checkpoint(now: time("2026-11-23T10:00:03Z")))
    }

    @Test func aQuietDayIsNotListedAgainWhileItsFolderIsUnchanged() throws {
        let temp = TemporaryDirectory()
        let (budget, folder) = try quietLog(temp)
        // A file slipped in with the folder's time put back, which no writer does: neither this
        // budget object nor a fresh one (as another process, through `budget/quiet-days`) looks
        // inside the folder again; without the hint file a fresh one does.
        try LogWriter(directory: budget.directory).append(call("2", at: oldDay + "T11:00:00Z"))
        try setModified(folder, Self.longAgo)
        #expect(try budget.status(now: time("2026-11-23T10:00:01Z"))[0].spent == 1_000_000_000)
        #expect(
            try Budget(directory: budget.directory).status(now: time("2026-11-23T10:00:01Z"))[0].spent == 1_000_000_000)
        try FileManager.default.removeItem(atPath: budget.quietDaysPath)
        #expect(
            try Budget(directory: budget.directory).status(now: time("2026-11-23T10:00:01Z"))[0].spent == 3_000_000_000)
    }

    @Test(arguments: ["empty", "torn", "flipped", "other version"])
    func aDamagedOrForeignQuietDaysFileOnlyCostsAListing(damage: String) throws {
        let temp = TemporaryDirectory()
        let (budget, folder) = try quietLog(temp)
        let hint = try #require(FileManager.default.contents(atPath: budget.quietDaysPath))
        #expect(String(decoding: hint, as: UTF8.self).hasPrefix("spendlog-quiet-days 1\nday=\(oldDay)\t"))
        try LogWriter(directory: budget.directory).append(call("2", at: oldDay + "T11:00:00Z"))
        try setModified(folder, Self.longAgo)
        var damaged = hint
        switch damage {
        case "empty": damaged = Data()
        case "torn": damaged = hint.dropLast()
        case "flipped": damaged[damaged.count / 2] ^= 0x01
        default:
            damaged = Data(
                String(decoding: hint, as: UTF8.self).replacingOccurrences(of: "days 1", with: "days 2").utf8)
        }
        try damaged.write(to: URL(fileURLWithPath: budget.quietDaysPath))
        #expect(
            try Budget(directory: budget.directory).status(now: time("2026-11-23T10:00:01Z"))[0].spent == 3_000_000_000)
    }

    @Test func aKeptListingOfADayBeingWrittenSeesEverySegmentAddedLater() throws {
        let temp = TemporaryDirectory()
        let day = "2026-11-23"
        let budget = try limitedBudget(temp, try rule("global", "cost", "100", "lifetime"))
        #expect(try enforced(budget, call("1", at: day + "T10:00:00Z")))
        // The folder's last change long past: its listing is kept while its time holds, and only
        // the active segment is looked at.
        let folder = budget.directory.segmentsPath + "/day=" + day
        try setModified(folder, Self.longAgo)
        #expect(try enforced(budget, call("2", at: day + "T10:00:01Z")))
        // A segment slipped in with the folder's time put back, which no writer does, is not
        // seen: proof that the listing is kept. Records appended to the segment it lists are.
        var other = WriterOptions()
        other.host = "other-host"
        try LogWriter(directory: budget.directory, options: other).append(call("4", at: day + "T10:00:02Z"))
        try setModified(folder, Self.longAgo)
        try LogWriter(directory: budget.directory).append(call("8", at: day + "T10:00:03Z"))
        #expect(try budget.status(now: time(day + "T10:00:04Z"))[0].spent == 11_000_000_000)
        // A segment added the way writers add them moves the folder's time: listed again, counted.
        var third = WriterOptions()
        third.host = "third-host"
        try LogWriter(directory: budget.directory, options: third).append(call("16", at: day + "T10:00:05Z"))
        #expect(try budget.status(now: time(day + "T10:00:06Z"))[0].spent == 31_000_000_000)
        #expect(try !enforced(budget, call("69.000000001", at: day + "T10:00:07Z")))
        #expect(try budget.rebuiltSidecar() == budget.checkpoint(now: time(day + "T10:00:08Z")))
    }

    @Test func aRecountListsQuietDaysAgain() throws {
        let temp = TemporaryDirectory()
        let (budget, _) = try quietLog(temp)
        // A new rule recounts everything, the quiet day included.
        try budget.setLimit(try rule("project=etl", "cost", "5", "lifetime"), now: time("2026-11-23T10:00:01Z"))
        #expect(try budget.status(now: time("2026-11-23T10:00:02Z")).map(\.spent) == [1_000_000_000, 1_000_000_000])
    }
}

/// The sidecar is a checkpoint: one that does not read back exactly as written is recounted from
/// the journal and the log, never trusted.
@Suite struct SidecarDamageTests {
    @Test(arguments: ["lowered counter", "truncated", "empty", "not json", "older format"])
    func aDamagedSidecarIsRecountedNotTrusted(damage: String) throws {
        let temp = TemporaryDirectory()
        let budget = try limitedBudget(temp, try rule("global", "cost", "10", "lifetime"))
        for i in 0..<3 { #expect(try enforced(budget, call("3", at: "2026-11-23T10:00:0\(i)Z"))) }
        _ = try budget.checkpoint(now: time("2026-11-23T10:00:05Z"))
        let written = try #require(FileManager.default.contents(atPath: budget.sidecarPath))
        let text = String(decoding: written, as: UTF8.self)
        #expect(text.contains(":9000000000}"), "\(text)")
        let damaged: Data =
            switch damage {
            case "lowered counter": Data(text.replacingOccurrences(of: ":9000000000}", with: ":1}").utf8)
            case "truncated": written.dropLast(20)
            case "empty": Data()
            case "not json": Data("{\"format\":".utf8)
            default: Data(text.replacingOccurrences(of: "spendlog-budget 2", with: "spendlog-budget 1").utf8)
            }
        try damaged.write(to: URL(fileURLWithPath: budget.sidecarPath))
        let fresh = Budget(directory: budget.directory)
        #expect(try fresh.status(now: time("2026-11-23T10:00:06Z"))[0].spent == 9_000_000_000)
        #expect(try !enforced(fresh, call("1.000000001", at: "2026-11-23T10:00:07Z")))
        #expect(try fresh.rebuiltSidecar() == fresh.checkpoint(now: time("2026-11-23T10:00:08Z")))
    }
}

/// Every appender counts every other's lines, and a checkpoint written by one of them serves all:
/// two appenders on one log replace the sidecar about once per interval of the log between them,
/// not once each, and it never falls three intervals behind. A replaced sidecar is trusted only
/// when it was found fewer than two intervals after the appender's last look.
@Suite struct SharedCheckpointTests {
    /// The sidecar's inode, size and time, as a test sees them.
    func identity(_ path: String) throws -> String {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        let inode = attributes[.systemFileNumber] as? UInt64 ?? 0
        let size = attributes[.size] as? UInt64 ?? 0
        let time = (attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
        return "\(inode) \(size) \(time)"
    }

    /// A hold of $1 on `project=etl`.
    @discardableResult
    func hold(_ budget: Budget, at ts: String) throws -> Reservation {
        try budget.reserve(
            fields: try LimitScope.parse("project=etl"), amount: dollars("1"), ttlMs: 600_000, now: time(ts))
    }

    func logBytes(_ log: LogDirectory) throws -> Int {
        var total = 0
        for day in try FileManager.default.contentsOfDirectory(atPath: log.segmentsPath) {
            let folder = log.segmentsPath + "/" + day
            for name in try FileManager.default.contentsOfDirectory(atPath: folder) where name.hasSuffix(".jsonl") {
                total += (try FileManager.default.attributesOfItem(atPath: folder + "/" + name)[.size] as? Int) ?? 0
            }
        }
        return total
    }

    @Test func appendersShareOneCheckpointPerInterval() throws {
        let temp = TemporaryDirectory()
        let first = try limitedBudget(temp, try rule("global", "cost", "1000", "day"))
        let second = Budget(directory: first.directory)
        let interval: Int64 = 4096
        for budget in [first, second] { budget.checkpointIntervalBytes = interval }
        // The limit set writes the first checkpoint; each append's line is under 400 bytes.
        var writes: [Int] = []
        var last = try identity(first.sidecarPath)
        for i in 0..<600 {
            let budget = i % 2 == 0 ? first : second
            let at = String(format: "2026-11-23T10:%02d:%02dZ", i / 60, i % 60)
            #expect(try enforced(budget, call("0.01", at: at)))
            let now = try identity(first.sidecarPath)
            if now != last {
                writes.append(try logBytes(first.directory))
                last = now
            }
        }
        let total = try logBytes(first.directory)
        // One appender alone would write total / interval checkpoints; each of two on its own,
        // twice that.
        #expect(total > 40 * Int(interval))
        #expect(writes.count <= total / Int(interval) + 2, "\(writes.count) checkpoints for \(total) bytes")
        var behind = writes.first ?? total
        for (previous, next) in zip(writes, writes.dropFirst()) { behind = max(behind, next - previous) }
        behind = max(behind, total - (writes.last ?? 0))
        #expect(behind < 3 * Int(interval), "the checkpoint fell \(behind) bytes behind")
        // What the checkpoints say is what a recount finds.
        let fresh = Budget(directory: first.directory)
        #expect(try fresh.status(now: time("2026-11-23T11:00:00Z"))[0].spent == 6_000_000_000)
        #expect(try fresh.rebuiltSidecar() == fresh.checkpoint(now: time("2026-11-23T11:00:01Z")))
    }

    /// A change of the rules is checkpointed at once by the process that makes it; another
    /// process counts it from the journal and writes no checkpoint for it. Reservations wait for
    /// the interval, their journal lines counted toward it, and a process that loads the older
    /// checkpoint reads them from the journal.
    @Test func ruleChangesAreCheckpointedByTheirProcessReservationsByTheInterval() throws {
        let temp = TemporaryDirectory()
        let holder = try limitedBudget(temp, try rule("global", "cost", "1000", "day"))
        let interval: Int64 = 4096
        holder.checkpointIntervalBytes = interval
        let appender = Budget(directory: holder.directory)
        #expect(try enforced(appender, call("0.01", at: "2026-11-23T10:00:00Z")))
        var before = try identity(holder.sidecarPath)
        try holder.setLimit(try rule("project=etl", "cost", "500", "day"), now: time("2026-11-23T10:00:01Z"))
        #expect(try identity(holder.sidecarPath) != before, "the holder did not checkpoint its new rule")
        before = try identity(holder.sidecarPath)
        #expect(try enforced(appender, call("0.01", at: "2026-11-23T10:00:02Z")))
        #expect(try identity(holder.sidecarPath) == before, "the appender checkpointed another's rule")
        // Reservations and releases: a checkpoint per interval of journal, not one per event.
        let journal = holder.directory.budgetPath + "/journal.jsonl"
        let journalStart = FileManager.default.bytes(journal).count
        var checkpoints = 0
        func countCheckpoint() throws {
            let now = try identity(holder.sidecarPath)
            if now != before { checkpoints += 1 }
            before = now
        }
        for i in 0..<120 {
            let reservation = try hold(holder, at: "2026-11-23T10:01:00Z")
            try countCheckpoint()
            if i < 119 { try holder.release(reservation.id, now: time("2026-11-23T10:01:00Z")) }
            try countCheckpoint()
        }
        let journalGrowth = FileManager.default.bytes(journal).count - journalStart
        #expect(journalGrowth > 8 * Int(interval))
        #expect(checkpoints >= journalGrowth / (2 * Int(interval)), "\(checkpoints) checkpoints")
        #expect(checkpoints <= journalGrowth / Int(interval) + 1, "\(checkpoints) checkpoints")
        // The last reservation is held, checkpointed or not: a new process reads it.
        let fresh = Budget(directory: holder.directory)
        #expect(try fresh.status(now: time("2026-11-23T10:02:00Z")).map(\.held).max() == 1_000_000_000)
        #expect(try fresh.rebuiltSidecar() == fresh.checkpoint(now: time("2026-11-23T10:02:01Z")))
    }

    /// The checkpoint lags the journal by up to an interval (reservations wait for it), so a
    /// journal cut back to the checkpoint's position reads as a valid, shorter one: a process
    /// that read or wrote past the cut refuses it every time, not only while its state is cached.
    /// Cut at a line's end or inside the line (a torn tail, which is not an event), after a hold
    /// this process made or one it read from another's.
    @Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
    func aJournalCutBehindWhatAProcessReadIsCorruptionEveryTime(insideALine: Bool, heldByAnother: Bool) throws {
        let temp = TemporaryDirectory()
        let budget = try limitedBudget(temp, try rule("global", "cost", "1000", "day"))
        let journal = budget.directory.budgetPath + "/journal.jsonl"
        let checkpointed = FileManager.default.bytes(journal).count
        if heldByAnother {
            #expect(try enforced(budget, call("0.01", at: "2026-11-23T10:00:00Z")))
            try hold(Budget(directory: budget.directory), at: "2026-11-23T10:00:01Z")
            #expect(try enforced(budget, call("0.01", at: "2026-11-23T10:00:02Z")))  // reads the hold
        } else {
            try hold(budget, at: "2026-11-23T10:00:01Z")
        }
        let written = FileManager.default.bytes(journal).count
        #expect(written > checkpointed + 10)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: journal))
        try handle.truncate(atOffset: UInt64(insideALine ? written - 10 : checkpointed))
        try handle.close()
        for attempt in 0..<2 {
            #expect("attempt \(attempt)") {
                try enforced(budget, call("0.01", at: "2026-11-23T10:00:03Z"))
            } throws: { error in
                (error as? SpendLogError)?.code == .corruption
            }
        }
    }

    @Test func aSidecarReplacedByAnotherIsTrustedForLessThanTwoIntervals() throws {
        let temp = TemporaryDirectory()
        let appender = try limitedBudget(temp, try rule("global", "cost", "1000", "day"))
        let interval: Int64 = 4096
        appender.checkpointIntervalBytes = interval
        let other = Budget(directory: appender.directory)
        var options = WriterOptions()
        options.fsync = .none
        let plain = LogWriter(directory: appender.directory, options: options)
        var second = 0
        func next() -> String {
            second += 1
            return String(format: "2026-11-23T10:%02d:%02dZ", second / 60, second % 60)
        }
        /// Lines no budget writes, at least `bytes` of them.
        func plainLines(_ bytes: Int) throws {
            let start = try logBytes(appender.directory)
            while try logBytes(appender.directory) - start < bytes { try plain.append(call("0.01", at: next())) }
        }
        var before = ""
        /// Another process's checkpoint (after a line it has not counted: one that counts nothing
        /// new writes nothing).
        func replaceByOther() throws {
            try plain.append(call("0.01", at: next()))
            let mine = try identity(appender.sidecarPath)
            _ = try other.checkpoint(now: time(next()))
            before = try identity(appender.sidecarPath)
            #expect(before != mine, "the other process wrote no checkpoint")
        }
        // The appender's own checkpoint, once one is due.
        before = try identity(appender.sidecarPath)
        for _ in 0..<100 {
            #expect(try enforced(appender, call("0.01", at: next())))
            if try identity(appender.sidecarPath) != before { break }
        }
        #expect(try identity(appender.sidecarPath) != before, "the appender never wrote a checkpoint")
        // Another process replaces it; the log then grows by one to two intervals: the appender,
        // due again, finds the sidecar replaced since its own and leaves it.
        try replaceByOther()
        try plainLines(Int(interval) + 1024)
        #expect(try enforced(appender, call("0.01", at: next())))
        #expect(try identity(appender.sidecarPath) == before, "the replaced sidecar was not trusted")
        // Replaced again, but found two intervals after that look: it may be up to two intervals
        // old, so the appender writes its own.
        try replaceByOther()
        try plainLines(2 * Int(interval))
        #expect(try enforced(appender, call("0.01", at: next())))
        #expect(try identity(appender.sidecarPath) != before, "a sidecar two intervals old was trusted")
        #expect(try appender.rebuiltSidecar() == appender.checkpoint(now: time(next())))
    }
}

/// Catching up reads the lines of other writers through the index's scanner, which hands any line
/// it is not sure of to the full parser: the counts must be those of full records, for every
/// metric and every kind of scope.
@Suite struct ScannedCountTests {
    /// Records of many shapes: providers given and inferred, users and callers or none, errors,
    /// adjustments, tags, and names the scanner leaves to the parser (escaped, non-ASCII), or
    /// keeps as other bytes than a scope's canonically equivalent value.
    func variedLog(_ temp: TemporaryDirectory) throws -> LogDirectory {
        let log = try temp.log()
        var random = SplitMix(state: 11)
        // `cafe\u{301}` is `caf\u{e9}` in other bytes (decomposed): a scope matches both.
        let projects = ["etl", "search", "caf\u{e9}", "quote\"d", "etl", "cafe\u{301}"]
        let models = ["gpt-4.1", "claude-sonnet-4-5", "us.anthropic.claude-haiku-4-5", "mistral-large-latest"]
        for host in ["host-a", "host-b"] {
            var options = WriterOptions()
            options.host = host
            let writer = LogWriter(directory: log, options: options)
            var records: [UsageRecord] = []
            for i in 0..<300 {
                let pick = Int(random.next() % 1000)
                var record = UsageRecord(
                    timestamp: Timestamp(millisecondsSinceEpoch: 1_795_392_000_000 - Int64(pick) * 3_600_000),
                    project: projects[pick % projects.count], model: models[pick % models.count],
                    provider: pick % 7 == 0 ? "azure.ai.openai" : nil, inputTokens: Int64(pick * 3),
                    outputTokens: Int64(pick % 50), cost: Money(nanos: Int64(pick) * 1_000_003))
                if pick % 3 == 0 { record.user = "u-\(pick % 4)" }
                if pick % 5 == 0 { record.caller = pick % 2 == 0 ? "api" : "batch" }
                if pick % 11 == 0 { record.status = UsageRecord.Status.error }
                if pick % 13 == 0 { record.tags = ["team": "t\(pick % 2)"] }
                if i % 17 == 0 {
                    record.adjusts = RecordID.generate()
                    record.inputTokens = 0
                    record.outputTokens = 0
                    record.costSource = .priced
                }
                records.append(record)
            }
            try writer.append(contentsOf: Array(records[..<150]))
            try writer.sealAll()
            try writer.append(contentsOf: Array(records[150...]))
        }
        return log
    }

    /// The state after counting `log` for `rules`, through the scanner or through full records.
    func counted(_ log: LogDirectory, _ rules: [LimitRule], scanning: Bool) throws -> [UInt8] {
        var state = BudgetState()
        for (index, var rule) in rules.enumerated() {
            rule.id = "L\(index + 1)"
            _ = state.apply(.limitSet(rule, at: 0))
        }
        var tally = LogTally(directory: log, quietDaysPath: log.budgetPath + "/quiet-days")
        tally.persistsQuietDays = false
        tally.scansRecords = scanning
        try tally.catchUp(&state)
        return state.encode()
    }

    @Test func everyMetricAndScopeCountsAsFullRecordsDo() throws {
        let temp = TemporaryDirectory()
        let log = try variedLog(temp)
        var rules: [LimitRule] = []
        for metric in ["cost", "requests", "input-tokens", "output-tokens", "total-tokens"] {
            for scope in [
                "global", "project=etl", "project=caf\u{e9}", "project=quote\"d", "model=claude-sonnet-4-5",
                "provider=anthropic", "provider=aws.bedrock", "provider=azure.ai.openai", "user=u-1",
                "caller=api", "project=etl,user=u-2", "project=search,model=gpt-4.1,caller=batch", "user=nobody",
            ] {
                rules.append(try rule(scope, metric, "1000000", scope.count % 2 == 0 ? "lifetime" : "month"))
            }
        }
        let scanned = try counted(log, rules, scanning: true)
        #expect(scanned == (try counted(log, rules, scanning: false)))
        // Some counters are not empty: the comparison compares something.
        #expect(String(decoding: scanned, as: UTF8.self).components(separatedBy: "\"L").count > 40)
        // A tag scope is counted from full records, the scanner keeping no tags.
        let tagged = rules + [try rule("tag:team=t1", "cost", "1000000", "lifetime")]
        #expect(try counted(log, tagged, scanning: true) == (try counted(log, tagged, scanning: false)))
    }
}

/// When a folder's unchanged time proves that nothing in it changed.
@Suite struct ListingTrustTests {
    @Test func aListingIsTrustedOnlyAMarginAfterTheFolderChanged() throws {
        let changed: Int64 = 1_795_392_000_123
        #expect(FileSystem.listedLateEnough(modifiedMs: changed, listedAt: changed + 50, marginMs: 50))
        #expect(!FileSystem.listedLateEnough(modifiedMs: changed, listedAt: changed + 49, marginMs: 50))
        #expect(!FileSystem.listedLateEnough(modifiedMs: changed, listedAt: changed - 1000, marginMs: 50))
        // A time of whole seconds may be a file system that keeps seconds only: 2 s whatever the margin.
        let second: Int64 = 1_795_392_000_000
        #expect(!FileSystem.listedLateEnough(modifiedMs: second, listedAt: second + 1999, marginMs: 50))
        #expect(FileSystem.listedLateEnough(modifiedMs: second, listedAt: second + 2000, marginMs: 50))
        #expect(!FileSystem.listedLateEnough(modifiedMs: changed, listedAt: changed + 1999, marginMs: 2000))
    }

    @Test func theMarginOfTheTemporaryFolderIsThatOfItsFileSystem() throws {
        let temp = TemporaryDirectory()
        let margin = FileSystem.modificationTimeMarginMs(temp.path)
        #expect(margin == 50 || margin == 2000)
        #expect(FileSystem.modificationTimeMarginMs(temp.path + "/missing") == 2000)
    }
}

/// The provider a model name implies, for names as callers write them.
@Suite struct ProviderInferenceTests {
    @Test(arguments: [
        ("gpt-4.1", "openai"), ("GPT-4.1", "openai"), ("o3", "openai"), ("o3-mini", "openai"), ("o3x", "unknown"),
        ("Claude-Sonnet-4-5", "anthropic"), ("anthropic/claude-haiku-4-5", "anthropic"),
        ("Bedrock/whatever", "aws.bedrock"), ("us.anthropic.claude-sonnet-4-5-v1:0", "aws.bedrock"),
        ("eu.amazon.nova-pro-v1:0", "aws.bedrock"), ("gemini-2.5-pro", "gcp.gemini"),
        ("mistral-large-latest", "mistral_ai"), ("\u{c9}gpt-4", "unknown"), ("\u{212A}imi", "unknown"),
        ("", "unknown"), ("/gpt-4", "unknown"), ("grok-4", "x_ai"),
    ])
    func namesGiveTheirMaker(model: String, provider: String) {
        #expect(ProviderInference.provider(forModel: model) == provider, "\(model)")
    }
}

/// What an enforced append counts while another process holds `budget/lock`
/// (``BudgetStore/countAhead()``): lines read then are counted once, together with those the
/// catch-up under the lock reads, whatever happened in between.
@Suite struct CountAheadTests {
    /// Writer options of another host, without fsync.
    static var otherHost: WriterOptions {
        var options = WriterOptions(fsync: .none)
        options.host = "other-host"
        return options
    }

    /// A budget over a fresh log with a daily $1000 limit on `scope`, and one enforced $1 call.
    func started(_ temp: TemporaryDirectory, scope: String = "global") throws -> Budget {
        let budget = try limitedBudget(temp, try rule(scope, "cost", "1000", "day"))
        #expect(try enforced(budget, call("1", at: "2026-11-23T10:00:00Z")))
        return budget
    }

    /// The budget counts what the log holds, `logged`, and a recount from scratch agrees.
    func expectCounted(_ budget: Budget, _ logged: Int64) throws {
        #expect(try loggedSpend(budget.directory) == logged)
        #expect(try budget.status(now: time("2026-11-23T10:00:59Z"))[0].spent == logged)
        #expect(try !budget.rebuild(now: time("2026-11-23T10:01:00Z")).differed)
    }

    /// Cuts `path` to `keep` bytes and marks it retired, as a take-back does.
    func takeBack(_ path: String, keeping keep: Data) throws {
        try keep.write(to: URL(fileURLWithPath: path))
        try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: path)
    }
    @Test func countingAheadGivesTheCountsOfARecount() throws {
        let temp = TemporaryDirectory()
        let budget = try started(temp, scope: "project=etl")
        let other = LogWriter(directory: budget.directory, options: WriterOptions(fsync: .none))
        let otherHost = LogWriter(directory: budget.directory, options: Self.otherHost)
        var expected: Int64 = 1_000_000_000
        for round in 0..<6 {
            // Other writers append while this process waits: some lines are read ahead, some only
            // under the lock, some of them in a segment sealed meanwhile or on another host.
            for i in 0..<5 {
                let project = i == 4 ? "web" : "etl"
                try other.append(call("0.5", at: "2026-11-23T10:0\(round):0\(i)Z", project: project))
                try otherHost.append(call("0.25", at: "2026-11-23T10:0\(round):1\(i)Z"))
                if project == "etl" { expected += 500_000_000 }
                expected += 250_000_000
            }
            budget.store.countAhead()
            if round == 2 { try other.sealAll() }
            budget.store.countAhead()  // nothing new: counts nothing twice
            try other.append(call("0.125", at: "2026-11-23T10:0\(round):30Z"))
            expected += 125_000_000
            #expect(try enforced(budget, call("1", at: "2026-11-23T10:0\(round):40Z")))
            expected += 1_000_000_000
            #expect(try budget.status(now: time("2026-11-23T10:0\(round):50Z"))[0].spent == expected)
        }
        #expect(try !budget.rebuild(now: time("2026-11-23T10:09:00Z")).differed)
    }

    @Test func countingAheadAfterLinesWereTakenBackCountsAgain() throws {
        let temp = TemporaryDirectory()
        let budget = try started(temp)
        let other = LogWriter(directory: budget.directory, options: WriterOptions(fsync: .none))
        try other.append(call("2", at: "2026-11-23T10:00:01Z"))
        budget.store.countAhead()
        // The line read ahead is taken out of the log again, as after a failed write: cut off and
        // the segment marked retired (docs/FORMAT.md, "What an error promises"). The next writer
        // seals it and starts another; the segment is then shorter than the state counted ahead
        // covers, so everything is counted again.
        let segment = try #require(
            try FileManager.default.contentsOfDirectory(atPath: budget.directory.dayFolderPath("2026-11-23")).first {
                $0.hasSuffix(".jsonl")
            })
        let path = budget.directory.dayFolderPath("2026-11-23") + "/" + segment
        let text = try #require(FileManager.default.contents(atPath: path))
        try takeBack(
            path, keeping: Data(text.dropLast().lastIndex(of: 0x0A).map { text.prefix(through: $0) } ?? Data()))
        try LogWriter(directory: budget.directory, options: WriterOptions(fsync: .none)).append(
            call("0.5", at: "2026-11-23T10:00:02Z"))
        #expect(try enforced(budget, call("1", at: "2026-11-23T10:00:03Z")))
        try expectCounted(budget, 2_500_000_000)  // 1 + 0.5 + 1: the 2 was taken back
    }

    /// The first line of a new segment, counted ahead, then taken back to nothing: the next
    /// writer removes the emptied segment (no sealed file is left), and the catch-up, not finding
    /// it, counts everything again instead of keeping the record.
    @Test func aSegmentEmptiedByATakeBackAndRemovedIsCountedAgain() throws {
        let temp = TemporaryDirectory()
        let budget = try started(temp)
        try LogWriter(directory: budget.directory, options: Self.otherHost).append(
            call("2", at: "2026-11-23T10:00:01Z"))
        budget.store.countAhead()
        let path = budget.directory.dayFolderPath("2026-11-23") + "/other-host-000000.jsonl"
        #expect(FileManager.default.fileExists(atPath: path))
        try takeBack(path, keeping: Data())
        try LogWriter(directory: budget.directory, options: Self.otherHost).append(
            call("0.5", at: "2026-11-23T10:00:02Z"))
        #expect(!FileManager.default.fileExists(atPath: path))
        #expect(try enforced(budget, call("1", at: "2026-11-23T10:00:03Z")))
        try expectCounted(budget, 2_500_000_000)
    }

    /// Lines counted ahead are not read again under the lock: overwritten afterwards (which no
    /// writer does), they are still counted as they were, and nothing reads the damage.
    @Test func linesCountedAheadAreNotReadAgain() throws {
        let temp = TemporaryDirectory()
        let budget = try started(temp)
        let other = LogWriter(directory: budget.directory, options: Self.otherHost)
        for i in 0..<3 { try other.append(call("2", at: "2026-11-23T10:00:0\(i + 1)Z")) }
        budget.store.countAhead()
        let path = budget.directory.dayFolderPath("2026-11-23") + "/other-host-000000.jsonl"
        let text = try #require(FileManager.default.contents(atPath: path))
        try Data(text.map { $0 == 0x0A ? 0x0A : 0x78 }).write(to: URL(fileURLWithPath: path))
        #expect(try enforced(budget, call("1", at: "2026-11-23T10:00:05Z")))
        #expect(try budget.status(now: time("2026-11-23T10:00:06Z"))[0].spent == 8_000_000_000)
    }

    /// The catch-up keeps the active segments it read open and reads on from them while their
    /// folder is unchanged. A segment replaced by hand with another file of the same name (the old
    /// one moved out of the log, so still linked) is read from its name again: the new file's
    /// lines are counted, not what the old one holds.
    @Test func aSegmentReplacedByAnotherFileIsReadFromItsName() throws {
        let temp = TemporaryDirectory()
        let budget = try started(temp)
        try LogWriter(directory: budget.directory, options: Self.otherHost).append(
            call("2", at: "2026-11-23T10:00:01Z"))
        #expect(try enforced(budget, call("1", at: "2026-11-23T10:00:02Z")))  // reads it, keeps it open
        budget.store.countAhead()
        let path = budget.directory.dayFolderPath("2026-11-23") + "/other-host-000000.jsonl"
        let elsewhere = try temp.log("elsewhere")
        try LogWriter(directory: elsewhere, options: Self.otherHost).append(call("4", at: "2026-11-23T10:00:03Z"))
        let line = try #require(
            FileManager.default.contents(atPath: elsewhere.dayFolderPath("2026-11-23") + "/other-host-000000.jsonl"))
        let text = try #require(FileManager.default.contents(atPath: path))
        try FileManager.default.moveItem(atPath: path, toPath: temp.path + "/moved.jsonl")
        try (text + line).write(to: URL(fileURLWithPath: path))
        #expect(try enforced(budget, call("1", at: "2026-11-23T10:00:04Z")))
        try expectCounted(budget, 9_000_000_000)  // 1 + 2 + 1 + 4 + 1
    }

    /// Under a kept listing, another host's active segment is looked at through the descriptor
    /// kept open: its growth and a take-back (cut shorter and marked retired, which leaves the
    /// folder's time alone) are both seen. Once it is sealed, the descriptor is closed.
    @Test func aSegmentKeptOpenIsFollowedUntilItIsSealed() throws {
        let temp = TemporaryDirectory()
        let budget = try started(temp)
        let day = "2026-11-23"
        let folder = budget.directory.segmentsPath + "/day=" + day
        let path = folder + "/other-host-000000.jsonl"
        let other = LogWriter(directory: budget.directory, options: Self.otherHost)
        try other.append(call("2", at: day + "T10:00:01Z"))
        try FileManager.default.setAttributes([.modificationDate: CatchUpTests.longAgo], ofItemAtPath: folder)
        #expect(try enforced(budget, call("1", at: day + "T10:00:02Z")))  // listed, read, kept open
        #expect(try enforced(budget, call("1", at: day + "T10:00:03Z")))  // the listing kept
        #expect(budget.store.segmentsKeptOpen.contains(path))
        let before = try #require(FileManager.default.contents(atPath: path))
        try other.append(call("4", at: day + "T10:00:04Z"))
        #expect(try enforced(budget, call("1", at: day + "T10:00:05Z")))
        #expect(try budget.status(now: time(day + "T10:00:05Z"))[0].spent == 10_000_000_000)
        try takeBack(path, keeping: before)
        #expect(try enforced(budget, call("1", at: day + "T10:00:06Z")))
        #expect(try budget.status(now: time(day + "T10:00:06Z"))[0].spent == 7_000_000_000)
        try other.sealAll()
        #expect(try enforced(budget, call("1", at: day + "T10:00:07Z")))
        #expect(!budget.store.segmentsKeptOpen.contains(path))
        try expectCounted(budget, 8_000_000_000)
    }

    /// Under a kept listing of `segments/`, a day folder is looked at through a descriptor kept
    /// open: a segment added to it is seen (the folder's time moves, on the open folder too). A
    /// day folder replaced by hand (the old one moved out of the log, so still there) is found by
    /// its name again: `segments/` changed, so nothing kept from it is trusted.
    @Test func aDayFolderKeptOpenIsFollowedUntilItIsReplaced() throws {
        let temp = TemporaryDirectory()
        let budget = try limitedBudget(temp, try rule("global", "cost", "1000", "month"))
        let day = "2026-11-22"  // other hosts' day; this process appends on the 23rd
        let folder = budget.directory.dayFolderPath(day)
        let own = budget.directory.dayFolderPath("2026-11-23")
        let other = LogWriter(directory: budget.directory, options: Self.otherHost)
        try other.append(call("2", at: day + "T10:00:00Z"))
        #expect(try enforced(budget, call("1", at: "2026-11-23T10:00:00Z")))
        for path in [budget.directory.segmentsPath, folder, own] {
            try FileManager.default.setAttributes([.modificationDate: CatchUpTests.longAgo], ofItemAtPath: path)
        }
        #expect(try enforced(budget, call("1", at: "2026-11-23T10:00:01Z")))  // listed late enough: kept
        #expect(try enforced(budget, call("1", at: "2026-11-23T10:00:02Z")))  // the listings kept: folders opened
        #expect(Set(budget.store.foldersKeptOpen.keys) == [folder, own])
        try other.append(call("4", at: day + "T10:00:01Z"))
        var third = WriterOptions(fsync: .none)
        third.host = "third-host"
        try LogWriter(directory: budget.directory, options: third).append(call("8", at: day + "T10:00:02Z"))
        #expect(try enforced(budget, call("1", at: "2026-11-23T10:00:03Z")))
        #expect(try budget.status(now: time("2026-11-23T10:00:04Z"))[0].spent == 18_000_000_000)
        try FileManager.default.moveItem(atPath: folder, toPath: temp.path + "/moved-day")
        var fourth = WriterOptions(fsync: .none)
        fourth.host = "fourth-host"  // segment names are never used twice
        try LogWriter(directory: budget.directory, options: fourth).append(call("16", at: day + "T10:00:03Z"))
        #expect(try enforced(budget, call("1", at: "2026-11-23T10:00:05Z")))
        // Found again by its name: the folder open is the new one, not the one moved away.
        let now = try #require(FileManager.default.attributesOfItem(atPath: folder)[.systemFileNumber] as? UInt64)
        #expect(budget.store.foldersKeptOpen[folder] == now)
        try expectCounted(budget, 21_000_000_000)  // five calls of 1 on the 23rd, 16 on the 22nd
    }

    /// Days none of whose records can count any more are not looked at: at a record of the 23rd,
    /// a daily limit counts the 22nd (the previous window is kept) and on, so the log position in
    /// the 20th is forgotten, as a rebuild forgets it, and damage there does not block the next
    /// enforced append. A lifetime limit counts every day: there the same damage does.
    @Test(arguments: ["day", "lifetime"])
    func daysThatCanNoLongerCountAreNotLookedAt(window: String) throws {
        let temp = TemporaryDirectory()
        let budget = try limitedBudget(temp, try rule("global", "cost", "1000", window), setAt: "2026-11-20T09:00:00Z")
        let other = LogWriter(directory: budget.directory, options: Self.otherHost)
        try other.append(call("2", at: "2026-11-20T10:00:00Z"))
        #expect(try enforced(budget, call("1", at: "2026-11-20T11:00:00Z")))
        try other.append(call("4", at: "2026-11-22T10:00:00Z"))
        #expect(try enforced(budget, call("1", at: "2026-11-23T10:00:00Z")))
        let rebuilt = try budget.rebuild(now: time("2026-11-23T10:00:01Z"))
        #expect(!rebuilt.differed)
        let positions = String(decoding: rebuilt.sidecar, as: UTF8.self)
        #expect(positions.contains("day=2026-11-20/") == (window == "lifetime"))
        #expect(positions.contains("day=2026-11-22/other-host-000000"))
        // Back-dated to a day that cannot count (with a daily limit): in the log, no position kept.
        #expect(try enforced(budget, call("1", at: "2026-11-19T10:00:00Z")))
        #expect(try !budget.rebuild(now: time("2026-11-23T10:00:01Z")).differed)
        #expect(try enforced(budget, call("1", at: "2026-11-23T10:00:02Z")))
        let old = try #require(
            FileHandle(forWritingAtPath: budget.directory.dayFolderPath("2026-11-20") + "/other-host-000000.jsonl"))
        try old.seekToEnd()
        try old.write(contentsOf: Data("not a record\n".utf8))
        try old.close()
        if window == "day" {
            #expect(try enforced(budget, call("1", at: "2026-11-23T10:00:03Z")))
            #expect(try budget.status(now: time("2026-11-23T10:00:04Z"))[0].spent == 3_000_000_000)
        } else {
            #expect(throws: SpendLogError.self) { try enforced(budget, call("1", at: "2026-11-23T10:00:03Z")) }
        }
    }

    /// A read-only status (`peekStatus`), between enforced appends of a long-lived process, lists
    /// what changed for itself: the enforced append after it still finds the folder changed, and
    /// forgets the position in a sealed segment removed meanwhile (as retention removes those that
    /// no longer count), as a rebuild does.
    @Test func aStatusLeavesTheListingsOfEnforcementAlone() throws {
        let temp = TemporaryDirectory()
        let budget = try started(temp)
        let day = "2026-11-23"
        let folder = budget.directory.dayFolderPath(day)
        let other = LogWriter(directory: budget.directory, options: Self.otherHost)
        // Costs nothing, so the counters are the same with or without it: only its position differs.
        try other.append(call("0", at: day + "T10:00:01Z"))
        try other.sealAll()
        for path in [budget.directory.segmentsPath, folder] {
            try FileManager.default.setAttributes([.modificationDate: CatchUpTests.longAgo], ofItemAtPath: path)
        }
        #expect(try enforced(budget, call("1", at: day + "T10:00:02Z")))  // listed late enough: kept
        #expect(try enforced(budget, call("1", at: day + "T10:00:03Z")))
        try FileManager.default.removeItem(atPath: folder + "/other-host-000000.jsonl.zst")
        // A time that differs from the listed one, and is old enough to be trusted.
        try FileManager.default.setAttributes(
            [.modificationDate: CatchUpTests.longAgo.addingTimeInterval(1)], ofItemAtPath: folder)
        _ = try budget.peekStatus(now: time(day + "T10:00:04Z"))
        #expect(try enforced(budget, call("1", at: day + "T10:00:05Z")))
        try expectCounted(budget, 4_000_000_000)
    }

    /// A segment that cannot be counted blocks enforcement, and the catch-up keeps no segment
    /// open meanwhile (one sealed while it is blocked would hold its space).
    @Test func aCatchUpThatFailsKeepsNoSegmentOpen() throws {
        let temp = TemporaryDirectory()
        let budget = try started(temp)
        let path = budget.directory.dayFolderPath("2026-11-23") + "/other-host-000000.jsonl"
        try LogWriter(directory: budget.directory, options: Self.otherHost).append(
            call("2", at: "2026-11-23T10:00:01Z"))
        #expect(try enforced(budget, call("1", at: "2026-11-23T10:00:02Z")))
        #expect(budget.store.segmentsKeptOpen.contains(path))
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("not a record\n".utf8))
        try handle.close()
        #expect(throws: SpendLogError.self) { try enforced(budget, call("1", at: "2026-11-23T10:00:03Z")) }
        #expect(budget.store.segmentsKeptOpen.isEmpty)
    }

    /// More active segments than are kept open: every one is counted, and read again as it grows.
    @Test func moreActiveSegmentsThanAreKeptOpenAreAllCounted() throws {
        let temp = TemporaryDirectory()
        let budget = try started(temp)
        var writers: [LogWriter] = []
        for host in 0..<70 {
            var options = WriterOptions(fsync: .none)
            options.host = "host-\(host)"
            writers.append(LogWriter(directory: budget.directory, options: options))
        }
        for round in 0..<2 {
            for writer in writers { try writer.append(call("0.5", at: "2026-11-23T10:0\(round):01Z")) }
            #expect(try enforced(budget, call("1", at: "2026-11-23T10:0\(round):02Z")))
        }
        #expect(budget.store.segmentsKeptOpen.count <= LogTally.Reading.maximumOpen)
        try expectCounted(budget, 73_000_000_000)  // 1 + 2 × (70 × 0.5 + 1)
    }

    /// A limit set by another process between counting ahead and the lock: the catch-up under
    /// the lock applies it and counts every record for it.
    @Test func aLimitSetAfterCountingAheadCountsEverything() throws {
        let temp = TemporaryDirectory()
        let budget = try started(temp)
        let other = LogWriter(directory: budget.directory, options: WriterOptions(fsync: .none))
        try other.append(call("2", at: "2026-11-23T10:00:01Z", project: "web"))
        try other.append(call("4", at: "2026-11-23T10:00:02Z"))
        budget.store.countAhead()
        try Budget(directory: budget.directory).setLimit(
            try rule("project=etl", "cost", "100", "day"), now: time("2026-11-23T10:00:03Z"))
        #expect(try enforced(budget, call("1", at: "2026-11-23T10:00:04Z")))
        let status = try budget.status(now: time("2026-11-23T10:00:05Z"))
        #expect(status.map(\.spent) == [8_000_000_000, 6_000_000_000])
        #expect(try !budget.rebuild(now: time("2026-11-23T10:01:00Z")).differed)
    }
}
