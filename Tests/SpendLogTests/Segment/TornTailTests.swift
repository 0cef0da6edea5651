import Foundation
import Testing

@testable import SpendLog

@Suite struct TornTailTests {
    /// A writer killed inside write() leaves any prefix of its line behind. At every byte offset,
    /// the reader returns exactly the complete lines, reports no error, and the next append cuts
    /// the torn bytes off before writing.
    @Test func tornTailIsIgnoredAtEveryByteOffset() throws {
        let temp = TemporaryDirectory()
        let log = try temp.log()
        let writer = LogWriter(directory: log, options: WriterOptions(fsync: .none))
        let originals = (0..<3).map { sampleRecord($0) }
        try writer.append(contentsOf: originals)
        writer.close()
        let segment = try #require(try LogReader(directory: log).segments().first)
        let full = FileManager.default.bytes(segment.path)
        let newlines = full.indices.filter { full[$0] == 0x0A }
        #expect(newlines.count == 3)

        for cut in 0...full.count {
            writeBytes(Array(full[0..<cut]), to: segment.path)
            let complete = newlines.filter { $0 < cut }.count
            let summary = try LogReader(directory: log).readSegment(segment) { _, _ in }
            #expect(summary.records == complete, "cut at \(cut)")
            #expect(summary.tornTailBytes == Int64(cut - (newlines.last(where: { $0 < cut }).map { $0 + 1 } ?? 0)))
            #expect(try readAll(log) == Array(originals.prefix(complete)), "cut at \(cut)")
        }

        // Reopen after a cut in the middle of the last line: the next append repairs the tail.
        for cut in [newlines[1] + 1 + 1, newlines[2]] {
            writeBytes(Array(full[0..<cut]), to: segment.path)
            let next = sampleRecord(99)
            try LogWriter(directory: log, options: WriterOptions(fsync: .none)).append(next)
            #expect(try readAll(log) == Array(originals.prefix(2)) + [next])
            let report = try LogVerifier(directory: log).verify()
            #expect(report.problems.isEmpty && report.notes.isEmpty)
        }
    }

    @Test func aCachedWriterRepairsATailTornByAnotherProcess() throws {
        let temp = TemporaryDirectory()
        let log = try temp.log()
        let writer = LogWriter(directory: log, options: WriterOptions(fsync: .none))
        try writer.append(sampleRecord(0))
        let segment = try #require(try LogReader(directory: log).segments().first)
        // Another writer died half-way through its line while this one kept its descriptor open.
        let handle = try #require(FileHandle(forWritingAtPath: segment.path))
        handle.seekToEndOfFile()
        handle.write(Data(#"{"v":1,"id":"019a"#.utf8))
        try handle.close()
        try writer.append(sampleRecord(1))
        #expect(try readAll(log).map(\.task) == ["t0", "t1"])
        #expect(try LogVerifier(directory: log).verify().problems.isEmpty)
    }

    @Test func aCompleteButInvalidLineInAnActiveSegmentIsCorruptionWithItsOffset() throws {
        let temp = TemporaryDirectory()
        let log = try temp.log()
        let writer = LogWriter(directory: log, options: WriterOptions(fsync: .none))
        try writer.append(sampleRecord(0))
        let segment = try #require(try LogReader(directory: log).segments().first)
        let firstLength = FileManager.default.bytes(segment.path).count
        let handle = try #require(FileHandle(forWritingAtPath: segment.path))
        handle.seekToEndOfFile()
        handle.write(Data("{\"project\": oops}\n".utf8))
        try handle.close()
        var problems: [SpendLogError] = []
        var seen = 0
        try LogReader(directory: log).forEachRecord(onCorruption: { problems.append($0) }) { _ in seen += 1 }
        #expect(seen == 1)
        #expect(problems.count == 1)
        #expect(problems.first?.path == segment.path)
        #expect(problems.first?.offset == Int64(firstLength) + 12)
        #expect(problems.first?.message.contains("byte \(firstLength + 12)") == true)
    }
}
