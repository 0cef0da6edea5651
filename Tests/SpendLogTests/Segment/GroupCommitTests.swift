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
