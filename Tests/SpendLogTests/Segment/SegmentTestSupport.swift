import Dispatch
import Foundation
import Testing

@testable import SpendLog

func sampleRecord(_ i: Int, at time: String = "2026-11-23T10:00:00.000Z", project: String = "etl") -> UsageRecord {
    var record = UsageRecord(
        timestamp: Timestamp(millisecondsSinceEpoch: Timestamp.parse(time)!.millisecondsSinceEpoch + Int64(i)),
        project: project, model: "gpt-4.1", inputTokens: Int64(100 + i), outputTokens: Int64(i),
        cost: Money(nanos: Int64(1_000 * (i + 1))))
    record.task = "t\(i)"
    return record
}

/// Every record of the log, in reading order, failing the test on any corruption.
func readAll(_ log: LogDirectory) throws -> [UsageRecord] {
    var records: [UsageRecord] = []
    var problems: [SpendLogError] = []
    try LogReader(directory: log).forEachRecord(onCorruption: { problems.append($0) }) { records.append($0) }
    #expect(problems.isEmpty, "\(problems)")
    return records
}

func filesIn(_ folder: String) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted()
}

func allSegmentFiles(_ log: LogDirectory) -> [String] {
    filesIn(log.segmentsPath).flatMap { day in filesIn(log.segmentsPath + "/" + day).map { day + "/" + $0 } }
}

extension FileManager {
    func bytes(_ path: String) -> [UInt8] { [UInt8](contents(atPath: path) ?? Data()) }
}

func writeBytes(_ bytes: [UInt8], to path: String) {
    writeFile(path, Data(bytes))
}

/// Runs `body(0..<count)` on `count` threads at once and waits for all of them.
func onThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
    let group = DispatchGroup()
    for i in 0..<count {
        group.enter()
        Thread {
            body(i)
            group.leave()
        }.start()
    }
    group.wait()
}

/// Results gathered from many threads.
final class Outcomes: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [SpendLogError?] = []

    func add(_ error: (any Error)?) {
        lock.lock()
        defer { lock.unlock() }
        items.append(error.map { $0 as? SpendLogError ?? SpendLogError(code: .io, message: "\($0)") })
    }

    var all: [SpendLogError?] {
        lock.lock()
        defer { lock.unlock() }
        return items
    }
}
