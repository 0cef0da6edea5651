// A child process for the concurrency and crash tests: appends records through the library in a
// loop, so that tests can run several real writer processes at once and kill them mid-flight.
//
//   spendlog-harness append --dir D --count N --label L [--threads T] [--fsync always|batch|none]
//                           [--days K] [--max-segment-bytes B] [--acks 1] [--ack-file PATH]
//                           [--project P] [--now T] [--via plain|enforce|settle] [--checkpoint-bytes C]
//
// Each record carries `task` = "<label>-<thread>-<i>" so a test can check that every
// acknowledged append is present exactly once. With `--acks 1`, "acked <task>" goes to stdout
// after each append returns, so a killed run tells which appends were acknowledged. With
// `--ack-file`, the same line is appended to that file and fsynced before the next append, so
// the acknowledgement outlives the process however it dies. `--via enforce` appends through
// Budget.appendIfWithinLimits, `--via settle` reserves twice the cost and settles it with the
// record (a refusal stops the run with status 3); `--now` is the records' time and the budget's
// clock, else the wall clock.
//
//   spendlog-harness enforce --dir D --count N --seed S [--fsync none] [--min-nanos A] [--max-nanos B] [--quiet 1]
//                            [--checkpoint-bytes C] [--now T]
//
// Enforced appends (Budget.appendIfWithinLimits) of pseudo-random costs in [A, B] nano-dollars,
// printing "ok <nanos>" or "refused <nanos>" after each.
//
//   spendlog-harness hold --dir D --fields project=p --usd X [--ttl-ms T] [--now T]
//
// Reserves X against the limits as this process, prints the reservation id, and waits to be killed.
//
//   spendlog-harness reserve --dir D --count N --seed S [--min-nanos A] [--max-nanos B] [--now T]
//                            [--fsync none]
//
// N rounds of: reserve a pseudo-random amount in [A, B] nano-dollars for `project=harness`; then
// settle it with a record of at most that cost (two rounds in three) or release it. Prints
// "settled <nanos>", "released <nanos>" or "refused <nanos>" after each round.
//
//   spendlog-harness tasks --dir D --count N --tasks T [--fsync always|batch|none]
//
// N appends through the async SpendLog API from T concurrent tasks (N/T each, one record per
// call), as a server recording each request does; prints "<N> appends in <ms> ms, <commits>
// group commits" once every append is acknowledged (durable per the fsync policy).
//
//   spendlog-harness shared --dir D --count N --url-file F [--fsync always|batch|none] [--cost USD]
//
// N enforced appends through one SharedBudget (a budget shared in PostgreSQL; one connection for
// the process), project `harness`; prints "<accepted> accepted <refused> refused in <ms> ms".
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

/// How the `append` mode writes each record.
enum Route: String {
    case plain, enforce, settle
}

struct HarnessJob: Sendable {
    var writer: LogWriter
    var budget: Budget?
    var route: Route
    var label: String
    var project: String
    var count: Int
    var days: Int64
    var printAcks: Bool
    /// Appended to and fsynced after each acknowledged append; -1 for none.
    var ackFile: Int32
    var base: Int64

    func run(thread: Int) {
        let now = Timestamp(millisecondsSinceEpoch: base)
        for i in 0..<count {
            var record = UsageRecord(
                timestamp: Timestamp(millisecondsSinceEpoch: base - Int64(i) % days * Timestamp.millisecondsPerDay),
                project: project, model: "gpt-4.1-mini", inputTokens: Int64(i), outputTokens: 1,
                cost: Money(nanos: 1000 + Int64(i)))
            record.task = "\(label)-\(thread)-\(i)"
            do {
                switch route {
                case .plain: try writer.append(record)
                case .enforce: try budget!.appendIfWithinLimits(record, now: now)
                case .settle:
                    let hold = try budget!.reserve(
                        fields: try LimitScope.parse("project=\(project)"), amount: Money(nanos: 2 * record.cost.nanos),
                        ttlMs: 3_600_000, now: now)
                    try budget!.settle(hold.id, record: record, now: now)
                }
            } catch is LimitExceeded {
                writeLine(2, "spendlog-harness: \(record.task!) was refused by a limit")
                exit(3)
            } catch {
                fail("\(error)")
            }
            if printAcks { writeLine(1, "acked \(record.task!)") }  // one write(): lines never interleave
            if ackFile >= 0 {
                writeLine(ackFile, "acked \(record.task!)")
                guard fsync(ackFile) == 0 else { fail("fsync of the ack file failed: errno \(errno)") }
            }
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

/// The options `enforce` and `settle` share: where, how many, the seed, the range of amounts, the
/// fsync policy and the clock.
struct SpendingRun {
    var dir: String
    var count: Int
    var seed: UInt64
    var low: Int64
    var high: Int64
    var writerOptions = WriterOptions()
    var now: Timestamp

    init(_ options: [String: String]) {
        guard let dir = options["--dir"], let count = Int(options["--count"] ?? ""),
            let seed = UInt64(options["--seed"] ?? "")
        else { fail("--dir, --count and --seed are required") }
        self.dir = dir
        self.count = count
        self.seed = seed
        low = Int64(options["--min-nanos"] ?? "") ?? 100_000
        high = Int64(options["--max-nanos"] ?? "") ?? 1_000_000
        writerOptions.fsync = FsyncPolicy(rawValue: options["--fsync"] ?? "none") ?? .none
        now = clock(options)
    }
}

func enforce(_ options: [String: String]) {
    let run = SpendingRun(options)
    let (dir, count, low, high, writerOptions, now) = (
        run.dir, run.count, run.low, run.high, run.writerOptions, run.now
    )
    var seed = run.seed
    // `--quiet 1`: no line per call (benchmarks time the calls, not the printing).
    let quiet = options["--quiet"] == "1"
    do {
        let budget = harnessBudget(try LogDirectory.open(dir), writerOptions, options)
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
                if !quiet { writeLine(1, "ok \(nanos)") }
            } catch is LimitExceeded {
                if !quiet { writeLine(1, "refused \(nanos)") }
            }
        }
    } catch {
        fail("\(error)")
    }
}

func reserveAndSettle(_ options: [String: String]) {
    let run = SpendingRun(options)
    let (dir, count, low, high, writerOptions, now) = (
        run.dir, run.count, run.low, run.high, run.writerOptions, run.now
    )
    var seed = run.seed
    func next() -> UInt64 {
        seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return seed >> 33
    }
    do {
        let budget = Budget(directory: try LogDirectory.open(dir), writerOptions: writerOptions)
        let fields = try LimitScope.parse("project=harness")
        for i in 0..<count {
            let amount = low + Int64(next() % UInt64(high - low + 1))
            let hold: Reservation
            do {
                hold = try budget.reserve(fields: fields, amount: Money(nanos: amount), ttlMs: 3_600_000, now: now)
            } catch is LimitExceeded {
                writeLine(1, "refused \(amount)")
                continue
            }
            if next() % 3 == 2 {
                try budget.release(hold.id, now: now)
                writeLine(1, "released \(amount)")
                continue
            }
            let cost = Int64(next() % UInt64(amount + 1))
            var record = UsageRecord(
                timestamp: now, project: "harness", model: "gpt-4.1-mini", inputTokens: 10, outputTokens: 1,
                cost: Money(nanos: cost))
            record.task = "s\(options["--seed"]!)-\(i)"
            try budget.settle(hold.id, record: record, now: now)
            writeLine(1, "settled \(cost)")
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

/// The `tasks` mode: many concurrent tasks appending through ``SpendLog``.
func appendFromTasks(_ options: [String: String]) async {
    guard let dir = options["--dir"], let count = Int(options["--count"] ?? ""), count > 0,
        let tasks = Int(options["--tasks"] ?? ""), tasks > 0
    else { fail("--dir, --count and --tasks are required") }
    var writerOptions = WriterOptions()
    writerOptions.fsync = FsyncPolicy(rawValue: options["--fsync"] ?? "always") ?? .always
    do {
        let log = try SpendLog(directory: dir, options: writerOptions)
        let base = clock(options).millisecondsSinceEpoch
        let clock = ContinuousClock()
        let start = clock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for task in 0..<tasks {
                group.addTask {
                    var i = task
                    while i < count {
                        var record = UsageRecord(
                            timestamp: Timestamp(millisecondsSinceEpoch: base), project: "p\(i % 16)",
                            model: "gpt-4.1-mini", inputTokens: Int64(i), outputTokens: 1,
                            cost: Money(nanos: 1000 + Int64(i)))
                        record.task = "t-\(i)"
                        try await log.append(record)
                        i += tasks
                    }
                }
            }
            try await group.waitForAll()
        }
        let elapsed = clock.now - start
        let ms = elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000
        writeLine(1, "\(count) appends in \(ms) ms, \(log.appendCounts.commits) group commits")
        await log.close()
    } catch {
        fail("\(error)")
    }
}

@main
enum Harness {
    static func main() async {
        if CommandLine.arguments.dropFirst().first == "tasks" {
            var options: [String: String] = [:]
            var rest = Array(CommandLine.arguments.dropFirst(2))
            while rest.count >= 2 {
                options[rest[0]] = rest[1]
                rest.removeFirst(2)
            }
            return await appendFromTasks(options)
        }
        run()
    }

    nonisolated static func run() {
        var arguments = Array(CommandLine.arguments.dropFirst())
        let mode = arguments.first ?? ""
        guard ["append", "enforce", "hold", "reserve", "shared"].contains(mode) else {
            fail("usage: spendlog-harness append|enforce|hold|reserve|shared|tasks --dir D …")
        }
        arguments.removeFirst()
        var options: [String: String] = [:]
        while arguments.count >= 2 {
            options[arguments[0]] = arguments[1]
            arguments.removeFirst(2)
        }
        if mode == "enforce" { return enforce(options) }
        if mode == "hold" { hold(options) }
        if mode == "reserve" { return reserveAndSettle(options) }
        if mode == "shared" { return sharedAppends(options) }
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
        guard let route = Route(rawValue: options["--via"] ?? "plain") else {
            fail("--via must be plain, enforce or settle")
        }
        var ackFile: Int32 = -1
        if let path = options["--ack-file"] {
            ackFile = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
            guard ackFile >= 0 else { fail("cannot open the ack file '\(path)': errno \(errno)") }
        }
        do {
            let log = try LogDirectory.open(dir)
            let writer = LogWriter(directory: log, options: writerOptions)
            let budget = route == .plain ? nil : harnessBudget(log, writerOptions, options)
            let job = HarnessJob(
                writer: writer, budget: budget,
                route: route, label: label, project: options["--project"] ?? "harness", count: count,
                days: Int64(options["--days"] ?? "1") ?? 1, printAcks: options["--acks"] == "1", ackFile: ackFile,
                base: clock(options).millisecondsSinceEpoch)
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

/// A budget over `log`, with `--checkpoint-bytes` as its checkpoint interval when given.
func harnessBudget(_ log: LogDirectory, _ writerOptions: WriterOptions, _ options: [String: String]) -> Budget {
    let budget = Budget(directory: log, writerOptions: writerOptions)
    if let bytes = options["--checkpoint-bytes"], let value = Int64(bytes) { budget.checkpointIntervalBytes = value }
    return budget
}

/// `shared`: enforced appends through one `SharedBudget`, timed.
func sharedAppends(_ options: [String: String]) {
    guard let dir = options["--dir"], let count = Int(options["--count"] ?? ""), let file = options["--url-file"] else {
        fail("--dir, --count and --url-file are required")
    }
    guard let fd = fopen(file, "r") else { fail("cannot read \(file)") }
    var line = [CChar](repeating: 0, count: 4096)
    _ = fgets(&line, 4096, fd)
    fclose(fd)
    let url = String(cString: line)
    var writerOptions = WriterOptions()
    writerOptions.fsync = FsyncPolicy(rawValue: options["--fsync"] ?? "always") ?? .always
    let cost: Money
    do { cost = try Money.parse(options["--cost"] ?? "0.01") } catch { fail("--cost: \(error)") }
    let budget: SharedBudget
    do {
        budget = SharedBudget(
            directory: try LogDirectory.open(dir, create: true), location: try BudgetStoreLocation(url: url),
            writerOptions: writerOptions)
    } catch { fail("\(error)") }
    var accepted = 0
    var refused = 0
    var start = timespec()
    clock_gettime(CLOCK_MONOTONIC, &start)
    for i in 0..<count {
        let record = UsageRecord(
            timestamp: .now(), project: "harness", model: "gpt-4.1-mini", inputTokens: Int64(i), outputTokens: 1,
            cost: cost)
        do {
            try budget.appendIfWithinLimits(record)
            accepted += 1
        } catch is LimitExceeded {
            refused += 1
        } catch {
            fail("\(error)")
        }
    }
    var end = timespec()
    clock_gettime(CLOCK_MONOTONIC, &end)
    let ms = (end.tv_sec - start.tv_sec) * 1000 + (end.tv_nsec - start.tv_nsec) / 1_000_000
    writeLine(1, "\(accepted) accepted \(refused) refused in \(ms) ms")
}
