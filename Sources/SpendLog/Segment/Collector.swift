import SystemPackage

#if canImport(Glibc)
    import Glibc
#endif

/// What one ``Collector/collect(from:since:)`` did.
public struct CollectReport: Sendable {
    /// Segments copied in (`day=YYYY-MM-DD/<host>-<seq>.jsonl.zst`).
    public var copied: [String] = []
    /// The bytes of the segments copied in.
    public var bytesCopied: Int64 = 0
    /// Segments the destination already holds with identical bytes.
    public var alreadyPresent = 0
    /// Segments the destination indexed and then removed by retention, identical by size and
    /// checksum: not brought back.
    public var alreadyRetired = 0
    /// Segments not copied, each with the reason, naming the files: a same-named segment with
    /// other bytes, a source segment that fails its checks, a destination writer of the same host.
    public var problems: [String] = []

    /// A report of nothing done yet.
    public init() {}
}

/// Gathers the sealed segments of other logs into one (docs/SCALE.md, "Collecting"): segment
/// names carry their host, so the segments of many machines live side by side in one day folder.
///
/// Only sealed segments (`.jsonl.zst`) are copied: they never change, so a copy is final and a
/// second run finds it identical. Each is written to `<stem>.incoming-<pid>` in its day folder,
/// fsynced, decompressed in full (zstd content checksum, every line a record of that day), and
/// only then given its name with `link()` — which, unlike `rename()`, never replaces a file that
/// took the name meanwhile — and the folder is fsynced. Readers, writers and the indexer see the
/// segment whole or not at all. A same-named segment with other bytes is never overwritten.
public struct Collector: Sendable {
    /// The log segments are gathered into.
    public let destination: LogDirectory

    /// A collector into `destination`.
    public init(destination: LogDirectory) { self.destination = destination }

    /// Copies the sealed segments of `source` the destination lacks; with `since` (`YYYY-MM-DD`),
    /// only those of that day and later. A segment already present is compared byte for byte, so
    /// a run costs a read of both copies of every segment it looks at: `since` keeps regular runs
    /// to the recent days.
    public func collect(from source: LogDirectory, since: String? = nil) throws(SpendLogError) -> CollectReport {
        try refuseSameLog(source)
        var report = CollectReport()
        let retired = try retiredSegments()
        let sealed = try LogReader(directory: source).segments(days: { since == nil || $0 >= since! }).filter(\.sealed)
        var cleanedFolders = Set<String>()
        for segment in sealed {
            let key = IndexManifest.key(for: segment)
            let folder = destination.dayFolderPath(segment.name.day)
            let target = folder + "/" + segment.name.sealedFileName
            if try FileSystem.status(path: target) != nil {
                if let difference = try Collector.difference(segment.path, target) {
                    report.problems.append(Collector.conflict(segment.path, target, difference))
                } else {
                    report.alreadyPresent += 1
                }
                continue
            }
            if let entry = retired[key] {
                let (bytes, checksum) = try Collector.sizeAndChecksum(segment.path)
                if bytes == entry.bytes && checksum == entry.checksum {
                    report.alreadyRetired += 1
                } else {
                    report.problems.append(
                        "'\(segment.path)' differs from the segment '\(target)' that the destination indexed and "
                            + "then removed (its index lists \(entry.bytes) bytes, checksum \(hex16(entry.checksum)); "
                            + "this file has \(bytes) bytes, checksum \(hex16(checksum))). Nothing was copied. Two "
                            + "different segments carry one name: check which host wrote it.")
                }
                continue
            }
            try FileSystem.makeDirectories(folder)
            if cleanedFolders.insert(folder).inserted {
                try Collector.removeDeadTemporaries(in: folder, day: segment.name.day)
            }
            if try Collector.writtenHere(segment.name, in: folder) {
                report.problems.append(
                    "'\(segment.path)' was not copied: the destination writes this segment itself "
                        + "('\(folder)/\(segment.name.activeFileName)' is active there), so host "
                        + "'\(segment.name.host)' writes into the destination directly. Collect only logs of "
                        + "other hosts, or give each machine its own host name (SPENDLOG_HOST).")
                continue
            }
            do throws(SpendLogError) {
                if let size = try copy(segment, into: folder, key: key, report: &report) {
                    report.copied.append(key)
                    report.bytesCopied += size
                }
            } catch {
                guard error.code == .corruption else { throw error }
                report.problems.append(error.message)
            }
        }
        return report
    }

    /// Whether a writer of the destination owns `name` in `folder` (its active or sealing file is
    /// there): two `stat`s, not a listing of the folder per segment.
    static func writtenHere(_ name: SegmentName, in folder: String) throws(SpendLogError) -> Bool {
        if try FileSystem.status(path: folder + "/" + name.activeFileName) != nil { return true }
        return try FileSystem.status(path: folder + "/" + name.sealingFileName) != nil
    }

    /// Copies one segment through its temporary name; nil when the name was taken meanwhile by
    /// identical bytes. Corruption of the source is thrown, naming the source file.
    private func copy(_ segment: SegmentFile, into folder: String, key: String, report: inout CollectReport)
        throws(SpendLogError) -> Int64?
    {
        let temporary = folder + "/" + segment.name.incomingFileName(pid: getpid())
        let target = folder + "/" + segment.name.sealedFileName
        try FileSystem.unlinkIfExists(temporary)
        var size: Int64 = 0
        do throws(SpendLogError) {
            size = try Collector.copyFile(segment.path, to: temporary)
            FaultInjection.reach("collect.afterCopy")
            try verify(temporary, as: segment)
        } catch {
            try? FileSystem.unlinkIfExists(temporary)
            guard error.code == .corruption else { throw error }
            // The bytes are the source's: name the source file, where the damage is.
            var damaged = error
            damaged.message = error.message.replacingAll(temporary, with: segment.path)
            damaged.path = segment.path
            throw damaged
        }
        defer { try? FileSystem.unlinkIfExists(temporary) }
        // A local writer of the same host name would own this name: hold its lock (when it has
        // one for this day) while checking again and linking, so that no active segment of the
        // name can appear between the check and the link.
        let lockPath = folder + "/" + SegmentName.lockFileName(host: segment.name.host)
        let lock = try FileSystem.openIfExists(lockPath, O_RDWR)
        defer { if let lock { FileSystem.close(lock) } }
        if let lock { try FileSystem.lock(lock, path: lockPath) }
        if try Collector.writtenHere(segment.name, in: folder) {
            throw SpendLogError(
                code: .corruption,
                message: "'\(segment.path)' was not copied: a writer of host '\(segment.name.host)' started "
                    + "'\(folder)/\(segment.name.activeFileName)' in the destination while it was being copied. "
                    + "Give each machine its own host name (SPENDLOG_HOST).",
                path: target)
        }
        switch Syscall.link(temporary, target) {
        case .success:
            FaultInjection.reach("collect.afterLink")
            // The temporary name goes with the `defer`; one left by a crash, with the next run.
            try FileSystem.fsyncDirectory(folder)
            return size
        case .failure(.fileExists):
            // Another collect (or a copy by hand) gave the name to a file first.
            if let difference = try Collector.difference(temporary, target) {
                throw SpendLogError(
                    code: .corruption, message: Collector.conflict(segment.path, target, difference), path: target)
            }
            report.alreadyPresent += 1
            return nil
        case .failure(let errno):
            throw .io("link '\(temporary)' to", path: target, errno: errno)
        }
    }

    /// Decompresses the copy in full: the zstd frame and its content checksum, every line a valid
    /// record, every record of the segment's day.
    private func verify(_ path: String, as segment: SegmentFile) throws(SpendLogError) {
        var copy = segment
        copy.path = path
        _ = try LogReader(directory: destination).readSegment(copy) { record, offset throws(SpendLogError) in
            if record.timestamp.dayString != segment.name.day {
                throw SpendLogError.corruption(
                    path: path, offset: offset,
                    "in the decompressed text, record \(record.id) has ts \(record.timestamp) but the segment is "
                        + "named for \(segment.name.day)")
            }
        }
    }

    /// What the destination's index lists. A listed segment that is not on disk was removed by
    /// retention after it was indexed (or deleted by hand). A copy of one would be counted
    /// again by `stats` until indexed, and then be removed again; so identical ones are skipped.
    private func retiredSegments() throws(SpendLogError) -> [String: IndexManifest.Entry] {
        let snapshot: IndexSnapshot?
        do throws(SpendLogError) { snapshot = try IndexSnapshot.open(destination) } catch {
            guard error.code == .corruption else { throw error }
            return [:]
        }
        guard let snapshot else { return [:] }
        // Only consulted for segments not on disk: those the index lists are then retired ones.
        return snapshot.manifest.entries
    }

    private func refuseSameLog(_ source: LogDirectory) throws(SpendLogError) {
        guard let a = try FileSystem.status(path: source.path), let b = try FileSystem.status(path: destination.path)
        else { return }
        if a.inode == b.inode && a.device == b.device {
            throw .invalid(
                "'\(source.path)' is the destination log itself: name the logs to collect from, and another log to collect into.",
                path: source.path)
        }
    }

    /// Removes `<stem>.incoming-<pid>` files of processes that are gone (a collect that was killed).
    static func removeDeadTemporaries(in folder: String, day: String) throws(SpendLogError) {
        var removed = false
        for name in try FileSystem.listDirectory(folder) ?? [] {
            guard let pid = SegmentName.incomingProcess(name, day: day), pid != getpid(),
                kill(pid, 0) != 0 && Glibc.errno == ESRCH
            else { continue }
            try FileSystem.unlinkIfExists(folder + "/" + name)
            removed = true
        }
        if removed { try FileSystem.fsyncDirectory(folder) }
    }

    static func conflict(_ source: String, _ target: String, _ difference: String) -> String {
        "'\(source)' and '\(target)' are different segments with the same name (\(difference)); nothing was "
            + "overwritten. Two hosts wrote under one host name, or one of the files was changed: compare them "
            + "with `spendlog verify`, and give each machine its own host name (SPENDLOG_HOST)."
    }

    /// nil when the two files hold the same bytes, else where they first differ.
    static func difference(_ a: String, _ b: String) throws(SpendLogError) -> String? {
        let fa = try FileSystem.open(a, O_RDONLY)
        defer { FileSystem.close(fa) }
        let fb = try FileSystem.open(b, O_RDONLY)
        defer { FileSystem.close(fb) }
        let sizeA = try FileSystem.status(fa, path: a).size
        let sizeB = try FileSystem.status(fb, path: b).size
        if sizeA != sizeB { return "\(sizeA) and \(sizeB) bytes" }
        let chunk = 1 << 20
        var offset: Int64 = 0
        while offset < sizeA {
            let want = Int(min(Int64(chunk), sizeA - offset))
            let x = try FileSystem.pread(fa, count: want, at: offset, path: a)
            let y = try FileSystem.pread(fb, count: want, at: offset, path: b)
            if x != y {
                let at = x.indices.first(where: { $0 >= y.count || x[$0] != y[$0] }) ?? min(x.count, y.count)
                return "they differ at byte \(offset + Int64(at))"
            }
            if x.count < want { break }
            offset += Int64(want)
        }
        return nil
    }

    /// The size and FNV-1a-64 of a file's bytes, as the index manifest records them.
    static func sizeAndChecksum(_ path: String) throws(SpendLogError) -> (Int64, UInt64) {
        let fd = try FileSystem.open(path, O_RDONLY)
        defer { FileSystem.close(fd) }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        var checksum: UInt64 = 0xcbf2_9ce4_8422_2325
        var size: Int64 = 0
        while true {
            let n = try FileSystem.read(fd, into: buffer, path: path)
            if n == 0 { break }
            checksum = fnv1a64(
                UnsafeRawBufferPointer(rebasing: buffer[0..<n]).bindMemory(to: UInt8.self), seed: checksum)
            size += Int64(n)
        }
        return (size, checksum)
    }

    /// Copies `source` to the new file `target` (`O_EXCL`, `0600`) and fsyncs it; returns its size.
    static func copyFile(_ source: String, to target: String) throws(SpendLogError) -> Int64 {
        let input = try FileSystem.open(source, O_RDONLY)
        defer { FileSystem.close(input) }
        let output = try FileSystem.open(target, O_WRONLY | O_CREAT | O_EXCL)
        defer { FileSystem.close(output) }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        var size: Int64 = 0
        while true {
            let n = try FileSystem.read(input, into: buffer, path: source)
            if n == 0 { break }
            try FileSystem.writeAll(output, UnsafeRawBufferPointer(rebasing: buffer[0..<n]), path: target)
            size += Int64(n)
        }
        try FileSystem.fsync(output, path: target)
        return size
    }
}

extension String {
    /// Every occurrence of `old` replaced by `new` (no Foundation in the library).
    func replacingAll(_ old: String, with new: String) -> String {
        guard !old.isEmpty else { return self }
        var result = ""
        var rest = self[...]
        while let start = rest.firstRange(of: old) {
            result += rest[..<start.lowerBound]
            result += new
            rest = rest[start.upperBound...]
        }
        return result + rest
    }
}
