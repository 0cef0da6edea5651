import Dispatch
import Foundation
import Testing

@testable import SpendLogTestSupport

/// What a failed command says it wrote is what it wrote (docs/FORMAT.md, "What an error promises"),
/// and a retry with the same id never counts twice. Faults come through the debug binary's errno
/// seam (`SPENDLOG_FAIL_AT`).
@Suite struct TruthfulErrorCLITests {
    static let now = "2026-11-23T10:00:00Z"
    let env = ["SPENDLOG_NOW": TruthfulErrorCLITests.now]

    func appendArguments(_ dir: String, cost: String = "0.5", extra: [String] = []) -> [String] {
        [
            "append", "--dir", dir, "--project", "etl", "--model", "gpt-4.1", "--input-tokens", "10",
            "--output-tokens", "1", "--cost", cost,
        ] + extra
    }

    /// The records `tail` shows; none when the command left no log directory at all.
    func records(_ dir: String) throws -> [String] {
        guard FileManager.default.fileExists(atPath: dir) else { return [] }
        let tail = try spendlog(["tail", "--dir", dir, "--json", "-n", "1000"])
        #expect(tail.status == 0, "\(tail.stderr)")
        return tail.stdout.split(separator: "\n").map(String.init)
    }

    func totalCost(_ dir: String) throws -> String {
        let stats = try spendlog(["stats", "--dir", dir, "--format", "json"])
        #expect(stats.status == 0, "\(stats.stderr)")
        guard let range = stats.stdout.range(of: #""cost_usd":"#) else { return "none" }
        return String(stats.stdout[range.upperBound...].prefix { $0 != "," && $0 != "}" })
    }

    func spent(_ dir: String) throws -> String {
        let status = try spendlog(["budget", "status", "--dir", dir, "--format", "json"], environment: env)
        #expect(status.status == 0, "\(status.stderr)")
        guard let range = status.stdout.range(of: #""spent":"#) else { return "none" }
        return String(status.stdout[range.upperBound...].prefix { $0 != "," })
    }

    func setLimit(_ dir: String, max: String = "10") throws {
        let set = try spendlog(
            [
                "limit", "set", "--dir", dir, "--scope", "project=etl", "--type", "cost", "--max", max, "--window",
                "day",
            ],
            environment: env)
        #expect(set.status == 0, "\(set.stderr)")
    }

    // MARK: - A reported failure leaves nothing behind

    @Test(arguments: ["always", "batch"])
    func anAppendWhoseSegmentFsyncFailsLeavesNothingToCount(policy: String) throws {
        for (errno, enforce) in [("EIO", false), ("ENOSPC", true)] {
            let temp = TemporaryDirectory()
            let dir = temp.path + "/log"
            try setLimit(dir)
            #expect(try spendlog(appendArguments(dir, extra: ["--ts", Self.now])).status == 0)
            let failed = try spendlog(
                appendArguments(dir, extra: ["--fsync", policy] + (enforce ? ["--enforce"] : ["--ts", Self.now])),
                environment: env.merging(["SPENDLOG_FAIL_AT": "fsync=\(errno):.jsonl"]) { $1 })
            #expect(failed.status == 1, "\(failed.stderr)")
            #expect(failed.stdout.isEmpty)
            #expect(failed.stderr.hasPrefix("Error: Nothing was written"), "\(failed.stderr)")
            #expect(!failed.stderr.contains("may be in the log"))
            #expect(try records(dir).count == 1)
            #expect(try totalCost(dir) == "0.5")
            #expect(try spent(dir) == "0.5")
            // The next writer starts a new segment and is counted once.
            #expect(try spendlog(appendArguments(dir, extra: ["--enforce"]), environment: env).status == 0)
            #expect(try spent(dir) == "1")
            #expect(try spendlog(["budget", "rebuild", "--dir", dir, "--check"], environment: env).status == 0)
        }
    }

    @Test func anIngestWhoseFsyncFailsLeavesNothing() throws {
        let temp = TemporaryDirectory()
        let dir = temp.path + "/log"
        let input = (0..<5).map {
            #"{"ts":"2026-11-23T10:00:0\#($0).000Z","project":"etl","model":"m","input_tokens":1,"output_tokens":1,"cost_usd":1}"#
        }
        .joined(separator: "\n")
        let failed = try spendlog(
            ["ingest", "--dir", dir, "-"], input: input, environment: ["SPENDLOG_FAIL_AT": "fsync=ENOSPC:.jsonl"])
        #expect(failed.status == 1)
        #expect(failed.stderr.contains("Nothing was written"), "\(failed.stderr)")
        #expect(try records(dir).isEmpty)
    }

    /// The second day's write fails after the first day's was written and synced: the first is
    /// taken back too, as the help promises all or nothing.
    @Test func anIngestAcrossTwoDaysWhoseSecondDayFailsLeavesNeitherDay() throws {
        let temp = TemporaryDirectory()
        let dir = temp.path + "/log"
        let input = """
            {"ts":"2026-11-23T10:00:00.000Z","project":"etl","model":"m","input_tokens":1,"output_tokens":1,"cost_usd":1}
            {"ts":"2026-11-24T10:00:00.000Z","project":"etl","model":"m","input_tokens":1,"output_tokens":1,"cost_usd":2}
            """
        let failed = try spendlog(
            ["ingest", "--dir", dir, "-"], input: input, environment: ["SPENDLOG_FAIL_AT": "write@2=ENOSPC:.jsonl"])
        #expect(failed.status == 1, "\(failed.stderr)")
        #expect(failed.stderr.hasPrefix("Error: Nothing was written"), "\(failed.stderr)")
        #expect(try records(dir).isEmpty)
        #expect(try totalCost(dir) == "none")
        let retried = try spendlog(["ingest", "--dir", dir, "-"], input: input)
        #expect(retried.status == 0, "\(retried.stderr)")
        #expect(try records(dir).count == 2)
    }

    @Test func aLimitWhoseJournalFsyncFailsIsNotInForce() throws {
        let temp = TemporaryDirectory()
        let dir = temp.path + "/log"
        let failed = try spendlog(
            ["limit", "set", "--dir", dir, "--scope", "global", "--type", "cost", "--max", "1", "--window", "day"],
            environment: env.merging(["SPENDLOG_FAIL_AT": "fsync=EIO:journal.jsonl"]) { $1 })
        #expect(failed.status == 1)
        #expect(failed.stderr.contains("Nothing was written"), "\(failed.stderr)")
        let list = try spendlog(["limit", "list", "--dir", dir, "--format", "json"], environment: env)
        #expect(list.status == 0, "\(list.stderr)")
        #expect(list.stdout == "[]\n")
        #expect(try spendlog(appendArguments(dir, cost: "5", extra: ["--enforce"]), environment: env).status == 0)
    }

    /// The sidecar is a cache: a full disk while checkpointing fails neither the enforced append
    /// (its record is in the log) nor `budget status` (a read).
    @Test func aCheckpointThatCannotBeWrittenFailsNeitherAnAppendNorAStatus() throws {
        let temp = TemporaryDirectory()
        let dir = temp.path + "/log"
        try setLimit(dir, max: "1")
        let full = env.merging(["SPENDLOG_FAIL_AT": "write=ENOSPC:sidecar"]) { $1 }
        let appended = try spendlog(appendArguments(dir, cost: "0.6", extra: ["--enforce"]), environment: full)
        #expect(appended.status == 0, "\(appended.stderr)")
        #expect(appended.stderr.contains("Note: The budget checkpoint was not updated"), "\(appended.stderr)")
        #expect(try records(dir).count == 1)
        let status = try spendlog(["budget", "status", "--dir", dir], environment: full)
        #expect(status.status == 0, "\(status.stderr)")
        #expect(try spent(dir) == "0.6")
        // Counted once: the next one that would pass the limit is refused.
        #expect(try spendlog(appendArguments(dir, cost: "0.6", extra: ["--enforce"]), environment: env).status == 3)
    }

    // MARK: - Retries

    @Test func anAppendRetriedWithItsIdIsRecordedAndCountedOnce() throws {
        let temp = TemporaryDirectory()
        let dir = temp.path + "/log"
        try setLimit(dir, max: "1")
        let id = "019aaf00-0000-7000-8000-000000000001"
        for enforce in [true, true, false] {
            let result = try spendlog(
                appendArguments(
                    dir, cost: "0.6", extra: ["--id", id] + (enforce ? ["--enforce"] : ["--ts", Self.now])),
                environment: env)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout == id + "\n")
        }
        let again = try spendlog(appendArguments(dir, cost: "0.6", extra: ["--id", id, "--ts", Self.now]))
        #expect(again.stderr.contains("Note: a record with id \(id) is already in the log"), "\(again.stderr)")
        #expect(try records(dir).count == 1)
        #expect(try totalCost(dir) == "0.6")
        #expect(try spent(dir) == "0.6")
        // Not a UUID, and a UUID of another version (v4): refused, naming the flag, nothing written.
        for id in ["not-a-uuid", "4d7c0a52-9c3e-4f6a-9b1e-2a3c4d5e6f70", ""] {
            let bad = try spendlog(appendArguments(dir, extra: ["--id", id, "--ts", Self.now]))
            #expect(bad.status == 64, "\(id)")
            #expect(bad.stderr.contains("--id:"), "\(bad.stderr)")
        }
        #expect(try records(dir).count == 1)
    }

    /// Eight processes retry the same id at once: one record.
    @Test func concurrentRetriesOfOneIdWriteItOnce() throws {
        let temp = TemporaryDirectory()
        let dir = temp.path + "/log"
        let id = "019aaf00-0000-7000-8000-000000000002"
        let statuses = Statuses()
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            let result = try? spendlog(appendArguments(dir, extra: ["--id", id, "--ts", Self.now, "--fsync", "batch"]))
            statuses.add(result?.status ?? -1)
        }
        #expect(statuses.all == Array(repeating: 0, count: 8))
        #expect(try records(dir).count == 1)
    }

    @Test func anIngestWithRepeatedIdsWritesEachOnce() throws {
        let temp = TemporaryDirectory()
        let dir = temp.path + "/log"
        let line = { (id: Int, cost: String) in
            #"{"id":"019aaf00-0000-7000-8000-00000000001\#(id)","ts":"2026-11-23T10:00:00.000Z","project":"etl","model":"m","input_tokens":1,"output_tokens":1,"cost_usd":\#(cost)}"#
        }
        let input = [line(1, "5"), line(2, "0.1"), line(1, "5")].joined(separator: "\n")
        let first = try spendlog(["ingest", "--dir", dir, "-"], input: input)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout == "ingested 2 records, 1 already recorded\n")
        #expect(first.stderr.contains("019aaf00-0000-7000-8000-000000000011 is already in the log"))
        #expect(try totalCost(dir) == "5.1")
        let again = try spendlog(["ingest", "--dir", dir, "-"], input: input + "\n" + line(3, "1"))
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stdout == "ingested 1 record, 3 already recorded\n")
        #expect(try records(dir).count == 3)
        #expect(try totalCost(dir) == "6.1")
        #expect(try spendlog(["verify", "--dir", dir]).status == 0)
    }

    /// A segment copied into the log by hand (a restored backup, a copy under another host name)
    /// brings every record a second time: `verify` reports it; `tail`, `stats` and the index count
    /// each record once, whether the copy arrives before or after the original was indexed.
    @Test func aCopiedSegmentIsReportedAndCountedOnce() throws {
        let temp = TemporaryDirectory()
        let dir = temp.path + "/log"
        let day = dir + "/segments/day=2026-11-23"
        let input = (1...3).map {
            #"{"ts":"2026-11-23T10:00:0\#($0).000Z","project":"etl","model":"m","input_tokens":1,"output_tokens":1,"cost_usd":\#($0)}"#
        }.joined(separator: "\n")
        let host = ["SPENDLOG_HOST": "vm"]
        #expect(try spendlog(["ingest", "--dir", dir, "-"], input: input, environment: host).status == 0)
        #expect(try spendlog(["seal", "--dir", dir], environment: host).status == 0)
        #expect(try spendlog(["index", "--dir", dir]).status == 0)
        try FileManager.default.copyItem(atPath: day + "/vm-000000.jsonl.zst", toPath: day + "/copy-000000.jsonl.zst")
        #expect(try totalCost(dir) == "6")
        let index = try spendlog(["index", "--dir", dir, "--json"])
        #expect(index.stdout.contains(#""duplicates":3"#), "\(index.stdout)")
        #expect(index.stderr.contains("3 records appeared a second time"), "\(index.stderr)")
        #expect(try totalCost(dir) == "6")
        let rebuilt = try spendlog(["index", "--dir", dir, "--rebuild"])
        #expect(rebuilt.status == 0, "\(rebuilt.stderr)")
        #expect(try totalCost(dir) == "6")
        // An active segment copied: read raw, counted once.
        #expect(
            try spendlog(appendArguments(dir, cost: "4", extra: ["--ts", Self.now]), environment: host).status == 0)
        try FileManager.default.copyItem(atPath: day + "/vm-000001.jsonl", toPath: day + "/copy2-000000.jsonl")
        let stats = try spendlog(["stats", "--dir", dir, "--format", "json"])
        #expect(stats.stderr.contains("1 record appeared a second time"), "\(stats.stderr)")
        #expect(try totalCost(dir) == "10")
        let tail = try spendlog(["tail", "--dir", dir, "--json", "-n", "100"])
        #expect(tail.stdout.split(separator: "\n").count == 4)
        #expect(tail.stderr.contains("4 records appeared a second time"), "\(tail.stderr)")
        let verify = try spendlog(["verify", "--dir", dir])
        #expect(verify.status == 65)
        #expect(verify.stderr.contains("appears a second time") || verify.stdout.contains("appears a second time"))
    }

    // MARK: - Lines readers refuse are never written

    @Test(arguments: [1 << 20 + 1, 1_100_000, 2_000_000, 4_000_000])
    func anIngestLineLongerThanTheLimitIsRefused(length: Int) throws {
        let temp = TemporaryDirectory()
        let dir = temp.path + "/log"
        let head =
            #"{"ts":"2026-11-23T10:00:00.000Z","project":"etl","model":"m","input_tokens":1,"output_tokens":1,"cost_usd":1,"note":""#
        let line = head + String(repeating: "x", count: length - head.utf8.count - 2) + #""}"#
        #expect(line.utf8.count == length)
        let result = try spendlog(["ingest", "--dir", dir, "-"], input: line + "\n")
        #expect(result.status == 65, "\(result.stderr.prefix(300))")
        #expect(result.stderr.contains("line 1: the line is \(length) bytes, more than the 1048576"))
        #expect(try records(dir).isEmpty)
    }

    // MARK: - Smaller ones

    @Test func aBrokenPriceFileDoesNotBlockAnAppendThatGivesItsCost() throws {
        let temp = TemporaryDirectory()
        let dir = temp.path + "/log"
        let prices = temp.path + "/prices.json"
        writeFile(prices, Data("{ not json".utf8))
        let given = try spendlog(appendArguments(dir, extra: ["--prices", prices, "--ts", Self.now]))
        #expect(given.status == 0, "\(given.stderr)")
        let priced = try spendlog([
            "append", "--dir", dir, "--project", "etl", "--model", "gpt-4.1", "--input-tokens", "1",
            "--output-tokens", "1", "--prices", prices,
        ])
        #expect(priced.status != 0, "pricing still needs the table")
        #expect(try records(dir).count == 1)
    }

    @Test func anIngestLineWithMoreHourWritesThanCacheWritesIsRefused() throws {
        let temp = TemporaryDirectory()
        let dir = temp.path + "/log"
        let line =
            #"{"ts":"2026-11-23T10:00:00.000Z","project":"etl","model":"m","input_tokens":10,"output_tokens":1,"cache_write_tokens":2,"cache_write_1h_tokens":5,"cost_usd":1}"#
        let result = try spendlog(["ingest", "--dir", dir, "-"], input: line)
        #expect(result.status == 65)
        #expect(result.stderr.contains("line 1: cache_write_1h_tokens: 5 is more than cache_write_tokens (2)"))
        #expect(try records(dir).isEmpty)
    }
}

final class Statuses: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [Int32] = []
    func add(_ value: Int32) { lock.withLock { values.append(value) } }
    var all: [Int32] { lock.withLock { values } }
}
