import Foundation
import Testing

@testable import SpendLog

/// A seal killed after its rename and before its unlink leaves `<stem>.jsonl.zst` beside
/// `<stem>.jsonl`. A writer that still held `<stem>.jsonl` open saw a file that was not unlinked,
/// kept appending to it and acknowledged; readers take the `.zst` (docs/FORMAT.md, "Reading"), and
/// the next writer's recovery removes the `.jsonl`: acknowledged records were lost (found by the
/// crash loop, `CrashLoopTests`). The writer now treats a shadowed file as sealed.
@Suite struct InterruptedSealTests {
    @Test(arguments: ["seal.afterRename", "seal.afterRenameSync"])
    func aWriterHoldingTheSegmentOpenLosesNothingWhenASealDiesAfterItsRename(point: String) throws {
        let temp = TemporaryDirectory()
        let log = try temp.log()
        let writer = LogWriter(directory: log, options: WriterOptions(fsync: .none))
        let first = sampleRecord(1)
        try writer.append(first)
        let crashed = try spendlog(["seal", "--dir", log.path], environment: ["SPENDLOG_CRASH_AT": point])
        #expect(crashed.status != 0, "the seal was not killed at \(point)")
        let second = sampleRecord(2)
        try writer.append(second)  // acknowledged
        let readBack = try readAll(log).map(\.id)
        #expect(readBack == [first.id, second.id])
        try LogWriter(directory: log).append(sampleRecord(3))  // recovery removes the shadowed .jsonl
        let afterRecovery = try readAll(log).map(\.id)
        #expect(afterRecovery == [first.id, second.id, afterRecovery.last!])
    }
}
