import Foundation
import Testing

@testable import SpendLog

/// Raw records newest first (`logs`), and the newest ones newest last (`tail`).
@Suite struct LogsQueryTests {
    func log(_ temp: TemporaryDirectory) throws -> (LogDirectory, [UsageRecord]) {
        let log = try temp.log()
        let records = [
            sampleRecord(0, at: "2026-11-21T23:59:59.999Z"), sampleRecord(1, at: "2026-11-22T10:00:00.000Z"),
            sampleRecord(2, at: "2026-11-22T09:00:00.000Z", project: "web"),
            sampleRecord(3, at: "2026-11-23T00:00:00.000Z"), sampleRecord(4, at: "2026-11-23T12:00:00.000Z"),
        ]
        let writer = LogWriter(directory: log, options: WriterOptions(fsync: .none))
        try writer.append(contentsOf: Array(records.prefix(3)))
        try writer.sealAll()
        try writer.append(contentsOf: Array(records.suffix(2)))
        return (log, records)
    }

    @Test func tailGivesTheNewestRecordsNewestLast() throws {
        let temp = TemporaryDirectory()
        let (log, records) = try log(temp)
        let query = Query(directory: log)
        #expect(try query.tail(filter: RecordFilter(), count: 3).records == [records[1], records[3], records[4]])
        #expect(try query.tail(filter: RecordFilter(), count: 10).records == [0, 2, 1, 3, 4].map { records[$0] })
        #expect(try query.tail(filter: RecordFilter(projects: ["web"]), count: 2).records == [records[2]])
        #expect(try query.tail(filter: RecordFilter(), count: 0).records.isEmpty)
        let page = try query.logs(filter: RecordFilter(), limit: 2, offset: 1)
        #expect(page.records == [records[3], records[1]])
    }

    @Test func aCorruptSegmentIsReportedAndTheOthersAreRead() throws {
        let temp = TemporaryDirectory()
        let (log, records) = try log(temp)
        let sealed = try #require(
            try LogReader(directory: log).segments().first { $0.sealed && $0.name.day == "2026-11-22" })
        var bytes = FileManager.default.bytes(sealed.path)
        bytes[bytes.count / 2] ^= 0x20
        writeBytes(bytes, to: sealed.path)
        let page = try Query(directory: log).tail(filter: RecordFilter(), count: 10)
        #expect(page.records == [records[0], records[3], records[4]])
        #expect(page.problems.map(\.path) == [sealed.path])
    }
}
