import Foundation
import SystemPackage
import Testing

@testable import SpendLog

/// A failed append takes its lines back out of the log, or names the ids it could not take back;
/// readers that counted lines taken back count again; appends with ids are retry-safe; and the
/// line limit is one rule for writers and readers (docs/FORMAT.md, "What an error promises").
@Suite struct TakeBackTests {
    func record(_ i: Int, day: String = "2026-11-23", cost: Int64 = 1) -> UsageRecord {
        var record = sampleRecord(i, at: "\(day)T10:00:00.000Z")
        record.cost = Money(nanos: cost * 1_000_000_000)
        return record
    }

    @Test func aFailedWriteOnTheSecondDayTakesTheFirstDayBack() throws {
        let temp = TemporaryDirectory()
        let writer = LogWriter(directory: try temp.log(), options: WriterOptions(fsync: .always))
        let batch = [record(0), record(1, day: "2026-11-24")]
        FaultInjection.failing(.write, with: .noSpace, onCall: 2, under: temp.path) {
            #expect {
                try writer.append(contentsOf: batch)
            } throws: { error in
                let failure = error as? SpendLogError
                return failure?.possiblyWritten == [] && failure?.message.hasPrefix("Nothing was written") == true
            }
        }
        #expect(try readAll(writer.directory).isEmpty)
    }

    @Test func whenLinesCannotBeTakenBackTheErrorNamesTheirIds() throws {
        let temp = TemporaryDirectory()
        let writer = LogWriter(directory: try temp.log(), options: WriterOptions(fsync: .always))
        let batch = [record(0), record(1), record(2, day: "2026-11-24")]
        FaultInjection.failing(.ftruncate, with: .ioError, times: 2, under: temp.path) {
            FaultInjection.failing(.write, with: .noSpace, onCall: 2, under: temp.path) {
                #expect {
                    try writer.append(contentsOf: batch)
                } throws: { error in
                    let failure = error as? SpendLogError
                    let ids = batch.map(\.id.description)
                    return Set(failure?.possiblyWritten ?? []) == Set(ids)
                        && failure?.message.contains("3 records may be in the log") == true
                        && ids.allSatisfy { failure?.message.contains($0) == true }
                }
            }
        }
        // What the error named is what is there: the first day's two records.
        #expect(try readAll(writer.directory).map(\.task) == ["t0", "t1"])
    }

    /// A budget counted two lines; the second was then taken back (as a failed fsync does). The
    /// segment is shorter than what the budget covered: it counts again, and the next writer
    /// starts a new segment rather than putting new lines where the counted ones were.
    @Test func aBudgetThatCountedLinesLaterTakenBackCountsAgain() throws {
        let temp = TemporaryDirectory()
        let log = try temp.log()
        let now = Timestamp.parse("2026-11-23T12:00:00Z")!
        let budget = Budget(directory: log, writerOptions: WriterOptions(fsync: .none))
        try budget.setLimit(
            LimitRule(scope: .global, metric: .cost, window: try LimitWindow.parse("day"), maximum: 100_000_000_000),
            now: now)
        let writer = LogWriter(directory: log, options: WriterOptions(fsync: .none))
        let first = try writer.append(contentsOf: [record(0, cost: 1)])
        try writer.append(contentsOf: [record(1, cost: 2)])
        #expect(try budget.status(now: now).map(\.spent) == [3_000_000_000])

        let segment = try #require(try LogReader(directory: log).segments().first)
        #expect(truncate(segment.path, off_t(first.placements[0].endOffset)) == 0)
        #expect(chmod(segment.path, 0o700) == 0)  // retired, as the writer marks it
        #expect(try budget.status(now: now).map(\.spent) == [1_000_000_000])

        try LogWriter(directory: log, options: WriterOptions(fsync: .none)).append(record(2, cost: 4))
        #expect(try LogReader(directory: log).segments().map(\.sealed) == [true, false])
        #expect(try budget.status(now: now).map(\.spent) == [5_000_000_000])
        #expect(try budget.checkpoint(now: now) == (try budget.rebuiltSidecar()))
    }

    @Test func appendOnceSkipsIdsInTheDayIncludingSealedSegmentsAndRepeatsInTheCall() throws {
        let temp = TemporaryDirectory()
        let writer = LogWriter(directory: try temp.log(), options: WriterOptions(fsync: .none))
        let a = record(0)
        let b = record(1)
        var again = record(2)
        again.id = b.id
        try writer.append(a)
        try writer.sealAll()
        let receipt = try writer.appendOnce(contentsOf: [a, b, again, record(3, day: "2026-11-24")])
        #expect(receipt.records.map(\.task) == ["t1", "t3"])
        #expect(receipt.alreadyRecorded.map(\.task) == ["t0", "t2"])
        #expect(try readAll(writer.directory).map(\.task) == ["t0", "t1", "t3"])
        #expect(try writer.isRecorded(b.id, day: "2026-11-23"))
        #expect(try !writer.isRecorded(b.id, day: "2026-11-24"))
    }

    @Test func aRecordLongerThanTheLineLimitIsRefusedBeforeAnythingIsWritten() throws {
        let temp = TemporaryDirectory()
        let writer = LogWriter(directory: try temp.log(), options: WriterOptions(fsync: .none))
        var huge = record(1, day: "2026-11-24")
        huge.extra = [("note", .string(String(repeating: "x", count: RecordSchema.maximumLineBytes)))]
        #expect {
            try writer.append(contentsOf: [record(0), huge])
        } throws: { error in
            let failure = error as? SpendLogError
            return failure?.field == "record" && failure?.message.hasPrefix("record 2: record: its JSON line") == true
        }
        #expect(try readAll(writer.directory).isEmpty)
    }

    /// One limit, whatever the chunks: a line of exactly the limit is read, one byte more is not,
    /// wherever the reads happen to split it.
    @Test(arguments: [0, 1, 4096, 1 << 19, (1 << 20) - 1, 1 << 20, (1 << 20) + 1])
    func theLineLimitDoesNotDependOnWhereChunksEnd(split: Int) throws {
        for length in [RecordSchema.maximumLineBytes, RecordSchema.maximumLineBytes + 1] {
            let bytes = [UInt8]("ab\n".utf8) + [UInt8](repeating: 0x78, count: length) + [0x0A]
            var splitter = LineSplitter(path: "test")
            var lengths: [Int] = []
            let cut = min(split, bytes.count)
            let outcome = Result { () throws(SpendLogError) in
                for part in [Array(bytes[..<cut]), Array(bytes[cut...])] {
                    let fed = part.withUnsafeBytes { raw in
                        Result { () throws(SpendLogError) in
                            try splitter.feed(raw) { line, _ throws(SpendLogError) in lengths.append(line.count) }
                        }
                    }
                    try fed.get()
                }
            }
            switch outcome {
            case .success:
                #expect(length == RecordSchema.maximumLineBytes)
                #expect(lengths == [2, length])
            case .failure(let error):
                #expect(length > RecordSchema.maximumLineBytes)
                #expect(error.offset == 3, "the offset of the long line")
                #expect(lengths == [2])
            }
        }
    }
}
