import CSystemShims
import SystemPackage

#if canImport(Glibc)
    import Glibc
#endif

/// Every system call the log makes, wrapped once: EINTR retried, failures turned into a
/// ``SpendLogError`` that names the file. (swift-system covers open/read/write/close; the calls
/// it lacks — fsync, flock, rename, directory listing — are here.)
enum FileSystem {
    static let fileMode: mode_t = 0o600
    static let directoryMode: mode_t = 0o700

    @inline(__always)
    static func retrying(_ body: () -> Int32) -> Int32 {
        while true {
            let result = body()
            if result == -1 && Glibc.errno == EINTR { continue }
            return result
        }
    }

    static var lastErrno: Errno { Errno(rawValue: Glibc.errno) }

    /// Opens `path` with O_CLOEXEC, so a child process never inherits a log file or a lock.
    static func open(_ path: String, _ flags: Int32, mode: mode_t = fileMode) throws(SpendLogError) -> FileDescriptor {
        let fd = retrying { Glibc.open(path, flags | O_CLOEXEC, mode) }
        guard fd >= 0 else { throw .io("open", path: path, errno: lastErrno) }
        return FileDescriptor(rawValue: fd)
    }

    /// nil when the file does not exist.
    static func openIfExists(_ path: String, _ flags: Int32) throws(SpendLogError) -> FileDescriptor? {
        let fd = retrying { Glibc.open(path, flags | O_CLOEXEC, fileMode) }
        if fd < 0 {
            if Glibc.errno == ENOENT { return nil }
            throw .io("open", path: path, errno: lastErrno)
        }
        return FileDescriptor(rawValue: fd)
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
            let start = bytes.baseAddress! + done
            let n =
                if let offset {
                    Glibc.pwrite(fd.rawValue, start, bytes.count - done, off_t(offset) + off_t(done))
                } else {
                    Glibc.write(fd.rawValue, start, bytes.count - done)
                }
            if n < 0 {
                if Glibc.errno == EINTR { continue }
                throw .io("write to", path: path, errno: lastErrno)
            }
            done += n
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

    /// Reads up to `count` bytes at `offset`; fewer only at end of file.
    static func pread(_ fd: FileDescriptor, into buffer: UnsafeMutableRawBufferPointer, at offset: Int64, path: String)
        throws(SpendLogError) -> Int
    {
        var done = 0
        while done < buffer.count {
            let n = Glibc.pread(
                fd.rawValue, buffer.baseAddress! + done, buffer.count - done, off_t(offset) + off_t(done))
            if n < 0 {
                if Glibc.errno == EINTR { continue }
                throw .io("read", path: path, errno: lastErrno)
            }
            if n == 0 { break }
            done += n
        }
        return done
    }

    static func read(_ fd: FileDescriptor, into buffer: UnsafeMutableRawBufferPointer, path: String)
        throws(SpendLogError) -> Int
    {
        while true {
            let n = Glibc.read(fd.rawValue, buffer.baseAddress!, buffer.count)
            if n < 0 {
                if Glibc.errno == EINTR { continue }
                throw .io("read", path: path, errno: lastErrno)
            }
            return n
        }
    }

    /// Flushes data and metadata of the file to stable storage. The corresponding C function is `fsync`.
    static func fsync(_ fd: FileDescriptor, path: String) throws(SpendLogError) {
        guard retrying({ Glibc.fsync(fd.rawValue) }) == 0 else {
            throw .io("synchronize", path: path, errno: lastErrno)
        }
    }

    /// Makes entries created, renamed or removed in `path` durable: without this a rename or a
    /// new file can vanish after a power cut even though the file's own data was fsynced.
    static func fsyncDirectory(_ path: String) throws(SpendLogError) {
        let fd = try open(path, O_RDONLY | O_DIRECTORY)
        defer { close(fd) }
        try fsync(fd, path: path)
    }

    static func rename(_ from: String, _ to: String) throws(SpendLogError) {
        guard Glibc.rename(from, to) == 0 else {
            throw .io("rename '\(from)' to", path: to, errno: lastErrno)
        }
    }

    /// Removes a file; a file that is already gone is not an error.
    static func unlinkIfExists(_ path: String) throws(SpendLogError) {
        if Glibc.unlink(path) != 0 && Glibc.errno != ENOENT {
            throw .io("remove", path: path, errno: lastErrno)
        }
    }

    /// Creates a directory `0700`; an existing directory is fine. Returns whether it was created.
    @discardableResult
    static func makeDirectory(_ path: String) throws(SpendLogError) -> Bool {
        if Glibc.mkdir(path, directoryMode) == 0 { return true }
        if Glibc.errno == EEXIST {
            guard isDirectory(path) else {
                throw SpendLogError(
                    code: .io,
                    message: "'\(path)' exists but is not a directory. Move it away or choose another --dir.",
                    path: path, errno: .fileExists)
            }
            return false
        }
        throw .io("create the directory", path: path, errno: lastErrno)
    }

    static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    static func exists(_ path: String) -> Bool {
        var st = stat()
        return Glibc.lstat(path, &st) == 0
    }

    struct Status {
        var size: Int64
        var modifiedMs: Int64
        var linkCount: Int
        var inode: UInt64
        var device: UInt64
    }

    static func status(_ fd: FileDescriptor, path: String) throws(SpendLogError) -> Status {
        var st = stat()
        guard Glibc.fstat(fd.rawValue, &st) == 0 else { throw .io("stat", path: path, errno: lastErrno) }
        return Status(st)
    }

    /// nil when the path does not exist.
    static func status(path: String) throws(SpendLogError) -> Status? {
        var st = stat()
        if stat(path, &st) != 0 {
            if Glibc.errno == ENOENT { return nil }
            throw .io("stat", path: path, errno: lastErrno)
        }
        return Status(st)
    }

    /// When the file was created, on this process's clock (`now` minus the file's age), or nil
    /// where the file system does not keep birth times. The age is measured on the kernel's clock,
    /// which stamped the file, so it stays right when the process's clock is shifted.
    static func birthTimeMs(_ fd: FileDescriptor, now: Timestamp = .now()) -> Int64? {
        let age = spendlog_file_age_ms(fd.rawValue)
        return age == Int64.min ? nil : now.millisecondsSinceEpoch - max(age, 0)
    }

    static func truncate(_ fd: FileDescriptor, to size: Int64, path: String) throws(SpendLogError) {
        guard retrying({ Glibc.ftruncate(fd.rawValue, off_t(size)) }) == 0 else {
            throw .io("truncate", path: path, errno: lastErrno)
        }
    }

    /// Takes an exclusive (or shared) advisory lock, waiting for it. The corresponding C function is `flock`.
    static func lock(_ fd: FileDescriptor, exclusive: Bool = true, path: String) throws(SpendLogError) {
        guard retrying({ flock(fd.rawValue, exclusive ? LOCK_EX : LOCK_SH) }) == 0 else {
            throw .io("lock", path: path, errno: lastErrno)
        }
    }

    static func unlock(_ fd: FileDescriptor) {
        _ = flock(fd.rawValue, LOCK_UN)
    }

    /// Names in a directory, without `.` and `..`; nil when the directory does not exist.
    static func listDirectory(_ path: String) throws(SpendLogError) -> [String]? {
        guard let dir = opendir(path) else {
            if Glibc.errno == ENOENT { return nil }
            throw .io("list", path: path, errno: lastErrno)
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

    /// The whole file, nil when it does not exist.
    static func readFile(_ path: String) throws(SpendLogError) -> [UInt8]? {
        guard let fd = try openIfExists(path, O_RDONLY) else { return nil }
        defer { close(fd) }
        let size = Int(try status(fd, path: path).size)
        var bytes = [UInt8](repeating: 0, count: size)
        let result = bytes.withUnsafeMutableBytes { raw in
            Result { () throws(SpendLogError) -> Int in try pread(fd, into: raw, at: 0, path: path) }
        }
        let n = try result.get()
        if n < size { bytes.removeLast(size - n) }
        return bytes
    }

    /// Writes a new file and fsyncs it (the caller fsyncs the folder).
    static func writeNewFile(_ path: String, _ bytes: [UInt8]) throws(SpendLogError) {
        let fd = try open(path, O_WRONLY | O_CREAT | O_TRUNC)
        defer { close(fd) }
        try writeAll(fd, bytes, path: path)
        try fsync(fd, path: path)
    }

    /// A second name for a file. The corresponding C function is `link`.
    static func link(_ from: String, _ to: String) throws(SpendLogError) {
        guard Glibc.link(from, to) == 0 else { throw .io("link '\(from)' to", path: to, errno: lastErrno) }
    }

    /// Removes a folder of plain files.
    static func removeFolder(_ path: String) throws(SpendLogError) {
        for name in try listDirectory(path) ?? [] { try unlinkIfExists(path + "/" + name) }
        if Glibc.rmdir(path) != 0 && Glibc.errno != ENOENT { throw .io("remove", path: path, errno: lastErrno) }
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
    }
}

/// A descriptor closed when the last reference goes away, so that a group commit can fsync a
/// segment that a concurrent rotation has already replaced.
final class OwnedDescriptor: @unchecked Sendable {
    let fd: FileDescriptor
    let path: String

    init(_ fd: FileDescriptor, path: String) {
        self.fd = fd
        self.path = path
    }

    deinit { FileSystem.close(fd) }
}

extension FileSystem {
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
}
