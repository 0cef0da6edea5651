import Foundation
import Testing

@testable import SpendLog

/// Where a corrupt sealed segment is reported: at the compressed offset of the part of the zstd
/// frame that failed to decode (zstd names a block, not a byte within it), never at byte 0 for
/// damage further in.
@Suite struct ZstdCorruptionOffsetTests {
    /// A sealed segment of 200 records, its bytes, and the compressed range of its first block,
    /// found from the frame header as RFC 8878 lays it out.
    func sealedSegment(_ temp: TemporaryDirectory) throws -> (LogDirectory, SegmentFile, [UInt8], Range<Int>) {
        let log = try temp.log()
        let writer = LogWriter(directory: log, options: WriterOptions(fsync: .none))
        try writer.append(contentsOf: (0..<200).map { sampleRecord($0, at: "2026-11-22T08:00:00.000Z") })
        try writer.sealAll()
        let segment = try LogReader(directory: log).segments()[0]
        let bytes = FileManager.default.bytes(segment.path)
        #expect(Array(bytes[0..<4]) == [0x28, 0xB5, 0x2F, 0xFD])
        let descriptor = bytes[4]
        let single = descriptor & 0x20 != 0
        let headerSize =
            5 + (single ? 0 : 1) + [0, 1, 2, 4][Int(descriptor & 3)] + [single ? 1 : 0, 2, 4, 8][Int(descriptor >> 6)]
        let blockHeader = Int(bytes[headerSize]) | Int(bytes[headerSize + 1]) << 8 | Int(bytes[headerSize + 2]) << 16
        #expect((blockHeader >> 1) & 3 == 2, "the first block is a compressed block")
        let blockEnd = headerSize + 3 + (blockHeader >> 3)
        return (log, segment, bytes, headerSize..<blockEnd)
    }

    func readError(_ log: LogDirectory) throws -> SpendLogError? {
        try read(log).error
    }

    /// The records read from the log, and the one corruption reported, if any.
    func read(_ log: LogDirectory) throws -> (records: [UsageRecord], error: SpendLogError?) {
        var problems: [SpendLogError] = []
        var records: [UsageRecord] = []
        try LogReader(directory: log).forEachRecord(onCorruption: { problems.append($0) }) { records.append($0) }
        #expect(problems.count <= 1)
        return (records, problems.first)
    }

    @Test func aFlippedByteAtOffset40IsReportedAtTheBlockThatHoldsIt() throws {
        let temp = TemporaryDirectory()
        let (log, segment, original, block) = try sealedSegment(temp)
        #expect(block.contains(40), "\(block)")
        var bytes = original
        bytes[40] ^= 0xFF
        writeBytes(bytes, to: segment.path)

        let error = try #require(try readError(log))
        #expect(error.code == .corruption)
        #expect(error.path == segment.path)
        #expect(error.offset == Int64(block.lowerBound), "\(error.message)")
        #expect(
            error.message.contains(
                "'\(segment.path)' is corrupt at byte \(block.lowerBound): zstd: "), "\(error.message)")
        #expect(
            error.message.contains("in block 1 of frame 1 (bytes \(block.lowerBound) to \(block.upperBound - 1))"),
            "\(error.message)")
        let report = try LogVerifier(directory: log).verify()
        #expect(report.problems == [error.message])
    }

    /// Damage in a block header is found before zstd sees it, at the header's own byte.
    @Test func aBlockHeaderWithTheReservedTypeIsReportedAtItsByte() throws {
        let temp = TemporaryDirectory()
        let (log, segment, original, block) = try sealedSegment(temp)
        var bytes = original
        bytes[block.lowerBound] |= 0x06  // block type 3, reserved
        writeBytes(bytes, to: segment.path)

        let error = try #require(try readError(log))
        #expect(error.offset == Int64(block.lowerBound))
        #expect(error.message.contains("the block header at byte \(block.lowerBound) has the reserved type"))
    }

    /// Bytes of the first block's content flipped in turn: each is reported at that block (or, when
    /// the block still decodes to other bytes, at the frame's checksum), never before it. A few bits
    /// of a compressed block do not take part in decoding it (about 1 flip in 3,000 of this test's
    /// lands on one): the frame then decodes to the same bytes, which `zstd -d` accepts too, and
    /// every record must be read unchanged.
    @Test func everyFlippedByteOfABlockIsReportedWithinItOrAtTheChecksum() throws {
        let temp = TemporaryDirectory()
        let (log, segment, original, block) = try sealedSegment(temp)
        let (records, clean) = try read(log)
        #expect(records.count == 200 && clean == nil)
        let checksumStart = original.count - 4
        for position in stride(from: block.lowerBound + 3, to: block.upperBound, by: max(1, block.count / 40)) {
            var bytes = original
            bytes[position] ^= 0x10
            writeBytes(bytes, to: segment.path)
            let (again, reported) = try read(log)
            guard let error = reported else {
                #expect(again == records, "flip at \(position) read without an error, but not as written")
                continue
            }
            let offset = Int(error.offset ?? -1)
            let inBlock = offset == block.lowerBound && error.message.contains("block 1 of frame 1")
            let atChecksum = offset == checksumStart && error.message.contains("content checksum of frame 1")
            // A block size made larger than the file reads as a truncated frame, at the end.
            let truncated = offset == original.count && error.message.contains("truncated")
            #expect(inBlock || atChecksum || truncated, "flip at \(position): \(error.message)")
        }
    }
}
