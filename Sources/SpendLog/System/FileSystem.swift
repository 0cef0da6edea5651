import CSystemShims
import SystemPackage

#if canImport(Glibc)
    import Glibc
#endif

/// The file operations of the log, each written once over ``Syscall``: failures become a
/// ``SpendLogError`` that names the file and says what to do. Also the compound operations built
/// from them: reading a whole file, replacing one atomically, making folders durably.
enum FileSystem {
    static let fileMode: mode_t = 0o600
    static let directoryMode: mode_t = 0o700

    /// Opens `path` with O_CLOEXEC, so a child process never inherits a log file or a lock, and
    /// with O_NOFOLLOW unless `followSymlinks`: a file of the log that is a symbolic link is
    /// refused, never written (or read) through (docs/FORMAT.md, "Ownership and links"). Only files the
    /// operator names outside the log (a price file, a time zone file) follow links.
    static func open(_ path: String, _ flags: Int32, mode: mode_t = fileMode, followSymlinks: Bool = false)
        throws(SpendLogError) -> FileDescriptor
    {
        switch Syscall.open(path, followSymlinks ? flags : flags | O_NOFOLLOW, mode: mode) {
        case .success(let fd): return fd
        case .failure(let errno): throw openFailure(path, errno, followSymlinks: followSymlinks)
        }
    }

    /// nil when the file does not exist.
    static func openIfExists(_ path: String, _ flags: Int32, followSymlinks: Bool = false) throws(SpendLogError)
        -> FileDescriptor?
    {
        switch Syscall.open(path, followSymlinks ? flags : flags | O_NOFOLLOW, mode: fileMode) {
        case .success(let fd): return fd
        case .failure(.noSuchFileOrDirectory): return nil
        case .failure(let errno): throw openFailure(path, errno, followSymlinks: followSymlinks)
        }
    }

    private static func openFailure(_ path: String, _ errno: Errno, followSymlinks: Bool) -> SpendLogError {
        guard !followSymlinks, errno == .tooManySymbolicLinkLevels else { return .io("open", path: path, errno: errno) }
        return .io(
            "open", path: path, errno: errno,
            remedy: "It is a symbolic link, and spendlog follows no links inside a log directory: "
                + "whoever planted it could make spendlog write to the file it points to. Remove the link "
                + "(or put the file itself in its place).")
    }

    static func close(_ fd: FileDescriptor) {
        _ = Glibc.close(fd.rawValue)  // the descriptor is gone whatever close reports (Linux close(2))
    }

    /// Writes every byte, continuing after short writes: at the file position, or at `offset`
    /// (`pwrite`). On failure the caller decides how to undo.
    static func writeAll(_ fd: FileDescriptor, _ bytes: UnsafeRawBufferPointer, at offset: Int64? = nil, path: String)
        throws(SpendLogError)
    {
        var done = 0
        while done < bytes.count {
            let rest = UnsafeRawBufferPointer(rebasing: bytes[done...])
            switch Syscall.write(fd, rest, at: offset.map { $0 + Int64(done) }, path: path) {
            case .success(let n): done += n
            case .failure(let errno): throw .io("write to", path: path, errno: errno)
            }
        }
    }

    static func writeAll(_ fd: FileDescriptor, _ bytes: [UInt8], at offset: Int64? = nil, path: String)
        throws(SpendLogError)
    {
        let result = bytes.withUnsafeBytes { raw in
            Result { () throws(SpendLogError) in try writeAll(fd, raw, at: offset, path: path) }
        }
        try result.get()
    }

    /// Fills `buffer` from `offset`; fewer bytes only at end of file.
    static func pread(_ fd: FileDescriptor, into buffer: UnsafeMutableRawBufferPointer, at offset: Int64, path: String)
        throws(SpendLogError) -> Int
    {
        var done = 0
        while done < buffer.count {
            let rest = UnsafeMutableRawBufferPointer(rebasing: buffer[done...])
            switch Syscall.read(fd, into: rest, at: offset + Int64(done), path: path) {
            case .success(0): return done
            case .success(let n): done += n
            case .failure(let errno): throw .io("read", path: path, errno: errno)
            }
        }
        return done
    }

    /// Reads up to `count` bytes at `offset` into a new array (shorter at end of file).
    static func pread(_ fd: FileDescriptor, count: Int, at offset: Int64, path: String) throws(SpendLogError) -> [UInt8]
    {
        var bytes = [UInt8](repeating: 0, count: count)
        let result = bytes.withUnsafeMutableBytes { raw in
            Result { () throws(SpendLogError) -> Int in try pread(fd, into: raw, at: offset, path: path) }
        }
        let n = try result.get()
        return n == count ? bytes : Array(bytes[0..<n])
    }

    /// One `read` at the file position: 0 at end of file.
    static func read(_ fd: FileDescriptor, into buffer: UnsafeMutableRawBufferPointer, path: String)
        throws(SpendLogError) -> Int
    {
        switch Syscall.read(fd, into: buffer, at: nil, path: path) {
        case .success(let n): return n
        case .failure(let errno): throw .io("read", path: path, errno: errno)
        }
    }

    /// Flushes data and metadata of the file to stable storage. The corresponding C function is `fsync`.
    static func fsync(_ fd: FileDescriptor, path: String) throws(SpendLogError) {
        if case .failure(let errno) = Syscall.fsync(fd, path: path) {
            throw .io("synchronize", path: path, errno: errno)
        }
    }

    /// Flushes the file's data to stable storage, with the metadata needed to read it back (its
    /// size), but not its times: for appends to a segment, where a line is durable once this
    /// returns. The size changes with every append, so the file system commits it as `fsync`
    /// would; only the modification time is left to the next commit (nothing needs it after a
    /// power cut: what changed in a segment is told by its size). The corresponding C function
    /// is `fdatasync`.
    static func syncData(_ fd: FileDescriptor, path: String) throws(SpendLogError) {
        if case .failure(let errno) = Syscall.fdatasync(fd, path: path) {
            throw .io("synchronize", path: path, errno: errno)
        }
    }

    /// Makes entries created, renamed or removed in `path` durable: without this a rename or a
    /// new file can vanish after a power cut even though the file's own data was fsynced.
    /// The folder may be a link: the log directory itself may be one (the operator's choice), and
    /// the folders inside it are checked when the log is opened (``checkPrivateFolder(_:isLogRoot:)``).
    static func fsyncDirectory(_ path: String) throws(SpendLogError) {
        let fd = try open(path, O_RDONLY | O_DIRECTORY, followSymlinks: true)
        defer { close(fd) }
        try fsync(fd, path: path)
    }

    static func rename(_ from: String, _ to: String) throws(SpendLogError) {
        if case .failure(let errno) = Syscall.rename(from, to) {
            throw .io("rename '\(from)' to", path: to, errno: errno)
        }
    }

    /// Removes a file; a file that is already gone is not an error.
    static func unlinkIfExists(_ path: String) throws(SpendLogError) {
        switch Syscall.unlink(path) {
        case .success, .failure(.noSuchFileOrDirectory): return
        case .failure(let errno): throw .io("remove", path: path, errno: errno)
        }
    }

    /// Creates a directory `0700`; an existing directory is fine. Returns whether it was created.
    @discardableResult
    static func makeDirectory(_ path: String) throws(SpendLogError) -> Bool {
        switch Syscall.mkdir(path, mode: directoryMode) {
        case .success: return true
        case .failure(.fileExists):
            guard isDirectory(path) else {
                throw SpendLogError(
                    code: .io,
                    message: "'\(path)' exists but is not a directory. Move it away or choose another log directory.",
                    path: path, errno: .fileExists)
            }
            return false
        case .failure(let errno): throw .io("create the directory", path: path, errno: errno)
        }
    }

    /// `mkdir -p`: every missing folder of `path` is created `0700` and its entry made durable in
    /// its parent, so that a file later fsynced inside it cannot vanish with its folder.
    static func makeDirectories(_ path: String) throws(SpendLogError) {
        // The common case, a folder made before: one stat instead of one per component.
        if isDirectory(path) { return }
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") where component != "." {
            let parent = prefix.isEmpty ? "/" : prefix
            prefix += "/" + component
            if !isDirectory(prefix), try makeDirectory(prefix) {
                try fsyncDirectory(parent)
            }
        }
    }

    static func isDirectory(_ path: String) -> Bool {
        guard case .success(let st) = Syscall.stat(nil, path: path) else { return false }
        return (st.st_mode & S_IFMT) == S_IFDIR
    }

    struct Status {
        var size: Int64
        var modifiedMs: Int64
        var linkCount: Int
        var inode: UInt64
        var device: UInt64
        var mode: UInt32

        /// An active segment that had lines taken back: writers append no more to it.
        var isRetired: Bool { mode & UInt32(FileSystem.retiredBit) != 0 }
    }

    /// The mode bit that marks a retired active segment (owner execute: a segment never has it).
    static let retiredBit: mode_t = S_IXUSR

    /// Marks an active segment retired (``Status/isRetired``).
    static func retire(_ fd: FileDescriptor, path: String) throws(SpendLogError) {
        guard fchmod(fd.rawValue, fileMode | retiredBit) == 0 else {
            throw .io("mark as retired", path: path, errno: Errno(rawValue: Glibc.errno))
        }
    }

    static func status(_ fd: FileDescriptor, path: String) throws(SpendLogError) -> Status {
        switch Syscall.stat(fd, path: path) {
        case .success(let st): return Status(st)
        case .failure(let errno): throw .io("stat", path: path, errno: errno)
        }
    }

    /// nil when the path does not exist.
    static func status(path: String) throws(SpendLogError) -> Status? {
        switch Syscall.stat(nil, path: path) {
        case .success(let st): return Status(st)
        case .failure(.noSuchFileOrDirectory): return nil
        case .failure(let errno): throw .io("stat", path: path, errno: errno)
        }
    }

    /// Like ``status(path:)``, for `name` in the directory open on `directory` (`path` is the whole
    /// path, for errors): a lookup of one name instead of every folder of the path.
    static func status(named name: String, in directory: FileDescriptor, path: String) throws(SpendLogError) -> Status? {
        switch Syscall.stat(named: name, in: directory, path: path) {
        case .success(let st): return Status(st)
        case .failure(.noSuchFileOrDirectory): return nil
        case .failure(let errno): throw .io("stat", path: path, errno: errno)
        }
    }

    /// When the file was created, on this process's clock (`now` minus the file's age), or nil
    /// where the file system does not keep birth times. The age is measured on the kernel's clock,
    /// which stamped the file, so it stays right when the process's clock is shifted.
    static func birthTimeMs(_ fd: FileDescriptor, now: Timestamp = .now()) -> Int64? {
        let age = spendlog_file_age_ms(fd.rawValue)
        return age == Int64.min ? nil : now.millisecondsSinceEpoch - max(age, 0)
    }

    /// The kernel's clock, in milliseconds since the epoch: the one that stamps modification
    /// times (the process's own clock may be shifted, as libfaketime does). The process's clock
    /// where it cannot be read.
    static func kernelTimeMs() -> Int64 {
        let now = spendlog_kernel_time_ms()
        return now == Int64.min ? Timestamp.now().millisecondsSinceEpoch : now
    }

    /// How much older than ``kernelTimeMs()`` a folder's modification time must have been when the
    /// folder was listed for an unchanged time to prove that no entry was added, renamed or removed
    /// since: a change in the same tick of the file system's clock can leave the time as it was.
    /// Local Linux file systems stamp times from the kernel's tick (10 ms at most), unless they
    /// keep whole seconds only (see ``listedLateEnough(modifiedMs:listedAt:marginMs:)``); others,
    /// such as network file systems and FAT, may stamp whole seconds, or two.
    static func modificationTimeMarginMs(_ path: String) -> Int64 {
        switch spendlog_file_system_type(path) {
        // ext2/3/4, XFS, Btrfs, tmpfs, F2FS, ZFS, overlayfs
        case 0xEF53, 0x5846_5342, 0x9123_683E, 0x0102_1994, 0xF2F5_2010, 0x2FC1_2FC1, 0x794C_7630: return 50
        default: return 2000
        }
    }

    /// Whether a folder whose time was `modifiedMs` when it was listed at `listedAt` (the kernel's
    /// clock, read before its `stat`) was listed late enough for an unchanged time to prove it
    /// unchanged since: at least `marginMs` (``modificationTimeMarginMs(_:)``) after that time, or 2 s
    /// after a time of whole seconds, which a file system that stamps seconds only gives (ext4 with
    /// 128-byte inodes, whose type is that of any ext4).
    static func listedLateEnough(modifiedMs: Int64, listedAt: Int64, marginMs: Int64) -> Bool {
        modifiedMs <= listedAt - (modifiedMs % 1000 == 0 ? max(marginMs, 2000) : marginMs)
    }


    static func truncate(_ fd: FileDescriptor, to size: Int64, path: String) throws(SpendLogError) {
        if case .failure(let errno) = Syscall.ftruncate(fd, to: size, path: path) {
            throw .io("truncate", path: path, errno: errno)
        }
    }

    /// Takes an exclusive (or shared) advisory lock, waiting for it. The corresponding C function is `flock`.
    static func lock(_ fd: FileDescriptor, exclusive: Bool = true, path: String) throws(SpendLogError) {
        if case .failure(let errno) = Syscall.flock(fd, exclusive ? LOCK_EX : LOCK_SH, path: path) {
            throw .io("lock", path: path, errno: errno)
        }
    }

    /// ``lock(_:exclusive:path:)`` (exclusive) for a lock that many processes take for a few
    /// microseconds each, as enforced appends take `budget/lock`: first a few tries that do not
    /// block, with the processor yielded between them, then a wait in the kernel. A process that
    /// sleeps on the lock is woken only after the holder lets go, and that wake-up can cost more
    /// than the hold itself; a process that yields takes the lock as soon as it is free.
    /// `whileWaiting` runs after each try that found the lock taken: work the holder's turn need
    /// not wait for.
    static func lockContended(
        _ fd: FileDescriptor, path: String, tries: Int = 64, whileWaiting: () -> Void = {}
    ) throws(SpendLogError) {
        for _ in 0..<tries {
            switch Syscall.flock(fd, LOCK_EX | LOCK_NB, path: path) {
            case .success: return
            case .failure(.wouldBlock):
                whileWaiting()
                sched_yield()
            case .failure(let errno): throw .io("lock", path: path, errno: errno)
            }
        }
        try lock(fd, path: path)
    }

    static func unlock(_ fd: FileDescriptor) {
        _ = flock(fd.rawValue, LOCK_UN)  // never fails on a valid descriptor; closing it would release it too
    }

    /// Names in a directory, without `.` and `..`; nil when the directory does not exist.
    static func listDirectory(_ path: String) throws(SpendLogError) -> [String]? {
        guard let dir = opendir(path) else {
            if Glibc.errno == ENOENT { return nil }
            throw .io("list", path: path, errno: Errno(rawValue: Glibc.errno))
        }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// The whole file (at most `limit` bytes of it), nil when it does not exist.
    static func readWholeFile(_ path: String, limit: Int = Int.max, followSymlinks: Bool = false)
        throws(SpendLogError) -> [UInt8]?
    {
        guard let fd = try openIfExists(path, O_RDONLY, followSymlinks: followSymlinks) else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: Swift.min(1 << 16, limit))
        while bytes.count < limit {
            let want = Swift.min(chunk.count, limit - bytes.count)
            let n = try chunk.withUnsafeMutableBytes { raw in
                Result { () throws(SpendLogError) -> Int in
                    try pread(
                        fd, into: UnsafeMutableRawBufferPointer(rebasing: raw[0..<want]), at: Int64(bytes.count),
                        path: path)
                }
            }.get()
            bytes.append(contentsOf: chunk[0..<n])
            if n < want { break }
        }
        return bytes
    }

    /// Writes a new file and fsyncs it (the caller fsyncs the folder); with `syncs`, the fsync is
    /// left to them (``DeferredSyncs``).
    static func writeNewFile(_ path: String, _ bytes: [UInt8], syncs: DeferredSyncs? = nil) throws(SpendLogError) {
        let fd = try open(path, O_WRONLY | O_CREAT | O_TRUNC)
        defer { close(fd) }
        try writeAll(fd, bytes, path: path)
        if let syncs { try syncs.add(fd, path: path) } else { try fsync(fd, path: path) }
    }

    /// The crash points of one ``replaceAtomically(_:contents:temporary:sync:steps:)``.
    struct ReplaceSteps {
        var afterTempWrite: StaticString
        var beforeRename: StaticString
        var afterRename: StaticString
    }

    /// Replaces `path` atomically: the contents go to a temporary file in the same folder
    /// (`temporary`, else `<path>.tmp-<pid>`, so processes never share one), which is fsynced,
    /// renamed over `path`, and the folder fsynced. A crash leaves the old or the new contents,
    /// never a mix. `sync` false skips both fsyncs, for files the log can rebuild (fsync policy
    /// `none`, hints). A failure removes the temporary file.
    static func replaceAtomically(
        _ path: String, contents: [UInt8], temporary: String? = nil, sync: Bool = true, steps: ReplaceSteps? = nil
    ) throws(SpendLogError) {
        let folder = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "."
        let temp = temporary ?? path + ".tmp-\(getpid())"
        do {
            let fd = try open(temp, O_WRONLY | O_CREAT | O_TRUNC)
            defer { close(fd) }
            try writeAll(fd, contents, path: temp)
            if let steps { FaultInjection.reach(steps.afterTempWrite) }
            if sync { try fsync(fd, path: temp) }
            if let steps { FaultInjection.reach(steps.beforeRename) }
            try rename(temp, path)
        } catch {
            try? unlinkIfExists(temp)
            throw error
        }
        if let steps { FaultInjection.reach(steps.afterRename) }
        if sync { try fsyncDirectory(folder.isEmpty ? "/" : folder) }
    }

    /// A second name for a file. The corresponding C function is `link`.
    static func link(_ from: String, _ to: String) throws(SpendLogError) {
        if case .failure(let errno) = Syscall.link(from, to) {
            throw .io("link '\(from)' to", path: to, errno: errno)
        }
    }

    /// Removes a folder of plain files.
    static func removeFolder(_ path: String) throws(SpendLogError) {
        for name in try listDirectory(path) ?? [] { try unlinkIfExists(path + "/" + name) }
        switch Syscall.rmdir(path) {
        case .success, .failure(.noSuchFileOrDirectory): return
        case .failure(let errno): throw .io("remove", path: path, errno: errno)
        }
    }

    /// Refuses a folder of the log that another user could change: one that is a symbolic link
    /// (except the log directory itself, `isLogRoot`, which the operator named), is owned by
    /// someone other than this user (or root), or is writable by its group or by everyone. Like
    /// ssh with `~/.ssh`: whoever can write there can plant a link that spendlog would write
    /// through. One `lstat` (`stat` for the root); nothing when the folder does not exist.
    static func checkPrivateFolder(_ path: String, isLogRoot: Bool = false) throws(SpendLogError) {
        let st: stat
        switch Syscall.stat(nil, path: path, followSymlinks: isLogRoot) {
        case .success(let status): st = status
        case .failure(.noSuchFileOrDirectory): return
        case .failure(let errno): throw .io("stat", path: path, errno: errno)
        }
        let kind = st.st_mode & S_IFMT
        if kind == S_IFLNK {
            throw SpendLogError(
                code: .io,
                message:
                    "'\(path)' is a symbolic link inside the log directory; spendlog follows no links there "
                    + "(only the log directory itself may be one). Replace the link with the folder it points to, or remove it.",
                path: path)
        }
        guard kind == S_IFDIR else { return }  // files are opened O_NOFOLLOW; a stray name is verify's
        let me = geteuid()
        if st.st_uid != me && st.st_uid != 0 {
            throw SpendLogError(
                code: .io,
                message:
                    "'\(path)' is owned by user \(st.st_uid)\(userName(st.st_uid).map { " (\($0))" } ?? ""), "
                    + "not by you (user \(me)): its owner could plant files or links there that spendlog would write "
                    + "through. If the log is yours, `chown -R \(userName(me) ?? String(me)) '\(path)'`; otherwise use a log directory of your own.",
                path: path)
        }
        if st.st_mode & 0o022 != 0 {
            throw SpendLogError(
                code: .io,
                message:
                    "'\(path)' can be written by other users (mode \(String(st.st_mode & 0o7777, radix: 8))): "
                    + "they could plant files or links there that spendlog would write through. "
                    + "Run `chmod go-w '\(path)'` (spendlog creates its folders 0700).",
                path: path)
        }
    }

    private static func userName(_ uid: uid_t) -> String? {
        guard let entry = getpwuid(uid), let name = entry.pointee.pw_name else { return nil }
        return String(cString: name)
    }

    static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        return String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

extension FileSystem.Status {
    init(_ st: stat) {
        size = Int64(st.st_size)
        modifiedMs = Int64(st.st_mtim.tv_sec) * 1000 + Int64(st.st_mtim.tv_nsec) / 1_000_000
        linkCount = Int(st.st_nlink)
        inode = UInt64(st.st_ino)
        device = UInt64(st.st_dev)
        mode = UInt32(st.st_mode)
    }
}

/// A scratch file with no name: created in `folder` and unlinked at once, so that it goes away
/// with its descriptor. (A crash between the two leaves it named, in a folder of the caller's
/// that a later run removes.) `path` is the name it had, for messages. Bytes are appended at
/// ``size``; reads with `pread` may run on any thread.
final class ScratchFile: @unchecked Sendable {
    let fd: FileDescriptor
    let path: String
    private(set) var size: Int64 = 0

    init(in folder: String, label: String) throws(SpendLogError) {
        path = folder + "/.\(label)-\(getpid())-\(String(UInt64.random(in: 0...UInt64.max), radix: 16))"
        fd = try FileSystem.open(path, O_RDWR | O_CREAT | O_EXCL)
        // Should this throw, deinit closes the descriptor.
        try FileSystem.unlinkIfExists(path)
    }

    deinit { FileSystem.close(fd) }

    /// Appends `bytes`; returns the offset they start at. A failed write leaves the file as it
    /// was (what it wrote of them is cut off again).
    func append(_ bytes: [UInt8]) throws(SpendLogError) -> Int64 {
        let at = size
        do throws(SpendLogError) {
            try FileSystem.writeAll(fd, bytes, at: at, path: path)
        } catch {
            try? FileSystem.truncate(fd, to: at, path: path)
            throw error
        }
        size += Int64(bytes.count)
        return at
    }
}

/// Files written without their fsync, made durable together before anything relies on them: an
/// index run writes hundreds of small files, and fsyncs of several files at once share the file
/// system's journal commits, where fsyncs one after another each wait for a commit of their own
/// (15% of an index run's time on the benchmark's log of 1M records).
///
/// Each file is kept open (a duplicate of its writer's descriptor, so that an error of its
/// writeback reaches the fsync), at most ``batch`` at a time: the one whose ``add(_:path:)``
/// reaches it syncs them. After a failure, every later call fails with it.
final class DeferredSyncs: @unchecked Sendable {
    private let lock = PThreadMutex()
    private var pending: [(fd: FileDescriptor, path: String)] = []
    private let failures = FailureBox()
    /// Threads that fsync at once.
    static let threads = 16
    /// Files kept open before they are synced.
    static let batch = 128

    deinit { for file in pending { FileSystem.close(file.fd) } }

    /// Adds the file open on `fd` (which stays the caller's to close); syncs the files added so
    /// far when they are ``batch``.
    func add(_ fd: FileDescriptor, path: String) throws(SpendLogError) {
        let copy = Glibc.dup(fd.rawValue)
        guard copy >= 0 else {
            // No descriptor to keep (too many open): synced now.
            try FileSystem.fsync(fd, path: path)
            return
        }
        let full = lock.withLock { () -> Bool in
            pending.append((FileDescriptor(rawValue: copy), path))
            return pending.count >= DeferredSyncs.batch
        }
        if full { try syncAll() }
    }

    private func take() -> (fd: FileDescriptor, path: String)? {
        lock.withLock { pending.popLast() }
    }

    /// Fsyncs every file added so far, on up to ``threads`` threads at once, and closes them;
    /// the first failure (of this call or an earlier one) is thrown once every thread stopped.
    func syncAll() throws(SpendLogError) {
        let count = lock.withLock { pending.count }
        if count > 0 {
            let work: @Sendable () -> Void = { [self] in
                while let file = take() {
                    defer { FileSystem.close(file.fd) }
                    guard failures.first == nil else { continue }
                    do throws(SpendLogError) { try FileSystem.fsync(file.fd, path: file.path) } catch {
                        failures.record(error)
                    }
                }
            }
            var threads: [pthread_t] = []
            for _ in 0..<(min(DeferredSyncs.threads, count) - 1) {
                if let thread = startThread(work) { threads.append(thread) }
            }
            work()  // this thread too; and alone, if no thread could be started
            for thread in threads { pthread_join(thread, nil) }
        }
        if let failure = failures.first { throw failure }
    }
}
