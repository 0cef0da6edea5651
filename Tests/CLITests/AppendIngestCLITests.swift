import Foundation
import Testing
import SpendLog

/// The built `spendlog` binary, as a user runs it.
@Suite struct AppendCLITests {
    func baseArguments(_ dir: String) -> [String] {
        [
            "append", "--dir", dir, "--project", "etl", "--model", "gpt-4.1", "--input-tokens", "1200",
            "--output-tokens", "300",
        ]
    }

    func segmentFiles(_ dir: String) -> [String] {
        let segments = dir + "/segments"
        let days = (try? FileManager.default.contentsOfDirectory(atPath: segments)) ?? []
        return days.flatMap { day in
            ((try? FileManager.default.contentsOfDirectory(atPath: segments + "/" + day)) ?? []).filter {
                $0.contains(".jsonl")
            }
        }
    }

    @Test func appendPrintsTheIdAndTailShowsTheRecord() throws {
        let temp = TemporaryDirectory()
        let dir = temp.path + "/log"
        let result = try spendlog(
            baseArguments(dir) + [
                "--cost", "0.0048", "--cached-input-tokens", "200", "--reasoning-tokens", "100",
                "--tag", "env=prod", "--tag", "team=data", "--user", "ann", "--status", "ok",
                "--latency-ms", "850", "--ts", "2026-11-23T10:15:02.123Z",
            ])
        #expect(result.status == 0, "\(result.stderr)")
        let id = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(id.count == 36)
        let tail = try spendlog(["tail", "--dir", dir, "--json"])
        #expect(tail.status == 0)
        #expect(
            tail.stdout
                == #"{"v":1,"id":"\#(id)","ts":"2026-11-23T10:15:02.123Z","project":"etl","model":"gpt-4.1","provider":"openai","input_tokens":1200,"output_tokens":300,"cached_input_tokens":200,"cache_write_tokens":0,"reasoning_tokens":100,"cost_usd":0.0048,"cost_source":"provided","latency_ms":850,"user":"ann","status":"ok","tags":{"env":"prod","team":"data"}}"#
                + "\n")
        let table = try spendlog(["tail", "--dir", dir])
        #expect(table.stdout.contains("$0.0048"))
        #expect(table.stdout.contains("2026-11-23T10:15:02.123Z"))
    }

    @Test func theEnvironmentChoosesTheDirectoryWhenDirIsAbsent() throws {
        let temp = TemporaryDirectory()
        let dir = temp.path + "/fromenv"
        let arguments = Array(
            baseArguments("x").enumerated().filter { $0.offset != 1 && $0.offset != 2 }.map(\.element))
        let result = try spendlog(arguments, environment: ["SPENDLOG_DIR": dir])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(segmentFiles(dir).count == 1)
        let xdg = try spendlog(arguments, environment: ["SPENDLOG_DIR": "", "XDG_DATA_HOME": temp.path + "/xdg"])
        #expect(xdg.status == 0, "\(xdg.stderr)")
        #expect(segmentFiles(temp.path + "/xdg/spendlog").count == 1)
        // The environment is split at the first '=' only: a value may hold more of them.
        let withEquals = temp.path + "/a=b=c"
        let equals = try spendlog(arguments, environment: ["SPENDLOG_DIR": withEquals])
        #expect(equals.status == 0, "\(equals.stderr)")
        #expect(segmentFiles(withEquals).count == 1)
    }

    /// Every bad input: a clear message naming the field, a non-zero exit, and nothing written.
    @Test(arguments: [
        (["--input-tokens", "-5"], "--input-tokens", "negative"),
        (["--input-tokens", "1.5"], "--input-tokens", "whole number"),
        (["--input-tokens", "abc"], "--input-tokens", "whole number"),
        (["--output-tokens", "9007199254740993"], "--output-tokens", "2^53"),
        (["--cached-input-tokens", "2000"], "--cached-input-tokens", "more than input_tokens"),
        (["--cache-write-tokens", "1201"], "--cache-write-tokens", "more than input_tokens"),
        (["--reasoning-tokens", "301"], "--reasoning-tokens", "more than output_tokens"),
        (["--cost", "-0.01"], "--cost", "negative"),
        (["--cost", "NaN"], "--cost", "finite"),
        (["--cost", "inf"], "--cost", "finite"),
        (["--cost", "0.0000000001"], "--cost", "9 decimal"),
        (["--cost", "ten"], "--cost", "decimal"),
        (["--project", ""], "--project", "empty"),
        (["--project", String(repeating: "p", count: 257)], "--project", "257 bytes"),
        (["--model", "gpt\u{7}"], "--model", "control character"),
        (["--user", "a\nb"], "--user", "control character"),
        (["--user", ""], "--user", "empty"),
        (["--ts", "yesterday"], "--ts", "RFC 3339"),
        (["--ts", "2026-02-30T00:00:00Z"], "--ts", "RFC 3339"),
        (["--status", "maybe"], "--status", "ok or error"),
        (["--tag", "novalue"], "--tag", "key=value"),
        (["--tag", "=v"], "--tag", "empty"),
        (["--fsync", "sometimes"], "--fsync", "always, batch or none"),
    ])
    func badInputIsRejectedAndNothingIsWritten(extra: [String], field: String, reason: String) throws {
        let temp = TemporaryDirectory()
        let dir = temp.path + "/log"
        var arguments = baseArguments(dir)
        // Replace a flag given twice rather than passing it twice.
        if let i = arguments.firstIndex(of: extra[0]) { arguments.removeSubrange(i...(i + 1)) }
        let result = try spendlog(arguments + extra)
        #expect(result.status == 64, "\(result.stderr)")
        #expect(result.stderr.contains(field), "\(result.stderr)")
        #expect(result.stderr.contains(reason), "\(result.stderr)")
        #expect(result.stdout.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: dir), "nothing may be written")
    }

    @Test func aLogOfAnotherFormatIsRefusedAndLeftUntouched() throws {
        let temp = TemporaryDirectory()
        let dir = temp.path + "/log"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        writeFile(dir + "/FORMAT", Data("spendlog-log 9\n".utf8))
        let result = try spendlog(baseArguments(dir))
        #expect(result.status == 65)
        #expect(result.stderr.contains("spendlog-log 9"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["FORMAT"])
    }

    @Test func invalidUTF8InAnArgumentIsRefused() throws {
        let temp = TemporaryDirectory()
        let dir = temp.path + "/log"
        // Pass raw bytes through a shell so the argument is not valid UTF-8.
        let script =
            "exec \"$0\" append --dir \"$1\" --project $(printf 'ab\\377') --model m --input-tokens 1 --output-tokens 1"
        let result = try runProcess("/bin/sh", ["-c", script, TestPaths.binary, dir])
        #expect(result.status == 64)
        #expect(result.stderr.contains("--project"))
        #expect(result.stderr.contains("UTF-8"))
        #expect(!FileManager.default.fileExists(atPath: dir))
    }
}

@Suite struct IngestCLITests {
    @Test func ingestWritesEveryLineWithIdsAndTimesFilledIn() throws {
        let temp = TemporaryDirectory()
        let dir = temp.path + "/log"
        var lines = (0..<500).map {
            #"{"project":"p\#($0 % 3)","model":"gpt-4.1","input_tokens":\#($0),"output_tokens":1,"cost_usd":0.1}"#
        }
        lines.append(
            #"{"ts":"2026-11-20T08:00:00Z","project":"old","model":"claude-sonnet-4-5","input_tokens":5,"output_tokens":2,"extra":{"k":[1,2]}}"#
        )
        lines.append("")
        let result = try spendlog(["ingest", "--dir", dir, "-"], input: lines.joined(separator: "\n"))
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "ingested 501 records\n")
        let tail = try spendlog(["tail", "--dir", dir, "-n", "1000", "--json"])
        let records = tail.stdout.split(separator: "\n")
        #expect(records.count == 501)
        #expect(records[0].contains(#""project":"old""#))
        #expect(records[0].contains(#","extra":{"k":[1,2]}}"#))
        #expect(records[0].contains(#""provider":"anthropic""#))
        #expect(Set(records.map { $0.firstMatch(of: /"id":"([^"]+)"/)!.1 }).count == 501)
        let verify = try spendlog(["verify", "--dir", dir])
        #expect(verify.status == 0)
        #expect(verify.stdout.contains("501 records, 0 problems"))
    }

    @Test func oneBadLineMeansNothingIsWrittenAndEveryBadLineIsReported() throws {
        let temp = TemporaryDirectory()
        let dir = temp.path + "/log"
        let input = [
            #"{"project":"p","model":"m","input_tokens":1,"output_tokens":1}"#,
            #"{"project":"p","model":"m","input_tokens":-1,"output_tokens":1}"#,
            #"{"project":"p","model":"m","input_tokens":1,"output_tokens":1,"cost_usd":1e999}"#,
            #"{"project":"p","model":"m" "#,
            #"{"project":"","model":"m"}"#,
            #"{"project":"p","model":"m","input_tokens":1,"output_tokens":1}"#,
        ].joined(separator: "\n")
        let file = temp.path + "/in.jsonl"
        writeFile(file, Data(input.utf8))
        let result = try spendlog(["ingest", "--dir", dir, file])
        #expect(result.status == 65)
        #expect(result.stderr.contains("line 2: input_tokens: must not be negative"))
        #expect(result.stderr.contains("line 3: cost_usd:"))
        #expect(result.stderr.contains("line 4: "))
        #expect(result.stderr.contains("line 5: project: must not be empty"))
        #expect(!result.stderr.contains("line 1:"))
        #expect(!result.stderr.contains("line 6:"))
        #expect(result.stderr.contains("nothing was written"))
        #expect(!FileManager.default.fileExists(atPath: dir))

        let skipping = try spendlog(["ingest", "--dir", dir, "--skip-invalid", file])
        #expect(skipping.status == 65)
        #expect(skipping.stdout == "ingested 2 records, skipped 4 invalid lines\n")
        let tail = try spendlog(["tail", "--dir", dir, "--json"])
        #expect(tail.stdout.split(separator: "\n").count == 2)
    }

    /// A batch over many days under a low open-file limit: the writer keeps a few days open, so
    /// one descriptor per day written is enough (it took two, and failed with "Too many open
    /// files" past about half the limit). With ids (a retry-safe ingest) the day folders' locks
    /// are held to the end of the call too: two per day (it took three).
    @Test(arguments: [(120, false), (70, true)])
    func ingestOverManyDaysStaysWithinTheOpenFileLimit(days: Int, withIDs: Bool) throws {
        let temp = TemporaryDirectory()
        let dir = temp.path + "/log"
        let lines = (0..<days).map { day in
            let ts = Timestamp(millisecondsSinceEpoch: 1_767_225_600_000 + Int64(day) * 86_400_000).rfc3339
            let id = withIDs ? #""id":"\#(RecordID.generate())","# : ""
            return #"{\#(id)"ts":"\#(ts)","project":"p","model":"gpt-4.1-mini","input_tokens":1,"output_tokens":1}"#
        }
        let file = temp.path + "/in.jsonl"
        writeFile(file, Data(lines.joined(separator: "\n").utf8))
        let result = try runProcess(
            "/bin/sh", ["-c", #"ulimit -n 200 && exec "$0" ingest --dir "$1" --fsync none "$2""#, TestPaths.binary, dir, file])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "ingested \(days) records\n")
        let folders = try FileManager.default.contentsOfDirectory(atPath: dir + "/segments")
        #expect(folders.filter { $0.hasPrefix("day=") }.count == days)
        let stats = try spendlog(["stats", "--dir", dir, "--format", "json"])
        #expect(stats.stdout.contains(#""requests":\#(days)"#), "\(stats.stdout)")
    }

    @Test func invalidUTF8AndBrokenJSONInIngestAreNamedByLine() throws {
        let temp = TemporaryDirectory()
        let dir = temp.path + "/log"
        var data = Data(#"{"project":"ok","model":"m"}"#.utf8 + [0x0A])
        data.append(contentsOf: Array(#"{"project":"a"#.utf8) + [0xC3, 0x28] + Array(#"","model":"m"}"#.utf8) + [0x0A])
        let result = try runProcess(TestPaths.binary, ["ingest", "--dir", dir], input: data)
        #expect(result.status == 65)
        #expect(result.stderr.contains("line 2: "))
        #expect(result.stderr.contains("UTF-8"))
        #expect(!FileManager.default.fileExists(atPath: dir))
    }
}

@Suite struct SealVerifyCLITests {
    @Test func sealThenVerifyAndCorruptionIsNamed() throws {
        let temp = TemporaryDirectory()
        let dir = temp.path + "/log"
        let input = (0..<100).map { #"{"project":"p","model":"m","input_tokens":\#($0),"output_tokens":1}"# }.joined(
            separator: "\n")
        #expect(try spendlog(["ingest", "--dir", dir], input: input).status == 0)
        #expect(try spendlog(["seal", "--dir", dir]).status == 0)
        let verify = try spendlog(["verify", "--dir", dir])
        #expect(verify.status == 0)
        #expect(verify.stdout == "1 segments (1 sealed, 0 active), 100 records, 0 problems\n")

        let days = try FileManager.default.contentsOfDirectory(atPath: dir + "/segments")
        let folder = dir + "/segments/" + days[0]
        let sealed = try #require(
            try FileManager.default.contentsOfDirectory(atPath: folder).first { $0.hasSuffix(".zst") })
        var bytes = try Data(contentsOf: URL(fileURLWithPath: folder + "/" + sealed))
        bytes[bytes.count / 2] ^= 0xFF
        writeFile(folder + "/" + sealed, bytes)
        let broken = try spendlog(["verify", "--dir", dir])
        #expect(broken.status == 65)
        #expect(broken.stderr.contains(sealed))
        #expect(broken.stderr.contains("corrupt at byte"))
        #expect(broken.stdout.contains("1 problem"))
    }

    @Test func readingANonexistentLogSaysWhatToDo() throws {
        let temp = TemporaryDirectory()
        let result = try spendlog(["tail", "--dir", temp.path + "/nothing"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("No spendlog log at"))
        #expect(!FileManager.default.fileExists(atPath: temp.path + "/nothing"))
    }
}
