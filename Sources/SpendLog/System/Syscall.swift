import SystemPackage

#if canImport(Glibc)
    import Glibc
#endif

/// The raw system calls the log makes, each returning `Result<_, Errno>`: the one layer between
/// the library and the kernel, after swift-system's (`valueOrErrno`, `retryOnInterrupt`).
/// ``FileSystem`` turns the failures into errors that name the file.
///
/// Every call passes through ``FaultInjection/forcedErrno(_:path:)`` first, so that tests can make
/// any of them fail with a chosen errno at the N-th call (debug builds only; see
/// ``FaultInjection``). `path` is the file the call acts on, for that seam and nothing else.
enum Syscall {
    /// The calls the seam can fail.
    enum Name: String, CaseIterable, Sendable {
        case open, read, write, fsync, rename, unlink, mkdir, rmdir, flock, ftruncate, stat, link
    }

    /// Runs `body`, retrying on EINTR (unless told not to), and turns `-1` into the errno.
    @inline(__always)
    static func valueOrErrno<I: FixedWidthInteger>(
        _ name: Name, path: String, retryOnInterrupt: Bool = true, _ body: () -> I
    ) -> Result<I, Errno> {
        #if SPENDLOG_FAULT_POINTS
            if let forced = FaultInjection.forcedErrno(name, path: path) { return .failure(forced) }
        #endif
        while true {
            let result = body()
            if result != -1 { return .success(result) }
            let error = Errno(rawValue: Glibc.errno)
            if retryOnInterrupt && error == .interrupted { continue }
            return .failure(error)
        }
    }

    /// The corresponding C function is `open`; the descriptor is always `O_CLOEXEC`.
    static func open(_ path: String, _ flags: Int32, mode: mode_t) -> Result<FileDescriptor, Errno> {
        valueOrErrno(.open, path: path) { path.withCString { Glibc.open($0, flags | O_CLOEXEC, mode) } }.map(
            FileDescriptor.init(rawValue:))
    }

    /// Reads at the file position (`offset` nil) or at `offset`. The corresponding C functions are
    /// `read` and `pread`.
    static func read(_ fd: FileDescriptor, into buffer: UnsafeMutableRawBufferPointer, at offset: Int64?, path: String)
        -> Result<Int, Errno>
    {
        valueOrErrno(.read, path: path) {
            if let offset { return Glibc.pread(fd.rawValue, buffer.baseAddress, buffer.count, off_t(offset)) }
            return Glibc.read(fd.rawValue, buffer.baseAddress, buffer.count)
        }
    }

    /// Writes at the file position (`offset` nil) or at `offset`; may write fewer bytes. The
    /// corresponding C functions are `write` and `pwrite`.
    static func write(_ fd: FileDescriptor, _ bytes: UnsafeRawBufferPointer, at offset: Int64?, path: String)
        -> Result<Int, Errno>
    {
        valueOrErrno(.write, path: path) {
            if let offset { return Glibc.pwrite(fd.rawValue, bytes.baseAddress, bytes.count, off_t(offset)) }
            return Glibc.write(fd.rawValue, bytes.baseAddress, bytes.count)
        }
    }

    /// The corresponding C function is `fsync`.
    static func fsync(_ fd: FileDescriptor, path: String) -> Result<Void, Errno> {
        valueOrErrno(.fsync, path: path) { Glibc.fsync(fd.rawValue) }.map { _ in () }
    }

    /// The corresponding C function is `fdatasync`. Counted and failed as `fsync` by the fault
    /// seam: an armed `fsync` failure, and its `@N` count, include these calls.
    static func fdatasync(_ fd: FileDescriptor, path: String) -> Result<Void, Errno> {
        valueOrErrno(.fsync, path: path) { Glibc.fdatasync(fd.rawValue) }.map { _ in () }
    }

    /// The corresponding C function is `rename`.
    static func rename(_ from: String, _ to: String) -> Result<Void, Errno> {
        valueOrErrno(.rename, path: to) { from.withCString { from in to.withCString { Glibc.rename(from, $0) } } }.map { _ in () }
    }

    /// The corresponding C function is `unlink`.
    static func unlink(_ path: String) -> Result<Void, Errno> {
        valueOrErrno(.unlink, path: path) { path.withCString { Glibc.unlink($0) } }.map { _ in () }
    }

    /// The corresponding C function is `mkdir`.
    static func mkdir(_ path: String, mode: mode_t) -> Result<Void, Errno> {
        valueOrErrno(.mkdir, path: path) { path.withCString { Glibc.mkdir($0, mode) } }.map { _ in () }
    }

    /// The corresponding C function is `rmdir`.
    static func rmdir(_ path: String) -> Result<Void, Errno> {
        valueOrErrno(.rmdir, path: path) { path.withCString { Glibc.rmdir($0) } }.map { _ in () }
    }

    /// `LOCK_EX`, `LOCK_SH`, `LOCK_UN`, optionally with `LOCK_NB`. The corresponding C function
    /// is `flock`.
    static func flock(_ fd: FileDescriptor, _ operation: Int32, path: String) -> Result<Void, Errno> {
        valueOrErrno(.flock, path: path) { systemFlock(fd.rawValue, operation) }.map { _ in () }
    }

    /// The corresponding C function is `ftruncate`.
    static func ftruncate(_ fd: FileDescriptor, to size: Int64, path: String) -> Result<Void, Errno> {
        valueOrErrno(.ftruncate, path: path) { Glibc.ftruncate(fd.rawValue, off_t(size)) }.map { _ in () }
    }

    /// The status of an open file (`fd`) or of a path; of a link itself, not what it points to,
    /// unless `followSymlinks`. The corresponding C functions are `fstat`, `stat` and `lstat`.
    static func stat(_ fd: FileDescriptor?, path: String, followSymlinks: Bool = true) -> Result<Glibc.stat, Errno> {
        var st = Glibc.stat()
        return valueOrErrno(.stat, path: path) {
            if let fd { return fstat(fd.rawValue, &st) }
            return path.withCString { followSymlinks ? systemStat($0, &st) : lstat($0, &st) }
        }.map { _ in st }
    }

    /// The status of `name` in the directory open on `directory` (one name looked up, not a whole
    /// path), following a symbolic link. The corresponding C function is `fstatat`; `path` is the
    /// whole path, for the seam.
    static func stat(named name: String, in directory: FileDescriptor, path: String) -> Result<Glibc.stat, Errno> {
        var st = Glibc.stat()
        return valueOrErrno(.stat, path: path) { name.withCString { fstatat(directory.rawValue, $0, &st, 0) } }.map { _ in st }
    }

    /// The corresponding C function is `link`.
    static func link(_ from: String, _ to: String) -> Result<Void, Errno> {
        valueOrErrno(.link, path: to) { from.withCString { from in to.withCString { Glibc.link(from, $0) } } }.map { _ in () }
    }
}

// C functions whose names the enum's methods (and Glibc's structs of the same name) shadow.
private func systemFlock(_ fd: Int32, _ operation: Int32) -> Int32 { flock(fd, operation) }
private func systemStat(_ path: UnsafePointer<CChar>, _ st: inout stat) -> Int32 { stat(path, &st) }
