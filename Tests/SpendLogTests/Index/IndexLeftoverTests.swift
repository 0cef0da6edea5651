import Foundation
import Testing

@testable import SpendLog

/// `index/CURRENT.tmp-<pid>`: the temporary of a CURRENT replace, left by a run killed between
/// writing and renaming it.
@Suite struct IndexLeftoverTests {
    @Test func theNextIndexRunRemovesCurrentTemporariesOfKilledRuns() throws {
        let temp = TemporaryDirectory()
        let log = try temp.log()
        let writer = LogWriter(directory: log, options: WriterOptions(fsync: .none))
        try writer.append(contentsOf: (0..<3).map { sampleRecord($0) })
        try writer.sealAll()
        _ = try Indexer(directory: log).run()
        // A run that died: its pid is gone. And one whose pid another process has since taken
        // (this one): it is dead too, as only a run holding index/lock writes these files.
        let dead = try runProcess("/bin/sh", ["-c", "echo $$"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let leftovers = ["CURRENT.tmp-\(dead)", "CURRENT.tmp-\(getpid())"]
        for name in leftovers { writeFile(log.indexPath + "/" + name, Data("gen-000009\n".utf8)) }
        // Files of other kinds are not the index's to remove.
        let others = ["CURRENT.tmp-notapid", "notes.txt"]
        for name in others { writeFile(log.indexPath + "/" + name, Data("keep\n".utf8)) }

        try LogWriter(directory: log, options: WriterOptions(fsync: .none)).append(sampleRecord(9))
        try writer.sealAll()
        let report = try Indexer(directory: log).run()
        #expect(report.recordsCovered == 4)
        let remaining = filesIn(log.indexPath)
        for name in leftovers { #expect(!remaining.contains(name), "\(remaining)") }
        for name in others { #expect(remaining.contains(name), "\(remaining)") }
        #expect(try IndexGenerations(indexPath: log.indexPath).current() == report.generation)
    }

    /// A run with nothing new to index still clears them.
    @Test func anUpToDateIndexRunAlsoRemovesThem() throws {
        let temp = TemporaryDirectory()
        let log = try temp.log()
        let writer = LogWriter(directory: log, options: WriterOptions(fsync: .none))
        try writer.append(sampleRecord(0))
        try writer.sealAll()
        _ = try Indexer(directory: log).run()
        writeFile(log.indexPath + "/CURRENT.tmp-123456", Data("gen-000002\n".utf8))
        let report = try Indexer(directory: log).run()
        #expect(report.generation == nil)
        #expect(!filesIn(log.indexPath).contains("CURRENT.tmp-123456"))
    }
}

/// The files of a new generation are fsynced in batches, many at once, before its manifest and
/// `CURRENT`: a failed fsync of any of them (whichever thread makes it) fails the run, the current
/// generation stays, and the next run indexes what it did not.
@Suite struct IndexSyncTests {
    @Test func aFailedFsyncOfAnyNewFileLeavesTheCurrentGeneration() throws {
        // 200 days: more files than a batch, so that some fsyncs are made by a worker's batch.
        for call in [1, 2, 5, 9, 140, 190] {
            let temp = TemporaryDirectory()
            let log = try temp.log()
            let writer = LogWriter(directory: log, options: WriterOptions(fsync: .none))
            try writer.append(contentsOf: (0..<3).map { sampleRecord($0) })
            try writer.sealAll()
            let first = try Indexer(directory: log).run()
            let records = (3..<203).map { i in
                var record = sampleRecord(i)
                record.timestamp = Timestamp(millisecondsSinceEpoch: record.timestamp.millisecondsSinceEpoch - Int64(i) * 86_400_000)
                return record
            }
            try writer.append(contentsOf: records)
            try writer.sealAll()
            var failure: SpendLogError?
            let failed = FaultInjection.failing(.fsync, with: .ioError, onCall: call, under: log.indexPath) {
                do throws(SpendLogError) { _ = try Indexer(directory: log).run() } catch { failure = error }
            }
            #expect(failed == 1, "fsync \(call)")
            let error = try #require(failure, "fsync \(call)")
            #expect(error.message.contains(log.indexPath), "\(error.message)")
            #expect(try IndexGenerations(indexPath: log.indexPath).current() == first.generation, "fsync \(call)")
            let next = try Indexer(directory: log).run()
            #expect(next.recordsCovered == 203, "fsync \(call)")
            let q = StatsQuery(groupBy: [.project, .day])
            #expect(try Query(directory: log).stats(q).rows == (try Query(directory: log).statsByScanning(q)).rows)
        }
    }
}
