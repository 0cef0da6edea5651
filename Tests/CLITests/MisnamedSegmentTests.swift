import Foundation
import Testing

/// Files in `segments/` that are not segments: `verify` names each with its path, and `tail`,
/// `stats`, the index and budgets leave them out alike (one parser decides what a segment is).
@Suite struct MisnamedSegmentTests {
    static let host = "probe"
    static let days = ["2026-11-22", "2026-11-23"]

    /// A log of one sealed record on each of two days, not indexed.
    func makeLog(_ temp: TemporaryDirectory) throws -> String {
        let dir = temp.path + "/log"
        for day in Self.days {
            let result = try spendlog(
                [
                    "append", "--dir", dir, "--project", "etl", "--model", "gpt-4.1", "--input-tokens", "10",
                    "--output-tokens", "1", "--cost", "0.5", "--ts", "\(day)T10:00:00Z",
                ], environment: ["SPENDLOG_HOST": Self.host])
            #expect(result.status == 0, "\(result.stderr)")
        }
        #expect(try spendlog(["seal", "--dir", dir], environment: ["SPENDLOG_HOST": Self.host]).status == 0)
        return dir
    }

    func sealed(_ dir: String, _ day: String) -> String {
        dir + "/segments/day=\(day)/\(Self.host)-000000.jsonl.zst"
    }

    /// Moves the first day's segment to `misnamed` (under the log directory); then verify
    /// reports exactly that path (or `named`, the folder), and tail, stats, the index and budgets
    /// all see the second day's record only.
    func expectReportedAndLeftOut(_ misnamed: String, named: String? = nil) throws {
        let temp = TemporaryDirectory()
        let dir = try makeLog(temp)
        let path = dir + misnamed
        try FileManager.default.createDirectory(
            atPath: String(path[..<path.lastIndex(of: "/")!]), withIntermediateDirectories: true)
        try FileManager.default.moveItem(atPath: sealed(dir, Self.days[0]), toPath: path)

        let verify = try spendlog(["verify", "--dir", dir])
        #expect(verify.status == 65)
        let problems = verify.stderr.split(separator: "\n").filter { $0.hasPrefix("Problem: ") }
        #expect(problems.count == 1, "\(verify.stderr)")
        #expect(problems.first?.contains("'\(named.map { dir + $0 } ?? path)' is not a") == true, "\(verify.stderr)")

        let tail = try spendlog(["tail", "--dir", dir, "--json"])
        #expect(tail.status == 0, "\(tail.stderr)")
        #expect(tail.stdout.split(separator: "\n").count == 1)
        #expect(tail.stdout.contains("2026-11-23T10:00:00.000Z"))
        let stats = ["stats", "--dir", dir, "--since", "2026-11-01", "--until", "2026-12-01", "--format", "json"]
        let scanned = try spendlog(stats)
        #expect(scanned.stdout.contains(#""requests":1,"#), "\(scanned.stdout)\(scanned.stderr)")
        let index = try spendlog(["index", "--dir", dir, "--json"])
        #expect(index.stdout.contains(#""records_indexed":1"#), "\(index.stdout)\(index.stderr)")
        let indexed = try spendlog(stats)
        #expect(indexed.stdout == scanned.stdout)
        // Budgets count the same one record.
        let clock = ["SPENDLOG_NOW": "2026-11-30T00:00:00Z"]
        let limit = ["limit", "set", "--dir", dir, "--scope", "global", "--type", "requests", "--max", "100"]
        #expect(try spendlog(limit + ["--window", "lifetime"], environment: clock).status == 0)
        let budget = try spendlog(["budget", "status", "--dir", dir, "--format", "json"], environment: clock)
        #expect(budget.stdout.contains(#""spent":1,"#), "\(budget.stdout)\(budget.stderr)")
    }

    @Test func aDayFolderOfADateThatDoesNotExistIsAVerifyProblem() throws {
        try expectReportedAndLeftOut(
            "/segments/day=2026-02-30/\(Self.host)-000000.jsonl.zst", named: "/segments/day=2026-02-30")
    }

    @Test func aFiveDigitSequenceIsAVerifyProblem() throws {
        try expectReportedAndLeftOut("/segments/day=2026-11-22/\(Self.host)-00000.jsonl.zst")
    }

    @Test func aBackupOfASealedSegmentInADayFolderIsAVerifyProblem() throws {
        try expectReportedAndLeftOut("/segments/day=2026-11-22/\(Self.host)-000000.jsonl.zst.bak")
    }

    /// Seven digits with a leading zero parse to sequence 0 but are not the name sequence 0 has:
    /// it used to be listed as `probe-000000` and then read from a path that does not exist.
    @Test func aSequenceWithAnExtraLeadingZeroIsAVerifyProblem() throws {
        try expectReportedAndLeftOut("/segments/day=2026-11-22/\(Self.host)-0000000.jsonl.zst")
    }

    /// Locks, a seal in progress and segments with more than six digits are all expected names.
    @Test func locksSealsInProgressAndLongSequencesAreNotProblems() throws {
        let temp = TemporaryDirectory()
        let dir = try makeLog(temp)
        let folder = dir + "/segments/day=2026-11-22"
        try FileManager.default.moveItem(
            atPath: sealed(dir, Self.days[0]), toPath: folder + "/\(Self.host)-1000000.jsonl.zst")
        writeFile(folder + "/\(Self.host)-000001.sealing", Data())
        #expect(filesIn(folder).contains("\(Self.host).lock"))
        let verify = try spendlog(["verify", "--dir", dir])
        #expect(verify.status == 0, "\(verify.stderr)")
        #expect(verify.stdout.contains("2 segments (2 sealed, 0 active), 2 records, 0 problems"), "\(verify.stdout)")
    }
}

func filesIn(_ folder: String) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted()
}
