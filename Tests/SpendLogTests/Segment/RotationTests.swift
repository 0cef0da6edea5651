import Foundation
import Testing

@testable import SpendLog

@Suite struct RotationTests {
    @Test func recordsGoToTheFolderOfTheirOwnUTCDay() throws {
        let temp = TemporaryDirectory()
        let log = try temp.log()
        let writer = LogWriter(directory: log, options: WriterOptions(fsync: .none))
        var late = sampleRecord(0, at: "2026-11-22T23:59:59.999Z")
        late.timestamp = Timestamp.parse("2026-11-22T23:59:59.999Z")!
        var early = sampleRecord(1, at: "2026-11-23T00:00:00.000Z")
        early.timestamp = Timestamp.parse("2026-11-23T00:00:00.000Z")!
        var offset = sampleRecord(2)
        offset.timestamp = Timestamp.parse("2026-11-23T01:30:00+02:00")!  // 2026-11-22T23:30Z
        try writer.append(contentsOf: [late, early, offset])
        let segments = try LogReader(directory: log).segments()
        #expect(segments.map(\.name.day) == ["2026-11-22", "2026-11-23"])
        #expect(try readAll(log).map(\.task) == ["t0", "t2", "t1"])
        #expect(try LogVerifier(directory: log).verify().problems.isEmpty)
    }

    @Test func sizeRotationSealsAndContinuesInTheNextSequence() throws {
        let temp = TemporaryDirectory()
        let log = try temp.log()
        var options = WriterOptions(fsync: .none)
        options.maxSegmentBytes = 4_000
        let writer = LogWriter(directory: log, options: options)
        let records = (0..<100).map { sampleRecord($0) }
        for record in records { try writer.append(record) }
        let segments = try LogReader(directory: log).segments()
        #expect(segments.count > 5)
        #expect(segments.dropLast().filter { !$0.sealed }.isEmpty)
        #expect(segments.last?.sealed == false)
        #expect(segments.map(\.name.sequence) == Array(0..<segments.count))
        for segment in segments where !segment.sealed { #expect(segment.size <= Int64(4_000)) }
        #expect(try readAll(log) == records)
    }

    /// One call's lines of a day go to one segment whole, so that a failed call can be taken back
    /// whole: a batch larger than the size limit makes one larger segment, sealed on the next append.
    @Test func aLargeBatchGoesIntoOneSegmentWholeAndTheNextAppendRotates() throws {
        let temp = TemporaryDirectory()
        let log = try temp.log()
        var options = WriterOptions(fsync: .none)
        options.maxSegmentBytes = 4_000
        let writer = LogWriter(directory: log, options: options)
        let first = sampleRecord(100)
        let last = sampleRecord(101)
        try writer.append(first)
        let records = (0..<100).map { sampleRecord($0) }
        let receipt = try writer.append(contentsOf: records)
        #expect(receipt.placements.count == 1)
        #expect(receipt.placements[0].records == 100)
        #expect(receipt.placements[0].startOffset == 0, "the non-empty segment was sealed first")
        try writer.append(last)
        let segments = try LogReader(directory: log).segments()
        #expect(segments.map(\.sealed) == [true, true, false])
        #expect(try readAll(log) == [first] + records + [last])
    }

    @Test func ageRotationSealsAnOldSegmentOnTheNextAppend() throws {
        let temp = TemporaryDirectory()
        let log = try temp.log()
        var options = WriterOptions(fsync: .none)
        options.maxSegmentAgeMs = 0
        let writer = LogWriter(directory: log, options: options)
        try writer.append(sampleRecord(0))
        try writer.append(sampleRecord(1))
        let segments = try LogReader(directory: log).segments()
        #expect(segments.map(\.sealed) == [true, false])
    }

    @Test func sealDueSealsEarlierDaysAndLeavesTodaysSegment() throws {
        let temp = TemporaryDirectory()
        let log = try temp.log()
        let writer = LogWriter(directory: log, options: WriterOptions(fsync: .none))
        let now = Timestamp.now()
        var old = sampleRecord(0)
        old.timestamp = Timestamp(millisecondsSinceEpoch: now.millisecondsSinceEpoch - 3 * Timestamp.millisecondsPerDay)
        var today = sampleRecord(1)
        today.timestamp = now
        try writer.append(contentsOf: [old, today])
        try LogWriter(directory: log).sealDue(now: now)
        let segments = try LogReader(directory: log).segments()
        #expect(segments.map(\.sealed) == [true, false])
        #expect(try readAll(log).count == 2)
    }

    @Test func aFormatMarkerOfAnotherVersionIsRefused() throws {
        let temp = TemporaryDirectory()
        let log = try temp.log()
        writeBytes(Array("spendlog-log 2\n".utf8), to: log.formatPath)
        #expect {
            _ = try LogDirectory.open(log.path)
        } throws: { error in
            (error as? SpendLogError)?.code == .formatMismatch
                && (error as? SpendLogError)?.message.contains("spendlog-log 2") == true
        }
    }

    @Test func aNonEmptyForeignDirectoryIsRefusedAndLeftUntouched() throws {
        let temp = TemporaryDirectory()
        writeBytes(Array("hello".utf8), to: temp.path + "/notes.txt")
        #expect(throws: SpendLogError.self) { _ = try LogDirectory.open(temp.path) }
        #expect(!FileManager.default.fileExists(atPath: temp.path + "/FORMAT"))
    }

    /// The operator's path is taken as the shell gave it; the kernel resolves `..`.
    @Test func aPathWithDotDotOpensTheDirectoryItNames() throws {
        let temp = TemporaryDirectory()
        let log = try LogDirectory.open(temp.path + "/a/../b")
        let record = sampleRecord(0)
        try LogWriter(directory: log).append(record)
        #expect(FileManager.default.fileExists(atPath: temp.path + "/b/FORMAT"))
        #expect(try readAll(LogDirectory.open(temp.path + "/b", create: false)) == [record])
    }

    @Test func newLogsAreCreatedPrivate() throws {
        let temp = TemporaryDirectory()
        let log = try temp.log()
        try LogWriter(directory: log).append(sampleRecord(0))
        let attributes = try FileManager.default.attributesOfItem(atPath: log.path)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o700)
        for file in allSegmentFiles(log) + ["../FORMAT"] {
            let path = log.segmentsPath + "/" + file
            let mode = (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?
                .intValue
            #expect(mode == 0o600, "\(file)")
        }
    }
}
