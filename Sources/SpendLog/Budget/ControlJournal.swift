import SystemPackage

#if canImport(Glibc)
    import Glibc
#endif

/// `budget/journal.jsonl`: the append-only control journal (docs/FORMAT.md, "Budgets"). Only
/// a holder of `budget/lock` reads it to its end or appends to it. A torn last line (a process
/// killed inside `write()`) is not an event; it is cut off before the next append.
struct ControlJournal {
    let path: String

    /// Calls `body` with each complete event after byte `offset`, in order, and returns the
    /// offset just past the last complete line. Reads in chunks, so a long journal (a rebuild
    /// reads it from the start) takes memory for one chunk and its longest line, not its size.
    func read(from offset: Int64, chunkBytes: Int = 1 << 20, _ body: (BudgetEvent) -> Void) throws(SpendLogError)
        -> Int64
    {
        // The common case, nothing new: one stat.
        let found = try FileSystem.status(path: path)?.size ?? 0
        if found == offset { return offset }
        // A journal is only ever appended to: one shorter than what was read of it lost events.
        if found < offset {
            throw SpendLogError(
                code: .corruption,
                message:
                    "'\(path)' is corrupt at byte \(found): the journal ends there, before the \(offset) bytes the budget "
                    + "checkpoint covers, so events were lost. Restore the journal from a backup; or, to go on with the "
                    + "events that remain, remove budget/sidecar and recount (`spendlog budget rebuild`).",
                path: path, offset: found)
        }
        guard let fd = try FileSystem.openIfExists(path, O_RDONLY) else { return 0 }
        defer { FileSystem.close(fd) }
        let size = try FileSystem.status(fd, path: path).size
        var splitter = LineSplitter(path: path)
        splitter.offset = offset
        var position = offset
        var sawSum = false
        while position < size {
            let chunk = try FileSystem.pread(
                fd, count: Int(min(Int64(chunkBytes), size - position)), at: position, path: path)
            if chunk.isEmpty { break }
            position += Int64(chunk.count)
            let fed = chunk.withUnsafeBytes { raw in
                Result { () throws(SpendLogError) in
                    try splitter.feed(raw) { line, lineOffset throws(SpendLogError) in
                        try parseLine(try checked(line, at: lineOffset, sawSum: &sawSum), at: lineOffset, body)
                    }
                }
            }
            try fed.get()
        }
        return splitter.offset
    }

    /// `,"sum":"<16 hex digits>"}`: the end of every event line, after its members. The digits are
    /// the FNV-1a-64 of the line before it, so a damaged byte anywhere in the event is seen.
    static let sumKey = Array(#","sum":""#.utf8)
    static let sumSuffixLength = sumKey.count + 16 + 2

    /// The line with its checksum verified. A line without one was written before journals had
    /// them: taken as it is, but only before the first line that has one.
    private func checked(_ line: UnsafeBufferPointer<UInt8>, at lineOffset: Int64, sawSum: inout Bool)
        throws(SpendLogError) -> UnsafeBufferPointer<UInt8>
    {
        let n = line.count
        let k = ControlJournal.sumSuffixLength
        guard n > k, line[n - 2] == 0x22, line[n - 1] == 0x7D,
            UnsafeBufferPointer(rebasing: line[(n - k)..<(n - k + ControlJournal.sumKey.count)])
                .elementsEqual(ControlJournal.sumKey)
        else {
            if sawSum {
                throw SpendLogError.corruption(
                    path: path, offset: lineOffset,
                    "the line has no checksum (\"sum\") although the lines before it have one")
            }
            return line
        }
        sawSum = true
        let digits = String(decoding: UnsafeBufferPointer(rebasing: line[(n - 18)..<(n - 2)]), as: UTF8.self)
        let body = UnsafeBufferPointer(rebasing: line[0..<(n - k)])
        guard let stored = UInt64(digits, radix: 16), stored == fnv1a64(body) else {
            throw SpendLogError(
                code: .corruption,
                message:
                    "'\(path)' is corrupt at byte \(lineOffset): the line does not match its checksum (\"sum\"). "
                    + "Restore the journal from a backup, or remove that line (its event is lost).",
                path: path, offset: lineOffset)
        }
        return line
    }

    /// An event's line as the journal keeps it: the event's JSON with its checksum as the last member.
    static func line(_ event: BudgetEvent) -> [UInt8] {
        var bytes = event.jsonLine()
        bytes.removeLast(2)  // "}\n"
        let sum = bytes.withUnsafeBufferPointer { fnv1a64($0) }
        bytes += sumKey
        bytes += Array(hex16(sum).utf8)
        bytes += [0x22, 0x7D, 0x0A]
        return bytes
    }

    private func parseLine(_ line: UnsafeBufferPointer<UInt8>, at lineOffset: Int64, _ body: (BudgetEvent) -> Void)
        throws(SpendLogError)
    {
        let parsed = Result { () throws(BudgetDecodingError) -> BudgetEvent? in try BudgetEvent.parse(line) }
        switch parsed {
        case .success(let event): if let event { body(event) }
        case .failure(let error):
            if let remedy = error.remedy {
                throw SpendLogError(
                    code: .io, message: "'\(path)' at byte \(lineOffset): \(error.reason). \(remedy)", path: path,
                    offset: lineOffset)
            }
            throw SpendLogError(
                code: .corruption,
                message:
                    "'\(path)' is corrupt at byte \(lineOffset): the line is not a budget event (\(error.reason)). "
                    + "Restore the journal from a backup, or remove that line (its event is lost).",
                path: path, offset: lineOffset)
        }
    }

    /// Appends events in one `write()` and fsyncs, after cutting off a torn tail past `end` (the
    /// end of the last complete line, as returned by ``read(from:)`` under the same lock).
    func append(_ events: [BudgetEvent], end: Int64) throws(SpendLogError) -> Int64 {
        guard !events.isEmpty else { return end }
        let created = try FileSystem.status(path: path) == nil
        let fd = try FileSystem.open(path, O_RDWR | O_CREAT)
        defer { FileSystem.close(fd) }
        if created { try FileSystem.fsyncDirectory(String(path[..<path.lastIndex(of: "/")!])) }
        let size = try FileSystem.status(fd, path: path).size
        if size > end { try FileSystem.truncate(fd, to: end, path: path) }
        var bytes: [UInt8] = []
        for event in events { bytes.append(contentsOf: ControlJournal.line(event)) }
        do throws(SpendLogError) {
            try FileSystem.writeAll(fd, bytes, at: end, path: path)
            FaultInjection.reach("budget.journal.afterWrite")
            try FileSystem.fsync(fd, path: path)
        } catch {
            // Taken back, so that a failed change is not in force: the journal holds no event
            // that was not acknowledged, or the error says it may.
            var failed = error
            do throws(SpendLogError) {
                try FileSystem.truncate(fd, to: end, path: path)
                try? FileSystem.fsync(fd, path: path)
                failed.message = "Nothing was written (the change was taken back out of the journal): " + error.message
            } catch {
                failed.message +=
                    " The change may be in the journal at byte \(end) (taking it back failed too: \(error.message)); "
                    + "check the limits and reservations before making it again."
            }
            throw failed
        }
        return end + Int64(bytes.count)
    }
}
