import SystemPackage

#if canImport(Glibc)
    import Glibc
#endif

/// Turns an active segment into a sealed one (docs/FORMAT.md, "Sealing"), and finishes or undoes
/// a seal that a crash interrupted.
///
/// The caller holds the day's writer lock, so no writer appends to the segment meanwhile.
/// Step order, each safe to crash after:
/// 1. compress `<stem>.jsonl` into `<stem>.sealing` (zstd, level 3, content checksum), fsync it;
/// 2. rename `<stem>.sealing` → `<stem>.jsonl.zst`, fsync the folder;
/// 3. unlink `<stem>.jsonl`, fsync the folder.
/// Readers prefer `.jsonl.zst` over a `.jsonl` of the same stem and never look at `.sealing`,
/// so every record stays readable exactly once at every step.
public enum SegmentSealer {
    /// The zstd level sealed segments are compressed at.
    public static let compressionLevel: Int32 = 3

    /// The decompressed size after which a sealed segment's zstd frame ends, at the next line
    /// end. Each frame can be decompressed alone, so a reader that knows which frames hold the
    /// times it wants (the index keeps that, docs/FORMAT.md "Frames") reads only those. At 512 KiB
    /// a day's segment of the benchmark data (11 MB of text) is 0.3% larger than one frame; at
    /// 256 KiB zstd's level 3 compresses each frame with smaller tables, and it is 4% larger.
    public static let frameBytes = 512 << 10

    /// Seals `name` in `folder`. An empty segment is removed instead (it holds no record).
    /// `frameBytes`: see ``frameBytes``; tests make it smaller.
    public static func seal(
        _ name: SegmentName, in folder: String, level: Int32 = compressionLevel, frameBytes: Int = frameBytes
    ) throws(SpendLogError) {
        let activePath = folder + "/" + name.activeFileName
        let sealingPath = folder + "/" + name.sealingFileName
        let sealedPath = folder + "/" + name.sealedFileName
        FaultInjection.reach("seal.start")

        guard let source = try FileSystem.openIfExists(activePath, O_RDONLY) else { return }
        defer { FileSystem.close(source) }
        let size = try FileSystem.status(source, path: activePath).size
        if size == 0 {
            try FileSystem.unlinkIfExists(activePath)
            try FileSystem.fsyncDirectory(folder)
            return
        }
        let length = try completeLength(source, size: size, path: activePath)

        let target = try FileSystem.open(sealingPath, O_WRONLY | O_CREAT | O_TRUNC)
        do throws(SpendLogError) {
            defer { FileSystem.close(target) }
            let compressor = try ZstdFileCompressor(level: level)
            let chunk = 1 << 20
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: 16)
            defer { buffer.deallocate() }
            var offset: Int64 = 0
            var frameFill = 0
            let sink = { (bytes: UnsafeRawBufferPointer) throws(SpendLogError) in
                try FileSystem.writeAll(target, bytes, path: sealingPath)
            }
            while offset < length {
                let want = Int(min(Int64(chunk), length - offset))
                let n = try FileSystem.pread(
                    source, into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<want]), at: offset,
                    path: activePath)
                guard n == want else {
                    throw SpendLogError(
                        code: .io,
                        message:
                            "'\(activePath)' shrank while it was being sealed (at byte \(offset + Int64(n))). Another program is changing the log; stop it and run `spendlog seal` again.",
                        path: activePath, offset: offset + Int64(n))
                }
                offset += Int64(n)
                // A frame ends at the first line end at or past `frameBytes` of its text, and at the
                // end of the segment.
                var start = 0
                while start < n {
                    let wanted = max(0, frameBytes - frameFill - 1)
                    if start + wanted < n,
                        let newline = UnsafeRawBufferPointer(rebasing: buffer[(start + wanted)..<n]).firstIndex(of: 0x0A)
                    {
                        let cut = start + wanted + newline + 1
                        try compressor.compress(
                            UnsafeRawBufferPointer(rebasing: buffer[start..<cut]), end: true, sink: sink)
                        frameFill = 0
                        start = cut
                    } else {
                        frameFill += n - start
                        try compressor.compress(
                            UnsafeRawBufferPointer(rebasing: buffer[start..<n]), end: offset == length, sink: sink)
                        start = n
                    }
                }
            }
            try FileSystem.fsync(target, path: sealingPath)
        } catch {
            try? FileSystem.unlinkIfExists(sealingPath)
            throw error
        }
        FaultInjection.reach("seal.afterCompress")
        try FileSystem.rename(sealingPath, sealedPath)
        FaultInjection.reach("seal.afterRename")
        try FileSystem.fsyncDirectory(folder)
        FaultInjection.reach("seal.afterRenameSync")
        try FileSystem.unlinkIfExists(activePath)
        FaultInjection.reach("seal.afterUnlink")
        try FileSystem.fsyncDirectory(folder)
    }

    /// The length up to and including the last `\n`. A torn last line can only be the remains of
    /// a writer killed mid-write (the caller holds the writers' lock); it was never acknowledged.
    static func completeLength(_ fd: FileDescriptor, size: Int64, path: String) throws(SpendLogError) -> Int64 {
        var end = size
        while end > 0 {
            let window = Int(min(end, 65_536))
            var buffer = [UInt8](repeating: 0, count: window)
            let result = buffer.withUnsafeMutableBytes { raw in
                Result { () throws(SpendLogError) -> Int in
                    try FileSystem.pread(fd, into: raw, at: end - Int64(window), path: path)
                }
            }
            let n = try result.get()
            guard n == window else { return end }
            if let last = buffer.lastIndex(of: 0x0A) { return end - Int64(window) + Int64(last) + 1 }
            end -= Int64(window)
        }
        return 0
    }

    /// Repairs what an interrupted seal of `host` left in the day folder `folder`: a `.sealing`
    /// file is removed (its `.jsonl` is intact); a `.jsonl` beside its `.jsonl.zst` is removed
    /// (the seal had finished). The caller holds `host`'s writer lock, so only `host`'s files are
    /// touched: another host may be sealing its own at this moment. Returns whether anything
    /// changed.
    @discardableResult
    static func recoverInterruptedSeals(in folder: String, day: String, names: [String], host: String)
        throws(SpendLogError) -> Bool
    {
        var changed = false
        let files = names.compactMap { SegmentName.parseFile($0, day: day) }.filter { $0.name.host == host }
        let sealed = Set(files.filter { $0.kind == .sealed }.map(\.name))
        for (name, kind) in files where kind == .sealing || (kind == .active && sealed.contains(name)) {
            try FileSystem.unlinkIfExists(folder + "/" + name.fileName(kind))
            changed = true
        }
        if changed { try FileSystem.fsyncDirectory(folder) }
        return changed
    }
}
