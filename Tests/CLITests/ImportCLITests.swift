import Foundation
import SpendLogTestSupport
import Testing

/// `spendlog import` against databases written by the real llm-toll and llm-accounting (installed
/// in the venv by `make venv`, driven through their own APIs by scripts/peer-stores.py): totals
/// per project and model equal the peers' own summaries, and importing again changes nothing.
@Suite struct ImportCLITests {
    /// Writes both databases with `calls` calls each; returns their paths and the peers' summaries.
    func peerStores(_ temp: TemporaryDirectory, calls: Int) throws -> (
        toll: String, accounting: String, summary: [String: Any]
    ) {
        let toll = temp.path + "/toll.db"
        let accounting = temp.path + "/accounting.sqlite"
        let result = try runProcess(
            TestPaths.peersPython, [TestPaths.packageRoot + "/scripts/peer-stores.py", toll, accounting, String(calls)],
            workingDirectory: temp.path)
        try #require(result.status == 0, "\(result.stderr.suffix(2000))")
        let summary = try #require(
            try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        return (toll, accounting, summary)
    }

    /// `stats --by <group> --format json`, keyed by the group's value.
    func stats(_ dir: String, by group: String) throws -> [String: [String: Any]] {
        let result = try spendlog(["stats", "--dir", dir, "--by", group, "--format", "json"])
        #expect(result.status == 0, "\(result.stderr)")
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]])
        var keyed: [String: [String: Any]] = [:]
        for row in rows { keyed[row[group] as? String ?? ""] = row }
        return keyed
    }

    func number(_ value: Any?) -> Double { (value as? NSNumber)?.doubleValue ?? .nan }
    func integer(_ value: Any?) -> Int64 { (value as? NSNumber)?.int64Value ?? -1 }

    /// Every byte under the log: segments and the budget's journal.
    func snapshot(_ dir: String) throws -> [String: Data] {
        var files: [String: Data] = [:]
        let enumerator = FileManager.default.enumerator(atPath: dir)
        while let name = enumerator?.nextObject() as? String {
            guard name.hasPrefix("segments/") || name == "budget/journal.jsonl" else { continue }
            var isDirectory: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: dir + "/" + name, isDirectory: &isDirectory)
            if !isDirectory.boolValue, !name.hasSuffix(".lock") {
                files[name] = FileManager.default.contents(atPath: dir + "/" + name)
            }
        }
        return files
    }

    @Test func importedTotalsEqualThePeersSummariesAndASecondImportAddsNothing() throws {
        let temp = TemporaryDirectory()
        let (toll, accounting, summary) = try peerStores(temp, calls: 300)
        let tollLog = temp.path + "/toll-log"
        let accountingLog = temp.path + "/accounting-log"

        // A dry run reads everything and writes nothing.
        let dry = try spendlog(["import", "--dir", tollLog, "--from", "llm-toll", toll, "--dry-run"])
        #expect(dry.status == 0, "\(dry.stderr)")
        #expect(dry.stdout.contains("dry run: read "))
        #expect(dry.stdout.contains("nothing was written"))
        #expect(!FileManager.default.fileExists(atPath: tollLog))

        let first = try spendlog(["import", "--dir", tollLog, "--from", "llm-toll", toll])
        #expect(first.status == 0, "\(first.stderr)")
        let second = try spendlog(["import", "--dir", accountingLog, "--from", "llm-accounting", accounting])
        #expect(second.status == 0, "\(second.stderr)")

        // llm-toll: get_all_project_summaries and get_model_summaries.
        let tollSummary = try #require(summary["toll"] as? [String: Any])
        for (group, key) in [("project", "projects"), ("model", "models")] {
            let theirs = try #require(tollSummary[key] as? [[String: Any]])
            let ours = try stats(tollLog, by: group)
            #expect(ours.count == theirs.count)
            for row in theirs {
                let name = try #require(row[group] as? String)
                let mine = try #require(ours[name], "no \(group) \(name)")
                let calls = integer(row["call_count"])
                #expect(integer(mine["requests"]) == calls)
                #expect(integer(mine["input_tokens"]) == integer(row["total_input_tokens"]))
                #expect(integer(mine["output_tokens"]) == integer(row["total_output_tokens"]))
                // Each row's float rounds to the nearest nano-dollar; their sum is a float sum.
                #expect(abs(number(mine["cost_usd"]) - number(row["total_cost"])) <= 1e-9 * Double(calls + 1))
            }
        }
        // The budget table's reset is reported, with the spend since.
        #expect(first.stdout.contains("not mapped: budgets project research:"))
        #expect(first.stdout.contains("since its reset at"))

        // llm-accounting: get_period_stats over all time and get_model_stats.
        let accountingSummary = try #require(summary["accounting"] as? [String: Any])
        let period = try #require(accountingSummary["period"] as? [String: Any])
        let everything = try stats(accountingLog, by: "provider").values
        let total = everything.reduce(0.0) { $0 + number($1["cost_usd"]) }
        #expect(abs(total - number(period["cost"])) <= 1e-9 * 301)
        #expect(everything.reduce(0) { $0 + integer($1["input_tokens"]) } == integer(period["prompt"]))
        #expect(everything.reduce(0) { $0 + integer($1["output_tokens"]) } == integer(period["completion"]))
        let models = try stats(accountingLog, by: "model")
        let theirModels = try #require(accountingSummary["models"] as? [[String: Any]])
        #expect(models.count == theirModels.count)
        for row in theirModels {
            let mine = try #require(models[row["model"] as? String ?? ""])
            #expect(abs(number(mine["cost_usd"]) - number(row["cost"])) <= 1e-9 * 301)
            #expect(integer(mine["input_tokens"]) == integer(row["prompt"]))
            #expect(integer(mine["output_tokens"]) == integer(row["completion"]))
        }
        // Limits: five of the eight map; the other three are named with a reason.
        #expect(second.stdout.contains("limits: 5 set, 0 already set, 3 not mapped"), "\(second.stdout)")
        let limits = try spendlog(["limit", "list", "--dir", accountingLog, "--format", "json"])
        let rules = try #require(try JSONSerialization.jsonObject(with: Data(limits.stdout.utf8)) as? [[String: Any]])
        let described = Set(rules.map { "\($0["scope"]!) \($0["type"]!) \($0["max"]!) \($0["window"]!)" })
        #expect(
            described == [
                "global cost 100 month", "project=etl cost 12.5 day", "user=ana requests 500 rolling:2h",
                "model=gpt-4o total-tokens 2000000 week", "caller=api input-tokens 90000 rolling:30m",
            ])
        for unit in ["1 second", "1 monthly_rolling", "3 day"] {
            #expect(second.stdout.contains("per \(unit): "), "\(unit)")
        }

        // Importing again writes nothing: the log's bytes and the journal stay as they are.
        let before = (try snapshot(tollLog), try snapshot(accountingLog))
        let again = try spendlog(["import", "--dir", tollLog, "--from", "llm-toll", toll])
        #expect(again.status == 0)
        #expect(again.stdout.contains("imported 0, already recorded"))
        let againAccounting = try spendlog(["import", "--dir", accountingLog, "--from", "llm-accounting", accounting])
        #expect(againAccounting.stdout.contains("imported 0, already recorded"))
        #expect(againAccounting.stdout.contains("limits: 0 set, 5 already set, 3 not mapped"))
        #expect(try snapshot(tollLog) == before.0)
        #expect(try snapshot(accountingLog) == before.1)
        #expect(!before.0.isEmpty && before.1.keys.contains("budget/journal.jsonl"))

        // A copy of the database elsewhere has the same identity: still nothing new.
        let copy = temp.path + "/moved.db"
        try FileManager.default.copyItem(atPath: toll, toPath: copy)
        let moved = try spendlog(["import", "--dir", tollLog, "--from", "llm-toll", copy])
        #expect(moved.stdout.contains("imported 0, already recorded"))
        #expect(try snapshot(tollLog) == before.0)
    }

    @Test func badInputIsRefusedNamingItAndWritesNothing() throws {
        let temp = TemporaryDirectory()
        let (toll, accounting, _) = try peerStores(temp, calls: 3)
        let log = temp.path + "/log"
        let text = temp.path + "/notes.txt"
        writeFile(text, Data(String(repeating: "not a database\n", count: 100).utf8))

        let notSQLite = try spendlog(["import", "--dir", log, "--from", "llm-toll", text])
        #expect(notSQLite.status == 65)
        #expect(notSQLite.stderr.contains("notes.txt") && notSQLite.stderr.contains("not a SQLite database"))

        let otherPeer = try spendlog(["import", "--dir", log, "--from", "llm-toll", accounting])
        #expect(otherPeer.status == 65)
        #expect(otherPeer.stderr.contains("accounting.sqlite"))
        #expect(otherPeer.stderr.contains("looks like a llm-accounting database"), "\(otherPeer.stderr)")
        let otherWay = try spendlog(["import", "--dir", log, "--from", "llm-accounting", toll])
        #expect(otherWay.status == 65)
        #expect(otherWay.stderr.contains("is not a llm-accounting database"))

        let unknown = try spendlog(["import", "--dir", log, "--from", "langfuse", toll])
        #expect(unknown.status == 64)
        #expect(unknown.stderr.contains("--from"))

        let missing = try spendlog(["import", "--dir", log, "--from", "llm-toll", temp.path + "/absent.db"])
        #expect(missing.status == 64)
        #expect(missing.stderr.contains("absent.db"))

        let zone = try spendlog([
            "import", "--dir", log, "--from", "llm-accounting", accounting, "--source-tz", "Mars/Base",
        ])
        #expect(zone.status == 64)
        #expect(zone.stderr.contains("--source-tz"))

        #expect(!FileManager.default.fileExists(atPath: log))

        // The databases were only read: byte for byte what the peers wrote.
        let digest = try runProcess("/usr/bin/sha256sum", [toll, accounting]).stdout
        _ = try spendlog(["import", "--dir", log, "--from", "llm-toll", toll])
        _ = try spendlog(["import", "--dir", log, "--from", "llm-accounting", accounting])
        #expect(try runProcess("/usr/bin/sha256sum", [toll, accounting]).stdout == digest)
    }
}
