import Foundation
import Testing

/// `index`, `stats`, `top` and `logs` through the built binary.
@Suite struct QueryCLITests {
    static let lines = [
        #"{"ts":"2026-11-23T10:15:02.123Z","project":"etl","model":"gpt-4.1","input_tokens":1000,"output_tokens":200,"cached_input_tokens":400,"cost_usd":0.1,"user":"ann","status":"ok","latency_ms":100}"#,
        #"{"ts":"2026-11-23T11:00:00.000Z","project":"etl","model":"claude-sonnet-4-5","input_tokens":3000,"output_tokens":100,"cache_write_tokens":500,"cost_usd":0.25,"user":"bob","status":"error","latency_ms":301}"#,
        #"{"ts":"2026-11-24T09:00:00.000Z","project":"support, \"bot\"","model":"gpt-4.1","input_tokens":10,"output_tokens":5,"reasoning_tokens":2,"cost_usd":0.000000001}"#,
        #"{"ts":"2026-12-01T00:00:00.000Z","project":"etl","model":"mystery-model","input_tokens":7,"output_tokens":7}"#,
    ]

    /// A log of the four records above: the first three sealed and indexed, the last active.
    func makeLog(_ temp: TemporaryDirectory, index: Bool = true) throws -> String {
        let dir = temp.path + "/log"
        let ingest = try spendlog(
            ["ingest", "--dir", dir, "-"], input: QueryCLITests.lines.prefix(3).joined(separator: "\n") + "\n")
        #expect(ingest.status == 0, "\(ingest.stderr)")
        #expect(try spendlog(["seal", "--dir", dir]).status == 0)
        if index {
            let result = try spendlog(["index", "--dir", dir, "--json"])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout.contains(#""records_indexed":3"#))
        }
        #expect(try spendlog(["ingest", "--dir", dir, "-"], input: QueryCLITests.lines[3] + "\n").status == 0)
        return dir
    }

    @Test func statsJSONHasOneObjectPerGroupWithExactValues() throws {
        let temp = TemporaryDirectory()
        let dir = try makeLog(temp)
        let result = try spendlog(["stats", "--dir", dir, "--by", "project", "--format", "json"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(
            result.stdout == """
                [{"project":"etl","requests":3,"input_tokens":4007,"output_tokens":307,"cached_input_tokens":400,"cache_write_tokens":500,"reasoning_tokens":0,"cost_usd":0.35,"unpriced_requests":1,"errors":1,"avg_latency_ms":201},\
                {"project":"support, \\"bot\\"","requests":1,"input_tokens":10,"output_tokens":5,"cached_input_tokens":0,"cache_write_tokens":0,"reasoning_tokens":2,"cost_usd":0.000000001,"unpriced_requests":0,"errors":0,"avg_latency_ms":null}]

                """)
        let time = try spendlog([
            "stats", "--dir", dir, "--by", "month", "--by", "week", "--by", "day", "--format", "json",
        ])
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(time.stdout.utf8)) as? [[String: Any]])
        #expect(rows.map { $0["day"] as? String } == ["2026-11-23", "2026-11-24", "2026-12-01"])
        #expect(rows.map { $0["week"] as? String } == ["2026-W48", "2026-W48", "2026-W49"])
        #expect(rows.map { $0["month"] as? String } == ["2026-11", "2026-11", "2026-12"])
    }

    @Test func statsCSVAndTableKeepValuesExactAndReadable() throws {
        let temp = TemporaryDirectory()
        let dir = try makeLog(temp)
        let csv = try spendlog([
            "stats", "--dir", dir, "--by", "model", "--since", "2026-11-23T10:30:00Z", "--format", "csv",
        ])
        #expect(csv.status == 0)
        #expect(
            csv.stdout == """
                model,requests,input_tokens,output_tokens,cached_input_tokens,cache_write_tokens,reasoning_tokens,cost_usd,unpriced_requests,errors,avg_latency_ms\r
                claude-sonnet-4-5,1,3000,100,0,500,0,0.25,0,1,301\r
                gpt-4.1,1,10,5,0,0,2,0.000000001,0,0,\r
                mystery-model,1,7,7,0,0,0,0,1,0,\r

                """)
        let table = try spendlog(["stats", "--dir", dir, "--by", "model"])
        let lines = table.stdout.split(separator: "\n").map(String.init)
        #expect(lines[0].hasPrefix("MODEL "))
        #expect(lines.contains { $0.hasPrefix("TOTAL ") && $0.contains("4,017") && $0.contains("$0.3500") })
        #expect(table.stdout.contains("1 request(s) are unpriced"))
        let widths = Set(lines.prefix(5).map(\.count))
        #expect(widths.count == 1, "columns are aligned: \(lines)")
    }

    /// Columns are padded by characters, not bytes: a name of two-byte or three-byte characters
    /// takes as many columns as an ASCII name of as many characters (East Asian wide characters,
    /// two columns wide on a terminal, are counted as one), and numbers are grouped by thousands
    /// and right-aligned.
    @Test func aTablePadsByCharactersNotBytes() throws {
        let temp = TemporaryDirectory()
        let dir = temp.path + "/log"
        let records = [("etl", 1_234_567), ("équipe", 5), ("日本語", 12_345), ("a", 0)].map { project, tokens in
            #"{"ts":"2026-11-23T10:00:00.000Z","project":"\#(project)","model":"m","input_tokens":\#(tokens),"output_tokens":1}"#
        }
        #expect(try spendlog(["ingest", "--dir", dir, "-"], input: records.joined(separator: "\n") + "\n").status == 0)
        let table = try spendlog(["stats", "--dir", dir, "--by", "project", "--columns", "requests,input_tokens"])
        #expect(table.status == 0, "\(table.stderr)")
        let lines = table.stdout.split(separator: "\n").map(String.init)
        #expect(
            Array(lines.prefix(6)) == [
                "PROJECT  REQUESTS      INPUT",
                "a               1          0",
                "etl             1  1,234,567",
                "équipe          1          5",
                "日本語             1     12,345",
                "TOTAL           4  1,246,917",
            ], "\(lines)")
        #expect(Set(lines.prefix(6).map(\.count)) == [28])
    }

    @Test func answersIncludeUnindexedRecordsUnlessIndexedOnly() throws {
        let temp = TemporaryDirectory()
        let dir = try makeLog(temp)
        let all = try spendlog(["stats", "--dir", dir, "--format", "json"])
        #expect(all.stdout.contains(#""requests":4,"#))
        let indexed = try spendlog(["stats", "--dir", dir, "--format", "json", "--indexed-only"])
        #expect(indexed.stdout.contains(#""requests":3,"#))
        let filtered = try spendlog(["stats", "--dir", dir, "--format", "json", "--project", "etl", "--user", "bob"])
        #expect(filtered.stdout.contains(#""requests":1,"#) && filtered.stdout.contains(#""cost_usd":0.25"#))
    }

    @Test func topRanksWithSharesOfTheTotal() throws {
        let temp = TemporaryDirectory()
        let dir = try makeLog(temp)
        let result = try spendlog(["top", "--dir", dir, "--by", "model", "--format", "csv"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(
            result.stdout == """
                rank,model,requests,cost_usd,share_percent\r
                1,claude-sonnet-4-5,1,0.25,71.43\r
                2,gpt-4.1,2,0.100000001,28.57\r
                3,mystery-model,1,0,0.00\r

                """)
        let table = try spendlog(["top", "--dir", dir, "--by", "project", "--limit", "1"])
        #expect(table.stdout.contains("(1 more)") && table.stdout.contains("100.00%"))
    }

    @Test func logsListNewestFirstWithLimitAndOffset() throws {
        let temp = TemporaryDirectory()
        let dir = try makeLog(temp)
        let result = try spendlog(["logs", "--dir", dir, "--limit", "2", "--offset", "1", "--format", "jsonl"])
        #expect(result.status == 0, "\(result.stderr)")
        let times = result.stdout.split(separator: "\n").map { line -> String in
            let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            return object?["ts"] as? String ?? ""
        }
        #expect(times == ["2026-11-24T09:00:00.000Z", "2026-11-23T11:00:00.000Z"])
        let json = try spendlog(["logs", "--dir", dir, "--model", "gpt-4.1", "--format", "json"])
        let array = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        #expect(array.count == 2)
        let none = try spendlog(["logs", "--dir", dir, "--project", "nope"])
        #expect(none.status == 0 && none.stdout.contains("(no records match)"))
    }

    @Test(arguments: [
        (["stats", "--by", "projects"], "--by: 'projects' is not one of"),
        (["stats", "--by", "day", "--by", "day"], "--by: each dimension may be given once"),
        (["stats", "--since", "yesterday"], "--since: 'yesterday' is not a date"),
        (["stats", "--since", "2026-11-24", "--until", "2026-11-23"], "must be before --until"),
        (["stats", "--project", ""], "--project: must not be empty"),
        (["stats", "--format", "xml"], "format"),
        (["logs", "--limit", "-1"], "--limit: must be a whole number"),
        (["logs", "--offset", "x"], "--offset: must be a whole number"),
        (["top", "--limit", "0"], "--limit: must be a whole number above 0"),
        (["top", "--by", "day"], "--by: top ranks values, not periods"),
        (["index", "--threads", "0"], "--threads: must be a whole number from 1 to 256"),
        // Filters, tag groups, zones and columns.
        (["stats", "--tz", "Mars/Base"], "--tz: unknown time zone"),
        (["stats", "--tz", "../etc/passwd"], "--tz: "),
        (["stats", "--tag", "team"], "--tag: 'team' is not KEY=VALUE"),
        (["stats", "--tag", "=x"], "--tag: '=x' has an empty key"),
        (["logs", "--tag", "=x"], "--tag: '=x' has an empty key"),
        (["top", "--status", "fine"], "--status: 'fine' is not a status"),
        (["stats", "--caller", ""], "--caller: must not be empty"),
        (["stats", "--by", "tag:"], "--by: 'tag:' needs a tag key"),
        (["stats", "--columns", "requests,share"], "--columns: 'share' is not one of"),
        (["top", "--by", "tag:"], "--by: 'tag:' needs a tag key"),
        (["top", "--by", "colour"], "--by: 'colour' is not one of"),
    ])
    func badQueryArgumentsAreRejectedNamingTheFlag(arguments: [String], message: String) throws {
        let temp = TemporaryDirectory()
        let dir = try makeLog(temp, index: false)
        let result = try spendlog(arguments + ["--dir", dir])
        #expect(result.status == 64, "\(arguments): \(result.stderr)")
        #expect(result.stderr.contains(message), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/index/CURRENT"))
    }

    @Test func anArgumentRefusedWhileRunningShowsTheSubcommandsUsage() throws {
        let temp = TemporaryDirectory()
        let dir = try makeLog(temp, index: false)
        // A bad --since, and a bad SPENDLOG_NOW for a nested command: both found by run(), not by parsing.
        for arguments in [["stats", "--since", "yesterday"], ["budget", "status"]] {
            let result = try spendlog(arguments + ["--dir", dir], environment: ["SPENDLOG_NOW": "yesterday"])
            let path = arguments.prefix { !$0.hasPrefix("--") }.joined(separator: " ")
            #expect(result.status == 64)
            #expect(result.stderr.contains("Usage: spendlog \(path) ["), "\(result.stderr)")
            #expect(result.stderr.contains("See 'spendlog \(path) --help' for more information."), "\(result.stderr)")
        }
    }

    @Test func aCrashWhileIndexingLeavesThePreviousIndexInPlace() throws {
        let temp = TemporaryDirectory()
        let dir = try makeLog(temp)
        #expect(try spendlog(["seal", "--dir", dir]).status == 0)
        let before = try spendlog(["stats", "--dir", dir, "--by", "day", "--format", "json"]).stdout
        for point in ["index.afterWriteGeneration", "index.afterSwitch"] {
            let crashed = try spendlog(["index", "--dir", dir, "--rebuild"], environment: ["SPENDLOG_CRASH_AT": point])
            #expect(crashed.status == 9, "killed at \(point)")
            let after = try spendlog(["stats", "--dir", dir, "--by", "day", "--format", "json"])
            #expect(after.status == 0 && after.stdout == before, "answers after a crash at \(point)")
        }
        #expect(try spendlog(["index", "--dir", dir, "--rebuild"]).status == 0)
        let generations = try FileManager.default.contentsOfDirectory(atPath: dir + "/index").filter {
            $0.hasPrefix("gen-")
        }
        #expect(generations.count <= 2, "old generations are removed: \(generations)")
        #expect(
            try spendlog(["stats", "--dir", dir, "--by", "day", "--format", "json", "--indexed-only"]).stdout == before)
    }

    /// The files are the interface: DuckDB reading the segments as they are must agree with `stats`.
    @Test func duckDBReadingTheSegmentsAgreesWithStats() throws {
        let temp = TemporaryDirectory()
        let dir = temp.path + "/log"
        let generator = TestPaths.packageRoot + "/scripts/gen-records.sh"
        let records = try runProcess("/bin/bash", [generator, "6000", "20", "3", "1795392000"])
        #expect(records.status == 0, "\(records.stderr)")
        #expect(try spendlog(["ingest", "--dir", dir, "-"], input: records.stdout).status == 0)
        #expect(try spendlog(["seal", "--dir", dir]).status == 0)
        // Sealed segments of many frames (large segments are), read by DuckDB and by the index.
        #expect(try resealInSmallFrames(dir, frameBytes: 16_384) > 100)
        #expect(try spendlog(["index", "--dir", dir]).status == 0)
        #expect(try spendlog(["ingest", "--dir", dir, "-"], input: QueryCLITests.lines[0] + "\n").status == 0)

        let script = """
            import duckdb, json, sys
            con = duckdb.connect()
            src = "read_ndjson('\(dir)/segments/*/*.jsonl*', hive_partitioning=true)"
            out = {}
            for key, expr in (("model", "model"), ("day", "CAST(day AS VARCHAR)")):
                rows = con.execute(f"SELECT {expr} AS k, count(*), sum(input_tokens), sum(output_tokens), "
                                   f"sum(CAST(cost_usd AS DECIMAL(38,9))) FROM {src} GROUP BY ALL").fetchall()
                out[key] = {r[0]: [r[1], int(r[2]), int(r[3]), str(r[4])] for r in rows}
            json.dump(out, sys.stdout)
            """
        let duck = try runProcess(TestPaths.python, ["-c", script])
        #expect(duck.status == 0, "\(duck.stderr)")
        let fromDuck = try #require(
            try JSONSerialization.jsonObject(with: Data(duck.stdout.utf8)) as? [String: [String: [Any]]])
        for key in ["model", "day"] {
            let stats = try spendlog(["stats", "--dir", dir, "--by", key, "--format", "csv"])
            var ours: [String: String] = [:]
            for line in stats.stdout.split(separator: "\r\n").dropFirst() {
                let cells = line.split(separator: ",").map(String.init)
                ours[cells[0]] = [cells[1], cells[2], cells[3], decimal(cells[7])].joined(separator: " ")
            }
            var theirs: [String: String] = [:]
            for (group, values) in fromDuck[key] ?? [:] {
                theirs[group] = ["\(values[0])", "\(values[1])", "\(values[2])", decimal(values[3] as! String)].joined(
                    separator: " ")
            }
            #expect(ours.count > 5)
            #expect(ours == theirs, "per-\(key) totals")
        }
    }

    /// `12.500000000` and `12.5` are the same amount.
    func decimal(_ text: String) -> String {
        guard text.contains(".") else { return text }
        var t = text
        while t.hasSuffix("0") { t.removeLast() }
        if t.hasSuffix(".") { t.removeLast() }
        return t
    }
}
