import Foundation
import Testing

/// Many hosts gathered into one log (`collect`) and old segments removed once indexed
/// (`retention`), through the built binary and real child processes (docs/SCALE.md).
@Suite struct ScaleOutCLITests {
    /// `requests` and `cost_usd` of `stats` over the whole log.
    func totals(_ dir: String, _ extra: [String] = []) throws -> (requests: Int, cost: String, stderr: String) {
        let result = try spendlog(["stats", "--dir", dir, "--format", "csv"] + extra)
        #expect(result.status == 0, "\(result.stderr)")
        let row = result.stdout.split(whereSeparator: \.isNewline).last.map {
            $0.split(separator: ",", omittingEmptySubsequences: false)
        }
        return (Int(row?[0] ?? "") ?? -1, String(row?[6] ?? ""), result.stderr)
    }

    func lines(host: String, count: Int, days: [String]) -> String {
        (0..<count).map { i in
            let day = days[i % days.count]
            let second = pad2(i % 60)
            return
                #"{"ts":"\#(day)T\#(pad2(i % 24)):\#(pad2(i / 60 % 60)):\#(second).000Z","project":"\#(host)","model":"gpt-4.1","input_tokens":\#(i),"output_tokens":1,"cost_usd":0.25}"#
        }.joined(separator: "\n") + "\n"
    }

    func pad2(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }

    @Test func threeHostsWritingConcurrentlyGatherIntoTheSumOfEachHost() throws {
        let temp = TemporaryDirectory()
        let hosts = ["web-1", "web-2", "batch.eu"]
        let counts = [300, 200, 250]
        let days = ["2026-03-01", "2026-03-02"]
        // Each host ingests in three children at once, so segments rotate and hosts interleave in time.
        var children: [Process] = []
        for (h, host) in hosts.enumerated() {
            for part in 0..<3 {
                let input = temp.path + "/\(host)-\(part).jsonl"
                writeFile(
                    input,
                    Data(lines(host: host, count: counts[h] / 3 + (part < counts[h] % 3 ? 1 : 0), days: days).utf8))
                let process = Process()
                process.executableURL = URL(fileURLWithPath: TestPaths.binary)
                process.arguments = ["ingest", "--dir", temp.path + "/" + host, input]
                var environment = ProcessInfo.processInfo.environment
                environment["SPENDLOG_HOST"] = host
                process.environment = environment
                process.standardOutput = FileHandle.nullDevice
                children.append(process)
            }
        }
        for child in children { try child.run() }
        for child in children { child.waitForExit() }
        #expect(children.allSatisfy { $0.terminationStatus == 0 })

        var expected = 0
        for (h, host) in hosts.enumerated() {
            let dir = temp.path + "/" + host
            #expect(try spendlog(["seal", "--dir", dir], environment: ["SPENDLOG_HOST": host]).status == 0)
            let own = try totals(dir)
            #expect(own.requests == counts[h])
            expected += own.requests
        }
        let into = temp.path + "/all"
        let sources = hosts.map { temp.path + "/" + $0 }
        let first = try spendlog(["collect"] + sources + ["--into", into])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(try totals(into).requests == expected)
        #expect(try totals(into).cost == String(Double(expected) * 0.25).replacingOccurrences(of: ".0", with: ""))

        // Again, indexed in between: nothing is copied, nothing counted twice.
        #expect(try spendlog(["index", "--dir", into]).status == 0)
        let second = try spendlog(["collect"] + sources + ["--into", into, "--json"])
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stdout.contains(#""copied":[]"#), "\(second.stdout)")
        let recent = try spendlog(["collect"] + sources + ["--into", into, "--since", "2026-03-02", "--json"])
        #expect(recent.status == 0 && recent.stdout.contains(#""already_present":3"#), "\(recent.stdout)")
        #expect(try totals(into).requests == expected)
        let verified = try spendlog(["verify", "--dir", into])
        #expect(verified.status == 0 && verified.stdout.contains("\(expected) records"), "\(verified.stdout)")
        let names = try FileManager.default.subpathsOfDirectory(atPath: into + "/segments")
        #expect(names.allSatisfy { !$0.contains(".incoming-") && !$0.hasSuffix(".jsonl") }, "\(names)")

        // A segment re-shipped under another host's name: reported, counted once, by the index too.
        let folder = into + "/segments/day=2026-03-01"
        let shipped = try FileManager.default.contentsOfDirectory(atPath: folder).filter {
            $0.hasPrefix("web-1-") && $0.hasSuffix(".zst")
        }.sorted()[0]
        try FileManager.default.copyItem(atPath: folder + "/" + shipped, toPath: folder + "/web-9-000000.jsonl.zst")
        let twice = try totals(into)
        #expect(twice.requests == expected && twice.stderr.contains("counted once"), "\(twice.stderr)")
        #expect(try spendlog(["index", "--dir", into]).stderr.contains("counted once"))
        #expect(try totals(into).requests == expected)
        #expect(try totals(into, ["--indexed-only"]).requests == expected)
        let duplicate = try spendlog(["verify", "--dir", into])
        #expect(duplicate.status == 65 && duplicate.stderr.contains("appears a second time"))
    }

    /// Two hosts under one name: the second file is reported with both paths, never written over.
    @Test func aSameNamedSegmentWithOtherBytesIsNeverOverwritten() throws {
        let temp = TemporaryDirectory()
        for (name, cost) in [("a", "1"), ("b", "2")] {
            let dir = temp.path + "/" + name
            let appended = try spendlog(
                [
                    "append", "--dir", dir, "--project", "p", "--model", "m", "--input-tokens", "1", "--output-tokens",
                    "1", "--cost", cost, "--ts", "2026-03-01T10:00:00Z",
                ],
                environment: ["SPENDLOG_HOST": "same"])
            #expect(appended.status == 0)
            #expect(try spendlog(["seal", "--dir", dir], environment: ["SPENDLOG_HOST": "same"]).status == 0)
        }
        let into = temp.path + "/all"
        #expect(try spendlog(["collect", temp.path + "/a", "--into", into]).status == 0)
        let target = into + "/segments/day=2026-03-01/same-000000.jsonl.zst"
        let before = try Data(contentsOf: URL(fileURLWithPath: target))
        let clash = try spendlog(["collect", temp.path + "/b", "--into", into])
        #expect(clash.status == 65)
        #expect(clash.stderr.contains(temp.path + "/b/segments/day=2026-03-01/same-000000.jsonl.zst"))
        #expect(clash.stderr.contains(target) && clash.stderr.contains("nothing was overwritten"), "\(clash.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: target)) == before)
        #expect(try totals(into).cost == "1")
    }

    /// A source segment that fails its zstd checksum is named and never becomes visible; a collect
    /// killed before its link leaves only a temporary that the next one removes.
    @Test func aDamagedOrInterruptedCopyNeverBecomesVisible() throws {
        let temp = TemporaryDirectory()
        let source = temp.path + "/src"
        for day in ["2026-03-01", "2026-03-02"] {
            #expect(
                try spendlog([
                    "append", "--dir", source, "--project", "p", "--model", "m", "--input-tokens", "1",
                    "--output-tokens", "1", "--cost", "1", "--ts", day + "T10:00:00Z",
                ])
                .status == 0)
        }
        #expect(try spendlog(["seal", "--dir", source]).status == 0)
        let into = temp.path + "/all"
        let crashed = try spendlog(
            ["collect", source, "--into", into], environment: ["SPENDLOG_CRASH_AT": "collect.afterCopy"])
        #expect(crashed.status == 9)
        #expect(try spendlog(["verify", "--dir", into]).status == 0)
        #expect(try totals(into).requests <= 0, "no record is visible (no row at all)")
        let resumed = try spendlog(["collect", source, "--into", into])
        #expect(resumed.status == 0 && resumed.stdout.contains("copied 2 segments"), "\(resumed.stdout)")
        let names = try FileManager.default.subpathsOfDirectory(atPath: into + "/segments")
        #expect(!names.contains { $0.contains(".incoming-") }, "\(names)")

        let damaged = temp.path + "/damaged"
        #expect(
            try spendlog([
                "append", "--dir", damaged, "--project", "p", "--model", "m", "--input-tokens", "1", "--output-tokens",
                "1", "--cost", "1", "--ts", "2026-03-03T10:00:00Z",
            ])
            .status == 0)
        #expect(try spendlog(["seal", "--dir", damaged]).status == 0)
        let folder = damaged + "/segments/day=2026-03-03"
        let file =
            folder + "/" + (try FileManager.default.contentsOfDirectory(atPath: folder).first { $0.hasSuffix(".zst") }!)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: file))
        bytes[bytes.count - 2] ^= 0xFF  // inside the content checksum
        writeFile(file, bytes)
        let refused = try spendlog(["collect", damaged, "--into", into])
        #expect(refused.status == 65 && refused.stderr.contains(file), "\(refused.stderr)")
        #expect(
            !FileManager.default.fileExists(
                atPath: into + "/segments/day=2026-03-03/" + (file as NSString).lastPathComponent))
        #expect(try spendlog(["verify", "--dir", into]).status == 0)
    }

    // MARK: - Retention

    /// Old days: two hosts' sealed and indexed segments, one sealed but not indexed, one active.
    func makeAgedLog(_ temp: TemporaryDirectory) throws -> String {
        let dir = temp.path + "/log"
        func append(_ ts: String, host: String) throws {
            let result = try spendlog(
                [
                    "append", "--dir", dir, "--project", "p", "--model", "m", "--input-tokens", "1", "--output-tokens",
                    "1", "--cost", "0.5", "--ts", ts,
                ],
                environment: ["SPENDLOG_HOST": host])
            #expect(result.status == 0)
        }
        for day in ["2026-01-05", "2026-01-06", "2026-02-10"] {
            try append(day + "T10:00:00Z", host: "a")
            try append(day + "T11:00:00Z", host: "b")
        }
        try append("2026-05-01T10:00:00Z", host: "a")
        for host in ["a", "b"] {
            #expect(try spendlog(["seal", "--dir", dir], environment: ["SPENDLOG_HOST": host]).status == 0)
        }
        #expect(try spendlog(["index", "--dir", dir]).status == 0)
        try append("2026-01-06T12:00:00Z", host: "c")  // sealed, not indexed
        #expect(try spendlog(["seal", "--dir", dir], environment: ["SPENDLOG_HOST": "c"]).status == 0)
        try append("2026-01-07T12:00:00Z", host: "d")  // active
        return dir
    }

    static let now = ["SPENDLOG_NOW": "2026-05-02T08:00:00Z"]

    @Test func retentionRemovesOnlyIndexedSealedOldSegmentsAndStatsStillAnswers() throws {
        let temp = TemporaryDirectory()
        let dir = try makeAgedLog(temp)
        let before = try spendlog(["stats", "--dir", dir, "--by", "month", "--format", "json"]).stdout
        let listed = try spendlog(["retention", "--dir", dir, "--keep", "90d"], environment: Self.now)
        #expect(listed.status == 0, "\(listed.stderr)")
        // The horizon is 2026-02-01: 2026-01-05 goes; c's unindexed segment keeps 2026-01-06 whole
        // (a day goes whole: a record and its adjustment stay together), d's active one 2026-01-07.
        #expect(listed.stdout.contains("Would remove 2 segments (2 records"), "\(listed.stdout)")
        #expect(listed.stdout.contains("c-000000.jsonl.zst: it is not indexed yet"))
        #expect(listed.stdout.contains("a-000000.jsonl.zst: another segment of its day is kept"), "\(listed.stdout)")
        #expect(listed.stdout.contains("d-000000.jsonl: it is active"))
        #expect(FileManager.default.fileExists(atPath: dir + "/segments/day=2026-01-05/a-000000.jsonl.zst"))

        let applied = try spendlog(["retention", "--dir", dir, "--keep", "90d", "--apply"], environment: Self.now)
        #expect(applied.status == 0 && applied.stdout.contains("Removed 2 segments"), "\(applied.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/segments/day=2026-01-05/a-000000.jsonl.zst"))
        #expect(FileManager.default.fileExists(atPath: dir + "/segments/day=2026-01-06/c-000000.jsonl.zst"))
        #expect(FileManager.default.fileExists(atPath: dir + "/segments/day=2026-02-10/a-000000.jsonl.zst"))
        #expect(try spendlog(["verify", "--dir", dir]).status == 0)
        #expect(try spendlog(["stats", "--dir", dir, "--by", "month", "--format", "json"]).stdout == before)
        // A question the rollups cannot answer reads records, and says which removed ones it lacks.
        let detail = try spendlog(["stats", "--dir", dir, "--by", "tag:team"])
        #expect(detail.status == 0)
        #expect(
            detail.stderr.contains("Warning: 2 record(s) of 2026-01-05 are not in the answer above: retention removed"),
            "\(detail.stderr)")
        #expect(try spendlog(["stats", "--dir", dir, "--by", "month"]).stderr.isEmpty)
        #expect(try spendlog(["index", "--dir", dir]).status == 0)
        #expect(try spendlog(["stats", "--dir", dir, "--by", "month", "--format", "json"]).stdout == before)
        let rebuild = try spendlog(["index", "--dir", dir, "--rebuild"])
        #expect(rebuild.status == 64 && rebuild.stderr.contains("retention"), "\(rebuild.stderr)")

        // A late record for a retired day never takes a removed segment's name: it is counted.
        let late = try spendlog(
            [
                "append", "--dir", dir, "--project", "p", "--model", "m", "--input-tokens", "1", "--output-tokens", "1",
                "--cost", "0.5", "--ts", "2026-01-05T20:00:00Z",
            ],
            environment: ["SPENDLOG_HOST": "a"])
        #expect(late.status == 0)
        #expect(FileManager.default.fileExists(atPath: dir + "/segments/day=2026-01-05/a-000001.jsonl"))
        #expect(try totals(dir).requests == 10)
        #expect(try spendlog(["seal", "--dir", dir], environment: ["SPENDLOG_HOST": "a"]).status == 0)
        #expect(try spendlog(["index", "--dir", dir]).status == 0)
        #expect(try totals(dir).requests == 10)
        // The late segment, and 2026-01-06 whole now that c's is indexed, go on the next run.
        let again = try spendlog(["retention", "--dir", dir, "--keep", "90d", "--apply"], environment: Self.now)
        #expect(again.status == 0 && again.stdout.contains("Removed 4 segments"), "\(again.stdout)")
        #expect(try totals(dir).requests == 10)
        #expect(try spendlog(["verify", "--dir", dir]).status == 0)
    }

    @Test func retentionRefusesWhileALimitCountsPastTheHorizon() throws {
        let temp = TemporaryDirectory()
        let dir = try makeAgedLog(temp)
        let set = ["limit", "set", "--dir", dir, "--scope", "global", "--type", "cost", "--max", "100", "--window"]
        #expect(try spendlog(set + ["month"], environment: Self.now).status == 0)
        #expect(try spendlog(set + ["lifetime"], environment: Self.now).status == 0)
        let refused = try spendlog(["retention", "--dir", dir, "--keep", "90d", "--apply"], environment: Self.now)
        #expect(refused.status == 64 && refused.stderr.contains("limit L2"), "\(refused.stderr)")
        #expect(refused.stderr.contains("--keep"))
        #expect(!refused.stderr.contains("limit L1"))
        #expect(FileManager.default.fileExists(atPath: dir + "/segments/day=2026-01-05/a-000000.jsonl.zst"))
        let listed = try spendlog(["retention", "--dir", dir, "--keep", "90d"], environment: Self.now)
        #expect(listed.status == 64 && listed.stderr.contains("limit L2"))
        #expect(try spendlog(["limit", "delete", "--dir", dir, "L2"], environment: Self.now).status == 0)
        let applied = try spendlog(["retention", "--dir", dir, "--keep", "90d", "--apply"], environment: Self.now)
        #expect(applied.status == 0, "\(applied.stderr)")
        let status = try spendlog(["budget", "status", "--dir", dir], environment: Self.now)
        #expect(status.status == 0, "\(status.stderr)")
        // The counters forget the removed segments exactly as a recount from the log does.
        let check = try spendlog(["budget", "rebuild", "--dir", dir, "--check"], environment: Self.now)
        #expect(check.status == 0, "\(check.stderr)")
    }

    /// Killed at each step inside retention: the log verifies clean, the index still answers the
    /// same and needs nothing, and the next run finishes the job.
    @Test func aRetentionKilledMidwayLeavesAConsistentLog() throws {
        for point in ["retention.afterMarkers", "retention.afterUnlink", "retention.afterUnlink@2"] {
            let temp = TemporaryDirectory()
            let dir = try makeAgedLog(temp)
            let before = try spendlog(["stats", "--dir", dir, "--by", "day", "--format", "json"]).stdout
            let crashed = try spendlog(
                ["retention", "--dir", dir, "--keep", "90d", "--apply"],
                environment: Self.now.merging(["SPENDLOG_CRASH_AT": point]) { $1 })
            #expect(crashed.status == 9, "killed at \(point)")
            #expect(try spendlog(["verify", "--dir", dir]).status == 0, "\(point)")
            #expect(
                try spendlog(["stats", "--dir", dir, "--by", "day", "--format", "json"]).stdout == before, "\(point)")
            let indexed = try spendlog(["index", "--dir", dir, "--json"])
            #expect(indexed.stdout.contains(#""segments_indexed":1"#), "only c's segment is new: \(indexed.stdout)")
            let finished = try spendlog(["retention", "--dir", dir, "--keep", "90d", "--apply"], environment: Self.now)
            #expect(finished.status == 0, "\(point): \(finished.stderr)")
            #expect(try spendlog(["verify", "--dir", dir]).status == 0)
            #expect(
                try spendlog(["stats", "--dir", dir, "--by", "day", "--format", "json"]).stdout == before, "\(point)")
        }
    }
}
