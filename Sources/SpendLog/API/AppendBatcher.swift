/// Group commit for ``SpendLog``'s appends: every append waiting when its thread comes round is
/// written by one ``LogWriter/append(contentsOf:)`` — one `write()` per day, one fsync (per the
/// writer's policy) — and only then is each of them answered.
///
/// The writer thread takes everything queued (up to ``WriterOptions/batchMaxRecords`` records),
/// writes it, answers every waiter, and takes the next batch. Appends that arrive while a batch
/// is being written and synced wait for the next one, which therefore grows with the load: a
/// lone append costs one fsync, a thousand concurrent ones a handful.
final class AppendBatcher: @unchecked Sendable {
    /// Written, and (``LogWriter/appendOnce(contentsOf:)`` only) already recorded.
    typealias Answer = CheckedContinuation<Result<(written: [UsageRecord], already: [UsageRecord]), SpendLogError>, Never>

    struct Pending {
        var records: [UsageRecord]
        /// Written with ``LogWriter/appendOnce(contentsOf:)``, in a commit of its own: its check
        /// reads the day under the day folder's lock, which a shared commit would hold for all.
        var once: Bool
        var answer: Answer
    }

    /// What the writer thread has done, for tests and monitoring.
    struct Counts: Sendable {
        /// Appends queued (each ``SpendLog/append(_:)`` or ``SpendLog/append(contentsOf:)`` call).
        var queued = 0
        /// Appends answered, written or failed.
        var answered = 0
        /// Calls of ``LogWriter/append(contentsOf:)``: the group commits (one fsync each with the
        /// `always` and `batch` policies when every record is of one UTC day).
        var commits = 0
    }

    private let writer: LogWriter
    private let maxRecords: Int
    private let condition = ConditionVariable()
    // Guarded by `condition`'s mutex.
    private var queue: [Pending] = []
    private var stopping = false
    private var stopped = false
    /// ``stop()`` calls waiting for the thread to end; resumed by it.
    private var stopWaiters: [CheckedContinuation<Void, Never>] = []
    private var counts = Counts()

    init(writer: LogWriter) {
        self.writer = writer
        self.maxRecords = max(1, writer.options.batchMaxRecords)
        BlockingThread.start { [self] in loop() }
    }

    var currentCounts: Counts {
        condition.lock()
        defer { condition.unlock() }
        return counts
    }

    /// Appends `records` (all or nothing) in the next group commit; returns them once durable.
    /// An invalid record is refused here, before it is queued: it never fails the commit it would
    /// have shared. With `once`, records whose id is in the log already are not written again
    /// and are returned as `already`.
    func append(_ records: [UsageRecord], once: Bool) async throws(SpendLogError)
        -> (written: [UsageRecord], already: [UsageRecord])
    {
        try LogWriter.check(records)
        let result = await withCheckedContinuation { (answer: Answer) in
            condition.lock()
            if stopping {
                condition.unlock()
                answer.resume(returning: .failure(AppendBatcher.closed))
                return
            }
            queue.append(Pending(records: records, once: once, answer: answer))
            counts.queued += 1
            condition.broadcast()
            condition.unlock()
        }
        return try result.get()
    }

    /// Refuses new appends, lets the queued ones be written, and returns once they have been.
    func stop() async {
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            condition.lock()
            stopping = true
            if stopped {
                condition.unlock()
                done.resume()
                return
            }
            stopWaiters.append(done)
            condition.broadcast()
            condition.unlock()
        }
    }

    /// Refuses new appends; the thread ends once the queued ones are written.
    func finish() {
        condition.lock()
        stopping = true
        condition.broadcast()
        condition.unlock()
    }

    static let closed = SpendLogError(
        code: .invalidInput, message: "Nothing was written: this SpendLog was closed. Open a new one to append.")

    private func loop() {
        while true {
            condition.lock()
            while queue.isEmpty && !stopping { condition.wait() }
            if queue.isEmpty {
                stopped = true
                let waiters = stopWaiters
                stopWaiters = []
                condition.unlock()
                for waiter in waiters { waiter.resume() }
                return
            }
            // Whole appends, up to the bound (a single larger one goes alone); an append-once
            // goes alone.
            var batch: [Pending] = []
            var size = 0
            while let next = queue.first,
                batch.isEmpty || (!next.once && !batch[0].once && size + next.records.count <= maxRecords)
            {
                batch.append(queue.removeFirst())
                size += next.records.count
            }
            counts.commits += 1
            condition.unlock()

            write(batch)

            condition.lock()
            counts.answered += batch.count
            condition.unlock()
        }
    }

    private func write(_ batch: [Pending]) {
        if batch.count == 1, batch[0].once {
            let pending = batch[0]
            do throws(SpendLogError) {
                let receipt = try writer.appendOnce(contentsOf: pending.records)
                pending.answer.resume(returning: .success((receipt.records, receipt.alreadyRecorded)))
            } catch {
                pending.answer.resume(returning: .failure(error))
            }
            return
        }
        do throws(SpendLogError) {
            _ = try writer.append(contentsOf: batch.flatMap(\.records))
        } catch {
            // The records were checked when queued, so this is the log failing: the writer took
            // back what it could, and its error says whether anything may be in the log, by id
            // (ids of the other appends of the batch included).
            for pending in batch { pending.answer.resume(returning: .failure(error)) }
            return
        }
        for pending in batch { pending.answer.resume(returning: .success((pending.records, []))) }
    }
}
