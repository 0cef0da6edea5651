import Foundation
import Testing

@testable import SpendLog

/// Cycles of four writer processes (fsync `always`, `batch` with two threads, `none` through
/// enforced appends, `none` through reserve and settle), a `spendlog seal` and a `spendlog
/// index`, killed with SIGKILL: every other cycle at a named fault point (docs/FORMAT.md "Fault
/// points", each in turn), the others at random moments. After every cycle, the log is read
/// without the library (``BruteForceLog``) and checked: no acknowledged record lost, none
/// duplicated, `verify` clean, the rollups and the queries equal to the raw sums, the budget
/// checkpoint equal to a rebuild. `make soak-crash` runs it with `SPENDLOG_CRASH_CYCLES`.
@Suite(.serialized) struct CrashLoopTests {
    /// Every `FaultInjection.reach` point of the writer, seal, index and budget paths, with the
    /// process that reaches it. The points of `export`, `collect` and `retention` are killed at
    /// in their own tests (`ExportCursorTests`, `ScaleOutCLITests`), against their own promises.
    static let points: [(point: String, in: Target)] = [
        ("append.locked", .writer), ("append.afterWrite", .writer), ("rotate.start", .writer),
        ("seal.start", .seal), ("seal.afterCompress", .seal), ("seal.afterRename", .seal),
        ("seal.afterRenameSync", .seal), ("seal.afterUnlink", .seal),
        ("index.afterWriteGeneration", .index), ("index.afterSwitch", .index),
        ("budget.locked", .enforcing), ("budget.afterCheck", .enforcing), ("budget.afterAppend", .enforcing),
        ("budget.settle.afterAppend", .settling), ("budget.journal.afterWrite", .settling),
        ("budget.sidecar.afterTempWrite", .settling), ("budget.sidecar.beforeRename", .settling),
        ("budget.sidecar.afterRename", .settling),
    ]

    enum Target { case writer, seal, index, enforcing, settling }

    /// The records' time and the budget's clock: nothing depends on the day the suite runs.
    static let now = "2026-11-23T10:00:00.000Z"
    static let recordsPerWriter = 8
    /// A fresh log after this many cycles, so that the checks cost the same in a long run.
    static let cyclesPerLog = 20

    struct Figures: CustomStringConvertible {
        var cycles = 0
        var acknowledged = 0
        var kills = 0
        var pointKills = 0
        var randomKills = 0
        var lost = 0
        var duplicated = 0
        var verifyProblems = 0
        var rollupMismatches = 0
        var budgetMismatches = 0
        var unexpectedExits = 0
        var pointsReached = Set<String>()

        var description: String {
            "crash loop: cycles \(cycles), records acknowledged \(acknowledged), kills \(kills) "
                + "(\(pointKills) at fault points, \(randomKills) at random moments), lost \(lost), "
                + "duplicated \(duplicated), verify problems \(verifyProblems), rollup mismatches "
                + "\(rollupMismatches), budget mismatches \(budgetMismatches), unexpected exits "
                + "\(unexpectedExits), fault points reached \(pointsReached.count)/\(CrashLoopTests.points.count)"
        }
    }

    final class Run {
        let temp = TemporaryDirectory("spendlog-crashloop")
        var log: LogDirectory
        var scan: BruteForceLog
        var acked = Set<String>()
        var generator: SplitMix
        var figures = Figures()

        init(seed: UInt64) throws {
            generator = SplitMix(state: seed)
            log = try temp.log("log0")
            scan = BruteForceLog(segmentsPath: log.segmentsPath)
        }

        func freshLog(_ n: Int) throws {
            try? FileManager.default.removeItem(atPath: log.path)
            log = try temp.log("log\(n)")
            scan = BruteForceLog(segmentsPath: log.segmentsPath)
            acked = []
            let budget = Budget(directory: log)
            let at = Timestamp.parse(CrashLoopTests.now)!
            try budget.setLimit(try rule("global", "cost", "1000", "lifetime"), now: at)
            try budget.setLimit(try rule("project=w2", "requests", "1000000", "lifetime"), now: at)
        }

        func random(_ range: Range<Int>) -> Int { Int.random(in: range, using: &generator) }
    }

    /// `crashAt` arms a fault point in this writer; for `rotate.start` its segments are kept
    /// tiny, so that its second append rotates.
    func writer(_ run: Run, _ k: Int, cycle: Int, crashAt: String?) throws -> Child {
        let fsync = ["always", "batch", "none", "none"][k]
        let via = ["plain", "plain", "enforce", "settle"][k]
        return try Child(
            "w\(k)", executable: TestPaths.harness,
            [
                "append", "--dir", run.log.path, "--count", String(Self.recordsPerWriter), "--label", "c\(cycle)w\(k)",
                "--project", "w\(k)", "--fsync", fsync, "--via", via, "--threads", k == 1 ? "2" : "1",
                "--days", "2", "--max-segment-bytes", crashAt?.hasPrefix("rotate.start") == true ? "200" : "3000",
                "--now", Self.now,
                // In the cycles armed at a sidecar step, the settling writer checkpoints after every
                // operation, so that the kill lands inside a replacement; in the others, its
                // reservations wait for the interval, and kills find the sidecar behind the journal.
                "--checkpoint-bytes", k == 3 && crashAt?.hasPrefix("budget.sidecar") == true ? "0" : "65536",
                "--ack-file", run.temp.path + "/acks-w\(k)",
            ],
            environment: crashAt.map { ["SPENDLOG_CRASH_AT": $0] } ?? [:], outputIn: run.temp.path)
    }

    func cli(_ run: Run, _ name: String, _ arguments: [String], crashAt: String?) throws -> Child {
        try Child(
            name, executable: TestPaths.binary, arguments + ["--dir", run.log.path],
            environment: crashAt.map { ["SPENDLOG_CRASH_AT": $0] } ?? [:], outputIn: run.temp.path)
    }

    /// One cycle. Fault-point cycles arm one point in the process that reaches it; random cycles
    /// start all six processes at once and kill one to three of them within 40 ms.
    func cycle(_ run: Run, _ n: Int) throws {
        var children: [Child] = []
        var armed: (point: String, child: String)? = nil
        if n % 2 == 0 {
            let (point, target) = Self.points[(n / 2) % Self.points.count]
            let victim: Int? =
                switch target {
                case .writer: run.random(0..<4)
                case .enforcing: 2
                case .settling: 3
                case .seal, .index: nil
                }
            let nth =
                point == "rotate.start" || target == .seal || target == .index
                ? 1 : 1 + run.random(0..<Self.recordsPerWriter)
            for k in 0..<4 {
                children.append(try writer(run, k, cycle: n, crashAt: k == victim ? "\(point)@\(nth)" : nil))
            }
            // The process with the armed point starts once the others have made its work: the
            // seal after the writers (active segments to seal), the index after the seal (sealed
            // segments to fold in). Otherwise all run at once.
            if target == .seal || target == .index { for child in children { child.wait() } }
            let seal = try cli(run, "seal", ["seal"], crashAt: target == .seal ? point : nil)
            if target == .index { seal.wait() }
            let index = try cli(run, "index", ["index"], crashAt: target == .index ? point : nil)
            children += [seal, index]
            for child in children { child.wait() }
            armed = (point, victim.map { "w\($0)" } ?? (target == .seal ? "seal" : "index"))
        } else {
            for k in 0..<4 { children.append(try writer(run, k, cycle: n, crashAt: nil)) }
            children.append(try cli(run, "seal", ["seal"], crashAt: nil))
            children.append(try cli(run, "index", ["index"], crashAt: nil))
            let victims = Array(children.indices.shuffled(using: &run.generator).prefix(1 + run.random(0..<3)))
            let delays = victims.map { _ in run.random(0..<40_000) }
            var slept = 0
            for (victim, delay) in zip(victims, delays).sorted(by: { $0.1 < $1.1 }) {
                if delay > slept { usleep(useconds_t(delay - slept)) }
                slept = max(slept, delay)
                if children[victim].process.isRunning { kill(children[victim].process.processIdentifier, SIGKILL) }
            }
            for child in children { child.wait() }
            run.figures.randomKills += children.filter(\.wasKilled).count
        }
        for child in children {
            if child.wasKilled {
                run.figures.kills += 1
                if let armed, armed.child == child.name {
                    run.figures.pointKills += 1
                    run.figures.pointsReached.insert(armed.point)
                }
            } else if child.process.terminationStatus != 0 || child.crashed {
                run.figures.unexpectedExits += 1
                Issue.record("cycle \(n): \(child.name) exited \(child.process.terminationStatus): \(child.stderr)")
            }
        }
        try check(run, n)
    }

    /// The invariants after a cycle, counted into the figures (and recorded as issues).
    func check(_ run: Run, _ n: Int) throws {
        for k in 0..<4 {
            for line in lines(run.temp.path + "/acks-w\(k)") where line.hasPrefix("acked ") {
                if run.acked.insert(String(line.dropFirst(6))).inserted { run.figures.acknowledged += 1 }
            }
            writeFile(run.temp.path + "/acks-w\(k)", Data())
        }
        let all = try run.scan.lines()
        var seen: [String: Int] = [:]
        var ids: [String: Int] = [:]
        for line in all {
            seen[line.task, default: 0] += 1
            ids[line.id, default: 0] += 1
        }
        let lost = run.acked.filter { seen[$0] == nil }
        let duplicated = seen.filter { $0.value > 1 }.count + ids.filter { $0.value > 1 }.count
        run.figures.lost += lost.count
        run.figures.duplicated += duplicated
        #expect(lost.isEmpty, "cycle \(n): acknowledged but not in the log: \(lost.sorted().prefix(5))")
        run.acked.subtract(lost)
        #expect(duplicated == 0, "cycle \(n): \(duplicated) tasks or ids appear more than once")

        let report = try LogVerifier(directory: run.log).verify()
        run.figures.verifyProblems += report.problems.count
        #expect(report.problems.isEmpty, "cycle \(n): \(report.problems)")
        #expect(report.records == all.count, "cycle \(n): verify counted \(report.records), the raw scan \(all.count)")

        // The rollups alone against the covered segments, then every query against every line.
        let covered = manifestPaths(run.log)
        let indexed = all.filter { covered.contains($0.segment) }
        let query = Query(directory: run.log)
        let checks: [(StatsQuery, [[String?]: RawSums])] = [
            (StatsQuery(groupBy: [.project, .model], indexedOnly: true), group(indexed) { [$0.project, $0.model] }),
            (StatsQuery(groupBy: [.day, .project], indexedOnly: true), group(indexed) { [$0.day, $0.project] }),
            (StatsQuery(groupBy: [.project, .model]), group(all) { [$0.project, $0.model] }),
            (StatsQuery(groupBy: [.task]), group(all) { [$0.task] }),
        ]
        for (stats, expected) in checks {
            let answer = try query.stats(stats)
            if group(answer) != expected || !answer.trace.problems.isEmpty {
                run.figures.rollupMismatches += 1
                Issue.record("cycle \(n): \(stats.groupBy) gave \(group(answer)), the raw lines \(expected)")
            }
        }

        let budget = Budget(directory: run.log)
        let live = try budget.checkpoint(now: Timestamp.parse(Self.now)!)
        let rebuilt = try budget.rebuiltSidecar()
        if live != rebuilt {
            run.figures.budgetMismatches += 1
            Issue.record("cycle \(n): the budget checkpoint differs from a rebuild")
        }
        let spent = try budget.status(now: Timestamp.parse(Self.now)!).first { $0.rule.scope.fields.isEmpty }?.spent
        #expect(spent == all.reduce(0) { $0 + $1.costNanos }, "cycle \(n): the global counter differs from the log")
    }

    /// The CLI's view every tenth cycle: `verify` and `budget rebuild --check` exit 0.
    func checkThroughTheCLI(_ run: Run, _ n: Int) throws {
        let verified = try spendlog(["verify", "--dir", run.log.path])
        #expect(verified.status == 0, "cycle \(n): \(verified.stderr)")
        let rebuilt = try spendlog(
            ["budget", "rebuild", "--check", "--dir", run.log.path], environment: ["SPENDLOG_NOW": Self.now])
        #expect(rebuilt.status == 0, "cycle \(n): \(rebuilt.stderr)")
    }

    @Test func killedWritersSealersAndIndexersLoseAndDuplicateNothing() throws {
        let cycles = soakCount("SPENDLOG_CRASH_CYCLES", default: 50)
        let seed = UInt64(soakCount("SPENDLOG_CRASH_SEED", default: 20_261_123))
        let run = try Run(seed: seed)
        try run.freshLog(0)
        for n in 0..<cycles {
            if n > 0 && n % Self.cyclesPerLog == 0 { try run.freshLog(n / Self.cyclesPerLog) }
            try cycle(run, n)
            run.figures.cycles += 1
            if n % 10 == 9 { try checkThroughTheCLI(run, n) }
        }
        print(run.figures)
        #expect(run.figures.duplicated == 0 && run.figures.verifyProblems == 0)
        #expect(run.figures.rollupMismatches == 0 && run.figures.budgetMismatches == 0)
        #expect(run.figures.randomKills > 0)
        // Each point is armed at least once in 36 cycles; it must have killed its process.
        if cycles >= 2 * Self.points.count {
            let missed = Set(Self.points.map(\.point)).subtracting(run.figures.pointsReached)
            #expect(missed.isEmpty, "fault points armed but never reached: \(missed.sorted())")
        }
    }
}
