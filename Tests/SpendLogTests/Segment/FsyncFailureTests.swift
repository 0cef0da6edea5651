import Dispatch
import Foundation
import SystemPackage
import Testing

@testable import SpendLog

/// A failed fsync (EIO, ENOSPC) fails every append it covered, whose lines are taken back out of
/// the log, and the writer refuses further appends: after a failed fsync the kernel may have
/// dropped the dirty pages, so a later fsync that succeeds proves nothing about them
/// (PostgreSQL's "fsyncgate").
@Suite struct FsyncFailureTests {
    /// A log whose day segment exists already, so that the next fsyncs are the appends' own.
    func primedWriter(_ temp: TemporaryDirectory, fsync: FsyncPolicy) throws -> (LogWriter, String) {
        var options = WriterOptions(fsync: fsync)
        options.batchMaxDelayMs = 200
        options.batchMaxRecords = 8
        let writer = LogWriter(directory: try temp.log(), options: options)
        try writer.append(sampleRecord(0))
        let segment = try #require(try LogReader(directory: writer.directory).segments().first)
        return (writer, segment.path)
    }

    @Test func aFailedGroupCommitFailsEveryAppendItCovered() throws {
        let temp = TemporaryDirectory()
        let (writer, segment) = try primedWriter(temp, fsync: .batch)
        let outcomes = Outcomes()
        let failed = FaultInjection.failing(.fsync, with: .ioError, onCall: 1, under: temp.path) {
            onThreads(8) { i in
                do {
                    try writer.append(sampleRecord(1 + i))
                    outcomes.add(nil)
                } catch {
                    outcomes.add(error)
                }
            }
        }
        #expect(failed == 1)
        let errors = outcomes.all
        #expect(errors.count == 8)
        #expect(errors.filter { $0 == nil }.count == 0, "appends acknowledged without a durable fsync")
        // Each error tells the truth: this writer was the segment's only appender, so every
        // append the failed fsync covered (or that came after it) was taken back out of the log.
        for case let error? in errors {
            #expect(error.errno == .ioError)
            #expect(error.message.hasPrefix("Nothing was written"), "\(error.message)")
            #expect(error.possiblyWritten.isEmpty)
        }
        #expect(FileManager.default.bytes(segment).split(separator: 0x0A).count == 1)
        #expect(try readAll(writer.directory).map(\.task) == ["t0"])
    }

    /// Batch: an append waits for its group commit while another fails to write and is taken
    /// back, and the sync of that take-back fails. The kernel reports a writeback error once, so
    /// the group commit's own sync of the same file could then succeed with the waiting append's
    /// pages lost: the waiting append fails with the take-back's error instead of being
    /// acknowledged, and the writer appends nothing more.
    @Test func aFailedSyncOfATakeBackFailsTheAppendsWaitingOnTheSameFile() throws {
        let temp = TemporaryDirectory()
        var options = WriterOptions(fsync: .batch)
        options.batchMaxDelayMs = 60_000  // the waiting append's own commit would come a minute on
        options.batchMaxRecords = 512
        let writer = LogWriter(directory: try temp.log(), options: options)
        let outcomes = Outcomes()
        let waiting = Thread {
            do {
                try writer.append(sampleRecord(1))
                outcomes.add(nil)
            } catch {
                outcomes.add(error)
            }
        }
        waiting.start()
        // Once its line is in the segment, the other append fails to write, and the sync of its
        // take-back fails.
        let started = Date()
        while (try? readAll(writer.directory).count) != 1 && Date().timeIntervalSince(started) < 30 { usleep(1000) }
        #expect(try readAll(writer.directory).count == 1)
        let syncs = FaultInjection.failing(.fsync, with: .ioError, under: temp.path) {
            FaultInjection.failing(.write, with: .noSpace, under: temp.path) {
                #expect(throws: SpendLogError.self) { try writer.append(sampleRecord(2)) }
            }
        }
        #expect(syncs == 1)
        while outcomes.all.isEmpty && Date().timeIntervalSince(started) < 120 { usleep(1000) }
        let outcome = try #require(outcomes.all.first)
        #expect(outcome?.errno == .ioError, "an append acknowledged after the sync of its file failed")
        #expect(throws: SpendLogError.self) { try writer.append(sampleRecord(3)) }
        #expect(try readAll(writer.directory).isEmpty)
    }

    @Test func aWriterRefusesToAppendAfterAFailedFsyncAndANewOneAppends() throws {
        for policy in [FsyncPolicy.always, .batch] {
            let temp = TemporaryDirectory()
            let (writer, segment) = try primedWriter(temp, fsync: policy)
            let record = sampleRecord(1)
            let error = FaultInjection.failing(.fsync, with: .noSpace, under: temp.path) {
                #expect(throws: SpendLogError.self) { try writer.append(record) }
            }
            #expect(error == 1)
            do {
                try writer.append(record)
                Issue.record("\(policy): the writer appended after a failed fsync")
            } catch {
                #expect(error.errno == .noSpace, "\(policy)")
                #expect(error.message.contains("Open a new writer"), "\(policy): \(error.message)")
            }
            // The failed append was taken back out of the segment, and the refused one wrote
            // nothing.
            let lines = FileManager.default.bytes(segment).split(separator: 0x0A)
            #expect(lines.count == 1, "\(policy)")
            // A new writer starts afresh, in a new segment (the one lines were taken back from is
            // retired and sealed as it is): its own fsyncs prove its own records.
            let fresh = LogWriter(directory: writer.directory, options: writer.options)
            try fresh.append(sampleRecord(2))
            #expect(try readAll(writer.directory).map(\.task) == ["t0", "t2"])
            let segments = try LogReader(directory: writer.directory).segments()
            #expect(segments.map(\.sealed) == [true, false], "\(policy)")
        }
    }
}
