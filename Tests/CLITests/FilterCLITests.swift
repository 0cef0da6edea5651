import Foundation
import Testing

/// The record filters, `--by tag:KEY`, `--tz` and `--columns` through the built binary, held to
/// DuckDB reading the segments (and Python's zoneinfo for local days).
@Suite struct FilterCLITests {
    /// 4000 generated records with tags, sealed and indexed, plus 1000 more left unindexed.
    func makeLog(_ temp: TemporaryDirectory) throws -> String {
        let dir = temp.path + "/log"
        let generator = TestPaths.packageRoot + "/scripts/gen-records.sh"
        for (count, seed, index) in [("4000", "5", true), ("1000", "6", false)] {
            let records = try runProcess("/bin/bash", [generator, count, "12", seed, "1795392000"], environment: ["TAGS": "1"])
            #expect(records.status == 0, "\(records.stderr)")
            #expect(try spendlog(["ingest", "--dir", dir, "-"], input: records.stdout).status == 0)
            if index {
                #expect(try spendlog(["seal", "--dir", dir]).status == 0)
                #expect(try spendlog(["index", "--dir", dir]).status == 0)
            }
        }
        return dir
    }

    @Test func tagGroupsFiltersAndLocalDaysAgreeWithDuckDB() throws {
        let temp = TemporaryDirectory()
        let dir = try makeLog(temp)
        // Each case: stats arguments, and the DuckDB key expression and WHERE clause.
        let cases: [([String], String, String)] = [
            (["--by", "tag:team"], "tags->>'team'", "true"),
            (["--by", "tag:env", "--caller", "webhook", "--caller", "crm-sync"], "tags->>'env'", "caller IN ('webhook','crm-sync')"),
            (["--by", "model", "--tag", "team=team-3", "--tag", "env=staging"], "model", "tags->>'team'='team-3' AND tags->>'env'='staging'"),
            (["--by", "task", "--role", "writer", "--status", "error"], "task", "role='writer' AND status='error'"),
            (["--by", "day", "--tz", "Asia/Kolkata"], "zone:Asia/Kolkata", "true"),
            (["--by", "day", "--tz", "Australia/Adelaide", "--task", "triage"], "zone:Australia/Adelaide", "task='triage'"),
            (["--by", "day", "--tz", "America/New_York", "--project", "etl"], "zone:America/New_York", "project='etl'"),
        ]
        // Local days: the rows' times, grouped by Python's zoneinfo.
        let queries = cases.map { c in
            c.1.hasPrefix("zone:")
                ? [String(c.1.dropFirst(5)), "SELECT ts, CAST(cost_usd AS DECIMAL(38,9)) FROM src WHERE \(c.2)"]
                : ["", "SELECT \(c.1) AS k, count(*), sum(CAST(cost_usd AS DECIMAL(38,9))) FROM src WHERE \(c.2) GROUP BY ALL"]
        }
        let script = """
            import duckdb, json, sys, datetime, zoneinfo, decimal
            con = duckdb.connect()
            con.execute("CREATE VIEW src AS SELECT * FROM read_ndjson('\(dir)/segments/*/*.jsonl*', "
                        "columns={'ts':'VARCHAR','project':'VARCHAR','model':'VARCHAR','caller':'VARCHAR','role':'VARCHAR',"
                        "'task':'VARCHAR','status':'VARCHAR','cost_usd':'DOUBLE','tags':'JSON'})")
            out = []
            for zone, q in json.load(sys.stdin):
                rows = con.execute(q).fetchall()
                if zone:
                    days = {}
                    for ts, cost in rows:
                        t = datetime.datetime.fromisoformat(ts.replace('Z', '+00:00'))
                        day = t.astimezone(zoneinfo.ZoneInfo(zone)).date().isoformat()
                        n, total = days.get(day, (0, decimal.Decimal(0)))
                        days[day] = (n + 1, total + cost)
                    rows = [(d, n, total) for d, (n, total) in days.items()]
                out.append({("" if r[0] is None else r[0]): [r[1], str(r[2])] for r in rows})
            json.dump(out, sys.stdout)
            """
        let duck = try runProcess(
            TestPaths.python, ["-c", script], input: try JSONSerialization.data(withJSONObject: queries))
        #expect(duck.status == 0, "\(duck.stderr)")
        let expected = try #require(try JSONSerialization.jsonObject(with: Data(duck.stdout.utf8)) as? [[String: [Any]]])
        for (i, c) in cases.enumerated() {
            let stats = try spendlog(["stats", "--dir", dir, "--format", "csv"] + c.0)
            #expect(stats.status == 0, "\(stats.stderr)")
            var ours: [String: String] = [:]
            for line in stats.stdout.split(separator: "\r\n").dropFirst() {
                let cells = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
                ours[cells[0]] = cells[1] + " " + decimal(cells[7])
            }
            var theirs: [String: String] = [:]
            for (key, values) in expected[i] { theirs[key] = "\(values[0]) " + decimal(values[1] as! String) }
            #expect(ours.count >= 2, "\(c.0)")
            #expect(ours == theirs, "\(c.0)")
        }
    }

    @Test func derivedColumnsAndFiltersApplyToTopAndLogs() throws {
        let temp = TemporaryDirectory()
        let dir = try makeLog(temp)
        let columns = try spendlog([
            "stats", "--dir", dir, "--by", "tag:env", "--columns", "requests,cost_per_1k_requests,cache_hit_share",
            "--format", "json",
        ])
        #expect(columns.status == 0, "\(columns.stderr)")
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(columns.stdout.utf8)) as? [[String: Any]])
        #expect(rows.count == 2 && rows.allSatisfy { $0.count == 4 && $0["cost_per_1k_requests"] is NSNumber })
        let top = try spendlog(["top", "--dir", dir, "--by", "model", "--tag", "team=team-1", "--format", "csv"])
        let logs = try spendlog(["logs", "--dir", dir, "--tag", "team=team-1", "--limit", "100000", "--format", "jsonl"])
        #expect(top.status == 0 && logs.status == 0)
        let topRequests = top.stdout.split(separator: "\r\n").dropFirst().map { Int($0.split(separator: ",")[2])! }
        let lines = logs.stdout.split(separator: "\n")
        #expect(topRequests.reduce(0, +) == lines.count && lines.count > 100)
        #expect(lines.allSatisfy { $0.contains(#""team":"team-1""#) })

        // top ranks a tag's values as stats groups them.
        let byTag = try spendlog(["top", "--dir", dir, "--by", "tag:team", "--limit", "100", "--format", "csv"])
        let statsByTag = try spendlog(["stats", "--dir", dir, "--by", "tag:team", "--format", "csv"])
        #expect(byTag.status == 0 && statsByTag.status == 0, "\(byTag.stderr)")
        func requestsByKey(_ csv: String, key: Int, requests: Int) -> [String: String] {
            var out: [String: String] = [:]
            for line in csv.split(separator: "\r\n").dropFirst() {
                let cells = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
                out[cells[key]] = cells[requests]
            }
            return out
        }
        let ranked = requestsByKey(byTag.stdout, key: 1, requests: 2)
        #expect(ranked.count > 2)
        #expect(ranked == requestsByKey(statsByTag.stdout, key: 0, requests: 1))
        #expect(byTag.stdout.hasPrefix("rank,tag:team,requests,"))
    }

    func decimal(_ text: String) -> String {
        guard text.contains(".") else { return text }
        var t = text
        while t.hasSuffix("0") { t.removeLast() }
        if t.hasSuffix(".") { t.removeLast() }
        return t
    }
}
