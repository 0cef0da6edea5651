#if canImport(Glibc)
    import Glibc
#endif

/// The one seam through which tests crash the process at a named step of a durable operation.
///
/// Set `SPENDLOG_CRASH_AT=<point>` (or `<point>@N` for the N-th time the point is reached) in a
/// child process's environment; when that step is reached the process kills itself with SIGKILL,
/// exactly as an out-of-memory kill or a power cut would stop it between two system calls. Points
/// are named `<operation>.<step>`, e.g. `seal.afterRename`; docs/FORMAT.md lists them.
///
/// Compiled only into debug builds (`SPENDLOG_FAULT_POINTS`, set in Package.swift): in a release
/// build `reach` is empty and the variable is never read.
public enum FaultInjection {
    /// Whether this build has fault points at all.
    public static var isCompiledIn: Bool {
        #if SPENDLOG_FAULT_POINTS
            true
        #else
            false
        #endif
    }

    /// Marks that the operation reached `point`.
    @inline(__always)
    public static func reach(_ point: StaticString) {
        #if SPENDLOG_FAULT_POINTS
            guard let target = Armed.target else { return }
            Armed.reach(point.description, target: target)
        #endif
    }

    #if SPENDLOG_FAULT_POINTS
        private enum Armed {
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
    #endif
}

/// A plain pthread mutex, for the few places that need one without Swift concurrency.
final class PThreadMutex: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)

    init() { pthread_mutex_init(mutex, nil) }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    func lock() { pthread_mutex_lock(mutex) }
    func unlock() { pthread_mutex_unlock(mutex) }

    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        lock()
        defer { unlock() }
        return try body()
    }
}
