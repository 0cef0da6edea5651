import SystemPackage

#if canImport(Glibc)
    import Glibc
#endif

/// Where an export stopped: per segment, the bytes of whole lines already emitted, counted in the
/// segment's uncompressed text (a sealed `.jsonl.zst` has the text of the `.jsonl` it was made
/// from, so sealing moves nothing). It names segments and offsets, never record content
/// (docs/SHIPPING.md, "Cursor").
///
/// Text, versioned and checksummed:
///
/// ```
/// spendlog-cursor 1
/// filter <the filter the cursor was made with, canonical text>
/// base <FNV-1a-64 of the cursor file this one was made from, or "none">   (pending files only)
/// done day=YYYY-MM-DD/<host>-<seq>          every segment of that day and host up to <seq> was emitted whole
/// at day=YYYY-MM-DD/<host>-<seq> <offset>   that segment was emitted up to byte <offset>
/// end <FNV-1a-64 of every byte before this line, 16 hex digits>
/// ```
public struct ExportCursor: Equatable, Sendable {
    /// The first line of every cursor file: its format and version.
    public static let header = "spendlog-cursor 1"

    /// A day folder and host: the writers of one host write one increasing sequence per day.
    public struct Stream: Hashable, Comparable, Sendable {
        /// `YYYY-MM-DD`, the UTC day.
        public var day: String
        /// The writers' host name in segment names.
        public var host: String

        /// The segments of `host` in the folder of `day`.
        public init(day: String, host: String) {
            self.day = day
            self.host = host
        }

        public static func < (a: Stream, b: Stream) -> Bool { (a.day, a.host) < (b.day, b.host) }
    }

    /// The canonical text of the filter the cursor advanced under (``ExportCursor/filterText(_:)``).
    public var filter: String
    /// Per day and host: every segment with a sequence from 0 up to this one was emitted whole.
    /// Only an unbroken run from 0 is folded in: a sequence missing from a listing may still
    /// arrive (`collect` links segments one by one; a staging copy may be partial), so the
    /// segments after a gap keep their own positions until it is filled.
    public var completeThrough: [Stream: Int] = [:]
    /// Segments emitted up to a byte offset (the end of a whole line) and not known to be complete.
    public var positions: [SegmentName: Int64] = [:]
    /// For a pending cursor: the checksum of the cursor file it continues (nil: there was none).
    public var base: UInt64?

    /// A cursor at the beginning of the log, for `filter` (``filterText(_:)``).
    public init(filter: String) { self.filter = filter }

    /// Where to start reading `segment`: nil when it was emitted whole already.
    public func startOffset(of segment: SegmentName) -> Int64? {
        if let through = completeThrough[Stream(day: segment.day, host: segment.host)], segment.sequence <= through {
            return nil
        }
        return positions[segment] ?? 0
    }

    /// Records that `segment` was emitted up to `offset`; `complete` when that is all it will ever
    /// hold (sealed, read to its end).
    mutating func advance(_ segment: SegmentName, to offset: Int64, complete: Bool) {
        positions[segment] = offset
        if complete { completed.insert(segment) }
    }

    /// Segments known complete during this run, folded into ``completeThrough`` by ``compact(listed:)``.
    var completed: Set<SegmentName> = []

    /// Folds complete segments into `completeThrough`: for each day and host, the highest sequence
    /// up to which every listed segment is complete. Entries of segments that no longer exist are
    /// dropped (a removed segment cannot come back under its name).
    mutating func compact(listed: [SegmentName]) {
        var byStream: [Stream: [SegmentName]] = [:]
        for name in listed { byStream[Stream(day: name.day, host: name.host), default: []].append(name) }
        var newPositions: [SegmentName: Int64] = [:]
        var newThrough: [Stream: Int] = [:]
        for (stream, names) in byStream {
            var through = completeThrough[stream]
            for name in names.sorted() {
                if let t = through, name.sequence <= t { continue }
                guard name.sequence == (through ?? -1) + 1, completed.contains(name) else { break }
                through = name.sequence
            }
            if let through { newThrough[stream] = through }
            for name in names where !(through.map { name.sequence <= $0 } ?? false) {
                if let offset = positions[name], offset > 0 { newPositions[name] = offset }
            }
        }
        completeThrough = newThrough
        positions = newPositions
        completed = []
    }

    /// The file's bytes.
    public func encoded() -> [UInt8] {
        var text = ExportCursor.header + "\n"
        text += "filter " + filter + "\n"
        if let base { text += "base " + (base == 0 ? "none" : hex16(base)) + "\n" }
        var lines: [(SegmentName, String)] = []
        for (stream, through) in completeThrough {
            let name = SegmentName(day: stream.day, host: stream.host, sequence: through)
            lines.append((name, "done \(name.dayFolder)/\(name.stem)"))
        }
        for (name, offset) in positions {
            lines.append((name, "at \(name.dayFolder)/\(name.stem) \(offset)"))
        }
        lines.sort { $0.0 < $1.0 || ($0.0 == $1.0 && $0.1 > $1.1) }
        for (_, line) in lines { text += line + "\n" }
        var bytes = Array(text.utf8)
        bytes += Array("end \(hex16(bytes.withUnsafeBufferPointer { fnv1a64($0) }))\n".utf8)
        return bytes
    }

    /// Parses a cursor file; anything that is not one this version wrote is an error naming the
    /// file and byte offset, never a cursor at the beginning.
    public static func decode(_ bytes: [UInt8], path: String) throws(SpendLogError) -> ExportCursor {
        func bad(_ offset: Int, _ reason: String) -> SpendLogError {
            SpendLogError(
                code: .corruption,
                message:
                    "'\(path)' is not a spendlog export cursor this version can use (byte \(offset): \(reason)). "
                    + "Nothing was exported. Restore the file from a copy, or name another cursor file to start "
                    + "from the beginning of the log.",
                path: path, offset: Int64(offset))
        }
        guard let endStart = bytes.dropLast().lastIndex(of: 0x0A).map({ $0 + 1 }), bytes.last == 0x0A else {
            throw bad(0, "the file is empty or does not end with a complete line")
        }
        let endLine = String(decoding: bytes[endStart..<(bytes.count - 1)], as: UTF8.self)
        guard endLine.hasPrefix("end "), endLine.count == 20 else {
            throw bad(endStart, "the last line is not \"end <checksum>\"; the file is truncated or not a cursor")
        }
        let stored = String(endLine.dropFirst(4))
        let actual = bytes[..<endStart].withUnsafeBufferPointer { fnv1a64($0) }
        guard hex16(actual) == stored else {
            throw bad(endStart, "the checksum \(stored) does not match the content (\(hex16(actual))); the file was changed or damaged")
        }
        var cursor = ExportCursor(filter: "")
        var offset = 0
        var lineNumber = 0
        var sawFilter = false
        for raw in bytes[..<endStart].split(separator: 0x0A, omittingEmptySubsequences: false).dropLast() {
            defer {
                offset += raw.count + 1
                lineNumber += 1
            }
            guard let line = String(validating: raw, as: UTF8.self) else { throw bad(offset, "not UTF-8") }
            if lineNumber == 0 {
                guard line == header else {
                    throw bad(0, "the first line is \(Quoted(Array(raw))), not \"\(header)\"")
                }
                continue
            }
            let parts = line.split(separator: " ", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw bad(offset, "a line without a value") }
            switch parts[0] {
            case "filter":
                cursor.filter = parts[1]
                sawFilter = true
            case "base":
                if parts[1] == "none" {
                    cursor.base = 0
                } else {
                    guard parts[1].count == 16, let value = UInt64(parts[1], radix: 16) else {
                        throw bad(offset, "the base is not 16 hex digits")
                    }
                    cursor.base = value
                }
            case "done", "at":
                let fields = parts[1].split(separator: " ").map(String.init)
                guard fields.count == (parts[0] == "done" ? 1 : 2), let name = parseSegment(fields[0]) else {
                    throw bad(offset, "\(Quoted(Array(raw))) does not name a segment (day=YYYY-MM-DD/<host>-<seq>)")
                }
                if parts[0] == "done" {
                    cursor.completeThrough[Stream(day: name.day, host: name.host)] = name.sequence
                } else {
                    guard let value = Int64(fields[1]), value >= 0 else {
                        throw bad(offset, "the offset \(Quoted(Array(fields[1].utf8))) is not a whole number")
                    }
                    cursor.positions[name] = value
                }
            default:
                throw bad(offset, "unknown line \(Quoted(Array(raw)))")
            }
        }
        guard sawFilter else { throw bad(endStart, "no filter line") }
        return cursor
    }

    static func parseSegment(_ text: String) -> SegmentName? {
        guard let slash = text.firstIndex(of: "/") else { return nil }
        guard let day = SegmentName.day(fromFolder: String(text[..<slash])) else { return nil }
        guard let (name, kind) = SegmentName.parseFile(String(text[text.index(after: slash)...]) + ".jsonl", day: day),
            kind == .active
        else { return nil }
        return name
    }

    /// The canonical text of a filter: every field of ``RecordFilter`` (so a filter added later is
    /// covered too), sets sorted, times in RFC 3339, as one JSON object.
    public static func filterText(_ filter: RecordFilter) -> String {
        var members: [(key: String, value: JSONValue)] = []
        for child in Mirror(reflecting: filter).children {
            guard let label = child.label else { continue }
            members.append((label, jsonValue(child.value)))
        }
        members.sort { $0.key < $1.key }
        return String(decoding: JSONValue.object(members).jsonText.utf8, as: UTF8.self)
    }

    private static func jsonValue(_ value: Any) -> JSONValue {
        let mirror = Mirror(reflecting: value)
        if mirror.displayStyle == .optional {
            guard let inner = mirror.children.first else { return .null }
            return jsonValue(inner.value)
        }
        if let t = value as? Timestamp { return .string(t.rfc3339) }
        if let s = value as? String { return .string(s) }
        if let set = value as? Set<String> { return .array(set.sorted().map { .string($0) }) }
        if let map = value as? [String: Set<String>] {
            // Tags: keys in order, each with its values in order.
            return .object(map.keys.sorted().map { ($0, jsonValue(map[$0]!)) })
        }
        if mirror.displayStyle == .dictionary {
            // Any other map: its entries in the order of their text, never the process's hash order.
            return .array(mirror.children.map { String(describing: $0.value) }.sorted().map { .string($0) })
        }
        if let b = value as? Bool { return .bool(b) }
        if let n = value as? Int { return .number(String(n)) }
        if mirror.displayStyle == .set || mirror.displayStyle == .collection {
            return .array(mirror.children.map { String(describing: $0.value) }.sorted().map { .string($0) })
        }
        return .string(String(describing: value))
    }
}

/// The cursor file and its companions, beside each other in the folder the cursor is in:
/// `<cursor>` (what was committed), `<cursor>.pending` (a batch emitted but not committed),
/// `<cursor>.lock` (held by the export using the cursor), `*.tmp-<pid>` (a replace in progress).
public struct ExportCursorFile: Sendable {
    /// The committed cursor.
    public let path: String
    /// `<cursor>.pending`: a batch emitted and not committed yet.
    public var pendingPath: String { path + ".pending" }
    /// `<cursor>.lock`, held by the export using the cursor.
    public var lockPath: String { path + ".lock" }

    /// The cursor file at `path`; nothing is read until asked.
    public init(path: String) { self.path = path }

    /// Takes the cursor's lock (exclusive, released when the process ends, also by a kill); fails at
    /// once when another export holds it. Leftover temporaries of killed runs are removed.
    public func lock() throws(SpendLogError) -> ExportCursorLock {
        let fd = try FileSystem.open(lockPath, O_RDWR | O_CREAT, followSymlinks: false)
        if flock(fd.rawValue, LOCK_EX | LOCK_NB) != 0 {
            let errno = Glibc.errno
            FileSystem.close(fd)
            if errno == EWOULDBLOCK {
                throw SpendLogError(
                    code: .io,
                    message:
                        "Another export is using the cursor '\(path)' (it holds '\(lockPath)'). Wait for it to finish; "
                        + "two exports of one cursor would emit the same records.",
                    path: lockPath)
            }
            throw .io("lock", path: lockPath, errno: .init(rawValue: errno))
        }
        let folder = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "."
        let base = path.lastIndex(of: "/").map { String(path[path.index(after: $0)...]) } ?? path
        for name in (try? FileSystem.listDirectory(folder.isEmpty ? "/" : folder)) ?? []
        where name.hasPrefix(base + ".tmp-") || name.hasPrefix(base + ".pending.tmp-") {
            try? FileSystem.unlinkIfExists((folder.isEmpty ? "" : folder) + "/" + name)
        }
        return ExportCursorLock(fd: fd)
    }

    /// The committed cursor and the checksum of its file (0: there is none yet, start at the beginning).
    public func load(filter: String) throws(SpendLogError) -> (cursor: ExportCursor, checksum: UInt64) {
        guard let bytes = try FileSystem.readWholeFile(path, limit: 64 << 20, followSymlinks: true) else {
            return (ExportCursor(filter: filter), 0)
        }
        var cursor = try ExportCursor.decode(bytes, path: path)
        guard cursor.base == nil else {
            throw SpendLogError(
                code: .corruption,
                message:
                    "'\(path)' is a pending batch's cursor, not a committed one: it was copied or renamed by hand. "
                    + "Nothing was exported. Restore the committed cursor file.",
                path: path)
        }
        guard cursor.filter == filter else {
            throw SpendLogError(
                code: .invalidInput,
                message:
                    "'\(path)' was made with the filter \(cursor.filter), not \(filter): continuing it with another "
                    + "filter would leave records out or emit them twice. Use the same filter, or another cursor file.",
                path: path)
        }
        cursor.base = nil
        return (cursor, bytes.withUnsafeBufferPointer { fnv1a64($0) })
    }

    /// Replaces the cursor (temporary file in the same folder, fsync, rename, fsync of the folder).
    public func save(_ cursor: ExportCursor) throws(SpendLogError) {
        var plain = cursor
        plain.base = nil
        try FileSystem.replaceAtomically(
            path, contents: plain.encoded(),
            steps: .init(
                afterTempWrite: "export.cursorTempWritten", beforeRename: "export.cursorBeforeRename",
                afterRename: "export.cursorRenamed"))
        // A pending batch was made from the old position: committing it now would skip or repeat.
        try FileSystem.unlinkIfExists(pendingPath)
    }

    /// Writes `cursor` as the pending batch's cursor, continuing the committed file of `baseChecksum`.
    public func savePending(_ cursor: ExportCursor, baseChecksum: UInt64) throws(SpendLogError) {
        var pending = cursor
        pending.base = baseChecksum
        try FileSystem.replaceAtomically(
            pendingPath, contents: pending.encoded(),
            steps: .init(
                afterTempWrite: "export.pendingTempWritten", beforeRename: "export.pendingBeforeRename",
                afterRename: "export.pendingRenamed"))
    }

    /// What ``commit()`` found.
    public enum CommitOutcome: Sendable, Equatable {
        /// The pending cursor is the committed one now (or was already).
        case committed
        /// There was no pending cursor: committed already, or never written.
        case nothingPending
    }

    /// Makes the pending cursor the committed one (a rename, then an fsync of the folder), if it
    /// continues the committed cursor as it is now.
    public func commit() throws(SpendLogError) -> CommitOutcome {
        guard let bytes = try FileSystem.readWholeFile(pendingPath, limit: 64 << 20, followSymlinks: false) else {
            return .nothingPending
        }
        let pending = try ExportCursor.decode(bytes, path: pendingPath)
        guard let base = pending.base else {
            throw SpendLogError(
                code: .corruption,
                message: "'\(pendingPath)' has no base line: it is not a pending cursor. Remove it and export again.",
                path: pendingPath)
        }
        var committed = pending
        committed.base = nil
        let current = try FileSystem.readWholeFile(path, limit: 64 << 20, followSymlinks: true)
        if current == committed.encoded() {
            // Committed already; the run that did it stopped before removing the pending file.
            try FileSystem.unlinkIfExists(pendingPath)
            return .committed
        }
        let currentSum = current.map { $0.withUnsafeBufferPointer { fnv1a64($0) } } ?? 0
        guard currentSum == base else {
            throw SpendLogError(
                code: .invalidInput,
                message:
                    "'\(pendingPath)' continues another version of '\(path)' (the cursor moved since the batch was "
                    + "exported), so committing it would skip or repeat records. Nothing was committed; export again.",
                path: pendingPath)
        }
        // Rewritten without its base line (then the pending file goes): one replace, one unlink.
        try FileSystem.replaceAtomically(
            path, contents: committed.encoded(),
            steps: .init(
                afterTempWrite: "export.commitTempWritten", beforeRename: "export.commitBeforeRename",
                afterRename: "export.commitRenamed"))
        try FileSystem.unlinkIfExists(pendingPath)
        return .committed
    }
}

/// The lock of a cursor, held until released or the process ends.
public final class ExportCursorLock: @unchecked Sendable {
    let fd: FileDescriptor

    init(fd: FileDescriptor) { self.fd = fd }

    deinit { FileSystem.close(fd) }
}
