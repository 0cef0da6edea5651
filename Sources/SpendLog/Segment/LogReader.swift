import SystemPackage

#if canImport(Glibc)
    import Glibc
#endif

/// A segment file as found on disk.
public struct SegmentFile: Sendable, Hashable {
    /// The segment's name.
    public var name: SegmentName
    /// Whether it is the sealed `.jsonl.zst` (else the active `.jsonl`).
    public var sealed: Bool
    /// The file's path.
    public var path: String
    /// The file's size in bytes when listed (compressed, for a sealed one).
    public var size: Int64
    /// The file's modification time when listed (ms since the epoch; 0 when not known).
    public var modifiedMs: Int64 = 0

    /// The file's name in its day folder.
    public var fileName: String { sealed ? name.sealedFileName : name.activeFileName }

    /// The path of this segment once sealed, beside the current file.
    var sealedPath: String { String(path[..<path.lastIndex(of: "/")!]) + "/" + name.sealedFileName }
}

/// Reads records back from sealed and active segments, oldest day first (docs/FORMAT.md,
/// "Reading"). A torn last line of an active segment is its end, not an error. Anything else that
/// is wrong is corruption: reported with the file and byte offset, while every other segment is
/// still read.
public struct LogReader: Sendable {
    /// The log read.
    public let directory: LogDirectory

    /// A reader of `directory`; nothing is read until asked.
    public init(directory: LogDirectory) { self.directory = directory }

    /// Every segment, each record's file listed once: where a seal left both `<stem>.jsonl` and
    /// `<stem>.jsonl.zst`, only the sealed one. Sorted by day, host, sequence.
    public func segments(days dayFilter: ((String) -> Bool)? = nil) throws(SpendLogError) -> [SegmentFile] {
        guard let folders = try FileSystem.listDirectory(directory.segmentsPath) else { return [] }
        var result: [SegmentFile] = []
        for folder in folders {
            guard let day = SegmentName.day(fromFolder: folder) else { continue }
            if let dayFilter, !dayFilter(day) { continue }
            result += try segments(inFolder: folder, day: day)
        }
        result.sort { $0.name < $1.name }
        return result
    }

    /// The segments of one day folder (`day=YYYY-MM-DD`), listed as ``segments(days:)`` does.
    func segments(inFolder folder: String, day: String) throws(SpendLogError) -> [SegmentFile] {
        let files = try FileSystem.listDirectory(directory.segmentsPath + "/" + folder) ?? []
        return LogReader.segmentNames(in: files, day: day).map { segment(inFolder: folder, $0.name, sealed: $0.sealed) }
    }

    /// The segments among `files` (the names in a day folder), each record's file once: where a
    /// seal left both `<stem>.jsonl` and `<stem>.jsonl.zst`, only the sealed one. Sorted.
    static func segmentNames(in files: [String], day: String) -> [(name: SegmentName, sealed: Bool)] {
        var sealed = Set<SegmentName>()
        var found: [(name: SegmentName, sealed: Bool)] = []
        for file in files {
            guard let (name, isSealed) = SegmentName.parse(fileName: file, day: day) else { continue }
            found.append((name, isSealed))
            if isSealed { sealed.insert(name) }
        }
        return found.filter { $0.sealed || !sealed.contains($0.name) }.sorted { $0.name < $1.name }
    }

    /// The segment `name` of day folder `folder`, with its size and time as `stat` finds them
    /// now (0 for a file that is gone).
    func segment(inFolder folder: String, _ name: SegmentName, sealed: Bool) -> SegmentFile {
        let path = path(inFolder: folder, name, sealed: sealed)
        return currentSegment(at: path, inFolder: folder, name, sealed: sealed)
            ?? SegmentFile(name: name, sealed: sealed, path: path, size: 0, modifiedMs: 0)
    }

    /// The path of the segment `name` of day folder `folder`.
    func path(inFolder folder: String, _ name: SegmentName, sealed: Bool) -> String {
        directory.segmentsPath + "/" + folder + "/" + (sealed ? name.sealedFileName : name.activeFileName)
    }

    /// The segment `name` as `stat` finds it now at `path`. An active segment listed but gone was
    /// sealed since (a rotation): its sealed form, where the same records are. Nil when neither
    /// is there: an empty active segment is removed, not sealed, and retention removes sealed ones.
    func currentSegment(at path: String, inFolder folder: String, _ name: SegmentName, sealed: Bool) -> SegmentFile? {
        if let status = (try? FileSystem.status(path: path)) ?? nil {
            return SegmentFile(name: name, sealed: sealed, path: path, size: status.size, modifiedMs: status.modifiedMs)
        }
        guard !sealed else { return nil }
        return currentSegment(at: self.path(inFolder: folder, name, sealed: true), inFolder: folder, name, sealed: true)
    }

    /// Calls `body` with each record of `segment` and the byte offset of its line (in the
    /// decompressed text for sealed segments). Throws a corruption error at the first bad byte.
    /// `startOffset` skips that many bytes of the active file (lines before it were read already).
    public func readSegment(
        _ segment: SegmentFile, startOffset: Int64 = 0,
        _ body: (UsageRecord, Int64) throws(SpendLogError) -> Void
    ) throws(SpendLogError) -> SegmentReadSummary {
        try readSegment(segment, startOffset: startOffset, buffers: nil, opened: nil, body)
    }

    /// ``readSegment(_:startOffset:_:)`` with the read buffers and the open active file of
    /// ``readLines(_:startOffset:fileBytes:buffers:opened:frameEnded:_:)``.
    func readSegment(
        _ segment: SegmentFile, startOffset: Int64, buffers: SegmentReadBuffers?, opened: FileDescriptor?,
        _ body: (UsageRecord, Int64) throws(SpendLogError) -> Void
    ) throws(SpendLogError) -> SegmentReadSummary {
        try readLines(segment, startOffset: startOffset, fileBytes: nil, buffers: buffers, opened: opened) {
            line, offset throws(SpendLogError) in
            let parsed: RecordParser.Parsed
            do throws(RecordParseError) {
                parsed = try RecordParser.parse(line, mode: .stored)
            } catch {
                throw LogReader.invalidLine(error, in: segment, at: offset)
            }
            try body(parsed.record, offset)
        }
    }

    /// Calls `body` with every complete line (without `\n`) of `segment` and its byte offset.
    public func readLines(
        _ segment: SegmentFile, startOffset: Int64 = 0,
        _ body: (UnsafeBufferPointer<UInt8>, Int64) throws(SpendLogError) -> Void
    ) throws(SpendLogError) -> SegmentReadSummary {
        try readLines(segment, startOffset: startOffset, fileBytes: nil, body)
    }

    /// `fileBytes` sees the file's own bytes (compressed, for a sealed segment) as they are read.
    /// `buffers` are the read buffers to use, for a caller that reads one segment after another;
    /// without them, the call allocates its own.
    /// `frameEnded` (sealed segments) is told where each zstd frame ends, once the lines it
    /// completes were given to `body`: the offset in the file, the offset in the decompressed
    /// text, the number of frames ended so far, and whether a line runs on into the next frame.
    /// `opened` is the active segment's file, already open, for a caller that keeps it open
    /// between reads (it is not closed).
    func readLines(
        _ segment: SegmentFile, startOffset: Int64 = 0,
        fileBytes: ((UnsafeRawBufferPointer) -> Void)?,
        buffers: SegmentReadBuffers? = nil,
        opened: FileDescriptor? = nil,
        frameEnded: (_ fileOffset: Int64, _ textOffset: Int64, _ frames: Int, _ atLineStart: Bool) -> Void = {
            _, _, _, _ in
        },
        _ body: (UnsafeBufferPointer<UInt8>, Int64) throws(SpendLogError) -> Void
    ) throws(SpendLogError) -> SegmentReadSummary {
        var file = segment
        var fd: FileDescriptor
        var owned = true
        if let opened, !file.sealed {
            fd = opened
            owned = false
        } else if let opened = try FileSystem.openIfExists(file.path, O_RDONLY) {
            fd = opened
        } else if !file.sealed, let opened = try FileSystem.openIfExists(file.sealedPath, O_RDONLY) {
            // Sealed between listing and opening: read the sealed file instead.
            file.path = file.sealedPath
            file.sealed = true
            fd = opened
        } else {
            return SegmentReadSummary(segment: file, records: 0, bytes: 0, tornTailBytes: 0)
        }
        defer { if owned { FileSystem.close(fd) } }
        var splitter = LineSplitter(path: file.path)
        let buffers = buffers ?? SegmentReadBuffers()
        let buffer = buffers.chunk
        let chunkSize = buffer.count

        if file.sealed {
            let decompressor = try buffers.decompressor()
            var sawInput = false
            while true {
                let n = try FileSystem.read(fd, into: buffer, path: file.path)
                if n == 0 { break }
                sawInput = true
                fileBytes?(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
                try Self.decompress(
                    UnsafeRawBufferPointer(rebasing: buffer[0..<n]), with: decompressor, path: file.path,
                    into: &splitter,
                    frameEnd: { fileOffset, splitter in
                        frameEnded(
                            fileOffset, splitter.offset + Int64(splitter.pending), decompressor.framesCompleted,
                            splitter.pending == 0)
                    }, body)
            }
            if !sawInput || decompressor.framesCompleted == 0 || !decompressor.atFrameBoundary {
                throw SpendLogError.corruption(
                    path: file.path, offset: decompressor.consumed,
                    sawInput
                        ? "the zstd frame is truncated (the file ends before the frame and its checksum)"
                        : "the file is empty; a sealed segment holds zstd frames")
            }
            if splitter.pending > 0 {
                throw SpendLogError.corruption(
                    path: file.path, offset: splitter.offset,
                    "in the decompressed text, the last line has no terminating newline")
            }
            return SegmentReadSummary(segment: file, records: splitter.lines, bytes: splitter.offset, tornTailBytes: 0)
        }

        var position = startOffset
        splitter.offset = startOffset
        while true {
            let n = try FileSystem.pread(fd, into: buffer, at: position, path: file.path)
            if n == 0 { break }
            position += Int64(n)
            try splitter.feed(UnsafeRawBufferPointer(rebasing: buffer[0..<n]), body)
            if n < chunkSize { break }
        }
        // A torn last line: a writer was killed mid-write, or is writing now. Not a record.
        return SegmentReadSummary(
            segment: file, records: splitter.lines, bytes: splitter.offset, tornTailBytes: Int64(splitter.pending))
    }

    /// Calls `body` with every line of the frames `runs` of the sealed `segment` (from the index's
    /// ``SegmentFrames``) and its offset in the decompressed text; returns how many lines. Each run
    /// starts at a frame's first byte and ends at a frame's end; damage names the file's offset.
    func readLines(
        _ segment: SegmentFile, runs: [SegmentFrames.Run], buffers: SegmentReadBuffers,
        _ body: (UnsafeBufferPointer<UInt8>, Int64) throws(SpendLogError) -> Void
    ) throws(SpendLogError) -> Int {
        guard let fd = try FileSystem.openIfExists(segment.path, O_RDONLY) else { return 0 }
        defer { FileSystem.close(fd) }
        let buffer = buffers.chunk
        var lines = 0
        for run in runs {
            let decompressor = try buffers.decompressor()
            decompressor.reset(offset: run.fileOffset, frame: run.number)
            var splitter = LineSplitter(path: segment.path)
            splitter.offset = run.textOffset
            var position = run.fileOffset
            while position < run.fileEnd {
                let want = Int(min(Int64(buffer.count), run.fileEnd - position))
                let n = try FileSystem.pread(
                    fd, into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<want]), at: position, path: segment.path)
                guard n > 0 else { break }
                position += Int64(n)
                try Self.decompress(
                    UnsafeRawBufferPointer(rebasing: buffer[0..<n]), with: decompressor, path: segment.path,
                    into: &splitter, body)
            }
            guard position == run.fileEnd, decompressor.framesCompleted > 0, decompressor.atFrameBoundary else {
                throw SpendLogError.corruption(
                    path: segment.path, offset: decompressor.consumed,
                    "the zstd frame is truncated (the file ends before the frame and its checksum)")
            }
            guard splitter.pending == 0 else {
                throw SpendLogError.corruption(
                    path: segment.path, offset: splitter.offset,
                    "in the decompressed text, a line runs past the end of frame \(decompressor.framesCompleted + run.number - 1)")
            }
            lines += splitter.lines
        }
        return lines
    }

    /// Decompresses `input` into `splitter`'s lines, given to `body`; zstd's failures become
    /// corruption of the file at `path`, at the offset zstd's part starts. `frameEnd` is told the
    /// file offset where each frame ends.
    private static func decompress(
        _ input: UnsafeRawBufferPointer, with decompressor: ZstdStreamDecompressor, path: String,
        into splitter: inout LineSplitter, frameEnd: (Int64, LineSplitter) -> Void = { _, _ in },
        _ body: (UnsafeBufferPointer<UInt8>, Int64) throws(SpendLogError) -> Void
    ) throws(SpendLogError) {
        do {
            try decompressor.decompress(input, frameEnd: { frameEnd($0, splitter) }) {
                (bytes: UnsafeRawBufferPointer) throws(SpendLogError) in
                try splitter.feed(bytes, body)
            }
        } catch {
            switch error {
            case .left(let failure): throw SpendLogError.corruption(path: path, offset: failure.offset, failure.reason)
            case .right(let inner): throw inner
            }
        }
    }

    /// Streams every record that matches `filter`, oldest day first. Corrupt segments are
    /// reported to `onCorruption` (their records up to the damage included), and reading goes on.
    public func forEachRecord(
        matching filter: RecordFilter = .all,
        onCorruption: (SpendLogError) -> Void,
        _ body: (UsageRecord) throws(SpendLogError) -> Void
    ) throws(SpendLogError) {
        // A record id twice in a day (a copied segment) is one record: the first is read.
        var day = ""
        var seen = Set<RecordID>()
        for segment in try segments(days: { filter.mayMatch(day: $0) }) {
            if segment.name.day != day {
                day = segment.name.day
                seen.removeAll(keepingCapacity: true)
            }
            do {
                _ = try readSegment(segment) { record, _ throws(SpendLogError) in
                    if filter.matches(record) && seen.insert(record.id).inserted { try body(record) }
                }
            } catch {
                if error.code == .corruption { onCorruption(error) } else { throw error }
            }
        }
    }
}

extension LogReader {
    private static let writerPrefix = Array(#"{"v":1,"id":""#.utf8)

    /// The id of the record on `line`: taken straight from a line as the writer makes it
    /// (`{"v":1,"id":"<36 characters>",…`), else from the parsed line.
    static func recordID(of line: UnsafeBufferPointer<UInt8>, in segment: SegmentFile, at offset: Int64)
        throws(SpendLogError) -> RecordID
    {
        let prefix = writerPrefix.count
        if line.count > prefix + 37, line[prefix + 36] == 0x22, line.starts(with: writerPrefix),
            let id = RecordID.parse(utf8: UnsafeBufferPointer(rebasing: line[prefix..<prefix + 36]))
        {
            return id
        }
        do throws(RecordParseError) {
            return try RecordParser.parse(line, mode: .stored).record.id
        } catch {
            throw invalidLine(error, in: segment, at: offset)
        }
    }

    /// A line of `segment` at `offset` that is not a record.
    static func invalidLine(_ error: RecordParseError, in segment: SegmentFile, at offset: Int64) -> SpendLogError {
        SpendLogError.corruption(
            path: segment.path, offset: offset + Int64(error.offset),
            (segment.sealed ? "in the decompressed text, " : "") + "line is not a valid record: \(error.description)")
    }
}

/// What reading one segment found.
public struct SegmentReadSummary: Sendable {
    /// The segment read (the sealed file, when it was sealed while being opened).
    public var segment: SegmentFile
    /// Complete lines read.
    public var records: Int
    /// Bytes of complete lines (end offset of the last complete line).
    public var bytes: Int64
    /// Bytes after the last newline of an active segment (a torn or in-progress line).
    public var tornTailBytes: Int64
}

extension LogReader {
    /// A short text that changes whenever a segment is added, grows, is rewritten, sealed or
    /// removed: a cheap way to tell that the answers may have changed (the listing and each
    /// file's size and modification time, which the listing stats anyway; nothing is read).
    public func changeToken() throws(SpendLogError) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        let segments = try segments()
        for segment in segments {
            var text = "\(segment.path)\t\(segment.size)\t\(segment.modifiedMs)\t\(segment.sealed)\n"
            hash = text.withUTF8 { fnv1a64($0, seed: hash) }
        }
        return "\(segments.count)-" + hex16(hash)
    }
}

/// The buffers a reader reuses from one segment to the next: the chunk the file is read into,
/// and the zstd context (with its window) and output buffer. Fresh for every segment, their pages
/// were faulted in and zeroed again for each: most of `index --rebuild`'s system time.
final class SegmentReadBuffers {
    let chunk: UnsafeMutableRawBufferPointer
    private var zstd: ZstdStreamDecompressor?

    init() { chunk = .allocate(byteCount: 1 << 20, alignment: 16) }

    deinit { chunk.deallocate() }

    /// The decompressor, made on first use and reset for a new file on every later one.
    func decompressor() throws(SpendLogError) -> ZstdStreamDecompressor {
        if let zstd {
            zstd.reset()
            return zstd
        }
        let made = try ZstdStreamDecompressor()
        zstd = made
        return made
    }
}
