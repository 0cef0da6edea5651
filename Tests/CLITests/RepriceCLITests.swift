import Foundation
import Testing

/// `reprice` and the adjustments it appends, through the built binary: what stats, the index,
/// budgets, logs, verify and DuckDB make of them.
@Suite struct RepriceCLITests {
    static let lines = [
        // Unpriced, on a day that is sealed and indexed before repricing.
        #"{"id":"019a9f00-0000-7000-8000-000000000001","ts":"2026-11-20T10:00:00.000Z","project":"etl","model":"new-model-x","input_tokens":1000,"output_tokens":500,"user":"ann","status":"ok","latency_ms":40,"tags":{"env":"prod"}}"#,
        #"{"id":"019a9f00-0000-7000-8000-000000000002","ts":"2026-11-20T11:00:00.000Z","project":"etl","model":"gpt-4.1","input_tokens":100,"output_tokens":10,"cost_usd":0.1}"#,
        #"{"id":"019a9f00-0000-7000-8000-000000000003","ts":"2026-11-20T12:00:00.000Z","project":"etl","model":"still-unknown","input_tokens":5,"output_tokens":5}"#,
        // Unpriced, on a day whose segment stays active.
        #"{"id":"019aa400-0000-7000-8000-000000000004","ts":"2026-11-21T09:30:00.000Z","project":"etl","model":"new-model-x","input_tokens":2000,"output_tokens":0,"user":"bob","status":"error"}"#,
    ]

    static let prices = """
        {"format":"spendlog-prices 1","as_of":"2026-11-23","models":{"new-model-x":{"input":2,"output":8}}}
        """

    let env = ["SPENDLOG_NOW": "2026-11-21T12:00:00Z", "SPENDLOG_HOST": "web"]

    /// The records above: 2026-11-20 sealed and indexed, 2026-11-21 active; and the price file.
    func makeLog(_ temp: TemporaryDirectory) throws -> (dir: String, prices: String) {
        let dir = temp.path + "/log"
        let prices = temp.path + "/prices.json"
        writeFile(prices, Data(RepriceCLITests.prices.utf8))
        let first = try spendlog(
            ["ingest", "--dir", dir, "-"], input: RepriceCLITests.lines.prefix(3).joined(separator: "\n") + "\n",
            environment: env)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(try spendlog(["seal", "--dir", dir], environment: env).status == 0)
        #expect(try spendlog(["index", "--dir", dir], environment: env).status == 0)
        #expect(
            try spendlog(["ingest", "--dir", dir, "-"], input: RepriceCLITests.lines[3] + "\n", environment: env)
                .status == 0)
        return (dir, prices)
    }

    func reprice(_ dir: String, _ prices: String, apply: Bool, _ more: [String] = []) throws -> [String: Any] {
        let result = try spendlog(
            ["reprice", "--dir", dir, "--prices", prices, "--format", "json"] + (apply ? ["--apply"] : []) + more,
            environment: env)
        #expect(result.status == 0, "\(result.stderr)")
        return try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
    }

    /// Every file under `segments/`, path → bytes.
    func segmentFiles(_ dir: String) throws -> [String: Data] {
        var files: [String: Data] = [:]
        let root = dir + "/segments"
        for folder in try FileManager.default.contentsOfDirectory(atPath: root) {
            for name in try FileManager.default.contentsOfDirectory(atPath: root + "/" + folder)
            where name.contains(".jsonl") {
                files[folder + "/" + name] = FileManager.default.contents(atPath: root + "/" + folder + "/" + name)
            }
        }
        return files
    }

    func stats(_ dir: String, _ more: [String] = []) throws -> String {
        let result = try spendlog(["stats", "--dir", dir, "--format", "json"] + more, environment: env)
        #expect(result.status == 0, "\(result.stderr)")
        return result.stdout
    }

    @Test func aDryRunListsWhatItWouldPriceAndWritesNothing() throws {
        let temp = TemporaryDirectory()
        let (dir, prices) = try makeLog(temp)
        let before = try segmentFiles(dir)
        let plan = try reprice(dir, prices, apply: false)
        #expect(plan["applied"] as? Bool == false)
        #expect(plan["written"] as? Int == 0)
        #expect((plan["cost_usd"] as? NSNumber)?.stringValue == "0.01")
        let adjustments = try #require(plan["adjustments"] as? [[String: Any]])
        #expect(adjustments.map { $0["adjusts"] as? String } == [
            "019a9f00-0000-7000-8000-000000000001", "019aa400-0000-7000-8000-000000000004",
        ])
        #expect(adjustments.map { ($0["cost_usd"] as? NSNumber)?.stringValue } == ["0.006", "0.004"])
        #expect((plan["still_unpriced"] as? [[String: Any]])?.map { $0["model"] as? String } == ["still-unknown"])
        #expect(try segmentFiles(dir) == before)

        let table = try spendlog(["reprice", "--dir", dir, "--prices", prices], environment: env)
        #expect(table.status == 0)
        #expect(table.stdout.contains("Would price 2 unpriced records: $0.01. Nothing was written"))
        #expect(table.stdout.contains("still unpriced, no price for: still-unknown (1)"))
        #expect(try segmentFiles(dir) == before)
    }

    @Test func applyAddsTheCostTakesRecordsOffUnpricedAndLeavesRequestsAndTokens() throws {
        let temp = TemporaryDirectory()
        let (dir, prices) = try makeLog(temp)
        let total = try stats(dir)
        #expect(total.contains(#""requests":4,"input_tokens":3105,"output_tokens":515"#))
        #expect(total.contains(#""cost_usd":0.1,"unpriced_requests":3"#))

        let applied = try reprice(dir, prices, apply: true)
        #expect(applied["written"] as? Int == 2)
        #expect(
            try stats(dir)
                == #"[{"requests":4,"input_tokens":3105,"output_tokens":515,"cached_input_tokens":0,"cache_write_tokens":0,"reasoning_tokens":0,"cost_usd":0.11,"unpriced_requests":1,"errors":1,"avg_latency_ms":40}]"#
                + "\n")
        // The adjustment falls in its record's groups: user, status and day alike.
        #expect(
            try stats(dir, ["--by", "user", "--by", "status", "--by", "day"])
                == #"[{"user":null,"status":null,"day":"2026-11-20","requests":2,"input_tokens":105,"output_tokens":15,"cached_input_tokens":0,"cache_write_tokens":0,"reasoning_tokens":0,"cost_usd":0.1,"unpriced_requests":1,"errors":0,"avg_latency_ms":null},"#
                + #"{"user":"ann","status":"ok","day":"2026-11-20","requests":1,"input_tokens":1000,"output_tokens":500,"cached_input_tokens":0,"cache_write_tokens":0,"reasoning_tokens":0,"cost_usd":0.006,"unpriced_requests":0,"errors":0,"avg_latency_ms":40},"#
                + #"{"user":"bob","status":"error","day":"2026-11-21","requests":1,"input_tokens":2000,"output_tokens":0,"cached_input_tokens":0,"cache_write_tokens":0,"reasoning_tokens":0,"cost_usd":0.004,"unpriced_requests":0,"errors":1,"avg_latency_ms":null}]"#
                + "\n")
        let top = try spendlog(["top", "--dir", dir, "--by", "model", "--format", "csv"], environment: env)
        #expect(top.stdout.contains("\r\n1,gpt-4.1,1,0.1,"))
        #expect(top.stdout.contains("\r\n2,new-model-x,2,0.01,"))

        // logs lists the calls, not the adjustments, and shows what a call cost once repriced.
        let logs = try spendlog(["logs", "--dir", dir, "--format", "jsonl"], environment: env)
        #expect(logs.stdout.split(separator: "\n").count == 4)
        #expect(!logs.stdout.contains("adjusts"))
        let table = try spendlog(["logs", "--dir", dir], environment: env)
        #expect(table.stdout.contains("$0.006 (repriced)"))
        #expect(table.stdout.contains("unpriced"), "still-unknown stays unpriced")
        let verify = try spendlog(["verify", "--dir", dir], environment: env)
        #expect(verify.status == 0, "\(verify.stderr)")
        #expect(verify.stdout.contains("6 records (2 adjustments), 0 problems"))
    }

    @Test func aSealedDayIsAdjustedWithoutRewritingItsSegment() throws {
        let temp = TemporaryDirectory()
        let (dir, prices) = try makeLog(temp)
        let before = try segmentFiles(dir)
        let sealed = try #require(before["day=2026-11-20/web-000000.jsonl.zst"])
        _ = try reprice(dir, prices, apply: true)
        let after = try segmentFiles(dir)
        #expect(after["day=2026-11-20/web-000000.jsonl.zst"] == sealed)
        let added = try #require(after["day=2026-11-20/web-000001.jsonl"])
        let line = String(decoding: added, as: UTF8.self)
        // Its own id: a UUIDv7 of the adjusted record's millisecond.
        let id = String(line.dropFirst(13).prefix(36))
        #expect(id.hasPrefix("019a9f00-0000-7") && id != "019a9f00-0000-7000-8000-000000000001")
        #expect(
            line
                == #"{"v":1,"id":""#
                + id
                + #"","ts":"2026-11-20T10:00:00.000Z","project":"etl","model":"new-model-x","provider":"unknown","input_tokens":0,"output_tokens":0,"cached_input_tokens":0,"cache_write_tokens":0,"reasoning_tokens":0,"cost_usd":0.006,"cost_source":"priced","adjusts":"019a9f00-0000-7000-8000-000000000001","user":"ann","status":"ok","tags":{"env":"prod"}}"#
                + "\n")
        #expect(after.count == before.count + 1, "the active day took its adjustment in its own segment")
    }

    @Test func theIndexedAnswerEqualsTheUnindexedOneAfterRepricing() throws {
        let temp = TemporaryDirectory()
        let (dir, prices) = try makeLog(temp)
        _ = try reprice(dir, prices, apply: true)
        let groupings: [[String]] = [[], ["--by", "model"], ["--by", "user"], ["--by", "day", "--by", "status"]]
        let unindexed = try groupings.map { try stats(dir, $0) }
        #expect(try spendlog(["seal", "--dir", dir], environment: env).status == 0)
        let index = try spendlog(["index", "--dir", dir, "--json"], environment: env)
        #expect(index.status == 0, "\(index.stderr)")
        #expect(try groupings.map { try stats(dir, $0) } == unindexed)
        #expect(try groupings.map { try stats(dir, $0 + ["--indexed-only"]) } == unindexed)
        // Edges of a day are read from the records, the rest from the rollups: the same answer.
        #expect(
            try stats(dir, ["--since", "2026-11-20T09:59:00Z", "--until", "2026-11-21T10:00:00Z"])
                == unindexed[0])
        #expect(try spendlog(["index", "--dir", dir, "--rebuild"], environment: env).status == 0)
        #expect(try groupings.map { try stats(dir, $0) } == unindexed)
    }

    @Test func repricingTwiceAddsNothing() throws {
        let temp = TemporaryDirectory()
        let (dir, prices) = try makeLog(temp)
        #expect(try reprice(dir, prices, apply: true)["written"] as? Int == 2)
        let before = try segmentFiles(dir)
        let again = try reprice(dir, prices, apply: true)
        #expect(again["written"] as? Int == 0)
        #expect(again["already_repriced"] as? Int == 2)
        #expect((again["adjustments"] as? [Any])?.isEmpty == true)
        #expect(try segmentFiles(dir) == before)
        // Sealed and indexed meanwhile: still nothing.
        #expect(try spendlog(["seal", "--dir", dir], environment: env).status == 0)
        #expect(try spendlog(["index", "--dir", dir], environment: env).status == 0)
        let sealed = try segmentFiles(dir)
        #expect(try reprice(dir, prices, apply: true)["written"] as? Int == 0)
        #expect(try segmentFiles(dir) == sealed)
    }

    @Test func aBudgetCountsTheAdjustmentInTheWindowOfItsRecord() throws {
        let temp = TemporaryDirectory()
        let (dir, prices) = try makeLog(temp)
        for (type, max) in [("cost", "1"), ("requests", "100")] {
            let set = try spendlog(
                [
                    "limit", "set", "--dir", dir, "--scope", "project=etl", "--type", type, "--max", max,
                    "--window", "day",
                ], environment: env)
            #expect(set.status == 0, "\(set.stderr)")
        }
        func spent() throws -> [String] {
            let status = try spendlog(["budget", "status", "--dir", dir, "--format", "json"], environment: env)
            #expect(status.status == 0, "\(status.stderr)")
            let rules = try #require(try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [[String: Any]])
            return rules.map { ($0["spent"] as? NSNumber)?.stringValue ?? "?" }
        }
        #expect(try spent() == ["0", "1"])
        _ = try reprice(dir, prices, apply: true)
        // Today (2026-11-21) gains the adjustment of today's record, not yesterday's; no request.
        #expect(try spent() == ["0.004", "1"])
        let rebuild = try spendlog(["budget", "rebuild", "--check", "--dir", dir], environment: env)
        #expect(rebuild.status == 0, "\(rebuild.stderr)")
    }

    @Test func verifyNamesAnAdjustmentOfAMissingOrAPricedRecord() throws {
        let temp = TemporaryDirectory()
        let (dir, _) = try makeLog(temp)
        let bad = [
            // Prices the record with a provided cost: that cost would be counted twice.
            #"{"id":"019a9f00-0000-7000-8000-0000000000a1","ts":"2026-11-20T11:00:00.000Z","project":"etl","model":"gpt-4.1","cost_usd":0.1,"cost_source":"priced","adjusts":"019a9f00-0000-7000-8000-000000000002"}"#,
            // No such record in its day.
            #"{"id":"019a9f00-0000-7000-8000-0000000000a2","ts":"2026-11-20T13:00:00.000Z","project":"etl","model":"new-model-x","cost_usd":0.2,"cost_source":"priced","adjusts":"019a9f00-0000-7000-8000-0000000000ff"}"#,
        ]
        let ingest = try spendlog(
            ["ingest", "--dir", dir, "-"], input: bad.joined(separator: "\n") + "\n", environment: env)
        #expect(ingest.status == 0, "\(ingest.stderr)")
        let verify = try spendlog(["verify", "--dir", dir], environment: env)
        #expect(verify.status == 65)
        let problems = verify.stderr.split(separator: "\n").filter { $0.hasPrefix("Problem: ") }
        #expect(problems.count == 2, "\(verify.stderr)")
        let segment = "\(dir)/segments/day=2026-11-20/web-000001.jsonl"
        #expect(
            problems.contains {
                $0.hasPrefix("Problem: '\(segment)' at byte 0: adjustment 019a9f00-0000-7000-8000-0000000000a1 ")
                    && $0.contains(#"whose cost_source is "provided""#)
            })
        let written = try #require(FileManager.default.contents(atPath: segment))
        let second = try #require(written.firstIndex(of: 0x0A)) + 1
        #expect(
            problems.contains {
                $0.hasPrefix("Problem: '\(segment)' at byte \(second): adjustment 019a9f00-0000-7000-8000-0000000000a2 ")
                    && $0.contains("019a9f00-0000-7000-8000-0000000000ff, which is not in the log")
            })
    }

    @Test func anAdjustmentLineWithTokensIsRefusedAndNothingIsWritten() throws {
        let temp = TemporaryDirectory()
        let (dir, _) = try makeLog(temp)
        let before = try segmentFiles(dir)
        let line =
            #"{"ts":"2026-11-20T13:00:00.000Z","project":"etl","model":"m","input_tokens":3,"cost_usd":0.2,"cost_source":"priced","adjusts":"019a9f00-0000-7000-8000-000000000001"}"#
        let ingest = try spendlog(["ingest", "--dir", dir, "-"], input: line + "\n", environment: env)
        #expect(ingest.status == 65)
        #expect(ingest.stderr.contains("line 1: input_tokens: must be 0 in an adjustment"), "\(ingest.stderr)")
        #expect(try segmentFiles(dir) == before)
    }

    @Test func duckDBSumOfCostOverTheSegmentsEqualsStats() throws {
        let temp = TemporaryDirectory()
        let (dir, prices) = try makeLog(temp)
        _ = try reprice(dir, prices, apply: true)
        let script = """
            import duckdb, json, sys
            con = duckdb.connect()
            src = "read_ndjson('\(dir)/segments/*/*.jsonl*', hive_partitioning=true, union_by_name=true)"
            row = con.execute(f"SELECT CAST(sum(CAST(cost_usd AS DECIMAL(38,9))) AS VARCHAR), "
                              f"count(*) FILTER (WHERE adjusts IS NULL), sum(input_tokens) FROM {src}").fetchone()
            json.dump([row[0], row[1], int(row[2])], sys.stdout)
            """
        let duck = try runProcess(TestPaths.python, ["-c", script])
        #expect(duck.status == 0, "\(duck.stderr)")
        let total = try stats(dir)
        #expect(duck.stdout == #"["0.110000000", 4, 3105]"#)
        #expect(total.contains(#""requests":4,"input_tokens":3105,"#) && total.contains(#""cost_usd":0.11,"#))
    }
}
