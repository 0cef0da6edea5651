/// Where the records of a month's sealed segments lie, frame by frame (docs/FORMAT.md, "Frames"):
/// the index's `frames.<YYYY-MM>` file. A sealed segment is a run of zstd frames, each ending at a
/// line end (``SegmentSealer/frameBytes``); each can be decompressed alone. A query that needs
/// the records of part of a day (the sub-hour edges of a range) reads only the frames whose
/// times reach into that part, instead of the whole segment.
struct SegmentFrames: Equatable, Sendable {
    /// One frame, or frames that must be read together (a line runs across their boundary, in a
    /// file spendlog did not seal).
    struct Frame: Equatable, Sendable {
        /// 1-based number of the first frame.
        var number: Int
        /// Offset of its first byte in the compressed file.
        var fileOffset: Int64
        /// Offset of its first line in the decompressed text.
        var textOffset: Int64
        /// The earliest and latest `ts` of its records (ms since the epoch); a frame without
        /// records has none (`earliest > latest`). Kept without `Optional`: 40 bytes a frame
        /// instead of 56, for an index run holds every frame it reads until it writes the frames
        /// files (8,000 frames at 10M records).
        private var earliest = Int64.max
        private var latest = Int64.min

        init(number: Int, fileOffset: Int64, textOffset: Int64, earliestMs: Int64? = nil, latestMs: Int64? = nil) {
            self.number = number
            self.fileOffset = fileOffset
            self.textOffset = textOffset
            if let earliestMs, let latestMs {
                earliest = earliestMs
                latest = latestMs
            }
        }

        var earliestMs: Int64? { earliest <= latest ? earliest : nil }
        var latestMs: Int64? { earliest <= latest ? latest : nil }

        /// Takes in the time of one of its lines.
        mutating func include(_ timestampMs: Int64) {
            earliest = min(earliest, timestampMs)
            latest = max(latest, timestampMs)
        }
    }

    struct Segment: Equatable, Sendable {
        /// The compressed file's size: the frames are used only for a file of that size.
        var fileBytes: Int64
        var frames: [Frame]
    }

    /// By segment, keyed as in the manifest (``IndexManifest/key(for:)``).
    var segments: [String: Segment] = [:]

    static let header = "spendlog-frames 1"

    /// The file of the frames of the segments of `day`'s (`YYYY-MM-DD`) month: `frames.YYYY-MM`.
    static func fileName(day: String) -> String { "frames.\(day.prefix(7))" }

    /// The month (`YYYY-MM`) of a segment's key (`day=YYYY-MM-DD/...`).
    static func month(ofKey key: String) -> String { String(key.dropFirst(4).prefix(7)) }

    static func isFramesFile(_ name: String) -> Bool { name.hasPrefix("frames.") }

    /// Text, sorted by segment:
    /// ```
    /// spendlog-frames 1
    /// <segment key> TAB <file bytes> TAB <frame> SPACE <frame> ...
    /// end <FNV-1a-64 of every byte before this line, 16 hex digits>
    /// ```
    /// where a frame is `<number>:<file offset>:<text offset>:<earliest ms>:<latest ms>` (the
    /// two times empty for a frame without records).
    func encoded() -> [UInt8] {
        var text = Self.header + "\n"
        for key in segments.keys.sorted() {
            let segment = segments[key]!
            text += key + "\t" + String(segment.fileBytes) + "\t"
            text += segment.frames.map { frame in
                "\(frame.number):\(frame.fileOffset):\(frame.textOffset):"
                    + "\(frame.earliestMs.map(String.init) ?? ""):\(frame.latestMs.map(String.init) ?? "")"
            }.joined(separator: " ")
            text += "\n"
        }
        return EndLine.sealed(text)
    }

    static func damaged(_ path: String, _ offset: Int, _ reason: String) -> SpendLogError {
        .indexDamage("Frames file", path: path, offset: offset, reason)
    }

    static func decode(_ bytes: [UInt8], path: String) throws(SpendLogError) -> SegmentFrames {
        let headerLine = Array((header + "\n").utf8)
        guard bytes.starts(with: headerLine) else { throw damaged(path, 0, "not a frames file") }
        let endStart = try EndLine.checked(bytes) { damaged(path, $0, $1) }
        guard endStart >= headerLine.count else { throw damaged(path, endStart, "the header line is cut short") }
        let decoded = bytes.withUnsafeBufferPointer { all in
            Result { () throws(SpendLogError) -> SegmentFrames in
                try decodeLines(UnsafeBufferPointer(rebasing: all[0..<endStart]), from: headerLine.count, path: path)
            }
        }
        return try decoded.get()
    }

    /// The segment lines of a frames file (`text`, up to its end line), from offset `at`. Numbers
    /// are read from the bytes as they are, without making strings of them: a month's file holds
    /// some 700 segments × 22 frames at 10M records, and a query reads one.
    private static func decodeLines(_ text: UnsafeBufferPointer<UInt8>, from start: Int, path: String)
        throws(SpendLogError) -> SegmentFrames
    {
        var result = SegmentFrames()
        var at = start
        while at < text.count {
            var cursor = NumberCursor(text: text, at: at)
            let lineEnd = text[at...].firstIndex(of: 0x0A)!
            var notASegment: SpendLogError { damaged(path, at, "a line is not a segment, its size and its frames") }
            guard let keyEnd = text[at..<lineEnd].firstIndex(of: 0x09),
                let sizeEnd = text[(keyEnd + 1)..<lineEnd].firstIndex(of: 0x09),
                !text[(sizeEnd + 1)..<lineEnd].contains(0x09)
            else { throw notASegment }
            cursor.at = keyEnd + 1
            guard let fileBytes = cursor.number(upTo: 0x09, end: sizeEnd), fileBytes > 0 else {
                throw notASegment
            }
            cursor.at = sizeEnd + 1
            var frames: [Frame] = []
            var notAFrame: SpendLogError { damaged(path, at, "a frame is not number:offset:offset:earliest:latest") }
            while cursor.at < lineEnd {
                let frameEnd = text[cursor.at..<lineEnd].firstIndex(of: 0x20) ?? lineEnd
                if frameEnd == cursor.at {  // frames are split on runs of spaces
                    cursor.at += 1
                    continue
                }
                guard let number = cursor.number(upTo: 0x3A, end: frameEnd),
                    let fileOffset = cursor.number(upTo: 0x3A, end: frameEnd),
                    let textOffset = cursor.number(upTo: 0x3A, end: frameEnd),
                    number >= 1, number <= Int64(Int.max), fileOffset >= 0, fileOffset < fileBytes, textOffset >= 0
                else { throw notAFrame }
                var frame = Frame(number: Int(number), fileOffset: fileOffset, textOffset: textOffset)
                let earliestText = cursor.at..<(text[cursor.at..<frameEnd].firstIndex(of: 0x3A) ?? frameEnd)
                guard earliestText.upperBound < frameEnd else { throw notAFrame }  // no fifth part
                let latestText = (earliestText.upperBound + 1)..<frameEnd
                guard !text[latestText].contains(0x3A), earliestText.isEmpty == latestText.isEmpty else { throw notAFrame }
                if !earliestText.isEmpty {
                    guard let earliest = cursor.number(upTo: 0x3A, end: frameEnd, signed: true),
                        let latest = cursor.number(upTo: 0x20, end: frameEnd, signed: true), earliest <= latest
                    else { throw damaged(path, at, "a frame's times are not numbers, earliest first") }
                    frame = Frame(
                        number: Int(number), fileOffset: fileOffset, textOffset: textOffset, earliestMs: earliest,
                        latestMs: latest)
                }
                cursor.at = frameEnd + 1
                if let previous = frames.last {
                    guard frame.number > previous.number, fileOffset > previous.fileOffset,
                        textOffset > previous.textOffset
                    else { throw damaged(path, at, "the frames of a segment are not in file order") }
                }
                frames.append(frame)
            }
            guard let first = frames.first, first.number == 1, first.fileOffset == 0, first.textOffset == 0 else {
                throw damaged(path, at, "a segment's frames do not start at its first byte")
            }
            result.segments[String(decoding: text[at..<keyEnd], as: UTF8.self)] = Segment(
                fileBytes: fileBytes, frames: frames)
            at = lineEnd + 1
        }
        return result
    }

    /// Reads decimal numbers out of a frames file's bytes.
    private struct NumberCursor {
        let text: UnsafeBufferPointer<UInt8>
        var at: Int

        /// The number from `at` to the next `separator` (or `end`), moving past the separator; nil
        /// when it is empty, holds anything but digits (and a leading `-`, when `signed`), or does
        /// not fit 64 bits.
        mutating func number(upTo separator: UInt8, end: Int, signed: Bool = false) -> Int64? {
            var negative = false
            if signed, at < end, text[at] == 0x2D {
                negative = true
                at += 1
            }
            var value: Int64 = 0
            var digits = 0
            while at < end, text[at] != separator {
                let digit = text[at] &- 0x30
                guard digit < 10 else { return nil }
                let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
                let (sum, overflow2) = times10.addingReportingOverflow(Int64(digit))
                guard !overflow1, !overflow2 else { return nil }
                value = sum
                digits += 1
                at += 1
            }
            guard digits > 0 else { return nil }
            if at < end { at += 1 }  // the separator
            return negative ? -value : value
        }
    }

    /// The runs of frames of `segment` to read for the records whose times `wanted` may take: for
    /// each run, where it starts (frame number, file and text offset) and the file offset where it
    /// ends. Adjacent frames form one run.
    static func runs(of segment: Segment, wanted: (_ earliestMs: Int64, _ latestMs: Int64) -> Bool) -> [Run] {
        var runs: [Run] = []
        for (index, frame) in segment.frames.enumerated() {
            guard let earliest = frame.earliestMs, let latest = frame.latestMs, wanted(earliest, latest) else {
                continue
            }
            let end = index + 1 < segment.frames.count ? segment.frames[index + 1].fileOffset : segment.fileBytes
            if let last = runs.last, last.fileEnd == frame.fileOffset {
                runs[runs.count - 1].fileEnd = end
            } else {
                runs.append(
                    Run(number: frame.number, fileOffset: frame.fileOffset, textOffset: frame.textOffset, fileEnd: end))
            }
        }
        return runs
    }

    struct Run: Equatable, Sendable {
        var number: Int
        var fileOffset: Int64
        var textOffset: Int64
        var fileEnd: Int64
    }

    /// Builds a segment's frames while it is read: told each line's time and each frame's end.
    struct Builder {
        private(set) var frames: [Frame] = []
        private var current = Frame(number: 1, fileOffset: 0, textOffset: 0)

        init() {}

        mutating func line(_ timestampMs: Int64) { current.include(timestampMs) }

        /// A frame ended at `fileOffset`, after `frames` frames in all, the text read up to
        /// `textOffset`; `atLineStart`: no line runs on into the next frame. Where one does, the
        /// frames go on together.
        mutating func frameEnded(fileOffset: Int64, textOffset: Int64, frames count: Int, atLineStart: Bool) {
            // A frame without text (an empty frame, a skippable one) goes with the next.
            guard atLineStart, textOffset > current.textOffset else { return }
            frames.append(current)
            current = Frame(number: count + 1, fileOffset: fileOffset, textOffset: textOffset)
        }

        /// The frames of a file of `fileBytes` bytes, read to its end (in an array of their
        /// count: the index run keeps it until the frames files are written).
        func finished(fileBytes: Int64) -> Segment {
            var exact: [Frame] = []
            exact.reserveCapacity(frames.count)
            exact.append(contentsOf: frames)
            return Segment(fileBytes: fileBytes, frames: exact)
        }
    }
}
