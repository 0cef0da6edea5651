import Foundation
import Testing

@testable import SpendLog

/// Sealed segments are runs of zstd frames that end at line ends; the index keeps each frame's
/// times, and a question whose range starts or ends inside an hour reads only the frames that reach
/// into that part, with the same answer as reading every record.
@Suite struct SegmentFramesTests {
    static let day = "2026-10-15"
    static let dayStart = Timestamp.parse("2026-10-15T00:00:00Z")!.millisecondsSinceEpoch

    /// `count` records over the day: in time order, or in random order.
    static func records(count: Int, ordered: Bool, dayStart: Int64 = dayStart, rng: inout SplitMix) -> [UsageRecord] {
        (0..<count).map { i in
            let ms = ordered
                ? dayStart + Int64(i) * Timestamp.millisecondsPerDay / Int64(count)
                : dayStart + Int64.random(in: 0..<Timestamp.millisecondsPerDay, using: &rng)
            return UsageRecord(
                timestamp: Timestamp(millisecondsSinceEpoch: ms), project: ["etl", "bot", "web"][i % 3],
                model: ["gpt-4.1", "o3"].randomElement(using: &rng)!, inputTokens: Int64.random(in: 0...9_000, using: &rng),
                outputTokens: Int64.random(in: 0...900, using: &rng),
                cost: Money(nanos: Int64.random(in: 0...9_000_000, using: &rng)))
        }
    }

    /// Seals every active segment of `log` with frames of about `frameBytes` of text.
    static func sealAll(_ log: LogDirectory, frameBytes: Int) throws {
        for segment in try LogReader(directory: log).segments() where !segment.sealed {
            let folder = String(segment.path[..<segment.path.lastIndex(of: "/")!])
            try SegmentSealer.seal(segment.name, in: folder, frameBytes: frameBytes)
        }
    }

    /// A log of `count` records of the day in time order, in one active segment; that segment and its text.
    static func activeLog(_ dir: TemporaryDirectory, count: Int, seed: UInt64) throws
        -> (LogDirectory, SegmentFile, [UInt8])
    {
        let log = try dir.log()
        var rng = SplitMix(state: seed)
        let writer = LogWriter(directory: log, options: WriterOptions(fsync: .none))
        _ = try writer.append(contentsOf: records(count: count, ordered: true, rng: &rng))
        writer.close()
        let active = try #require(try LogReader(directory: log).segments().first)
        return (log, active, [UInt8](try #require(FileManager.default.contents(atPath: active.path))))
    }

    /// A log of `count` records of the day in time order, sealed in frames of `frameBytes` and indexed.
    static func indexedLog(_ dir: TemporaryDirectory, count: Int, frameBytes: Int, seed: UInt64) throws -> LogDirectory {
        let log = try dir.log()
        var rng = SplitMix(state: seed)
        let writer = LogWriter(directory: log, options: WriterOptions(fsync: .none))
        _ = try writer.append(contentsOf: records(count: count, ordered: true, rng: &rng))
        writer.close()
        try sealAll(log, frameBytes: frameBytes)
        _ = try Indexer(directory: log).run()
        return log
    }

    /// Every frame boundary of a sealed segment: (file offset, text offset, at a line start).
    static func boundaries(_ segment: SegmentFile, of log: LogDirectory) throws -> [(Int64, Int64, Bool)] {
        var ends: [(Int64, Int64, Bool)] = []
        _ = try LogReader(directory: log).readLines(
            segment, fileBytes: nil,
            frameEnded: { file, text, _, atLineStart in ends.append((file, text, atLineStart)) }
        ) { _, _ in }
        return ends
    }

    @Test func sealingEndsFramesAtLineEndsAndZstdReadsTheSameText() throws {
        let dir = TemporaryDirectory()
        let (log, active, text) = try Self.activeLog(dir, count: 3000, seed: 15)
        try Self.sealAll(log, frameBytes: 16_384)
        let sealed = try #require(try LogReader(directory: log).segments().first)
        #expect(sealed.sealed)

        let ends = try Self.boundaries(sealed, of: log)
        #expect(ends.count == Int((Double(text.count) / 16_384).rounded(.down)) || ends.count == Int((Double(text.count) / 16_384).rounded(.up)))
        #expect(ends.allSatisfy { $0.2 }, "every frame ends at a line end")
        var previous: Int64 = 0
        for (index, end) in ends.enumerated() {
            let size = end.1 - previous
            if index < ends.count - 1 { #expect(size >= 16_384 && size < 16_384 + 600, "frame \(index + 1): \(size) bytes") }
            #expect(text[Int(end.1) - 1] == 0x0A)
            previous = end.1
        }
        #expect(ends.last?.1 == Int64(text.count) && ends.last?.0 == sealed.size)

        // The zstd tool reads the frames as one text, the one written.
        let zstd = try runProcess("/usr/bin/zstd", ["-d", "-c", "-q", sealed.path])
        #expect(zstd.status == 0 && zstd.stdout == String(decoding: text, as: UTF8.self))

        // A segment smaller than a frame is one frame, as before.
        let smallDir = TemporaryDirectory()
        let (small, _, _) = try Self.activeLog(smallDir, count: 10, seed: 16)
        try Self.sealAll(small, frameBytes: 16_384)
        #expect(try Self.boundaries(try #require(try LogReader(directory: small).segments().first), of: small).count == 1)
    }

    /// Ranges starting and ending inside hours of a day whose records are in time order, and of a
    /// day whose records are not; with and without a zone of half-hour offsets. The answers are
    /// the scan's; on the ordered day only a few frames are read.
    @Test func edgesReadOnlyTheFramesReachingIntoThemAndAnswerAsTheScan() throws {
        let dir = TemporaryDirectory()
        let log = try dir.log()
        var rng = SplitMix(state: 16)
        let ordered = Self.records(count: 4000, ordered: true, rng: &rng)
        let shuffledStart = Self.dayStart + Timestamp.millisecondsPerDay
        let shuffled = Self.records(count: 2000, ordered: false, dayStart: shuffledStart, rng: &rng)
        let writer = LogWriter(directory: log, options: WriterOptions(fsync: .none))
        _ = try writer.append(contentsOf: ordered + shuffled)
        writer.close()
        try Self.sealAll(log, frameBytes: 8_192)
        _ = try Indexer(directory: log).run()
        let query = Query(directory: log)

        func check(_ since: String?, _ until: String?, zone: String = "UTC", by groupBy: [GroupKey] = [.project])
            throws -> QueryTrace
        {
            var q = StatsQuery(groupBy: groupBy)
            q.filter.since = since.map { Timestamp.parse($0)! }
            q.filter.until = until.map { Timestamp.parse($0)! }
            q.timeZone = try ZoneInfo.named(zone)
            let answer = try query.stats(q)
            #expect(answer.trace.problems.isEmpty && answer.trace.indexDamage == nil)
            #expect(answer.trace.segmentsReadWithoutFrames == 0)
            #expect(answer.rows == (try query.statsByScanning(q)).rows, "\(since ?? "-") \(until ?? "-") \(zone)")
            return answer.trace
        }
        // Half an hour of the ordered day: a frame or three of its 130 or so.
        let half = try check("2026-10-15T06:30:00Z", nil)
        #expect(half.linesFromFrames > 0 && half.linesFromFrames < 200, "\(half.linesFromFrames) lines")
        #expect(half.rawRecords == 4000 / 48)
        let both = try check("2026-10-15T06:30:00Z", "2026-10-15T17:45:10.500Z", by: [.day, .model])
        #expect(both.linesFromFrames > 0 && both.linesFromFrames < 400)
        // The day out of order: its frames reach over most of the day, and are read.
        let wide = try check("2026-10-16T06:30:00Z", "2026-10-16T06:31:00Z")
        #expect(wide.linesFromFrames > 1000)
        _ = try check("2026-10-15T23:59:59.999Z", "2026-10-16T00:00:00.001Z")
        _ = try check("2026-10-15T06:59:59.999Z", "2026-10-15T07:00:00.000Z")
        // Kolkata's local midnight falls at 18:30Z: that hour is read from records.
        let zoned = try check(nil, nil, zone: "Asia/Kolkata", by: [.day])
        #expect(zoned.linesFromFrames > 2000 && zoned.linesFromFrames < 2500)
        _ = try check("2026-10-15T10:10:00Z", "2026-10-16T20:20:00Z", zone: "Asia/Kolkata", by: [.day, .project])
    }

    /// A frames file is kept for every month of indexed segments: the segments of a day indexed in
    /// two runs are both in it, beside those of the other days; a rebuild writes the same file.
    @Test func framesOfADayIndexedInTwoRunsAreKeptTogether() throws {
        let dir = TemporaryDirectory()
        let log = try dir.log()
        var rng = SplitMix(state: 17)
        let writer = LogWriter(directory: log, options: WriterOptions(fsync: .none))
        let first = Self.records(count: 500, ordered: true, rng: &rng)
        let otherDay = Self.records(count: 300, ordered: true, dayStart: Self.dayStart - Timestamp.millisecondsPerDay, rng: &rng)
        _ = try writer.append(contentsOf: first + otherDay)
        try writer.sealAll()
        _ = try Indexer(directory: log).run()
        _ = try writer.append(contentsOf: Self.records(count: 500, ordered: true, rng: &rng))
        writer.close()
        try Self.sealAll(log, frameBytes: 4_096)
        _ = try Indexer(directory: log).run()
        let snapshot = try #require(try IndexSnapshot.open(log))
        let frames = try #require(try snapshot.frames(day: Self.day))
        let segments = try LogReader(directory: log).segments().filter { $0.name.day == Self.day }
        #expect(segments.count == 2)
        #expect(Set(frames.segments.keys.filter { $0.hasPrefix("day=\(Self.day)/") }) == Set(segments.map(IndexManifest.key(for:))))
        for segment in segments {
            #expect(frames.segments[IndexManifest.key(for: segment)]?.fileBytes == segment.size)
        }
        #expect(frames.segments.values.map(\.frames.count).max()! > 10)
        // One file per month: the segment of the 14th is in October's too.
        #expect(try snapshot.frames(day: "2026-10-14") == frames)
        #expect(frames.segments.keys.filter { $0.hasPrefix("day=2026-10-14/") }.count == 1)
        // A rebuild writes the same files.
        let before = try FileManager.default.contentsOfDirectory(atPath: snapshot.path).sorted().filter { $0.hasPrefix("frames.") }
            .map { FileManager.default.contents(atPath: snapshot.path + "/" + $0) }
        var options = IndexOptions(rebuild: true)
        options.threads = 2
        _ = try Indexer(directory: log).run(options)
        let rebuilt = try #require(try IndexSnapshot.open(log))
        let after = try FileManager.default.contentsOfDirectory(atPath: rebuilt.path).sorted().filter { $0.hasPrefix("frames.") }
            .map { FileManager.default.contents(atPath: rebuilt.path + "/" + $0) }
        #expect(before == after && before.count == 1)
    }

    /// A segment whose frames do not end at line ends, with an empty frame (made by another
    /// tool): the frames a line runs across are read together, and the answers stay the scan's.
    @Test func framesThatCutLinesAreReadTogether() throws {
        let dir = TemporaryDirectory()
        let (log, active, text) = try Self.activeLog(dir, count: 1200, seed: 18)
        // Frames of 5,000 bytes each, cut wherever that falls, and every fourth frame at a line end.
        var sealed: [UInt8] = []
        var start = 0
        var index = 0
        while start < text.count {
            var end = min(start + 5_000, text.count)
            if index % 4 == 3, let newline = text[end...].firstIndex(of: 0x0A) { end = newline + 1 }
            sealed += try ZstdTestSupport.compressFrame(Array(text[start..<end]))
            // An empty frame after a line end: it goes with the next frame, not as an entry of its own.
            if index == 3 { sealed += try ZstdTestSupport.compressFrame([]) }
            start = end
            index += 1
        }
        let folder = String(active.path[..<active.path.lastIndex(of: "/")!])
        FileManager.default.createFile(atPath: folder + "/" + active.name.sealedFileName, contents: Data(sealed))
        try FileManager.default.removeItem(atPath: active.path)
        _ = try Indexer(directory: log).run()
        let snapshot = try #require(try IndexSnapshot.open(log))
        let frames = try #require(try snapshot.frames(day: Self.day)?.segments.values.first)
        #expect(frames.frames.count == index / 4 + (index % 4 == 0 ? 0 : 1))
        let query = Query(directory: log)
        for since in ["2026-10-15T06:30:00Z", "2026-10-15T11:05:00Z", "2026-10-15T23:30:00Z"] {
            var q = StatsQuery(groupBy: [.project, .model])
            q.filter.since = Timestamp.parse(since)
            q.filter.until = Timestamp.parse("2026-10-15T23:50:00Z")
            let answer = try query.stats(q)
            #expect(answer.trace.problems.isEmpty && answer.trace.linesFromFrames > 0)
            #expect(answer.trace.linesFromFrames < 1200)
            #expect(answer.rows == (try query.statsByScanning(q)).rows)
        }
    }

    /// A damaged frames file is damage of the index: the answer comes from the segments, names
    /// the file, and is the scan's.
    @Test func aDamagedFramesFileIsNamedAndTheAnswerComesFromTheSegments() throws {
        let dir = TemporaryDirectory()
        let log = try Self.indexedLog(dir, count: 800, frameBytes: 4_096, seed: 19)
        let snapshot = try #require(try IndexSnapshot.open(log))
        let path = snapshot.path + "/" + SegmentFrames.fileName(day: Self.day)
        let intact = [UInt8](try #require(FileManager.default.contents(atPath: path)))
        var q = StatsQuery(groupBy: [.project])
        q.filter.since = Timestamp.parse("2026-10-15T06:30:00Z")
        let expected = try Query(directory: log).statsByScanning(q).rows
        for position in [0, 20, intact.count / 2, intact.count - 5] {
            var damaged = intact
            damaged[position] ^= 0x04
            try FileManager.default.removeItem(atPath: path)
            FileManager.default.createFile(atPath: path, contents: Data(damaged))
            let answer = try Query(directory: log).stats(q)
            #expect(answer.trace.indexDamage?.path == path, "byte \(position)")
            #expect(answer.rows == expected)
        }
    }

    /// A frames file that passes its checksum but points inside a frame (a wrong offset), and a
    /// segment damaged inside a frame the query reads: the answer is made without the index,
    /// equals the scan's, and the segment's own damage is named as such.
    @Test func framesThatDoNotReadSendTheAnswerToTheSegments() throws {
        let dir = TemporaryDirectory()
        let log = try Self.indexedLog(dir, count: 800, frameBytes: 4_096, seed: 21)
        let snapshot = try #require(try IndexSnapshot.open(log))
        let path = snapshot.path + "/" + SegmentFrames.fileName(day: Self.day)
        var frames = try #require(try snapshot.frames(day: Self.day))
        let key = try #require(frames.segments.keys.first)
        var q = StatsQuery(groupBy: [.project])
        q.filter.since = Timestamp.parse("2026-10-15T06:30:00Z")
        let before = try Query(directory: log).stats(q)
        #expect(before.trace.linesFromFrames > 0 && before.trace.indexDamage == nil)
        let expected = try Query(directory: log).statsByScanning(q).rows
        // Every frame start moved one byte on: each run the query reads starts inside a frame.
        for index in 1..<frames.segments[key]!.frames.count { frames.segments[key]!.frames[index].fileOffset += 1 }
        try FileManager.default.removeItem(atPath: path)
        FileManager.default.createFile(atPath: path, contents: Data(frames.encoded()))
        let wrong = try Query(directory: log).stats(q)
        #expect(wrong.trace.indexDamage?.path == path && wrong.trace.problems.isEmpty)
        #expect(wrong.rows == expected)

        // The segment itself damaged inside a frame the edges need.
        _ = try Indexer(directory: log).run(IndexOptions(rebuild: true))
        let segment = try #require(try LogReader(directory: log).segments().first)
        let rebuilt = try #require(try IndexSnapshot.open(log)?.frames(day: Self.day)?.segments[key])
        let run = try #require(SegmentFrames.runs(of: rebuilt) { lo, hi in hi >= q.filter.since!.millisecondsSinceEpoch && lo < q.filter.since!.millisecondsSinceEpoch + 1_800_000 }.first)
        var bytes = [UInt8](try #require(FileManager.default.contents(atPath: segment.path)))
        bytes[Int(run.fileOffset) + 40] ^= 0xFF
        try FileManager.default.removeItem(atPath: segment.path)
        FileManager.default.createFile(atPath: segment.path, contents: Data(bytes))
        let damaged = try Query(directory: log).stats(q)
        #expect(damaged.trace.indexDamage != nil)
        #expect(damaged.trace.problems.first?.path == segment.path, "the segment's damage is named")
    }

    @Test func framesFilesRoundTripAndRefuseWhatTheyCannotHold() throws {
        var frames = SegmentFrames()
        frames.segments["day=2026-10-15/vm-000001.jsonl.zst"] = SegmentFrames.Segment(
            fileBytes: 9_000,
            frames: [
                SegmentFrames.Frame(number: 1, fileOffset: 0, textOffset: 0, earliestMs: 5, latestMs: 9),
                SegmentFrames.Frame(number: 2, fileOffset: 4_000, textOffset: 20_000),
                SegmentFrames.Frame(number: 4, fileOffset: 6_000, textOffset: 40_000, earliestMs: -3, latestMs: 12),
            ])
        frames.segments["day=2026-10-15/vm-000000.jsonl.zst"] = SegmentFrames.Segment(
            fileBytes: 10, frames: [SegmentFrames.Frame(number: 1, fileOffset: 0, textOffset: 0, earliestMs: 1, latestMs: 1)])
        let bytes = frames.encoded()
        #expect(try SegmentFrames.decode(bytes, path: "f") == frames)
        #expect(try SegmentFrames.decode(SegmentFrames().encoded(), path: "f") == SegmentFrames())
        let runs = SegmentFrames.runs(of: frames.segments["day=2026-10-15/vm-000001.jsonl.zst"]!) { _, latest in latest >= 10 }
        #expect(runs == [SegmentFrames.Run(number: 4, fileOffset: 6_000, textOffset: 40_000, fileEnd: 9_000)])
        let all = SegmentFrames.runs(of: frames.segments["day=2026-10-15/vm-000001.jsonl.zst"]!) { _, _ in true }
        #expect(all == [
            SegmentFrames.Run(number: 1, fileOffset: 0, textOffset: 0, fileEnd: 4_000),
            SegmentFrames.Run(number: 4, fileOffset: 6_000, textOffset: 40_000, fileEnd: 9_000),
        ])

        // Lines that are well-formed but wrong, each with its checksum made right.
        func resealed(_ body: String) -> [UInt8] {
            var bytes = Array(body.utf8)
            bytes += Array("end \(hex16(bytes.withUnsafeBufferPointer { fnv1a64($0) }))\n".utf8)
            return bytes
        }
        let head = SegmentFrames.header + "\n"
        for line in [
            "k\t10\t1:0:0:1:", "k\t10\t2:0:0:1:1", "k\t10\t1:5:0:1:1", "k\t10\t1:0:0:9:1", "k\t0\t1:0:0:1:1",
            "k\t10\t1:0:0:1:1 1:3:4:1:1", "k\t10\t1:0:0:1:1 2:0:4:1:1", "k\t10\t1:0:0:1:1 2:10:4:1:1",
            "k\t10", "k\t10\t", "k\tx\t1:0:0:1:1", "k\t10\t1:0:0:a:1",
            // Each part of a frame read from the bytes: too many parts, too few, a sign, an
            // overflow, a stray tab or byte.
            "k\t10\t1:0:0:1:1:5", "k\t10\t1:0:0", "k\t10\t1:0:0:1", "k\t1a\t1:0:0:1:1", "k\t-10\t1:0:0:1:1",
            "k\t10\t1:0:0:1:1\t", "k\t10\t1:0:0:-:1", "k\t99999999999999999999\t1:0:0:1:1",
            "k\t10\t1:0:0:1:1-", "k\t10\t1:-0:0:1:1", "k\t10\t1:0:0::1", "k\t10\t1:0:0:1: ",
        ] {
            #expect(throws: SpendLogError.self, "\(line)") { try SegmentFrames.decode(resealed(head + line + "\n"), path: "f") }
        }
        #expect(try SegmentFrames.decode(resealed(head + "k\t10\t1:0:0:1:1\n"), path: "f").segments["k"]?.frames.count == 1)
        #expect(
            try SegmentFrames.decode(resealed(head + "k\t10\t1:0:0:-7:-2  2:4:9::\n"), path: "f").segments["k"]
                == SegmentFrames.Segment(
                    fileBytes: 10,
                    frames: [
                        SegmentFrames.Frame(number: 1, fileOffset: 0, textOffset: 0, earliestMs: -7, latestMs: -2),
                        SegmentFrames.Frame(number: 2, fileOffset: 4, textOffset: 9),
                    ]))
        // Any byte changed is caught by the checksum or the structure.
        for position in 0..<bytes.count {
            var damaged = bytes
            damaged[position] ^= 0x01
            #expect(throws: SpendLogError.self) { try SegmentFrames.decode(damaged, path: "f") }
        }
        #expect(throws: SpendLogError.self) { try SegmentFrames.decode(Array(bytes.dropLast(3)), path: "f") }
    }
}

/// One zstd frame with its content checksum, as the sealer makes them, for tests that build
/// sealed files by hand.
enum ZstdTestSupport {
    static func compressFrame(_ text: [UInt8]) throws -> [UInt8] {
        let compressor = try ZstdFileCompressor(level: 3)
        var out: [UInt8] = []
        try text.withUnsafeBytes { raw in
            try compressor.compress(raw, end: true) { (chunk: UnsafeRawBufferPointer) throws(SpendLogError) in
                out += chunk
            }
        }
        return out
    }
}

/// A sealed copy of an indexed segment that is not indexed yet (copied in from another log) on
/// the edge day of a range: its records are counted once, as the scan counts them, whether the
/// edges are read through frames or not.
@Suite struct EdgeDayCopyTests {
    @Test func aCopyOfAnIndexedSegmentOnAnEdgeDayIsCountedOnce() throws {
        let dir = TemporaryDirectory()
        let log = try SegmentFramesTests.indexedLog(dir, count: 1500, frameBytes: 8_192, seed: 20)
        let segment = try #require(try LogReader(directory: log).segments().first)
        let folder = String(segment.path[..<segment.path.lastIndex(of: "/")!])
        try FileManager.default.copyItem(atPath: segment.path, toPath: folder + "/copy-000000.jsonl.zst")
        for (since, until) in [
            ("2026-10-15T06:30:00Z", nil), ("2026-10-15T06:30:00Z", "2026-10-15T20:10:00Z"),
            (nil, "2026-10-15T20:10:00Z"), ("2026-10-15T00:00:00Z", "2026-10-16T00:00:00Z"),
        ] as [(String?, String?)] {
            var q = StatsQuery(groupBy: [.project])
            q.filter.since = since.map { Timestamp.parse($0)! }
            q.filter.until = until.map { Timestamp.parse($0)! }
            let answer = try Query(directory: log).stats(q)
            #expect(answer.rows == (try Query(directory: log).statsByScanning(q)).rows, "\(since ?? "-") \(until ?? "-")")
            #expect(answer.rows.map(\.metrics.requests).reduce(0, +) > 0)
        }
    }
}
