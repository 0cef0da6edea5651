import Foundation
import Testing

@testable import SpendLog

@Suite struct SealedSegmentTests {
    func sealedLog(_ temp: TemporaryDirectory) throws -> (LogDirectory, [UsageRecord]) {
        let log = try temp.log()
        let writer = LogWriter(directory: log, options: WriterOptions(fsync: .none))
        let dayOne = (0..<200).map { sampleRecord($0, at: "2026-11-22T08:00:00.000Z") }
        let dayTwo = (0..<50).map { sampleRecord($0, at: "2026-11-23T08:00:00.000Z", project: "web") }
        try writer.append(contentsOf: dayOne + dayTwo)
        try writer.sealAll()
        return (log, dayOne + dayTwo)
    }

    @Test func sealingKeepsEveryRecordOnceAndRemovesThePlainFile() throws {
        let temp = TemporaryDirectory()
        let (log, records) = try sealedLog(temp)
        #expect(
            allSegmentFiles(log).filter { !$0.hasSuffix(".lock") } == [
                "day=2026-11-22/\(WriterOptions.defaultHost())-000000.jsonl.zst",
                "day=2026-11-23/\(WriterOptions.defaultHost())-000000.jsonl.zst",
            ])
        #expect(try readAll(log) == records)
    }

    /// A segment listed as active and sealed before it is read (a rotation by another writer)
    /// is read in its sealed form: the same records, not an empty file.
    @Test func anActiveSegmentSealedAfterListingIsReadSealed() throws {
        let temp = TemporaryDirectory()
        let log = try temp.log()
        let writer = LogWriter(directory: log, options: WriterOptions(fsync: .none))
        let records = (0..<20).map { sampleRecord($0, at: "2026-11-22T08:00:00.000Z") }
        try writer.append(contentsOf: records)
        let reader = LogReader(directory: log)
        let listed = try reader.segments(inFolder: "day=2026-11-22", day: "2026-11-22")
        #expect(listed.map(\.sealed) == [false])
        try writer.sealAll()
        let now = reader.segment(inFolder: "day=2026-11-22", listed[0].name, sealed: false)
        #expect(now.sealed && now.path.hasSuffix(".jsonl.zst") && now.size > 0)
        var read: [UsageRecord] = []
        _ = try reader.readSegment(now) { record, _ in read.append(record) }
        #expect(read == records)
        // Gone altogether (an empty segment is removed, not sealed): no file to read.
        try FileManager.default.removeItem(atPath: now.path)
        #expect(reader.currentSegment(at: listed[0].path, inFolder: "day=2026-11-22", listed[0].name, sealed: false) == nil)
    }

    @Test func aFlippedByteIsReportedWithFileAndOffsetAndOtherSegmentsStayReadable() throws {
        let temp = TemporaryDirectory()
        let (log, records) = try sealedLog(temp)
        let segments = try LogReader(directory: log).segments()
        let damaged = segments[0]
        let original = FileManager.default.bytes(damaged.path)
        for position in [0, 5, original.count / 2, original.count - 5, original.count - 1] {
            var bytes = original
            bytes[position] ^= 0x40
            writeBytes(bytes, to: damaged.path)
            var problems: [SpendLogError] = []
            var fromOther: [UsageRecord] = []
            try LogReader(directory: log).forEachRecord(onCorruption: { problems.append($0) }) { record in
                if record.project == "web" { fromOther.append(record) }
            }
            #expect(problems.count == 1, "flip at \(position)")
            #expect(problems.first?.code == .corruption)
            #expect(problems.first?.path == damaged.path)
            #expect(problems.first?.offset != nil)
            #expect(problems.first?.message.contains(damaged.path) == true)
            #expect(fromOther == Array(records.suffix(50)))
            let report = try LogVerifier(directory: log).verify()
            #expect(report.problems.count == 1)
        }
    }

    @Test func aTruncatedSealedSegmentIsCorruption() throws {
        let temp = TemporaryDirectory()
        let (log, _) = try sealedLog(temp)
        let damaged = try LogReader(directory: log).segments()[0]
        let original = FileManager.default.bytes(damaged.path)
        for length in [0, 1, 4, original.count / 2, original.count - 1] {
            writeBytes(Array(original.prefix(length)), to: damaged.path)
            var problems: [SpendLogError] = []
            try LogReader(directory: log).forEachRecord(onCorruption: { problems.append($0) }) { _ in }
            #expect(problems.count == 1, "length \(length)")
            #expect(problems.first?.path == damaged.path)
        }
    }

    /// Read buffers reused from segment to segment (as an indexer thread does) read each as fresh
    /// ones do, a truncated segment between two good ones included: the same lines, and the same
    /// error for the damaged one.
    @Test func reusedReadBuffersReadEachSegmentAsFreshOnesDo() throws {
        let temp = TemporaryDirectory()
        let (log, _) = try sealedLog(temp)
        let reader = LogReader(directory: log)
        let segments = try reader.segments()
        var truncated = segments[0]
        truncated.path = temp.path + "/truncated.jsonl.zst"
        let original = FileManager.default.bytes(segments[0].path)
        writeBytes(Array(original.prefix(original.count / 2)), to: truncated.path)
        func read(_ segment: SegmentFile, _ buffers: SegmentReadBuffers?) -> Result<[String], SpendLogError> {
            var lines: [String] = []
            do throws(SpendLogError) {
                _ = try reader.readLines(segment, fileBytes: nil, buffers: buffers) { line, offset in
                    lines.append("\(offset) \(String(decoding: line, as: UTF8.self))")
                }
                return .success(lines)
            } catch {
                return .failure(error)
            }
        }
        let buffers = SegmentReadBuffers()
        for segment in [segments[0], truncated, segments[1], truncated, segments[0]] {
            let reused = read(segment, buffers)
            let fresh = read(segment, nil)
            switch (reused, fresh) {
            case (.success(let a), .success(let b)):
                #expect(a == b && !a.isEmpty && segment.path != truncated.path)
            case (.failure(let a), .failure(let b)):
                #expect(a.code == .corruption && a.message == b.message && a.offset == b.offset)
                #expect(segment.path == truncated.path)
            default: Issue.record("\(segment.path): reused \(reused), fresh \(fresh)")
            }
        }
    }

    @Test func zstdTestAndZstdcatReadSealedSegmentsAsTheReaderDoes() throws {
        let temp = TemporaryDirectory()
        let (log, records) = try sealedLog(temp)
        let sealed = try LogReader(directory: log).segments().filter(\.sealed).map(\.path)
        #expect(sealed.count == 2)
        let test = try runProcess("/usr/bin/zstd", ["-t", "-q"] + sealed)
        #expect(test.status == 0, "\(test.stderr)")
        let cat = try runProcess("/usr/bin/zstdcat", sealed)
        #expect(cat.status == 0)
        let lines = cat.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == records.count)
        let fromZstd = try lines.map { try RecordParser.parse($0, mode: .stored).record }
        #expect(fromZstd == records)
        // The frames carry a content checksum (frame header descriptor bit 2).
        let header = FileManager.default.bytes(sealed[0])
        #expect(Array(header.prefix(4)) == [0x28, 0xB5, 0x2F, 0xFD])
        #expect(header[4] & 0x04 == 0x04)
    }

    /// Host `web` recovering its own interrupted seals leaves host `web-2`'s files alone: its
    /// `.sealing` file is a seal in progress under web-2's lock, not web's leftover.
    @Test func recoveryTouchesOnlyTheFilesOfItsOwnHost() throws {
        let temp = TemporaryDirectory()
        let log = try temp.log()
        func writer(_ host: String) -> LogWriter {
            var options = WriterOptions(fsync: .none)
            options.host = host
            return LogWriter(directory: log, options: options)
        }
        try writer("web-2").append(sampleRecord(0))
        try writer("web").append(sampleRecord(1))
        let folder = log.dayFolderPath("2026-11-23")
        // web-2 is sealing its segment (the compressed file is still being written), and web left
        // a `.sealing` of its own behind when it was killed.
        writeBytes([0x28, 0xB5], to: folder + "/web-2-000000.sealing")
        writeBytes([0x28, 0xB5], to: folder + "/web-000000.sealing")
        let web = writer("web")
        try web.append(sampleRecord(2))
        try web.sealAll()
        let files = Set(try FileManager.default.contentsOfDirectory(atPath: folder))
        #expect(files.contains("web-2-000000.sealing"), "another host's seal in progress was removed")
        #expect(files.contains("web-2-000000.jsonl"))
        #expect(!files.contains("web-000000.sealing"))
        #expect(files.contains("web-000000.jsonl.zst"))
        #expect(try readAll(log).count == 3)
    }

    @Test(arguments: [
        ("web-000012.jsonl", "web", 12, SegmentName.Kind.active),
        ("web-2-000012.jsonl.zst", "web-2", 12, .sealed),
        ("a-b-c-000001.sealing", "a-b-c", 1, .sealing),
    ])
    func everySegmentFileNameIsParsedByOneFunction(file: String, host: String, sequence: Int, kind: SegmentName.Kind) {
        let parsed = SegmentName.parseFile(file, day: "2026-11-23")
        #expect(parsed?.name == SegmentName(day: "2026-11-23", host: host, sequence: sequence))
        #expect(parsed?.kind == kind)
        #expect(parsed?.name.fileName(kind) == file)
    }

    @Test(arguments: [
        "web.lock", "web-12.jsonl", "-000001.jsonl", ".x-000001.jsonl", "web-000001.jsonl.tmp", "web-000001",
    ])
    func namesThatAreNotSegmentFilesAreNotParsed(file: String) {
        #expect(SegmentName.parseFile(file, day: "2026-11-23") == nil)
    }
}
