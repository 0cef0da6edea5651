import Foundation
import Testing

/// `spendlog report` through the built binary: every form's numbers held to `stats --format json`
/// for the same filters (scripts/check-report.py), the HTML form opened in headless chromium with
/// the network off, and refused input. The clock is SPENDLOG_NOW; every record has its own `ts`.
@Suite struct ReportCLITests {
    static let now = "2026-11-20T12:00:00.000Z"
    static let environment = ["SPENDLOG_NOW": now]
    /// Names from records that must never reach the HTML unescaped.
    static let hostileProject = "<script>alert(1)</script>"
    static let hostileTeam = "<b>\"x\" & 'y'</b>"

    /// One log for the suite (built once, read only): 50,000 generated records over 60 days with
    /// tags, sealed and indexed but for the last 10,000, plus unpriced calls of an in-house model,
    /// cache writes, and names with markup. Kept for the process's life, removed when it exits.
    static let log: Result<String, any Error> = Result {
        let temp = TemporaryDirectory("spendlog-report")
        let dir = temp.path + "/log"
        // The records are made with the release binary when there is one (ingest and index in a
        // debug build take most of the test's time); the report and stats read with the debug one.
        let maker = TestPaths.releaseBinary.flatMap { FileManager.default.isExecutableFile(atPath: $0) ? $0 : nil }
            ?? TestPaths.binary
        func run(_ arguments: [String], input: String? = nil) throws {
            let result = try runProcess(maker, arguments, input: input.map { Data($0.utf8) }, environment: environment)
            guard result.status == 0 else { throw ReportTestFailure("\(arguments): \(result.stderr)") }
        }
        let generator = TestPaths.packageRoot + "/scripts/gen-records.sh"
        for (count, seed, index) in [("40000", "11", true), ("10000", "12", false)] {
            let records = try runProcess("/bin/bash", [generator, count, "60", seed, "1795176000"], environment: ["TAGS": "1"])
            guard records.status == 0 else { throw ReportTestFailure(records.stderr) }
            var extra = ""
            for day in 1...20 {
                let d = day < 10 ? "0\(day)" : "\(day)"
                extra += """
                    {"ts":"2026-11-\(d)T09:30:00.000Z","project":"\(jsonEscaped(hostileProject))","model":"in-house-llama","input_tokens":900,"output_tokens":80,"user":"o'brien \\"&\\"","tags":{"env":"prod","team":"\(jsonEscaped(hostileTeam))"}}
                    {"ts":"2026-10-\(d)T23:59:59.999Z","project":"research","model":"claude-sonnet-4-5","input_tokens":52000,"cache_write_tokens":48000,"output_tokens":3100,"cost_usd":0.3498,"status":"error","tags":{"env":"prod","team":"team-2"}}

                    """
            }
            try run(["ingest", "--dir", dir, "--fsync", "none", "-"], input: records.stdout + extra)
            if index {
                try run(["seal", "--dir", dir])
                try run(["index", "--dir", dir])
            }
        }
        try run(["limit", "set", "--dir", dir, "--scope", "project=research", "--type", "cost", "--max", "40",
                 "--window", "month", "--soft", "0.8"])
        try run(["limit", "set", "--dir", dir, "--scope", "global", "--type", "requests", "--max", "30000",
                 "--window", "rolling:30d"])
        try run(["reserve", "--dir", dir, "--scope-fields", "project=research,model=o3", "--max-usd", "2.5",
                 "--ttl", "1d"])
        temp.keepUntilExit()
        return dir
    }

    static func jsonEscaped(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
    }

    /// Runs the checker; its output (figures, failures) is printed.
    func check(_ options: [String], _ reportArguments: [String]) throws {
        let dir = try Self.log.get()
        let result = try runProcess(
            TestPaths.python,
            [TestPaths.packageRoot + "/scripts/check-report.py", TestPaths.binary, dir] + options + ["--"]
                + reportArguments,
            environment: Self.environment)
        print(result.stdout, terminator: "")
        #expect(result.status == 0, "\(result.stderr)")
    }

    @Test func everyFormEqualsStatsAndTheHTMLOpensOfflineInChromium() throws {
        try check(
            ["--text", "--html", "--control", "--hostile=" + Self.hostileProject, "--hostile=" + Self.hostileTeam,
             "--hostile=o'brien"], [])
    }

    @Test func tagsFiltersAndAZoneEqualStats() throws {
        try check([], ["--tz", "Asia/Kolkata", "--tag", "env=prod", "--project", "research", "--project", "etl",
                       "--project", Self.hostileProject, "--role", "writer", "--role", "planner", "--status", "ok",
                       "--task", "triage", "--task", "draft-reply"])
    }

    @Test func givenBoundsInAHalfHourZoneEqualStats() throws {
        try check(
            ["--text"],
            ["--tz", "Australia/Adelaide", "--since", "2026-10-05", "--until", "2026-11-03", "--caller", "webhook",
             "--caller", "crm-sync", "--title", "Adelaide <ops> & \"friends\""])
    }

    @Test func refusedInputNamesTheFlagAndWritesNothing() throws {
        let dir = try Self.log.get()
        let temp = TemporaryDirectory()
        let out = temp.path + "/report.html"
        let cases: [([String], String)] = [
            (["--tz", "Mars/Olympus"], "--tz"),
            (["--since", "2026-12-01"], "--since"),
            (["--since", "yesterday"], "--since"),
            (["--tag", "novalue"], "--tag"),
            (["--format", "csv"], "--section"),
            (["--format", "csv", "--section", "everything"], "--section"),
            (["--section", "daily"], "--section"),
            (["--title", "a\u{1B}b"], "--title"),
            (["--format", "pdf"], "--format"),
        ]
        for (arguments, flag) in cases {
            let result = try spendlog(
                ["report", "--dir", dir, "--out", out] + arguments, environment: Self.environment)
            #expect(result.status == 64, "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains(flag), "\(arguments): \(result.stderr)")
            #expect(!FileManager.default.fileExists(atPath: out), "\(arguments)")
        }
        let missing = try spendlog(
            ["report", "--dir", dir, "--out", temp.path + "/no/such/folder/r.html"], environment: Self.environment)
        #expect(missing.status == 64 && missing.stderr.contains("--out"), "\(missing.stderr)")
        // A good run writes the file whole, and nothing else is left beside it.
        let good = try spendlog(["report", "--dir", dir, "--out", out, "--format", "md"], environment: Self.environment)
        #expect(good.status == 0, "\(good.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: temp.path) == ["report.html"])
        #expect(try String(contentsOfFile: out, encoding: .utf8).hasPrefix("# LLM spend report\n"))
    }
}

/// Budgets are derived state for a report: limits that cannot be read are named in the report,
/// which is made without them (exit 0), never a failed report.
@Suite struct ReportBudgetProblemTests {
    @Test func unreadableLimitsAreNamedAndTheReportIsMade() throws {
        let temp = TemporaryDirectory()
        let dir = temp.path + "/log"
        let environment = ["SPENDLOG_NOW": "2026-11-20T12:00:00Z"]
        let append = try spendlog(
            [
                "append", "--dir", dir, "--project", "p", "--model", "m", "--input-tokens", "10", "--output-tokens",
                "1", "--cost", "0.5", "--ts", "2026-11-19T10:00:00Z",
            ], environment: environment)
        #expect(append.status == 0, "\(append.stderr)")
        let limit = try spendlog(
            ["limit", "set", "--dir", dir, "--scope", "global", "--type", "cost", "--max", "10", "--window", "month"],
            environment: environment)
        #expect(limit.status == 0, "\(limit.stderr)")
        let journal = dir + "/budget/journal.jsonl"
        let handle = try #require(FileHandle(forWritingAtPath: journal))
        handle.seekToEndOfFile()
        handle.write(Data("not json\n".utf8))
        try handle.close()

        let report = try spendlog(["report", "--dir", dir, "--format", "json"], environment: environment)
        #expect(report.status == 0, "\(report.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(report.stdout.utf8)) as? [String: Any])
        let problem = try #require(object["budget_problem"] as? String)
        #expect(problem.hasPrefix("The limits could not be read: ") && problem.contains("journal"), "\(problem)")
        let totals = try #require((object["totals"] as? [[String: Any]])?.first)
        #expect("\(totals["cost_usd"] ?? "")" == "0.5", "\(totals)")
        let markdown = try spendlog(["report", "--dir", dir, "--format", "md"], environment: environment)
        #expect(markdown.status == 0 && markdown.stdout.contains("The limits could not be read"))
    }
}

struct ReportTestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
