import Foundation
import Testing

@testable import SpendLog

/// Eight processes against one cost limit: four enforced appenders (one of them checkpointing
/// after every append), two that reserve and then settle or release, and two that append
/// without enforcing. One of them is killed with SIGKILL each round, in turn: at a fault point
/// (even rounds) or at a random moment (odd rounds). After every round, the spend of the checked
/// records (enforced and settled) read from the raw log is within the limit, the counters equal
/// a rebuild and the whole log. `make soak-crash` runs it with `SPENDLOG_BUDGET_ROUNDS`.
@Suite(.serialized) struct BudgetKillRaceTests {
    static let now = "2026-11-23T10:00:00.000Z"
    static let limitNanos: Int64 = 1_000_000_000

    enum Role { case enforcing, checkpointing, reserving, plain }
    static let roles: [Role] = [
        .enforcing, .reserving, .plain, .checkpointing, .enforcing, .reserving, .plain, .enforcing,
    ]

    static func points(for role: Role) -> [String] {
        switch role {
        case .enforcing: ["budget.locked", "budget.afterCheck", "append.afterWrite", "budget.afterAppend"]
        case .checkpointing:
            ["budget.sidecar.afterTempWrite", "budget.sidecar.beforeRename", "budget.sidecar.afterRename"]
        case .reserving: ["budget.journal.afterWrite", "budget.settle.afterAppend", "budget.locked"]
        case .plain: ["append.locked", "append.afterWrite"]
        }
    }

    struct Figures: CustomStringConvertible {
        var rounds = 0
        var appends = 0
        var refusals = 0
        var kills = 0
        var overspend = 0
        var worstOverspendNanos: Int64 = 0
        var counterMismatches = 0
        var armedNotReached = 0

        var description: String {
            "budget race: rounds \(rounds), appends \(appends), refusals \(refusals), kills \(kills), "
                + "overspend \(overspend) (worst \(worstOverspendNanos) nano-dollars), counter mismatches "
                + "\(counterMismatches), fault points armed in a process refused before reaching them \(armedNotReached)"
        }
    }

    func launch(_ p: Int, round: Int, log: LogDirectory, folder: String, crashAt: String?) throws -> Child {
        let seed = String(round * 10 + p)
        let costs = ["--min-nanos", "5000000", "--max-nanos", "20000000", "--now", Self.now, "--fsync", "none"]
        let arguments: [String] =
            switch Self.roles[p] {
            case .enforcing: ["enforce", "--dir", log.path, "--count", "40", "--seed", seed] + costs
            case .checkpointing:
                ["enforce", "--dir", log.path, "--count", "40", "--seed", seed, "--checkpoint-bytes", "0"] + costs
            case .reserving: ["reserve", "--dir", log.path, "--count", "20", "--seed", seed] + costs
            case .plain:
                [
                    "append", "--dir", log.path, "--count", "20", "--label", "plain\(seed)", "--now", Self.now,
                    "--fsync", "none",
                ]
            }
        return try Child(
            "p\(p)", executable: TestPaths.harness, arguments,
            environment: crashAt.map { ["SPENDLOG_CRASH_AT": $0] } ?? [:], outputIn: folder)
    }

    func round(_ r: Int, _ figures: inout Figures, generator: inout SplitMix) throws {
        let temp = TemporaryDirectory("spendlog-budgetrace")
        let log = try temp.log()
        try Budget(directory: log).setLimit(try rule("global", "cost", "1", "day"), now: time(Self.now))
        let victim = r % 8
        let points = Self.points(for: Self.roles[victim])
        let crashAt =
            r % 2 == 0 ? "\(points[(r / 8) % points.count])@\(1 + Int.random(in: 0..<3, using: &generator))" : nil
        let children = try (0..<8).map {
            try launch($0, round: r, log: log, folder: temp.path, crashAt: $0 == victim ? crashAt : nil)
        }
        if crashAt == nil {
            usleep(useconds_t(Int.random(in: 5_000..<80_000, using: &generator)))
            kill(children[victim].process.processIdentifier, SIGKILL)
        }
        for child in children { child.wait() }
        for (p, child) in children.enumerated() {
            let output = lines(temp.path + "/p\(p).out")
            let accepted = output.filter { $0.hasPrefix("ok ") || $0.hasPrefix("settled ") || $0.hasPrefix("acked ") }
            figures.appends += accepted.count
            figures.refusals += output.filter { $0.hasPrefix("refused ") }.count
            if child.wasKilled {
                figures.kills += 1
            } else if child.process.terminationStatus != 0 {
                Issue.record("round \(r): p\(p) exited \(child.process.terminationStatus): \(child.stderr)")
            } else if p == victim, let crashAt {
                // Most points come after a check passed: a process refused every time (the others
                // filled the limit first) never reaches them. One that was let through N times must.
                let nth = Int(crashAt.split(separator: "@")[1])!
                if accepted.count + output.filter({ $0.hasPrefix("released ") }).count >= nth {
                    Issue.record("round \(r): p\(p) passed \(crashAt) without being killed")
                } else {
                    figures.armedNotReached += 1
                }
            }
        }

        let raw = try BruteForceLog(segmentsPath: log.segmentsPath).lines()
        let checked = raw.filter { !$0.task.hasPrefix("plain") }.reduce(0) { $0 + $1.costNanos }
        if checked > Self.limitNanos {
            figures.overspend += 1
            figures.worstOverspendNanos = max(figures.worstOverspendNanos, checked - Self.limitNanos)
            Issue.record(
                "round \(r): checked records spent \(checked) > \(Self.limitNanos) (\(crashAt ?? "random kill"))")
        }
        let budget = Budget(directory: log)
        let live = try budget.checkpoint(now: time(Self.now))
        let spent = try budget.status(now: time(Self.now))[0].spent
        if try live != budget.rebuiltSidecar() || spent != raw.reduce(0, { $0 + $1.costNanos }) {
            figures.counterMismatches += 1
            Issue.record("round \(r): the counters (\(spent)) differ from a rebuild or the log")
        }
        if r % 5 == 4 {
            let rebuilt = try spendlog(
                ["budget", "rebuild", "--check", "--dir", log.path], environment: ["SPENDLOG_NOW": Self.now])
            #expect(rebuilt.status == 0, "round \(r): \(rebuilt.stderr)")
        }
        figures.rounds += 1
    }

    @Test func eightMixedProcessesNeverOverspendWhenOneIsKilledEachRound() throws {
        let rounds = soakCount("SPENDLOG_BUDGET_ROUNDS", default: 10)
        var generator = SplitMix(state: UInt64(soakCount("SPENDLOG_CRASH_SEED", default: 20_261_123)))
        var figures = Figures()
        for r in 0..<rounds { try round(r, &figures, generator: &generator) }
        print(figures)
        #expect(figures.overspend == 0 && figures.counterMismatches == 0)
        #expect(figures.refusals > 0, "the limit was never reached")
        #expect(figures.kills + figures.armedNotReached >= rounds / 2, "fewer kills than armed fault points")
    }
}
