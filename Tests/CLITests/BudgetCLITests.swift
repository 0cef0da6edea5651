import Foundation
import Testing

/// `limit`, `budget`, `append --enforce`, `reserve`, `settle`, `release` through the built binary.
@Suite struct BudgetCLITests {
    let env = ["SPENDLOG_NOW": "2026-11-23T10:00:00Z"]

    /// An append at `now`: enforced ones take it as the clock (SPENDLOG_NOW), others as `--ts`,
    /// so that no record lands on the day the suite happens to run.
    func append(_ dir: String, _ cost: String, enforce: Bool = true, at now: String = "2026-11-23T10:00:00Z") throws
        -> ProcessResult
    {
        try spendlog(
            [
                "append", "--dir", dir, "--project", "etl", "--model", "gpt-4.1", "--input-tokens", "10",
                "--output-tokens",
                "1", "--cost", cost,
            ] + (enforce ? ["--enforce"] : ["--ts", now]),
            environment: ["SPENDLOG_NOW": now])
    }

    func recordCount(_ dir: String) throws -> Int {
        try spendlog(["tail", "--dir", dir, "--json", "-n", "1000"]).stdout.split(separator: "\n").count
    }

    @Test func aRefusedAppendExitsThreeAndWritesNothing() throws {
        let temp = TemporaryDirectory()
        let dir = temp.path + "/log"
        let set = try spendlog(
            [
                "limit", "set", "--dir", dir, "--scope", "project=etl", "--type", "cost", "--max", "0.01", "--window",
                "day",
            ],
            environment: env)
        #expect(set.status == 0, "\(set.stderr)")
        #expect(set.stdout == "L1\n")
        #expect(try append(dir, "0.006").status == 0)
        let refused = try append(dir, "0.005")
        #expect(refused.status == 3)
        #expect(refused.stdout.isEmpty)
        #expect(
            refused.stderr
                == "Error: Limit L1 (project=etl, cost, day) would be exceeded: $0.006 spent in the current window + $0.005 requested > limit $0.01; remaining $0.004. Nothing was recorded.\n"
        )
        #expect(try recordCount(dir) == 1)
        // Without --enforce nothing is checked; the next enforced append counts it.
        #expect(try append(dir, "0.003", enforce: false).status == 0)
        #expect(try append(dir, "0.002").status == 3)
        #expect(try append(dir, "0.001").status == 0)
        // The next day starts afresh.
        #expect(try append(dir, "0.01", at: "2026-11-24T00:00:00Z").status == 0)
    }

    @Test func statusReportsSpendLimitUseRemainingResetAndHeld() throws {
        let temp = TemporaryDirectory()
        let dir = temp.path + "/log"
        #expect(
            try spendlog(
                [
                    "limit", "set", "--dir", dir, "--scope", "project=etl", "--type", "cost", "--max", "2", "--window",
                    "day",
                    "--soft", "0.5",
                ], environment: env
            ).status == 0)
        #expect(
            try spendlog(
                [
                    "limit", "set", "--dir", dir, "--scope", "global", "--type", "requests", "--max", "10", "--window",
                    "rolling:1h",
                ], environment: env
            ).status == 0)
        #expect(try append(dir, "0.5").stderr.isEmpty)
        let crossing = try append(dir, "0.75")
        #expect(crossing.status == 0)
        #expect(
            crossing.stderr
                == "Warning: limit L1 (project=etl, cost, day) passed its soft threshold (0.5 of $2): $1.25 spent in the current window.\n"
        )
        #expect(try append(dir, "0.05").stderr.isEmpty, "a soft limit warns once per window")
        let reserve = try spendlog(
            [
                "reserve", "--dir", dir, "--scope-fields", "project=etl,model=gpt-4.1", "--max-usd", "0.2", "--ttl",
                "10m",
            ],
            environment: env)
        #expect(reserve.status == 0, "\(reserve.stderr)")
        let json = try spendlog(["budget", "status", "--dir", dir, "--format", "json"], environment: env)
        #expect(json.status == 0)
        #expect(
            json.stdout
                == #"[{"id":"L1","scope":"project=etl","type":"cost","max":2,"window":"day","tz":"UTC","soft":0.5,"spent":1.3,"held":0.2,"remaining":0.5,"percent_used":75.00,"window_start":"2026-11-23T00:00:00.000Z","resets_at":"2026-11-24T00:00:00.000Z"},{"id":"L2","scope":"global","type":"requests","max":10,"window":"rolling:1h","tz":"UTC","spent":3,"held":1,"remaining":6,"percent_used":40.00,"window_start":"2026-11-23T09:00:00.000Z","resets_at":null}]"#
                + "\n")
        let table = try spendlog(["budget", "status", "--dir", dir], environment: env)
        #expect(
            table.stdout == """
                ID  SCOPE        TYPE      WINDOW      SPENT  LIMIT  USED    REMAINING  HELD  RESETS
                L1  project=etl  cost      day         $1.3   $2     75.00%  $0.5       $0.2  2026-11-24T00:00:00.000Z
                L2  global       requests  rolling:1h  3      10     40.00%  6          1     -

                """)
        let list = try spendlog(["limit", "list", "--dir", dir, "--format", "json"])
        #expect(
            list.stdout
                == #"[{"id":"L1","scope":"project=etl","type":"cost","max":2,"window":"day","tz":"UTC","soft":0.5},{"id":"L2","scope":"global","type":"requests","max":10,"window":"rolling:1h","tz":"UTC"}]"#
                + "\n")
        #expect(try spendlog(["budget", "rebuild", "--check", "--dir", dir], environment: env).status == 0)
    }

    @Test func reserveSettleAndReleaseHoldAndFree() throws {
        let temp = TemporaryDirectory()
        let dir = temp.path + "/log"
        #expect(
            try spendlog(
                [
                    "limit", "set", "--dir", dir, "--scope", "project=etl", "--type", "cost", "--max", "1", "--window",
                    "day",
                ],
                environment: env
            ).status == 0)
        func reserve(_ usd: String) throws -> ProcessResult {
            try spendlog(
                ["reserve", "--dir", dir, "--scope-fields", "project=etl,model=gpt-4.1", "--max-usd", usd],
                environment: env)
        }
        let first = try reserve("0.6")
        #expect(first.status == 0)
        let id = first.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(id.hasPrefix("R") && id.count == 37)
        #expect(try reserve("0.5").status == 3)
        #expect(try append(dir, "0.5").status == 3)
        let settled = try spendlog(
            [
                "settle", id, "--dir", dir, "--project", "etl", "--model", "gpt-4.1", "--input-tokens", "10",
                "--output-tokens", "1", "--cost", "0.25",
            ], environment: env)
        #expect(settled.status == 0, "\(settled.stderr)")
        #expect(settled.stdout.count == 37)
        #expect(try recordCount(dir) == 1)
        let second = try reserve("0.75")
        #expect(second.status == 0)
        #expect(try append(dir, "0.01").status == 3)
        let released = try spendlog(
            ["release", second.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "--dir", dir], environment: env)
        #expect(released.status == 0)
        #expect(try append(dir, "0.75").status == 0)
        // A settle outside the hold's fields is checked against the limits the hold did not cover.
        #expect(
            try spendlog(
                [
                    "limit", "set", "--dir", dir, "--scope", "project=web", "--type", "cost", "--max", "0",
                    "--window", "day",
                ], environment: env
            ).status == 0)
        let third = try spendlog(
            ["reserve", "--dir", dir, "--scope-fields", "model=gpt-4.1", "--max-usd", "0.1"], environment: env)
        #expect(third.status == 0, "\(third.stderr)")
        let thirdID = third.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let outside = try spendlog(
            [
                "settle", thirdID, "--dir", dir, "--project", "web", "--model", "gpt-4.1", "--input-tokens", "10",
                "--output-tokens", "1", "--cost", "0.01",
            ], environment: env)
        #expect(outside.status == 3, "\(outside.stderr)")
        #expect(outside.stderr.hasPrefix("Error: Limit L2 (project=web, cost, day) would be exceeded"))
        #expect(try recordCount(dir) == 2)
        #expect(try spendlog(["release", thirdID, "--dir", dir], environment: env).status == 0)
        let again = try spendlog(["release", id, "--dir", dir], environment: env)
        #expect(again.status == 64)
        #expect(again.stderr.contains("No open reservation '\(id)'"))
    }

    @Test func resetAndDeleteChangeWhatCounts() throws {
        let temp = TemporaryDirectory()
        let dir = temp.path + "/log"
        #expect(
            try spendlog(
                [
                    "limit", "set", "--dir", dir, "--scope", "project=etl", "--type", "cost", "--max", "1", "--window",
                    "lifetime",
                ], environment: env
            ).status == 0)
        #expect(try append(dir, "1").status == 0)
        #expect(try append(dir, "0.1", at: "2026-11-23T10:05:00Z").status == 3)
        let reset = try spendlog(
            ["budget", "reset", "--dir", dir, "--scope", "project=etl"],
            environment: ["SPENDLOG_NOW": "2026-11-23T11:00:00Z"])
        #expect(reset.status == 0, "\(reset.stderr)")
        #expect(try append(dir, "1", at: "2026-11-23T11:00:00Z").status == 0)
        #expect(try spendlog(["budget", "rebuild", "--dir", dir]).status == 0)
        #expect(try append(dir, "0.1", at: "2026-11-23T11:01:00Z").status == 3, "the reset survives a rebuild")
        #expect(try spendlog(["limit", "delete", "L1", "--dir", dir]).status == 0)
        #expect(try append(dir, "5", at: "2026-11-23T11:02:00Z").status == 0)
        let missing = try spendlog(["limit", "delete", "L1", "--dir", dir])
        #expect(missing.status == 64)
        #expect(missing.stderr.contains("No limit 'L1'"))
    }

    /// Every bad value: exit 64, a message naming the flag, and nothing written (no journal, no log).
    @Test(
        arguments: [
            (["limit", "set", "--scope", "global", "--type", "cost", "--max", "NaN", "--window", "day"], "--max"),
            (["limit", "set", "--scope", "global", "--type", "cost", "--max", "-1", "--window", "day"], "--max"),
            (
                ["limit", "set", "--scope", "global", "--type", "cost", "--max", "1", "--window", "rolling:0h"],
                "--window"
            ),
            (
                ["limit", "set", "--scope", "global", "--type", "cost", "--max", "1", "--window", "fortnight"],
                "--window"
            ),
            (["limit", "set", "--scope", "global", "--type", "dollars", "--max", "1", "--window", "day"], "--type"),
            (["limit", "set", "--scope", "team=a", "--type", "cost", "--max", "1", "--window", "day"], "--scope"),
            (
                [
                    "limit", "set", "--scope", "global", "--type", "cost", "--max", "1", "--window", "day", "--tz",
                    "Nowhere/City",
                ], "--tz"
            ),
            (
                [
                    "limit", "set", "--scope", "global", "--type", "cost", "--max", "1", "--window", "day", "--soft",
                    "2",
                ], "--soft"
            ),
            (
                [
                    "limit", "set", "--scope", "global", "--type", "cost", "--max", "1", "--window", "lifetime", "--tz",
                    "Nowhere/City",
                ], "--tz"
            ),
            (
                [
                    "limit", "set", "--scope", "global", "--type", "cost", "--max", "1", "--window", "rolling:1h",
                    "--tz", "Europe/Berlin",
                ], "--tz"
            ),
            (["limit", "set", "--scope", "tag:env", "--type", "cost", "--max", "1", "--window", "day"], "--scope"),
            (["limit", "delete", "L1\u{1B}[2J"], "ID: \"L1\\u001b[2J\" is not a limit id"),
            (["limit", "delete", ""], "ID:"),
            (["release", "R1"], "ID: \"R1\" is not a reservation id"),
            (
                ["reserve", "--scope-fields", "project=etl", "--max-usd", "1", "--holder-pid", "2147483646"],
                "--holder-pid"
            ),
            (
                [
                    "append", "--enforce", "--project", "etl", "--model", "m", "--input-tokens", "1", "--output-tokens",
                    "1", "--cost", "1", "--ts", "2027-11-23T10:00:00Z",
                ], "--ts: 2027-11-23T10:00:00.000Z is later than the clock (2026-11-23T10:00:00.000Z)"
            ),
            (["budget", "status", "--format", "xml"], "--format"),
            (["budget", "reset", "--scope", "project="], "--scope"),
            (["reserve", "--scope-fields", "project=etl", "--max-usd", "-1"], "--max-usd"),
            (["reserve", "--scope-fields", "project=etl", "--max-usd", "1", "--ttl", "0m"], "--ttl"),
            (["reserve", "--scope-fields", "nope", "--max-usd", "1"], "--scope-fields"),
            (
                ["settle", "R1", "--project", "etl", "--model", "m", "--input-tokens", "x", "--output-tokens", "1"],
                "--input-tokens"
            ),
            (
                [
                    "append", "--enforce", "--project", "etl", "--model", "m", "--input-tokens", "1", "--output-tokens",
                    "1", "--cost", "inf",
                ], "--cost"
            ),
        ] as [([String], String)])
    func badValuesAreRejectedBeforeAnythingIsWritten(arguments: [String], flag: String) throws {
        let temp = TemporaryDirectory()
        let dir = temp.path + "/log"
        let result = try spendlog(arguments + ["--dir", dir], environment: env)
        #expect(result.status == 64, "\(arguments): \(result.stderr)")
        #expect(result.stderr.contains(flag), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/budget/journal.jsonl"))
        #expect(!FileManager.default.fileExists(atPath: dir + "/segments/day=2026-11-23"))
    }

    /// A segment that cannot be counted blocks enforcement and status, not the list of rules.
    @Test func limitListNeedsNoLogAndACorruptSegmentDoesNotHideTheRules() throws {
        let temp = TemporaryDirectory()
        let dir = temp.path + "/log"
        let set = try spendlog(
            ["limit", "set", "--dir", dir, "--scope", "global", "--type", "cost", "--max", "5", "--window", "day"],
            environment: env)
        #expect(set.status == 0, "\(set.stderr)")
        #expect(try append(dir, "0.1", enforce: false).status == 0)
        let folder = dir + "/segments/day=2026-11-23"
        let segment = try #require(
            try FileManager.default.contentsOfDirectory(atPath: folder).first { $0.hasSuffix(".jsonl") })
        let handle = try #require(FileHandle(forWritingAtPath: folder + "/" + segment))
        handle.seekToEndOfFile()
        handle.write(Data("not a record\n".utf8))
        try handle.close()
        let list = try spendlog(["limit", "list", "--dir", dir], environment: env)
        #expect(list.status == 0, "\(list.stderr)")
        #expect(list.stdout.contains("L1"), "\(list.stdout)")
        let status = try spendlog(["budget", "status", "--dir", dir], environment: env)
        #expect(status.status == 65)
        #expect(status.stderr.contains(segment), "\(status.stderr)")
    }
}
