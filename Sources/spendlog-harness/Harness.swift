// A child process for the concurrency and crash tests: appends records through the library in a
// loop, so that tests can run several real writer processes at once and kill them mid-flight.
//
//   spendlog-harness append --dir D --count N --label L [--threads T] [--fsync always|batch|none]
//                           [--days K] [--max-segment-bytes B] [--acks 1]
//
// Each record carries `task` = "<label>-<thread>-<i>" so a test can check that every
// acknowledged append is present exactly once. With `--acks 1`, "acked <task>" goes to stdout
// after each append returns, so a killed run tells which appends were acknowledged.
//
//   spendlog-harness enforce --dir D --count N --seed S [--fsync none] [--min-nanos A] [--max-nanos B]
//                            [--checkpoint-bytes C] [--now T]
//
// Enforced appends (Budget.appendIfWithinLimits) of pseudo-random costs in [A, B] nano-dollars,
// printing "ok <nanos>" or "refused <nanos>" after each.
//
//   spendlog-harness hold --dir D --fields project=p --usd X [--ttl-ms T] [--now T]
//
// Reserves X against the limits as this process, prints the reservation id, and waits to be killed.
//
// `--now` (RFC 3339) is the budget's clock and the records' time, so that a test's windows do not
// depend on the day it runs; without it, the wall clock.
import SpendLog

#if canImport(Glibc)
    import Glibc
#endif

func writeLine(_ fd: Int32, _ text: String) {
    let bytes = Array((text + "\n").utf8)
    _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress!, $0.count) }
}

func fail(_ message: String) -> Never {
    writeLine(2, "spendlog-harness: \(message)")
    exit(2)
}

struct HarnessJob: Sendable {
    var writer: LogWriter
    var label: String
    var count: Int
    var days: Int64
    var printAcks: Bool
    var base: Int64

    func run(thread: Int) {
        for i in 0..<count {
            var record = UsageRecord(
                timestamp: Timestamp(millisecondsSinceEpoch: base - Int64(i) % days * Timestamp.millisecondsPerDay),
                project: "harness", model: "gpt-4.1-mini", inputTokens: Int64(i), outputTokens: 1,
                cost: Money(nanos: 1000 + Int64(i)))
            record.task = "\(label)-\(thread)-\(i)"
            do {
                try writer.append(record)
            } catch {
                fail("\(error)")
            }
            if printAcks { writeLine(1, "acked \(record.task!)") }  // one write(): lines never interleave
        }
    }
}

final class ThreadStart: @unchecked Sendable {
    let job: HarnessJob
    let thread: Int
    init(job: HarnessJob, thread: Int) {
        self.job = job
        self.thread = thread
    }
}

func startThread(_ start: ThreadStart) -> pthread_t {
    var handle = pthread_t()
    let raw = Unmanaged.passRetained(start).toOpaque()
    pthread_create(
        &handle, nil,
        { pointer in
            let start = Unmanaged<ThreadStart>.fromOpaque(pointer!).takeRetainedValue()
            start.job.run(thread: start.thread)
            return nil
        }, raw)
    return handle
}

/// The clock of the budget modes: `--now`, else the wall clock.
func clock(_ options: [String: String]) -> Timestamp {
    guard let text = options["--now"] else { return .now() }
    guard let time = Timestamp.parse(text) else { fail("--now: '\(text)' is not an RFC 3339 time") }
    return time
}

func enforce(_ options: [String: String]) {
    guard let dir = options["--dir"], let count = Int(options["--count"] ?? ""),
        var seed = UInt64(options["--seed"] ?? "")
    else { fail("--dir, --count and --seed are required") }
    let low = Int64(options["--min-nanos"] ?? "") ?? 100_000
    let high = Int64(options["--max-nanos"] ?? "") ?? 1_000_000
    var writerOptions = WriterOptions()
    writerOptions.fsync = FsyncPolicy(rawValue: options["--fsync"] ?? "none") ?? .none
    let now = clock(options)
    do {
        let budget = Budget(directory: try LogDirectory.open(dir), writerOptions: writerOptions)
        if let bytes = options["--checkpoint-bytes"], let value = Int64(bytes) {
            budget.checkpointIntervalBytes = value
        }
        for i in 0..<count {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let nanos = low + Int64((seed >> 33) % UInt64(high - low + 1))
            var record = UsageRecord(
                timestamp: now, project: options["--project"] ?? "harness", model: "gpt-4.1-mini", inputTokens: 10,
                outputTokens: 1,
                cost: Money(nanos: nanos))
            record.task = "\(options["--seed"]!)-\(i)"
            do {
                try budget.appendIfWithinLimits(record, now: now)
                writeLine(1, "ok \(nanos)")
            } catch is LimitExceeded {
                writeLine(1, "refused \(nanos)")
            }
        }
    } catch {
        fail("\(error)")
    }
}

func hold(_ options: [String: String]) -> Never {
    guard let dir = options["--dir"], let fields = options["--fields"], let usd = options["--usd"] else {
        fail("--dir, --fields and --usd are required")
    }
    do {
        let budget = Budget(directory: try LogDirectory.open(dir))
        let reservation = try budget.reserve(
            fields: try LimitScope.parse(fields), amount: try Money.parse(usd),
            ttlMs: Int64(options["--ttl-ms"] ?? "") ?? 3_600_000, now: clock(options))
        writeLine(1, reservation.id)
    } catch {
        fail("\(error)")
    }
    while true { pause() }
}

@main
enum Harness {
    nonisolated static func main() {
        var arguments = Array(CommandLine.arguments.dropFirst())
        let mode = arguments.first ?? ""
        guard ["append", "enforce", "hold"].contains(mode) else {
            fail("usage: spendlog-harness append|enforce|hold --dir D …")
        }
        arguments.removeFirst()
        var options: [String: String] = [:]
        while arguments.count >= 2 {
            options[arguments[0]] = arguments[1]
            arguments.removeFirst(2)
        }
        if mode == "enforce" { return enforce(options) }
        if mode == "hold" { hold(options) }
        guard let dir = options["--dir"], let count = Int(options["--count"] ?? ""), let label = options["--label"]
        else {
            fail("--dir, --count and --label are required")
        }
        var writerOptions = WriterOptions()
        writerOptions.fsync = FsyncPolicy(rawValue: options["--fsync"] ?? "none") ?? .none
        if let ms = options["--batch-delay-ms"], let value = Int(ms) { writerOptions.batchMaxDelayMs = value }
        if let bytes = options["--max-segment-bytes"], let value = Int64(bytes) {
            writerOptions.maxSegmentBytes = value
        }
        let threads = Int(options["--threads"] ?? "1") ?? 1
        do {
            let log = try LogDirectory.open(dir)
            let job = HarnessJob(
                writer: LogWriter(directory: log, options: writerOptions), label: label, count: count,
                days: Int64(options["--days"] ?? "1") ?? 1, printAcks: options["--acks"] == "1",
                base: Timestamp.now().millisecondsSinceEpoch)
            if threads == 1 {
                job.run(thread: 0)
            } else {
                let handles = (0..<threads).map { startThread(ThreadStart(job: job, thread: $0)) }
                for handle in handles { pthread_join(handle, nil) }
            }
        } catch {
            fail("\(error)")
        }
    }
}
