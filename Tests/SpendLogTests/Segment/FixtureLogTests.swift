import Foundation
import Testing

@testable import SpendLog

/// The small logs in Fixtures/logs, as another machine wrote them: a good one (a sealed day and
/// an active day), one with a torn tail, one with a corrupt sealed segment, and one with a
/// record in the wrong day folder. Each is copied into a temporary folder first (a clone's
/// files are not 0600, and readers may repair what they read).
@Suite struct FixtureLogTests {
    static let ids = (1...5).map { "019ab1f2-5c00-7000-8000-00000000000\($0)" }
    static let sealed = "/segments/day=2026-11-22/fixture-000000.jsonl.zst"
    static let active = "/segments/day=2026-11-23/fixture-000000.jsonl"

    /// A private copy of `Fixtures/logs/<name>`, with the modes a log has.
    func copy(_ name: String, into temp: TemporaryDirectory) throws -> LogDirectory {
        let target = temp.path + "/" + name
        try FileManager.default.copyItem(atPath: TestPaths.fixtures + "/logs/" + name, toPath: target)
        for path in [""] + (FileManager.default.subpaths(atPath: target) ?? []) {
            let full = path.isEmpty ? target : target + "/" + path
            var isDirectory: ObjCBool = false
            FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory)
            try FileManager.default.setAttributes(
                [.posixPermissions: isDirectory.boolValue ? 0o700 : 0o600], ofItemAtPath: full)
        }
        return try LogDirectory.open(target, create: false)
    }

    func read(_ log: LogDirectory) throws -> (ids: [String], problems: [SpendLogError]) {
        var ids: [String] = []
        var problems: [SpendLogError] = []
        try LogReader(directory: log).forEachRecord(onCorruption: { problems.append($0) }) {
            ids.append($0.id.description)
        }
        return (ids, problems)
    }

    @Test func aGoodLogReadsEveryRecordOnceAndZstdAgrees() throws {
        let temp = TemporaryDirectory()
        let log = try copy("good", into: temp)
        let (ids, problems) = try read(log)
        #expect(ids == Self.ids)
        #expect(problems.isEmpty)
        let report = try LogVerifier(directory: log).verify()
        #expect(report.records == 5 && report.sealedSegments == 1 && report.activeSegments == 1)
        #expect(report.problems.isEmpty && report.notes.isEmpty)
        // The sealed segment is a plain zstd frame: the zstd tool reads the same three lines.
        let zstd = try runProcess("/usr/bin/zstd", ["-dc", log.path + Self.sealed])
        #expect(zstd.status == 0, "\(zstd.stderr)")
        let lines = zstd.stdout.split(separator: "\n")
        #expect(lines.count == 3)
        #expect(lines.map { String($0.dropFirst(13).prefix(36)) } == Array(Self.ids.prefix(3)))
        let record = try RecordParser.parse(Array(lines[2].utf8), mode: .stored).record
        #expect(record.project == "etl" && record.model == "o3" && record.reasoningTokens == 3500)
        #expect(record.cost == Money(nanos: 50_800_000) && record.tags == ["env": "prod"])
    }

    @Test func aTornTailIsNotARecordAndTheNextAppendCutsItOff() throws {
        let temp = TemporaryDirectory()
        let log = try copy("torn-tail", into: temp)
        let (ids, problems) = try read(log)
        #expect(ids == Self.ids)
        #expect(problems.isEmpty)
        let report = try LogVerifier(directory: log).verify()
        #expect(report.problems.isEmpty)
        #expect(
            report.notes == [
                "'\(log.path + Self.active)' ends with 126 bytes of an unfinished line at byte 623 (a writer was interrupted or is writing); it is not a record and the next append removes it."
            ])
        var options = WriterOptions(fsync: .none)
        options.host = "fixture"
        let next = sampleRecord(6)
        try LogWriter(directory: log, options: options).append(next)
        #expect(try read(log).ids == Self.ids + [next.id.description])
        #expect(FileManager.default.bytes(log.path + Self.active).count == 623 + next.jsonLine().count)
        let after = try LogVerifier(directory: log).verify()
        #expect(after.problems.isEmpty && after.notes.isEmpty)
    }

    @Test func aCorruptSealedSegmentIsNamedAndTheOthersStayReadable() throws {
        let temp = TemporaryDirectory()
        let log = try copy("corrupt-sealed", into: temp)
        let (ids, problems) = try read(log)
        #expect(ids == Array(Self.ids.suffix(2)))
        #expect(problems.count == 1)
        #expect(problems.first?.code == .corruption)
        #expect(problems.first?.path == log.path + Self.sealed)
        let report = try LogVerifier(directory: log).verify()
        #expect(report.records == 2)
        #expect(report.problems.count == 1)
        #expect(report.problems.first?.contains("'\(log.path + Self.sealed)' is corrupt") == true)
        #expect(report.problems.first?.contains("checksum") == true, "\(report.problems)")
        // zstd itself refuses the file the same way.
        let zstd = try runProcess("/usr/bin/zstd", ["-t", "-q", log.path + Self.sealed])
        #expect(zstd.status != 0)
    }

    @Test func aRecordInTheWrongDayFolderIsNamedByFileAndOffset() throws {
        let temp = TemporaryDirectory()
        let log = try copy("wrong-day", into: temp)
        let report = try LogVerifier(directory: log).verify()
        #expect(
            report.problems == [
                "'\(log.path + Self.active)' is corrupt at byte 295: record \(Self.ids[4]) has ts 2026-11-24T10:15:02.123Z but lies in the folder of 2026-11-23. Other segments are still readable; run `spendlog verify` to list every problem."
            ])
        #expect(report.records == 4)
    }
}
