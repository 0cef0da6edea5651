/// One fsync shared by every append waiting on it (``FsyncPolicy/batch``, docs/FORMAT.md,
/// "Durability").
///
/// An appender registers the files it wrote and waits. If no fsync is running, it leads the next
/// one: it waits for more appenders within the bounds, takes every file written so far, fsyncs
/// them, and wakes everyone its fsync covered. An append returns only after an fsync that began
/// after its write has succeeded.
///
/// A failed fsync fails every append it covered, and every later one: once fsync has reported an
/// error, the kernel may have dropped the unwritten pages and marked them clean, so a retried
/// fsync that succeeds proves nothing about them. The commit stays failed until its writer is
/// replaced (``LogWriter`` opens a new one).
final class GroupCommit: @unchecked Sendable {
    let maxRecords: Int
    let maxDelayMs: Int

    private let condition = ConditionVariable()
    // Guarded by `condition`'s mutex.
    private var writtenGeneration: UInt64 = 0
    private var syncedGeneration: UInt64 = 0
    private var syncing = false
    private var firstUnsyncedAtMs: Int64 = 0
    private var unsynced: [ObjectIdentifier: OwnedDescriptor] = [:]
    private var failure: SpendLogError?
    /// Syncs of the same files running outside the group commit (``beginOutsideSync()``).
    private var outsideSyncs = 0

    init(maxRecords: Int, maxDelayMs: Int) {
        self.maxRecords = max(1, maxRecords)
        self.maxDelayMs = max(0, maxDelayMs)
    }

    /// The error of the fsync that failed, once one has.
    var failedSync: SpendLogError? {
        condition.lock()
        defer { condition.unlock() }
        return failure
    }

    /// The generation every write registered up to which an fsync has covered: durable.
    var synced: UInt64 {
        condition.lock()
        defer { condition.unlock() }
        return syncedGeneration
    }

    /// Marks the start of a sync of one of the files outside the group commit (the writer's
    /// take-back, or the cut of a torn tail). The kernel reports a writeback error to the first
    /// sync that asks, so a sync of the group commit that ends while this one runs could succeed
    /// with pages lost: it waits for ``endOutsideSync(failure:)`` before it counts.
    func beginOutsideSync() {
        condition.lock()
        defer { condition.unlock() }
        outsideSyncs += 1
    }

    /// Marks the end of a sync begun with ``beginOutsideSync()``. A `failure` fails every write no
    /// sync has covered yet, and every later one, as a failed sync of the group commit does.
    func endOutsideSync(failure error: SpendLogError?) {
        condition.lock()
        defer { condition.unlock() }
        outsideSyncs -= 1
        if let error, failure == nil { failure = error }
        condition.broadcast()
    }

    /// Returns once an fsync covering `files` (written before this call) has succeeded; throws when
    /// the fsync that covered them failed, or an earlier one did.
    func commit(_ files: [OwnedDescriptor]) throws(SpendLogError) {
        guard !files.isEmpty else { return }
        try wait(for: register(files))
    }

    /// Registers a write to `files` that has just been made, before the next one of its writer:
    /// returns its generation. Generations follow the order of the writer's writes, so a failed
    /// fsync leaves durable exactly the writes up to ``synced``.
    func register(_ files: [OwnedDescriptor]) -> UInt64 {
        condition.lock()
        defer { condition.unlock() }
        if writtenGeneration == syncedGeneration { firstUnsyncedAtMs = Timestamp.now().millisecondsSinceEpoch }
        writtenGeneration += 1
        for file in files { unsynced[ObjectIdentifier(file)] = file }
        if writtenGeneration - syncedGeneration >= UInt64(maxRecords) { condition.broadcast() }
        return writtenGeneration
    }

    /// Returns once an fsync covering generation `mine` has succeeded; throws when the fsync that
    /// covered it failed, or an earlier one did.
    func wait(for mine: UInt64) throws(SpendLogError) {
        condition.lock()
        defer { condition.unlock() }
        if syncedGeneration >= mine { return }
        // The caller's bytes are written already: after a failed fsync they are not durable, and
        // the writer takes them back (the writer refuses appends before writing them).
        if let failure { throw failure }

        while syncedGeneration < mine {
            if let failure { throw failure }
            if syncing {
                condition.wait()
                continue
            }
            // Lead the next commit: wait for more appenders, within the bounds.
            let deadline = firstUnsyncedAtMs + Int64(maxDelayMs)
            while writtenGeneration - syncedGeneration < UInt64(maxRecords) {
                let now = Timestamp.now().millisecondsSinceEpoch
                if now >= deadline { break }
                condition.wait(timeoutMs: deadline - now)
                if syncedGeneration >= mine { return }
                if let failure { throw failure }
            }
            if syncing { continue }
            syncing = true
            let target = writtenGeneration
            let batch = Array(unsynced.values)
            unsynced.removeAll()
            condition.unlock()
            var failedSync: SpendLogError?
            for file in batch where failedSync == nil {
                do { try FileSystem.syncData(file.fd, path: file.path) } catch { failedSync = error }
            }
            condition.lock()
            // A sync of the same files outside (``beginOutsideSync()``) may have taken the error
            // this one did not see: its outcome counts first.
            while outsideSyncs > 0 { condition.wait() }
            syncing = false
            if let failedSync = failedSync ?? failure {
                if failure == nil { failure = failedSync }
                condition.broadcast()
                throw failedSync
            }
            syncedGeneration = max(syncedGeneration, target)
            if writtenGeneration > syncedGeneration { firstUnsyncedAtMs = Timestamp.now().millisecondsSinceEpoch }
            condition.broadcast()
        }
    }
}
