import Foundation
import SpendLog
import SpendLogTestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The programs in Examples/, built against the library's public API, run as a user runs them.
@Suite struct ExamplesTests {
    /// Totals of `spendlog stats --format json` over the whole log.
    func totals(_ dir: String) throws -> (requests: Int, cost: String) {
        let result = try spendlog(["stats", "--dir", dir, "--format", "json"])
        #expect(result.status == 0, "\(result.stderr)")
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]])
        let row = try #require(rows.first)
        // The decimal as printed, not as a Double.
        let cost = try #require(result.stdout.firstMatch(of: /"cost_usd":([0-9.]+)/)?.1)
        return ((row["requests"] as? NSNumber)?.intValue ?? -1, String(cost))
    }

    /// record-and-report records three calls from provider responses, enforces a 0.02 USD limit
    /// until it refuses, and reports: its figures are the log's.
    @Test func recordAndReportRecordsEnforcesAndReports() throws {
        let temp = TemporaryDirectory()
        let dir = temp.path + "/log"
        let run = try runProcess(TestPaths.built("record-and-report"), [dir])
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        // 0.001504 + 0.0036 + 0.001504 recorded, then 0.0028 per enforced call while it fits.
        #expect(run.stdout.contains("refused after 4 enforced calls: 0.002192 USD left"), "\(run.stdout)")
        #expect(run.stdout.contains("total: 7 requests, 0.017808 USD"), "\(run.stdout)")
        #expect(run.stdout.contains("budget L1: spent 0.017808 of 0.02 USD"), "\(run.stdout)")
        let log = try totals(dir)
        #expect(log.requests == 7)
        #expect(log.cost == "0.017808")
        let verify = try spendlog(["verify", "--dir", dir])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        // Run again: the limit is there and full, so nothing more is enforced in.
        let again = try runProcess(TestPaths.built("record-and-report"), [dir])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stdout.contains("refused after 0 enforced calls"), "\(again.stdout)")
    }

    /// budgeted-server's middleware records each request to its LLM route and answers 429 once
    /// the limit (0.01 USD, lifetime) has no room for another: 12 requests at once, then one at
    /// a time until refused. Each costs 0.0012 USD and holds 0.002 while in flight, so exactly
    /// seven fit (0.0084 spent; 0.0084 + 0.002 > 0.01), and no interleaving overspends.
    @Test func budgetedServerRefusesWith429AtTheLimit() throws {
        let temp = TemporaryDirectory()
        let dir = temp.path + "/log"
        let server = try ExampleServer(dir: dir, temp: temp)
        defer { server.stop() }
        let base = server.base
        let post: @Sendable () throws -> ServeProcess.Answer = {
            try httpRequest(
                base, "/v1/chat/completions", method: "POST", headers: ["Content-Type": "application/json"],
                body: Data(#"{"model":"gpt-4.1-mini","messages":[{"role":"user","content":"Hi"}]}"#.utf8))
        }

        // Twelve clients at once, each on a thread of its own.
        let statuses = Statuses()
        let threads = (0..<12).map { _ in
            Thread { statuses.add(Int32((try? post())?.status ?? -1)) }
        }
        for thread in threads { thread.start() }
        while statuses.all.count < 12 { usleep(10_000) }
        let concurrent = statuses.all.map(Int.init)
        #expect(concurrent.allSatisfy { $0 == 200 || $0 == 429 }, "\(concurrent)")
        var accepted = concurrent.filter { $0 == 200 }.count
        #expect(accepted >= 1 && accepted <= 7, "\(concurrent)")
        var refusal: ServeProcess.Answer?
        for _ in 0..<20 {
            let answer = try post()
            if answer.status == 429 {
                refusal = answer
                break
            }
            #expect(answer.status == 200)
            #expect(answer.text.contains("\"usage\""))
            #expect(answer.headers["x-spendlog-record"]?.count == 36)
            accepted += 1
        }
        #expect(accepted == 7)
        let refused = try #require(refusal)
        #expect(refused.text.contains("\"limit\":\"L1\""), "\(refused.text)")
        #expect(refused.text.contains("\"type\":\"cost\",\"remaining\":0.0016"), "\(refused.text)")

        // The health route is outside the middleware: never recorded, never refused.
        let health = try httpRequest(server.base, "/health")
        #expect(health.status == 200)

        let log = try totals(dir)
        #expect(log.requests == 7)
        #expect(log.cost == "0.0084")
        let budget = try spendlog(["budget", "status", "--dir", dir])
        #expect(budget.status == 0, "\(budget.stderr)")
        #expect(budget.stdout.contains("$0.0084"), "\(budget.stdout)")
    }
}

/// A running budgeted-server on a free loopback port.
final class ExampleServer {
    let process = Process()
    let base: String

    init(dir: String, temp: TemporaryDirectory) throws {
        let out = temp.path + "/server.out"
        writeFile(out, Data())
        writeFile(temp.path + "/server.err", Data())
        process.executableURL = URL(fileURLWithPath: TestPaths.built("budgeted-server"))
        process.arguments = ["--dir", dir, "--port", "0", "--limit", "0.01"]
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: out))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: temp.path + "/server.err"))
        try process.run()
        var found: String?
        for _ in 0..<600 where found == nil {
            let text = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
            if let line = text.split(separator: "\n").first(where: { $0.hasPrefix("listening on ") }) {
                found = String(line.dropFirst("listening on ".count))
            } else if !process.isRunning {
                break
            } else {
                usleep(50_000)
            }
        }
        guard let found else {
            let err = (try? String(contentsOfFile: temp.path + "/server.err", encoding: .utf8)) ?? ""
            process.terminate()
            throw ServerDidNotStart(stderr: err)
        }
        base = found
    }

    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitForExit()
        }
    }

    struct ServerDidNotStart: Error {
        var stderr: String
    }
}
