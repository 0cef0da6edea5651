#if canImport(Glibc)
    import Glibc
#endif

/// A thread of its own for work that blocks — `write`, `fsync`, `flock`, reading segments — so
/// that it never occupies a thread of Swift concurrency's cooperative pool. Jobs run one at a
/// time, in the order they were submitted; an `async` caller suspends until its job has run.
final class BlockingThread: @unchecked Sendable {
    private let condition = ConditionVariable()
    // Guarded by `condition`'s mutex.
    private var jobs: [@Sendable () -> Void] = []
    private var stopping = false

    init() {
        BlockingThread.start { [self] in loop() }
    }

    /// Runs `body` on the thread and returns its result once it has run.
    func run<T: Sendable, Failure: Error>(_ body: @escaping @Sendable () throws(Failure) -> T) async throws(Failure)
        -> T
    {
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<T, Failure>, Never>) in
            submit {
                do throws(Failure) {
                    continuation.resume(returning: .success(try body()))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
        }
        return try result.get()
    }

    /// Queues `job`. After ``stop()`` the job still runs: the thread ends once its queue is empty.
    func submit(_ job: @escaping @Sendable () -> Void) {
        condition.lock()
        jobs.append(job)
        condition.broadcast()
        condition.unlock()
    }

    /// Lets the thread end after the jobs queued so far.
    func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        condition.unlock()
    }

    private func loop() {
        while true {
            condition.lock()
            while jobs.isEmpty && !stopping { condition.wait() }
            if jobs.isEmpty {
                condition.unlock()
                return
            }
            let batch = jobs
            jobs.removeAll()
            condition.unlock()
            for job in batch { job() }
        }
    }

    /// Starts a detached pthread running `body`.
    static func start(_ body: @escaping @Sendable () -> Void) {
        guard let thread = startThread(body) else { preconditionFailure("could not start a thread (pthread_create failed)") }
        pthread_detach(thread)
    }
}
