import Foundation
import SpendLog
import Testing

/// Limits shared by several hosts in PostgreSQL (docs/FORMAT.md, "Shared budgets on PostgreSQL"),
/// through the built binary against a throwaway cluster on loopback. Windows are `lifetime`, or a
/// `day` with the clock and the records' times given, so no result depends on the day or the zone
/// the tests run in.
@Suite struct SharedBudgetCLITests {
    /// The password is never checked (trust authentication): it is there to be looked for in output.
    static let password = "pw-Never-Printed-7c1f"

    struct Store {
        let cluster: PostgresCluster
        let database: String
        let urlFile: String

        init(_ cluster: PostgresCluster, database: String, in folder: String) throws {
            self.cluster = cluster
            self.database = database
            try cluster.psql("CREATE DATABASE \(database)")
            urlFile = folder + "/store-\(database)"
            writeFile(
                urlFile,
                Data(
                    "# the shared budget\npostgresql://spendlog:\(SharedBudgetCLITests.password)@127.0.0.1:\(cluster.port)/\(database)?sslmode=disable\n"
                        .utf8))
        }

        var endpoint: String { "127.0.0.1:\(cluster.port)" }

        func sql(_ text: String) throws -> String {
            try cluster.psql(text, database: database, tuplesOnly: true).trimmingCharacters(in: .whitespacesAndNewlines)
        }

        /// The store's count of `rule` over every bucket.
        func counted(_ rule: String) throws -> Int64 {
            Int64(try sql("SELECT coalesce(sum(amount), 0) FROM spendlog_counters WHERE rule = '\(rule)'")) ?? -1
        }
    }

    func run(
        _ store: Store, _ dir: String, _ arguments: [String], host: String = "host-a", extra: [String: String] = [:]
    )
        throws -> ProcessResult
    {
        var env = ["SPENDLOG_HOST": host]
        for (k, v) in extra { env[k] = v }
        let result = try spendlog(arguments + ["--dir", dir, "--budget-store-file", store.urlFile], environment: env)
        #expect(
            !result.stdout.contains(SharedBudgetCLITests.password)
                && !result.stderr.contains(SharedBudgetCLITests.password))
        return result
    }

    /// `limit set` of a lifetime limit through the store, which must succeed; the run (its stdout
    /// is the rule's id).
    @discardableResult
    func setLimit(_ store: Store, _ dir: String, _ scope: String, _ type: String, max: String, _ extra: [String] = [])
        throws -> ProcessResult
    {
        let result = try run(
            store, dir,
            ["limit", "set", "--scope", scope, "--type", type, "--max", max, "--window", "lifetime"] + extra)
        #expect(result.status == 0, "\(result.stderr)")
        return result
    }

    func appendArguments(project: String, cost: String) -> [String] {
        [
            "append", "--enforce", "--project", project, "--model", "gpt-4.1", "--input-tokens", "10",
            "--output-tokens", "1",
            "--cost", cost,
        ]
    }

    /// Every record of a log (each id once), and the sum of their costs.
    func records(_ dir: String) throws -> [UsageRecord] {
        guard FileManager.default.fileExists(atPath: dir) else { return [] }
        var out: [UsageRecord] = []
        try LogReader(directory: try LogDirectory.open(dir)).forEachRecord(onCorruption: { Issue.record("\($0)") }) {
            out.append($0)
        }
        return out
    }

    // MARK: - Three hosts, one limit, processes killed at random

    @Test func threeHostsHoldOneLimitWhileProcessesAreKilled() throws {
        let temp = TemporaryDirectory("spendlog-pg")
        let cluster = try PostgresCluster(in: temp.path + "/pg")
        defer { cluster.stop() }
        let environment = ProcessInfo.processInfo.environment
        let rounds = Int(environment["SPENDLOG_PG_ROUNDS"] ?? "") ?? 2
        let perHost = Int(environment["SPENDLOG_PG_PROCESSES"] ?? "") ?? 4
        let attempts = Int(environment["SPENDLOG_PG_ATTEMPTS"] ?? "") ?? 6
        let hosts = ["host-a", "host-b", "host-c"]
        for round in 1...rounds {
            let store = try Store(cluster, database: "race\(round)", in: temp.path)
            let dirs = hosts.map { temp.path + "/r\(round)-\($0)" }
            // $0.01 a call: room for 30, asked for 3 × perHost × attempts (72 in make test).
            try setLimit(store, dirs[0], "global", "cost", max: "0.3")
            let maximum: Int64 = 300_000_000
            let stats = RaceStats()
            let group = DispatchGroup()
            let urlFile = store.urlFile
            let folder = temp.path
            for (h, host) in hosts.enumerated() {
                for slot in 0..<perHost {
                    group.enter()
                    let thread = Thread {
                        defer { group.leave() }
                        var rng = SystemRandomNumberGenerator()
                        for attempt in 0..<attempts {
                            let args =
                                self.appendArguments(project: "p\(slot)", cost: "0.01") + [
                                    "--dir", dirs[h], "--budget-store-file", urlFile,
                                ]
                            var env = ProcessInfo.processInfo.environment
                            env["SPENDLOG_HOST"] = host
                            // Every few calls die right after the commit, before the append: the crash
                            // the pending markers are for. Others are killed at a random moment.
                            let crashAfterCommit = (attempt + slot + h) % 5 == 0
                            if crashAfterCommit { env["SPENDLOG_CRASH_AT"] = "shared.afterCommit" }
                            let killAfterMs: Int? =
                                !crashAfterCommit && Int.random(in: 0..<3, using: &rng) == 0
                                ? Int.random(in: 0..<60, using: &rng) : nil
                            let process = Process()
                            process.executableURL = URL(fileURLWithPath: TestPaths.binary)
                            process.arguments = args
                            process.environment = env
                            process.standardOutput = FileHandle.nullDevice
                            let errFile = folder + "/err-\(round)-\(h)-\(slot)"
                            writeFile(errFile, Data())
                            process.standardError = try? FileHandle(forWritingTo: URL(fileURLWithPath: errFile))
                            do { try process.run() } catch {
                                stats.note(unexpected: "launch failed: \(error)")
                                continue
                            }
                            if let killAfterMs {
                                usleep(useconds_t(killAfterMs * 1000))
                                kill(process.processIdentifier, SIGKILL)
                            }
                            process.waitForExit()
                            let killed = process.terminationReason == .uncaughtSignal
                            let status = process.terminationStatus
                            if killed {
                                stats.add(killed: 1)
                            } else if status == 0 {
                                stats.add(accepted: 1)
                            } else if status == 3 {
                                stats.add(refused: 1)
                            } else {
                                let text = (try? String(contentsOfFile: errFile, encoding: .utf8)) ?? ""
                                stats.note(unexpected: "exit \(status): \(text)")
                            }
                        }
                    }
                    thread.start()
                }
            }
            group.wait()
            #expect(stats.unexpected.isEmpty, "\(stats.unexpected.prefix(3))")
            let all = try dirs.flatMap { try records($0) }
            let logged = all.reduce(Int64(0)) { $0 + $1.cost.nanos }
            #expect(logged <= maximum, "overspent: \(logged) nano-dollars logged against a limit of \(maximum)")
            #expect(stats.refused > 0, "the limit was never reached: the race tested nothing")
            #expect(!all.contains { r in r.extra.contains { $0.key == SharedBudget.uncheckedKey } })
            // The store counted at least what the logs hold (more only for calls killed between
            // the commit and the append), and after a rebuild exactly that.
            let before = try store.counted("L1")
            #expect(before >= logged)
            let rebuilt = try run(
                store, dirs[0], ["budget", "rebuild", "--pending-grace", "0s", "--from"] + dirs)
            #expect(rebuilt.status == 0, "\(rebuilt.stderr)")
            #expect(try store.counted("L1") == logged)
            #expect(try store.sql("SELECT count(*) FROM spendlog_pending") == "0")
            print(
                "shared budget race: round \(round): 3 hosts × \(perHost) processes, "
                    + "\(3 * perHost * attempts) calls, \(stats.accepted) accepted, \(stats.refused) refused, "
                    + "\(stats.killed) killed; logged $\(Money(nanos: logged).decimalString) of $0.3, store counted "
                    + "$\(Money(nanos: before).decimalString) before the rebuild")
        }
    }

    // MARK: - PostgreSQL restarted mid-run

    @Test func aRestartRefusesFailClosedRecordsFailOpenAndBothRecover() throws {
        let temp = TemporaryDirectory("spendlog-pg")
        let cluster = try PostgresCluster(in: temp.path + "/pg")
        defer { cluster.stop() }
        let store = try Store(cluster, database: "restart", in: temp.path)
        let dir = temp.path + "/log"
        let closed = try setLimit(store, dir, "project=closed", "cost", max: "1")
        let open = try setLimit(store, dir, "project=open", "cost", max: "1", ["--on-store-failure", "fail-open"])
        #expect(closed.stdout == "L1\n" && open.stdout == "L2\n", "\(closed.stderr)\(open.stderr)")

        // sslmode is libpq's: this server has no TLS, so `require` fails, naming host:port only.
        let url = "postgresql://spendlog:\(SharedBudgetCLITests.password)@127.0.0.1:\(cluster.port)/restart"
        let tls = try spendlog(
            ["limit", "list", "--dir", dir], environment: ["SPENDLOG_BUDGET_STORE": url + "?sslmode=require"])
        #expect(tls.status == 69 && tls.stderr.contains(store.endpoint) && tls.stderr.contains("SSL"), "\(tls.stderr)")
        #expect(!tls.stderr.contains(SharedBudgetCLITests.password))
        let bad = try spendlog(
            ["limit", "list", "--dir", dir],
            environment: ["SPENDLOG_BUDGET_STORE": "mysql://root:\(SharedBudgetCLITests.password)@db"])
        #expect(bad.status == 64 && bad.stderr.contains("SPENDLOG_BUDGET_STORE"), "\(bad.stderr)")
        #expect(!bad.stderr.contains(SharedBudgetCLITests.password))
        #expect(try run(store, dir, appendArguments(project: "closed", cost: "0.1")).status == 0)
        #expect(try run(store, dir, appendArguments(project: "open", cost: "0.1")).status == 0)

        // A process that keeps its connection across the restart (the library, one per process).
        let budget = SharedBudget(
            directory: try LogDirectory.open(dir),
            location: try BudgetStoreLocation(
                url: "postgresql://spendlog:\(SharedBudgetCLITests.password)@127.0.0.1:\(cluster.port)/restart"))
        let record = { (project: String) in
            UsageRecord(
                timestamp: .now(), project: project, model: "gpt-4.1", inputTokens: 10, outputTokens: 1,
                cost: try! Money.parse("0.1"))
        }
        #expect(try budget.appendIfWithinLimits(record("closed")).unchecked == nil)

        cluster.stop()
        let refused = try run(store, dir, appendArguments(project: "closed", cost: "0.1"))
        #expect(refused.status == 69)
        #expect(refused.stdout.isEmpty)
        #expect(
            refused.stderr.contains(store.endpoint) && refused.stderr.contains("L1 fails closed"), "\(refused.stderr)")
        let recorded = try run(store, dir, appendArguments(project: "open", cost: "0.1"))
        #expect(recorded.status == 0, "\(recorded.stderr)")
        #expect(recorded.stderr.contains("budget_unchecked") && recorded.stderr.contains(store.endpoint))
        var libraryRefused = false
        do { try budget.appendIfWithinLimits(record("closed")) } catch let e as BudgetStoreUnavailable {
            libraryRefused = e.endpoint == store.endpoint && !e.description.contains(SharedBudgetCLITests.password)
        }
        #expect(libraryRefused)
        let markedByLibrary = try budget.appendIfWithinLimits(record("open"))
        #expect(markedByLibrary.unchecked != nil)

        try cluster.start()
        // Both recover: the CLI on its next call, the library object on its next operation.
        #expect(try run(store, dir, appendArguments(project: "closed", cost: "0.1")).status == 0)
        #expect(try run(store, dir, appendArguments(project: "open", cost: "0.1")).status == 0)
        #expect(try budget.appendIfWithinLimits(record("closed")).unchecked == nil)
        #expect(try budget.appendIfWithinLimits(record("open")).unchecked == nil)

        let all = try records(dir)
        let marked = all.filter { r in
            r.extra.contains { $0.key == SharedBudget.uncheckedKey && $0.value == .bool(true) }
        }
        #expect(marked.count == 2 && marked.allSatisfy { $0.project == "open" })
        #expect(try store.counted("L1") == 400_000_000)
        #expect(try store.counted("L2") == 300_000_000, "the unchecked records are not counted yet")
        // Old readers: the mark is an extra key, the line still reads with every tool.
        let json = try spendlog(["tail", "--dir", dir, "--json", "-n", "100"])
        #expect(json.status == 0 && json.stdout.contains("\"budget_unchecked\":true"))

        let rebuilt = try run(store, dir, ["budget", "rebuild", "--check", "--pending-grace", "0s", "--from", dir])
        #expect(rebuilt.status == 65, "the unchecked records are drift to repair: \(rebuilt.stdout)\(rebuilt.stderr)")
        #expect(rebuilt.stdout.contains("2 marked budget_unchecked"))
        #expect(rebuilt.stdout.contains("drift: L2"))
        #expect(try store.counted("L2") == 500_000_000)
        let again = try run(store, dir, ["budget", "rebuild", "--check", "--pending-grace", "0s", "--from", dir])
        #expect(again.status == 0 && again.stdout.contains("no drift"), "\(again.stdout)\(again.stderr)")
    }

    // MARK: - Reservations across hosts

    @Test func reservationsHoldAcrossHostsAndSettleOnce() throws {
        let temp = TemporaryDirectory("spendlog-pg")
        let cluster = try PostgresCluster(in: temp.path + "/pg")
        defer { cluster.stop() }
        let store = try Store(cluster, database: "holds", in: temp.path)
        let a = temp.path + "/host-a"
        let b = temp.path + "/host-b"
        try setLimit(store, a, "project=etl", "cost", max: "1")
        let soft = try run(
            store, a,
            ["limit", "set", "--scope", "global", "--type", "cost", "--max", "1", "--window", "lifetime", "--soft", "0.8"])
        #expect(soft.status == 64 && soft.stderr.contains("--soft"), "\(soft.stderr)")

        let held = try run(store, a, ["reserve", "--scope-fields", "project=etl,model=gpt-4.1", "--max-usd", "0.5"])
        #expect(held.status == 0, "\(held.stderr)")
        let id = held.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        // Another host sees the hold.
        let tooMuch = try run(
            store, b, ["reserve", "--scope-fields", "project=etl", "--max-usd", "0.6"], host: "host-b")
        #expect(tooMuch.status == 3 && tooMuch.stderr.contains("held by reservations"), "\(tooMuch.stderr)")
        #expect(try run(store, b, appendArguments(project: "etl", cost: "0.6"), host: "host-b").status == 3)
        #expect(try run(store, b, appendArguments(project: "etl", cost: "0.4"), host: "host-b").status == 0)
        let status = try run(store, b, ["budget", "status", "--format", "json"], host: "host-b")
        #expect(status.stdout.contains("\"spent\":0.4") && status.stdout.contains("\"held\":0.5"), "\(status.stdout)")

        // Settled on host a with its real cost: counted once, the hold freed in the same transaction.
        let settled = try run(
            store, a,
            [
                "settle", id, "--project", "etl", "--model", "gpt-4.1", "--input-tokens", "10", "--output-tokens",
                "1", "--cost", "0.3",
            ])
        #expect(settled.status == 0, "\(settled.stderr)")
        #expect(try store.counted("L1") == 700_000_000)
        #expect(try store.sql("SELECT count(*) FROM spendlog_reservations") == "0")
        let again = try run(
            store, a,
            [
                "settle", id, "--project", "etl", "--model", "gpt-4.1", "--input-tokens", "10", "--output-tokens",
                "1", "--cost", "0.3",
            ])
        #expect(again.status == 64 && again.stderr.contains("No open reservation"), "\(again.stderr)")
        #expect(try store.counted("L1") == 700_000_000)

        // A released hold counts nothing.
        let second = try run(
            store, b, ["reserve", "--scope-fields", "project=etl", "--max-usd", "0.3"], host: "host-b")
        #expect(second.status == 0, "\(second.stderr)")
        let secondID = second.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try run(store, a, appendArguments(project: "etl", cost: "0.1")).status == 3)
        #expect(try run(store, b, ["release", secondID], host: "host-b").status == 0)
        #expect(try run(store, a, appendArguments(project: "etl", cost: "0.3")).status == 0)
        #expect(try store.counted("L1") == 1_000_000_000)
        let rebuilt = try run(store, a, ["budget", "rebuild", "--check", "--pending-grace", "0s", "--from", a, b])
        #expect(rebuilt.status == 0 && rebuilt.stdout.contains("no drift"), "\(rebuilt.stdout)\(rebuilt.stderr)")
        let listed = try run(store, b, ["limit", "list", "--format", "json"], host: "host-b")
        #expect(listed.stdout.contains("\"policy\":\"fail-closed\""), "\(listed.stdout)")
        #expect(try run(store, b, ["limit", "delete", "L1"], host: "host-b").status == 0)
        #expect(try store.sql("SELECT count(*) FROM spendlog_counters") == "0")

        // A calendar window in the store: a full day refuses, the next day starts afresh, and a
        // call dated back into the full day is checked there. Clocks are given, not read.
        let daily = try Store(cluster, database: "daily", in: temp.path)
        let w = temp.path + "/host-w"
        func day(_ cost: String, at ts: String, now: String) throws -> ProcessResult {
            try run(
                daily, w, appendArguments(project: "w", cost: cost) + ["--ts", ts], extra: ["SPENDLOG_NOW": now])
        }
        let setDaily = try run(
            daily, w, ["limit", "set", "--scope", "project=w", "--type", "cost", "--max", "0.02", "--window", "day"],
            extra: ["SPENDLOG_NOW": "2026-11-23T09:00:00Z"])
        #expect(setDaily.status == 0, "\(setDaily.stderr)")
        #expect(try day("0.015", at: "2026-11-23T10:00:00Z", now: "2026-11-23T12:00:00Z").status == 0)
        let full = try day("0.01", at: "2026-11-23T11:00:00Z", now: "2026-11-23T12:00:00Z")
        #expect(full.status == 3, "\(full.stderr)")
        #expect(try day("0.01", at: "2026-11-24T00:30:00Z", now: "2026-11-24T01:00:00Z").status == 0)
        let backDated = try day("0.01", at: "2026-11-23T23:00:00Z", now: "2026-11-24T01:00:00Z")
        #expect(backDated.status == 3, "\(backDated.stderr)")
        #expect(backDated.stderr.contains("window of the record's time"), "\(backDated.stderr)")
        let dayStatus = try run(
            daily, w, ["budget", "status", "--format", "json"], extra: ["SPENDLOG_NOW": "2026-11-24T01:00:00Z"])
        #expect(dayStatus.stdout.contains("\"spent\":0.01,"), "\(dayStatus.stdout)")
        #expect(try records(w).count == 2)
    }

    // MARK: - A backend terminated mid-transaction

    @Test func aTerminatedBackendCountsNothingTwice() throws {
        let temp = TemporaryDirectory("spendlog-pg")
        let cluster = try PostgresCluster(in: temp.path + "/pg")
        defer { cluster.stop() }
        let store = try Store(cluster, database: "terminate", in: temp.path)
        let dir = temp.path + "/log"
        try setLimit(store, dir, "project=closed", "requests", max: "10")
        try setLimit(store, dir, "project=open", "requests", max: "10", ["--on-store-failure", "fail-open"])
        #expect(try run(store, dir, appendArguments(project: "closed", cost: "0.1")).status == 0)
        #expect(try run(store, dir, appendArguments(project: "open", cost: "0.1")).status == 0)

        for project in ["closed", "open"] {
            // The call waits inside its transaction, rows locked, until its backend is ended.
            let process = Process()
            process.executableURL = URL(fileURLWithPath: TestPaths.binary)
            process.arguments =
                appendArguments(project: project, cost: "0.1") + [
                    "--dir", dir, "--budget-store-file", store.urlFile,
                ]
            var env = ProcessInfo.processInfo.environment
            env["SPENDLOG_SHARED_PAUSE_MS"] = "3000"
            process.environment = env
            let errFile = temp.path + "/err-\(project)"
            writeFile(errFile, Data())
            process.standardOutput = FileHandle.nullDevice
            process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errFile))
            try process.run()
            var terminated = ""
            while terminated != "t" && process.isRunning {
                terminated = try store.sql(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'spendlog' "
                        + "AND state = 'idle in transaction' AND datname = 'terminate'")
                if terminated != "t" { usleep(20_000) }
            }
            process.waitForExit()
            let stderr = (try? String(contentsOfFile: errFile, encoding: .utf8)) ?? ""
            #expect(terminated == "t", "the call never waited in its transaction: \(stderr)")
            #expect(process.terminationStatus == (project == "closed" ? 69 : 0), "\(stderr)")
            #expect(stderr.contains(store.endpoint))
        }
        // Nothing of the two interrupted calls was counted; the fail-open one is in the log, marked.
        #expect(try store.counted("L1") == 1)
        #expect(try store.counted("L2") == 1)
        let all = try records(dir)
        #expect(all.filter { $0.project == "closed" }.count == 1)
        #expect(all.filter { $0.project == "open" }.count == 2)
        // The rebuild counts the marked record once; a retry of a counted call (same id) is not counted twice.
        #expect(try run(store, dir, ["budget", "rebuild", "--pending-grace", "0s", "--from", dir]).status == 0)
        #expect(try store.counted("L2") == 2)
        let id = "019a1b2c-3d4e-7f00-8a1b-2c3d4e5f6a7b"
        let stamped = appendArguments(project: "closed", cost: "0.1") + ["--id", id, "--ts", "2025-10-15T10:00:00Z"]
        let crashed = try run(store, dir, stamped, extra: ["SPENDLOG_CRASH_AT": "shared.afterCommit"])
        #expect(crashed.status != 0)
        #expect(try store.counted("L1") == 2, "counted at the commit, before the crash")
        #expect(try run(store, dir, stamped).status == 0)
        #expect(try store.counted("L1") == 2, "the retry found its pending count: not counted twice")
        #expect(try run(store, dir, stamped).status == 0)
        #expect(try store.counted("L1") == 2)
        #expect(
            try run(store, dir, ["budget", "rebuild", "--check", "--pending-grace", "0s", "--from", dir]).status == 0)
        #expect(try store.counted("L1") == 2)

        // The log's budget/store names the store for every command run on it.
        try FileManager.default.copyItem(atPath: store.urlFile, toPath: dir + "/budget/store")
        let status = try spendlog(["budget", "status", "--dir", dir, "--format", "json"])
        #expect(status.status == 0 && status.stdout.contains("\"project=open\""), "\(status.stderr)")
    }
}

/// Counters shared by the racing threads.
final class RaceStats: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var accepted = 0
    private(set) var refused = 0
    private(set) var killed = 0
    private(set) var unexpected: [String] = []

    func add(accepted a: Int = 0, refused r: Int = 0, killed k: Int = 0) {
        lock.lock()
        accepted += a
        refused += r
        killed += k
        lock.unlock()
    }

    func note(unexpected text: String) {
        lock.lock()
        unexpected.append(text)
        lock.unlock()
    }
}
