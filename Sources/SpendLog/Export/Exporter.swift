import SystemPackage

#if canImport(Glibc)
    import Glibc
#endif

/// What one export did.
public struct ExportResult: Sendable {
    /// Where the next export starts.
    public var cursor: ExportCursor
    /// Records given to the caller.
    public var records: Int = 0
    /// The limit was reached: more records may follow.
    public var limitReached = false
    /// Things the caller should tell (lines taken back after they were exported).
    public var notes: [String] = []
    /// Damage that stopped the export: everything before it was exported, and the cursor stops
    /// there, so the next export starts at the damage again (nothing is skipped silently).
    public var stoppedBy: SpendLogError?
}

/// Streams the records of a log that a cursor has not covered yet (docs/SHIPPING.md).
///
/// Segments are read in the readers' order (day, host, sequence); in each, only the whole lines
/// past the cursor's offset. A segment sealed since the last export is decompressed and its
/// lines before the offset skipped; the offsets are those of the uncompressed text, which sealing
/// does not change. Records that do not match the filter are passed over, and the cursor moves
/// past them too.
public struct Exporter: Sendable {
    /// The log exported.
    public let directory: LogDirectory
    /// Named in errors about the cursor.
    public var cursorName: String

    /// An exporter of `directory`; `cursorName` is how errors about the cursor name it.
    public init(directory: LogDirectory, cursorName: String = "the cursor") {
        self.directory = directory
        self.cursorName = cursorName
    }

    /// Gives `body` every record after `start` that `filter` matches, in the readers' order, each as
    /// its stored line (without the `\n`) and parsed; stops after `limit` records. Returns where the
    /// next export starts. Damage in a segment stops the export there (``ExportResult/stoppedBy``);
    /// any other error, one `body` throws included, is thrown and no cursor is returned, so nothing
    /// is skipped.
    public func export(
        from start: ExportCursor, filter: RecordFilter = .all, limit: Int? = nil,
        _ body: (UnsafeBufferPointer<UInt8>, UsageRecord) throws(SpendLogError) -> Void
    ) throws(SpendLogError) -> ExportResult {
        var result = ExportResult(cursor: start)
        let reader = LogReader(directory: directory)
        let segments = try reader.segments()
        if limit == 0 {
            result.limitReached = true
            return result
        }
        segmentLoop: for segment in segments {
            guard filter.mayMatch(day: segment.name.day) else { continue }
            guard let startOffset = result.cursor.startOffset(of: segment.name) else { continue }
            if !segment.sealed && startOffset > 0 {
                switch try lineBoundary(segment, at: startOffset) {
                case .boundary: break
                case .beyondEnd(let size):
                    result.notes.append(takenBack(segment.path, startOffset, size))
                    continue segmentLoop
                }
            }
            var position = startOffset
            var stopped = false
            do {
                let summary = try reader.readLines(segment, startOffset: segment.sealed ? 0 : startOffset) {
                    line, offset throws(SpendLogError) in
                    let end = offset + Int64(line.count) + 1
                    if end <= startOffset { return }
                    if offset < startOffset { throw insideLine(segment.path, startOffset) }
                    let record: UsageRecord
                    do throws(RecordParseError) {
                        record = try RecordParser.parse(line, mode: .stored).record
                    } catch {
                        throw LogReader.invalidLine(error, in: segment, at: offset)
                    }
                    if filter.matches(record) {
                        try body(line, record)
                        result.records += 1
                        FaultInjection.reach("export.afterRecord")
                    }
                    position = end
                    if let limit, result.records >= limit {
                        stopped = true
                        throw SpendLogError(code: .io, message: "limit reached")
                    }
                }
                if summary.bytes < startOffset {
                    result.notes.append(takenBack(summary.segment.path, startOffset, summary.bytes))
                    position = startOffset
                }
                let complete = summary.segment.sealed
                result.cursor.advance(segment.name, to: position, complete: complete)
            } catch {
                result.cursor.advance(segment.name, to: position, complete: false)
                if stopped {
                    result.limitReached = true
                    break segmentLoop
                }
                if error.code == .corruption {
                    result.stoppedBy = error
                    break segmentLoop
                }
                throw error
            }
        }
        result.cursor.compact(listed: segments.map(\.name))
        return result
    }

    private enum Boundary {
        case boundary
        case beyondEnd(Int64)
    }

    /// Whether `offset` of an active segment follows a `\n` (the end of a line exported before).
    private func lineBoundary(_ segment: SegmentFile, at offset: Int64) throws(SpendLogError) -> Boundary {
        // Sealed meanwhile: the reader opens the sealed file and the line walk checks the offset.
        guard let fd = try FileSystem.openIfExists(segment.path, O_RDONLY) else { return .boundary }
        defer { FileSystem.close(fd) }
        let byte = try FileSystem.pread(fd, count: 1, at: offset - 1, path: segment.path)
        guard let last = byte.first else {
            return .beyondEnd(try FileSystem.status(fd, path: segment.path).size)
        }
        if last != 0x0A { throw insideLine(segment.path, offset) }
        return .boundary
    }

    private func insideLine(_ path: String, _ offset: Int64) -> SpendLogError {
        SpendLogError(
            code: .corruption,
            message:
                "\(cursorName) says byte \(offset) of '\(path)' is where the lines already exported end, but that "
                + "byte is inside a line: the cursor was made for another log, or the segment was changed by hand. "
                + "Nothing past it was exported. Start a new cursor file to export this log from its beginning.",
            path: path, offset: offset)
    }

    private func takenBack(_ path: String, _ offset: Int64, _ size: Int64) -> String {
        "\(cursorName) is at byte \(offset) of '\(path)', which now holds \(size) bytes of whole lines: lines "
            + "exported earlier were taken back after a failed write (their records are not in the log; "
            + "a consumer can remove them by id), or the cursor was made for another log."
    }
}
