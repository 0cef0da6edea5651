import Synchronization
import SystemPackage

#if canImport(Glibc)
    import Glibc
#endif

/// The one seam through which tests make durable operations fail: a crash at a named step, or a
/// system call that returns a chosen errno.
///
/// **Crash points.** Set `SPENDLOG_CRASH_AT=<point>` (or `<point>@N` for the N-th time the point
/// is reached) in a child process's environment; when that step is reached the process kills
/// itself with SIGKILL, exactly as an out-of-memory kill or a power cut would stop it between two
/// system calls. Points are named `<operation>.<step>`, e.g. `seal.afterRename`; docs/FORMAT.md
/// lists them.
///
/// **Forced errors.** Every call of `Syscall` asks `forcedErrno(_:path:)` first. A test arms
/// a failure in its own process with `failing(_:with:onCall:times:under:_:)` (counted only for
/// paths under its own folder, so tests running in parallel do not see each other's failures),
/// or in a child process with `SPENDLOG_FAIL_AT=<call>[@N]=<ERRNO>[:<path part>]`, e.g.
/// `fsync@2=EIO` or `rename=ENOSPC:/budget/sidecar` (`fsync` names the `fdatasync` of segment
/// appends too).
///
/// Compiled only into debug builds (`SPENDLOG_FAULT_POINTS`, set in Package.swift): in a release
/// build `reach` is empty, no system call asks, and the variables are never read.
public enum FaultInjection {
    /// Marks that the operation reached `point`.
    @inline(__always)
    public static func reach(_ point: StaticString) {
        #if SPENDLOG_FAULT_POINTS
            guard let target = Crash.target else { return }
            Crash.reach(point.description, target: target)
        #endif
    }

    #if SPENDLOG_FAULT_POINTS
        private enum Crash {
            static let target: (name: String, count: Int)? = {
                guard let raw = getenv("SPENDLOG_CRASH_AT") else { return nil }
                let text = String(cString: raw)
                guard !text.isEmpty else { return nil }
                if let at = text.lastIndex(of: "@"), let n = Int(text[text.index(after: at)...]) {
                    return (String(text[..<at]), n)
                }
                return (text, 1)
            }()

            nonisolated(unsafe) static var hits = 0
            static let lock = PThreadMutex()

            static func reach(_ point: String, target: (name: String, count: Int)) {
                guard point == target.name else { return }
                let n = lock.withLock { () -> Int in
                    hits += 1
                    return hits
                }
                if n == target.count { kill(getpid(), SIGKILL) }
            }
        }

        /// One armed failure: the `call`-th to `call + times - 1`-th calls of `syscall` on a path
        /// containing `pathPart` fail with `errno`.
        struct ForcedFailure {
            var syscall: Syscall.Name
            var errno: Errno
            var call: Int
            var times: Int
            var pathPart: String
            var seen = 0
            /// Prefix match (a test's folder) or substring match (from the environment).
            var prefixOnly: Bool

            func matches(_ path: String) -> Bool {
                if pathPart.isEmpty { return true }
                return prefixOnly ? path.hasPrefix(pathPart) : path.contains(pathPart)
            }
        }

        private static let failuresLock = PThreadMutex()
        nonisolated(unsafe) private static var failures: [Int: ForcedFailure] = [:]
        nonisolated(unsafe) private static var nextFailure = 0
        /// Read without the lock on every system call: stale only while a test arms or disarms.
        private static let armed = Atomic<Bool>(false)
        private static let fromEnvironment: Void = {
            guard let raw = getenv("SPENDLOG_FAIL_AT"), let failure = parse(String(cString: raw)) else { return }
            failures[-1] = failure
            armed.store(true, ordering: .releasing)
        }()

        /// `fsync@2=EIO:/budget/` → fail the 2nd fsync of a path containing `/budget/` with EIO.
        static func parse(_ text: String) -> ForcedFailure? {
            let (spec, part) =
                text.firstIndex(of: ":").map { (text[..<$0], String(text[text.index(after: $0)...])) }
                ?? (Substring(text), "")
            let sides = spec.split(separator: "=")
            guard sides.count == 2, let code = errnoNamed[String(sides[1])] else { return nil }
            let head = sides[0].split(separator: "@")
            guard let name = Syscall.Name(rawValue: String(head[0])) else { return nil }
            let call = head.count > 1 ? Int(head[1]) ?? 1 : 1
            return ForcedFailure(syscall: name, errno: code, call: call, times: 1, pathPart: part, prefixOnly: false)
        }

        static let errnoNamed: [String: Errno] = [
            "EIO": .ioError, "ENOSPC": .noSpace, "EDQUOT": .diskQuotaExceeded, "EACCES": .permissionDenied,
            "EPERM": .notPermitted, "EROFS": .readOnlyFileSystem, "ENOENT": .noSuchFileOrDirectory,
            "EEXIST": .fileExists, "EMFILE": .tooManyOpenFiles, "EINTR": .interrupted,
            "EAGAIN": .resourceTemporarilyUnavailable,
        ]

        /// The errno the next call of `syscall` on `path` must fail with, if a test armed one.
        @inline(__always)
        static func forcedErrno(_ syscall: Syscall.Name, path: String) -> Errno? {
            _ = fromEnvironment
            guard armed.load(ordering: .acquiring) else { return nil }
            return failuresLock.withLock { () -> Errno? in
                for key in failures.keys.sorted() {
                    var failure = failures[key]!
                    guard failure.syscall == syscall, failure.matches(path) else { continue }
                    failure.seen += 1
                    failures[key] = failure
                    if failure.seen >= failure.call && failure.seen < failure.call + failure.times {
                        return failure.errno
                    }
                }
                return nil
            }
        }

        /// Runs `body` with the `call`-th (and the `times - 1` following) calls of `syscall` on a
        /// path under `folder` failing with `errno`. Returns how many calls failed that way.
        @discardableResult
        static func failing(
            _ syscall: Syscall.Name, with errno: Errno, onCall call: Int = 1, times: Int = 1, under folder: String,
            _ body: () throws -> Void
        ) rethrows -> Int {
            let key = failuresLock.withLock { () -> Int in
                nextFailure += 1
                failures[nextFailure] = ForcedFailure(
                    syscall: syscall, errno: errno, call: call, times: times, pathPart: folder, prefixOnly: true)
                armed.store(true, ordering: .releasing)
                return nextFailure
            }
            defer {
                failuresLock.withLock {
                    failures[key] = nil
                    armed.store(!failures.isEmpty, ordering: .releasing)
                }
            }
            try body()
            return failuresLock.withLock {
                let seen = failures[key]?.seen ?? 0
                return max(0, min(seen - call + 1, times))
            }
        }
    #endif
}
