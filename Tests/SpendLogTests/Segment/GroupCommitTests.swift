import Foundation
import SystemPackage
import Testing

@testable import SpendLog

/// ``GroupCommit`` on its own, over real files, with fsync failures forced through the seam.
@Suite struct GroupCommitTests {
    func files(_ temp: TemporaryDirectory, _ count: Int) throws -> [OwnedDescriptor] {
        try (0..<count).map { i in
            let path = temp.path + "/f\(i)"
            let fd = try FileSystem.open(path, O_RDWR | O_CREAT)
            try FileSystem.writeAll(fd, Array("line \(i)\n".utf8), path: path)
            return OwnedDescriptor(fd, path: path)
        }
    }

    @Test func concurrentCommitsAllReturnAfterTheirFsync() throws {
        let temp = TemporaryDirectory()
        let commit = GroupCommit(maxRecords: 4, maxDelayMs: 20)
        let targets = try files(temp, 8)
        let outcomes = Outcomes()
        onThreads(8) { i in
            do {
                try commit.commit([targets[i]])
                outcomes.add(nil)
            } catch {
                outcomes.add(error)
            }
        }
        #expect(outcomes.all.count == 8)
        #expect(outcomes.all.allSatisfy { $0 == nil })
        #expect(commit.failedSync == nil)
    }

    /// A sync of the same file outside the group commit (a writer's take-back) that fails: a
    /// commit whose own sync ended while it ran fails with its error, since the kernel reports a
    /// writeback error to one sync only. (Its sync is given time to end first; the commit fails
    /// whenever it ends.)
    @Test func aCommitWaitsForASyncOutsideAndFailsWithIt() throws {
        let temp = TemporaryDirectory()
        let commit = GroupCommit(maxRecords: 1, maxDelayMs: 0)
        let targets = try files(temp, 1)
        let outcomes = Outcomes()
        commit.beginOutsideSync()
        let waiting = Thread {
            do {
                try commit.commit([targets[0]])
                outcomes.add(nil)
            } catch {
                outcomes.add(error)
            }
        }
        waiting.start()
        usleep(200_000)
        #expect(outcomes.all.isEmpty, "a commit counted while a sync of its file ran outside")
        commit.endOutsideSync(failure: SpendLogError.io("synchronize", path: targets[0].path, errno: .ioError))
        let started = Date()
        while outcomes.all.isEmpty && Date().timeIntervalSince(started) < 60 { usleep(1000) }
        #expect(outcomes.all.count == 1)
        #expect(outcomes.all.first??.errno == .ioError)
        #expect(commit.failedSync?.errno == .ioError)
    }

    /// The fsync of the second file of a batch fails: every commit waiting on that batch fails,
    /// and so does every later one, although the next fsync would succeed.
    @Test func aFailedFsyncFailsTheBatchAndEveryLaterCommit() throws {
        let temp = TemporaryDirectory()
        let commit = GroupCommit(maxRecords: 2, maxDelayMs: 500)
        let targets = try files(temp, 3)
        let outcomes = Outcomes()
        let failed = FaultInjection.failing(.fsync, with: .noSpace, onCall: 2, under: temp.path) {
            onThreads(2) { i in
                do {
                    try commit.commit([targets[i]])
                    outcomes.add(nil)
                } catch {
                    outcomes.add(error)
                }
            }
        }
        #expect(failed == 1)
        #expect(outcomes.all.count == 2)
        #expect(outcomes.all.allSatisfy { $0?.errno == .noSpace })
        #expect(commit.failedSync?.errno == .noSpace)
        // A later commit fails with the same error: its bytes are not durable
        // (the writer takes them back, and says so).
        #expect {
            try commit.commit([targets[2]])
        } throws: { error in
            (error as? SpendLogError)?.errno == .noSpace
        }
    }
}
