import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `spendlog serve` through the built binaries and real HTTP on a loopback port: every JSON answer
/// is the bytes of the matching CLI `--format json`, refused parameters are named, a token is
/// required when set, `/metrics` parses with prometheus_client, the OpenAPI document is the
/// checked-in one and validates. The clock is SPENDLOG_NOW; every record has its own `ts`.
@Suite struct ServeCLITests {
    static let now = "2026-11-20T12:00:00.000Z"
    static let environment = ["SPENDLOG_NOW": now]

    /// One log for the suite (read only): 600 records over 20 days in three projects, four
    /// models, users, tags and errors; the first 400 sealed and indexed; two limits and a
    /// reservation.
    static let log: Result<String, any Error> = Result {
        let temp = TemporaryDirectory("spendlog-serve")
        let dir = temp.path + "/log"
        func run(_ arguments: [String], input: String? = nil) throws {
            let result = try spendlog(arguments, input: input, environment: environment)
            guard result.status == 0 else { throw ServeTestFailure("\(arguments): \(result.stderr)") }
        }
        try run(["ingest", "--dir", dir, "--fsync", "none", "-"], input: records(0..<400))
        try run(["seal", "--dir", dir])
        try run(["index", "--dir", dir])
        try run(["ingest", "--dir", dir, "--fsync", "none", "-"], input: records(400..<600))
        try run([
            "limit", "set", "--dir", dir, "--scope", "project=search", "--type", "cost", "--max", "40",
            "--window", "month", "--soft", "0.8",
        ])
        try run([
            "limit", "set", "--dir", dir, "--scope", "global", "--type", "requests", "--max", "3000",
            "--window", "rolling:30d",
        ])
        temp.keepUntilExit()
        return dir
    }

    /// A new log in `temp` holding `records` (JSON lines), for a test that changes its log.
    static func freshLog(_ temp: TemporaryDirectory, _ records: String) throws -> String {
        let dir = temp.path + "/log"
        let ingest = try spendlog(
            ["ingest", "--dir", dir, "--fsync", "none", "-"], input: records, environment: environment)
        guard ingest.status == 0 else { throw ServeTestFailure("ingest: \(ingest.stderr)") }
        return dir
    }

    /// Records `range` of a fixed sequence: 2026-11-01 to 2026-11-20, one every 48 minutes.
    static func records(_ range: Range<Int>) -> String {
        let projects = ["search", "etl", "support"]
        let models = ["gpt-4.1", "claude-sonnet-4-5", "o3", "gemini-2.5-pro"]
        let base = 1_793_491_200  // 2026-11-01T00:00:00Z
        var text = ""
        for i in range {
            let ts = Date(timeIntervalSince1970: TimeInterval(base + i * 2880))
            let stamp = ISO8601DateFormatter().string(from: ts)
            let cost = "0.\(String(format: "%04d", (i * 37) % 10_000))"
            text += """
                {"ts":"\(stamp)","project":"\(projects[i % 3])","model":"\(models[i % 4])","input_tokens":\(100 + i * 7),\
                "output_tokens":\(10 + i % 50),"cost_usd":\(cost),"user":"u\(i % 5)","status":"\(i % 11 == 0 ? "error" : "ok")",\
                "tags":{"env":"\(i % 2 == 0 ? "prod" : "dev")","team":"t\(i % 3)"}}

                """
        }
        return text
    }

    // MARK: - Equal to the CLI

    @Test func statsAndDailyAreTheCLIsBytes() throws {
        let dir = try Self.log.get()
        let server = try ServeProcess(dir: dir, environment: Self.environment)
        defer { server.stop() }
        let cases: [(query: String, flags: [String])] = [
            ("", []),
            ("by=project", ["--by", "project"]),
            ("by=day&by=model&tz=Asia/Kolkata", ["--by", "day", "--by", "model", "--tz", "Asia/Kolkata"]),
            (
                "by=tag:team&tag=env=prod&since=2026-11-03&until=2026-11-15",
                ["--by", "tag:team", "--tag", "env=prod", "--since", "2026-11-03", "--until", "2026-11-15"]
            ),
            (
                "by=model&project=search&project=etl&status=ok&columns=requests,cost_usd,cost_per_1k_requests",
                [
                    "--by", "model", "--project", "search", "--project", "etl", "--status", "ok", "--columns",
                    "requests,cost_usd,cost_per_1k_requests",
                ]
            ),
            (
                "by=user&since=2026-11-05T06:00:00Z&until=2026-11-19T00:00:00Z&user=u1&user=u3",
                [
                    "--by", "user", "--since", "2026-11-05T06:00:00Z", "--until", "2026-11-19T00:00:00Z", "--user",
                    "u1",
                    "--user", "u3",
                ]
            ),
        ]
        for (query, flags) in cases {
            let answer = try server.get("/v1/stats?" + query)
            let cli = try spendlog(["stats", "--dir", dir, "--format", "json"] + flags, environment: Self.environment)
            #expect(cli.status == 0, "\(cli.stderr)")
            #expect(answer.status == 200, "\(query): \(answer.text)")
            #expect(answer.headers["content-type"] == "application/json")
            #expect(answer.text == cli.stdout, "\(query)")
            #expect(answer.text.count > 10, "\(query): an empty answer proves nothing")
        }
        let daily = try server.get("/v1/daily?since=2026-11-02&until=2026-11-12&tz=America/New_York")
        let cliDaily = try spendlog(
            [
                "stats", "--dir", dir, "--format", "json", "--by", "day", "--since", "2026-11-02", "--until",
                "2026-11-12",
                "--tz", "America/New_York",
            ], environment: Self.environment)
        #expect(daily.status == 200)
        #expect(daily.text == cliDaily.stdout)
        #expect(daily.text.components(separatedBy: "\"day\"").count - 1 == 10)
    }

    @Test func recordsPageNewestFirstAsLogsDoes() throws {
        let dir = try Self.log.get()
        let server = try ServeProcess(dir: dir, environment: Self.environment)
        defer { server.stop() }
        let filter = "project=etl&since=2026-11-04&until=2026-11-10"
        let flags = ["--project", "etl", "--since", "2026-11-04", "--until", "2026-11-10"]
        var cursor: String?
        var offset = 0
        var pages = 0
        repeat {
            let answer = try server.get(
                "/v1/records?\(filter)&limit=7" + (cursor.map { "&cursor=" + $0 } ?? ""))
            #expect(answer.status == 200, "\(answer.text)")
            let cli = try spendlog(
                ["logs", "--dir", dir, "--format", "json", "--limit", "7", "--offset", String(offset)] + flags,
                environment: Self.environment)
            // {"records":<the CLI's array>,"next_cursor":…}
            let prefix = "{\"records\":" + cli.stdout.dropLast()
            #expect(answer.text.hasPrefix(prefix + ",\"next_cursor\":"), "page \(pages)")
            let body = try JSONSerialization.jsonObject(with: answer.body) as! [String: Any]
            cursor = body["next_cursor"] as? String
            offset += 7
            pages += 1
        } while cursor != nil && pages < 100
        let all = try spendlog(["logs", "--dir", dir, "--format", "json", "--limit", "1000"] + flags)
        let count = (try JSONSerialization.jsonObject(with: Data(all.stdout.utf8)) as! [Any]).count
        #expect(count > 30)
        #expect(pages == (count + 6) / 7)
    }

    @Test func budgetReportAndHealthAreTheCLIs() throws {
        let dir = try Self.log.get()
        let server = try ServeProcess(dir: dir, environment: Self.environment)
        defer { server.stop() }
        let budget = try server.get("/v1/budget")
        let cliBudget = try spendlog(
            ["budget", "status", "--dir", dir, "--format", "json"], environment: Self.environment)
        #expect(budget.status == 200)
        #expect(budget.text == cliBudget.stdout)
        #expect(budget.text.contains("\"scope\":\"project=search\""))
        let report = try server.get("/v1/report?since=2026-11-05&until=2026-11-15&tz=Europe/Paris&tag=env=dev")
        let cliReport = try spendlog(
            [
                "report", "--dir", dir, "--format", "json", "--since", "2026-11-05", "--until", "2026-11-15", "--tz",
                "Europe/Paris", "--tag", "env=dev",
            ], environment: Self.environment)
        #expect(report.status == 200)
        #expect(report.text == cliReport.stdout)
        #expect(report.text.count > 500)
        let health = try server.get("/healthz")
        #expect(health.status == 200 && health.text == "{\"status\":\"ok\"}\n")
        // None of the answers carries a CORS header.
        for answer in [budget, report, health] {
            #expect(!answer.headers.keys.contains { $0.hasPrefix("access-control") })
        }
    }

    // MARK: - Refusals

    @Test func refusedParametersAreNamed() throws {
        let dir = try Self.log.get()
        let server = try ServeProcess(dir: dir, environment: Self.environment)
        defer { server.stop() }
        let cases: [(String, String)] = [
            ("/v1/stats?since=yesterday", "since"),
            ("/v1/stats?until=2026-13-01", "until"),
            ("/v1/stats?since=2026-11-10&until=2026-11-01", "since"),
            ("/v1/stats?by=colour", "by"),
            ("/v1/stats?by=tag:", "by"),
            ("/v1/stats?tz=Mars/Olympus", "tz"),
            ("/v1/stats?tz=../../etc/passwd", "tz"),
            ("/v1/stats?tz=Europe", "tz"),
            ("/v1/stats?tag=novalue", "tag"),
            ("/v1/stats?tag==x", "tag"),
            ("/v1/stats?status=maybe", "status"),
            ("/v1/stats?project=a%01b", "project"),
            ("/v1/stats?columns=bogus", "columns"),
            ("/v1/stats?since=2026-11-01&since=2026-11-02", "since"),
            ("/v1/stats?colour=red", "colour"),
            ("/v1/daily?by=project", "by"),
            ("/v1/records?limit=0", "limit"),
            ("/v1/records?limit=1001", "limit"),
            ("/v1/records?limit=ten", "limit"),
            ("/v1/records?cursor=bm90LWEtY3Vyc29y", "cursor"),
            ("/v1/records?cursor=%25%25", "cursor"),
            ("/v1/report?title=a%1Bb", "title"),
            ("/v1/budget?since=2026-11-01", "since"),
            ("/?since=never", "since"),
        ]
        for (path, parameter) in cases {
            let answer = try server.get(path)
            #expect(answer.status == 400, "\(path): \(answer.text)")
            #expect(answer.headers["content-type"] == "application/json", "\(path)")
            let body = try JSONSerialization.jsonObject(with: answer.body) as? [String: String]
            #expect(body?["parameter"] == parameter, "\(path): \(answer.text)")
            #expect(
                body?["error"]?.hasPrefix(parameter + ":") == true
                    || body?["error"]?.hasPrefix(parameter + " (") == true,
                "\(path): \(answer.text)")
            #expect(body?["error"]?.contains("--") == false, "\(path): flags are the CLI's: \(answer.text)")
        }
        let missing = try server.get("/v1/nothing")
        #expect(missing.status == 404 && missing.text.contains("\"error\""))
        let post = try server.get("/v1/stats", method: "POST")
        #expect(post.status == 405 && post.headers["allow"] == "GET")
    }

    /// Without a token only loopback names may ask: a page whose name was rebound to 127.0.0.1
    /// (DNS rebinding) sends its own name, and is refused before anything is read.
    @Test func withoutATokenOnlyLoopbackHostNamesAreServed() throws {
        let dir = try Self.log.get()
        let server = try ServeProcess(dir: dir, environment: Self.environment)
        defer { server.stop() }
        let port = server.base.split(separator: ":").last!
        for host in [
            "127.0.0.1:\(port)", "localhost:\(port)", "LOCALHOST", "[::1]:\(port)", "127.0.0.1", "127.0.0.2:\(port)",
            "[0:0:0:0:0:0:0:1]:\(port)",
        ] {
            #expect(try server.get("/healthz", headers: ["Host": host]).status == 200, "\(host)")
        }
        for host in [
            "evil.example:\(port)", "evil.example", "127.0.0.1.evil.example", "localhost:80x", "localhost:٣", "[::2]",
            "[::1]x", "127.0.0.256", "",
        ] {
            let answer = try server.get("/v1/records", headers: ["Host": host])
            #expect(answer.status == 421, "\(host)")
            #expect(answer.text.contains("Host must be"), "\(answer.text)")
        }
    }

    @Test func aTokenIsRequiredWhenSet() throws {
        let dir = try Self.log.get()
        let temp = TemporaryDirectory()
        let token = "s3cret-token-0123456789abcdef"
        writeFile(temp.path + "/token", Data((token + "\n").utf8))
        let server = try ServeProcess(
            dir: dir, environment: Self.environment, extra: ["--token-file", temp.path + "/token"])
        defer { server.stop() }
        for header in [
            nil, "Bearer wrong-token-0123456789abcdef", "Bearer " + token + "x", "Basic " + token, token,
            "Bearer " + String(token.dropLast()),
        ] {
            for path in ["/v1/stats", "/healthz", "/", "/metrics", "/v1/openapi.json", "/nothing"] {
                let answer = try server.get(path, headers: header.map { ["Authorization": $0] } ?? [:])
                #expect(answer.status == 401, "\(path) \(header ?? "none")")
                #expect(answer.headers["www-authenticate"] == "Bearer")
                let body = try JSONSerialization.jsonObject(with: answer.body) as? [String: String]
                #expect(body?["error"]?.contains("Authorization: Bearer") == true)
            }
        }
        let good = try server.get("/v1/stats?by=project", headers: ["Authorization": "Bearer " + token])
        #expect(good.status == 200)
        // The scheme in any case (RFC 9110); with a token, any Host name may ask.
        let lower = try server.get(
            "/v1/stats?by=project", headers: ["Authorization": "bearer " + token, "Host": "spend.example.com"])
        #expect(lower.status == 200)
        #expect(lower.text == good.text)
        let cli = try spendlog(["stats", "--dir", dir, "--format", "json", "--by", "project"])
        #expect(good.text == cli.stdout)
    }

    @Test func offLoopbackItRefusesToStartWithoutAToken() throws {
        let dir = try Self.log.get()
        for address in ["0.0.0.0:0", "[::]:0", "192.0.2.1:8787"] {
            let result = try spendlog(["serve", "--dir", dir, "--listen", address])
            #expect(result.status == 64, "\(address): \(result.stderr)")
            #expect(result.stderr.contains("--token-file"), "\(address): \(result.stderr)")
            #expect(result.stdout.isEmpty)
        }
        let bad = try runProcess(TestPaths.serveBinary, ["--listen", "localhost"])
        #expect(bad.status == 64 && bad.stderr.contains("--listen"), "\(bad.stderr)")
        let badToken = TemporaryDirectory()
        writeFile(badToken.path + "/token", Data("short\n".utf8))
        let short = try runProcess(
            TestPaths.serveBinary, ["--dir", dir, "--listen", "0.0.0.0:0", "--token-file", badToken.path + "/token"])
        #expect(short.status == 64 && short.stderr.contains("--token-file"), "\(short.stderr)")
    }

    @Test func serveWithoutTheServerProgramNamesWhatToBuild() throws {
        let temp = TemporaryDirectory()
        let copy = temp.path + "/spendlog"
        try FileManager.default.copyItem(atPath: TestPaths.binary, toPath: copy)
        let result = try runProcess(copy, ["serve", "--listen", "127.0.0.1:0"])
        #expect(result.status == 1, "\(result.stderr)")
        #expect(result.stderr.contains("swift build --product spendlog-serve"), "\(result.stderr)")
    }

    /// With and without limits: every file of the log, the budget's included, is as it was —
    /// even with the budget's checkpoint behind the log and a hold past its deadline, which the
    /// next locked operation would count, end and write down. The budget served counts them as
    /// that operation will: the CLI, run afterwards, agrees.
    @Test(arguments: [false, true]) func nothingServedWritesToTheLog(withLimits: Bool) throws {
        let temp = TemporaryDirectory()
        let dir = try Self.freshLog(temp, Self.records(0..<50))
        // An hour after the hold was taken: its 10-minute deadline has passed.
        let later = ["SPENDLOG_NOW": "2026-11-20T13:00:00.000Z"]
        if withLimits {
            let limit = try spendlog(
                [
                    "limit", "set", "--dir", dir, "--scope", "project=etl", "--type", "cost", "--max", "50", "--window",
                    "month",
                ], environment: Self.environment)
            #expect(limit.status == 0, "\(limit.stderr)")
            let hold = try spendlog(
                ["reserve", "--dir", dir, "--scope-fields", "project=etl", "--max-usd", "2", "--ttl", "10m"],
                environment: Self.environment)
            #expect(hold.status == 0, "\(hold.stderr)")
            // Records the checkpoint does not cover yet.
            let more = try spendlog(
                ["ingest", "--dir", dir, "--fsync", "none", "-"], input: Self.records(50..<80),
                environment: Self.environment)
            #expect(more.status == 0)
        }
        let before = try Self.snapshot(dir)
        #expect(before.keys.contains { $0.hasPrefix("budget/") } == withLimits, "\(before.keys.sorted())")
        let server = try ServeProcess(dir: dir, environment: later)
        defer { server.stop() }
        var served = ""
        for path in [
            "/", "/v1/stats?by=day", "/v1/daily", "/v1/records?limit=1000", "/v1/budget", "/v1/report",
            "/v1/changes", "/metrics", "/healthz", "/v1/openapi.json",
        ] {
            let answer = try server.get(path)
            #expect(answer.status == 200, "\(path): \(answer.text)")
            if path == "/v1/budget" { served = answer.text }
        }
        #expect(try Self.snapshot(dir) == before)
        if withLimits {
            // The expired hold is not counted: nothing is held.
            #expect(served.contains("\"held\":0,") && !served.contains("\"held\":0."), "\(served)")
            let cli = try spendlog(["budget", "status", "--dir", dir, "--format", "json"], environment: later)
            #expect(cli.status == 0, "\(cli.stderr)")
            #expect(served == cli.stdout)
        }
    }

    @Test func theDashboardOpensInChromiumAndShowsANewRecordWithinTwoSeconds() throws {
        let temp = TemporaryDirectory()
        let dir = try Self.freshLog(temp, Self.records(0..<200))
        let server = try ServeProcess(dir: dir, environment: Self.environment)
        defer { server.stop() }
        let marker = "live-check-project"
        let check = try runProcess(
            TestPaths.python,
            [
                TestPaths.packageRoot + "/scripts/check-serve.py", "dashboard",
                server.base + "/?since=2026-11-01&until=2026-11-21&tz=Europe/Berlin", marker, "--", TestPaths.binary,
                "append", "--dir", dir, "--project", marker, "--model", "gpt-4.1", "--input-tokens", "10",
                "--output-tokens", "1", "--cost", "0.5", "--ts", "2026-11-10T10:00:00Z",
            ],
            environment: Self.environment)
        print(check.stdout, terminator: "")
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
    }

    /// Answers are kept until the log changes: the same question after an append sees the record.
    @Test func aRepeatedQuestionSeesRecordsAppendedSinceItWasAsked() throws {
        let temp = TemporaryDirectory()
        let dir = try Self.freshLog(temp, Self.records(0..<50))
        let server = try ServeProcess(dir: dir, environment: Self.environment)
        defer { server.stop() }
        for round in 0..<3 {
            for path in ["/v1/stats?by=project", "/v1/daily?since=2026-11-01&until=2026-11-21"] {
                let first = try server.get(path)
                let again = try server.get(path)
                #expect(first.text == again.text)
            }
            let stats = try server.get("/v1/stats?by=project")
            let cli = try spendlog(["stats", "--dir", dir, "--format", "json", "--by", "project"])
            #expect(stats.text == cli.stdout, "round \(round)")
            let daily = try server.get("/v1/daily?since=2026-11-01&until=2026-11-21")
            let cliDaily = try spendlog(
                [
                    "stats", "--dir", dir, "--format", "json", "--by", "day", "--since", "2026-11-01", "--until",
                    "2026-11-21",
                ])
            #expect(daily.text == cliDaily.stdout, "round \(round)")
            #expect(stats.text.contains("\"project\":\"new-\(round)\"") == false)
            // The change token: quoted in the ETag, 304 while the log is unchanged, new after an append.
            let changes = try server.get("/v1/changes")
            let etag = try #require(changes.headers["etag"])
            #expect(etag.hasPrefix("\"") && etag.hasSuffix("\""), "\(etag)")
            #expect(try server.get("/v1/changes", headers: ["If-None-Match": etag]).status == 304)
            let append = try spendlog(
                [
                    "append", "--dir", dir, "--project", "new-\(round)", "--model", "o3", "--input-tokens", "5",
                    "--output-tokens", "1", "--cost", "0.25", "--ts", "2026-11-0\(round + 2)T08:00:00Z",
                ])
            #expect(append.status == 0, "\(append.stderr)")
            let after = try server.get("/v1/stats?by=project")
            #expect(after.text.contains("\"project\":\"new-\(round)\""), "round \(round): \(after.text)")
            let changed = try server.get("/v1/changes", headers: ["If-None-Match": etag])
            #expect(changed.status == 200)
            #expect(changed.headers["etag"] != etag)
        }
    }

    /// A damaged segment is left out as the CLI leaves it out (same body), and the answer says so.
    @Test func damagedSegmentsAreLeftOutAndNamedInAHeader() throws {
        let temp = TemporaryDirectory()
        let dir = try Self.freshLog(temp, Self.records(0..<90))
        let folder = dir + "/segments/day=2026-11-02"
        let segment = try #require(
            try FileManager.default.contentsOfDirectory(atPath: folder).first { $0.hasSuffix(".jsonl") })
        let handle = try #require(FileHandle(forWritingAtPath: folder + "/" + segment))
        handle.seekToEndOfFile()
        handle.write(Data("this is not a record\n".utf8))
        handle.write(Data(Self.records(200..<201).utf8))
        handle.closeFile()
        let server = try ServeProcess(dir: dir, environment: Self.environment)
        defer { server.stop() }
        let cli = try spendlog(["stats", "--dir", dir, "--format", "json", "--by", "day"])
        #expect(cli.status == 65, "\(cli.stderr)")
        for _ in 0..<2 {  // the second answer is the kept one
            let answer = try server.get("/v1/stats?by=day")
            #expect(answer.status == 200)
            #expect(answer.text == cli.stdout)
            #expect(
                answer.headers["spendlog-damaged"]?.hasPrefix("1 damaged segment(s) left out") == true,
                "\(answer.headers)")
            #expect(answer.headers["spendlog-damaged"]?.contains(segment) == true, "\(answer.headers)")
        }
        let records = try server.get("/v1/records?limit=1000")
        #expect(records.headers["spendlog-damaged"] != nil)
        let clean = try server.get("/v1/stats?by=day&until=2026-11-02")
        #expect(clean.headers["spendlog-damaged"] == nil)
    }

    /// Every file under `dir` with its size and modification time.
    static func snapshot(_ dir: String) throws -> [String: String] {
        var result: [String: String] = [:]
        let enumerator = FileManager.default.enumerator(atPath: dir)!
        while let name = enumerator.nextObject() as? String {
            let attributes = try FileManager.default.attributesOfItem(atPath: dir + "/" + name)
            result[name] = "\(attributes[.size] ?? "") \(attributes[.modificationDate] ?? "")"
        }
        return result
    }

    // MARK: - Metrics and the OpenAPI document, checked from Python

    @Test func metricsParseWithPrometheusClientAndMatchStats() throws {
        let dir = try Self.log.get()
        let server = try ServeProcess(dir: dir, environment: Self.environment)
        defer { server.stop() }
        let metrics = try server.get("/metrics")
        #expect(metrics.status == 200)
        #expect(metrics.headers["content-type"]?.hasPrefix("text/plain") == true)
        let temp = TemporaryDirectory()
        writeFile(temp.path + "/metrics.txt", metrics.body)
        let stats = try spendlog(["stats", "--dir", dir, "--format", "json", "--by", "project", "--by", "model"])
        writeFile(temp.path + "/stats.json", Data(stats.stdout.utf8))
        let budget = try spendlog(
            ["budget", "status", "--dir", dir, "--format", "json"], environment: Self.environment)
        writeFile(temp.path + "/budget.json", Data(budget.stdout.utf8))
        let check = try runProcess(
            TestPaths.python,
            [
                TestPaths.packageRoot + "/scripts/check-serve.py", "metrics", temp.path + "/metrics.txt",
                temp.path + "/stats.json", temp.path + "/budget.json",
            ])
        print(check.stdout, terminator: "")
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
    }

    @Test func theOpenAPIDocumentIsTheCheckedInOneAndValidates() throws {
        let dir = try Self.log.get()
        let server = try ServeProcess(dir: dir, environment: Self.environment)
        defer { server.stop() }
        let served = try server.get("/v1/openapi.json")
        let file = try Data(contentsOf: URL(fileURLWithPath: TestPaths.packageRoot + "/docs/openapi.json"))
        #expect(served.status == 200)
        #expect(served.body == file)
        let check = try runProcess(
            TestPaths.python,
            [
                TestPaths.packageRoot + "/scripts/check-serve.py", "openapi",
                TestPaths.packageRoot + "/docs/openapi.json",
            ])
        print(check.stdout, terminator: "")
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
    }
}

extension ServeCLITests {
    /// schemathesis (from the test venv) against the running server: every response's status,
    /// content type, headers and body match the OpenAPI document, no request gets a 5xx, and
    /// input outside the document is refused. Its check that every value the document allows is
    /// accepted is left out: the document cannot say that a zone must exist or that `since` comes
    /// before `until`, which the server, like the CLI, refuses.
    @Test func schemathesisFindsEveryAnswerAsDocumented() throws {
        let dir = try Self.log.get()
        let server = try ServeProcess(dir: dir, environment: Self.environment)
        defer { server.stop() }
        let work = TemporaryDirectory()
        let python = URL(fileURLWithPath: TestPaths.python)
        let schemathesis = python.deletingLastPathComponent().path + "/schemathesis"
        let result = try runProcess(
            schemathesis,
            [
                "run", TestPaths.packageRoot + "/docs/openapi.json", "--url", server.base, "--checks", "all",
                "--exclude-checks", "positive_data_acceptance", "--max-examples", "15", "--seed", "18", "--workers",
                "1",
                "--no-color",
            ],
            workingDirectory: work.path)
        let summary = result.stdout.split(separator: "\n").filter { $0.contains("generated") || $0.contains("===") }
        print("schemathesis: " + summary.joined(separator: " | "))
        #expect(result.status == 0, "\(result.stdout.suffix(4000))\(result.stderr.suffix(2000))")
        #expect(result.stdout.contains("passed"))
    }
}

struct ServeTestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A server started through `spendlog serve` on a free loopback port (`--listen 127.0.0.1:0`):
/// its first line on standard output names the address.
final class ServeProcess: @unchecked Sendable {
    let process = Process()
    let base: String
    let errorPath: String

    init(dir: String, environment: [String: String] = [:], extra: [String] = []) throws {
        process.executableURL = URL(fileURLWithPath: TestPaths.binary)
        process.arguments = ["serve", "--dir", dir, "--listen", "127.0.0.1:0"] + extra
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        process.environment = env
        let out = Pipe()
        errorPath = NSTemporaryDirectory() + "spendlog-serve-\(UUID().uuidString).err"
        writeFile(errorPath, Data())
        process.standardOutput = out
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errorPath))
        process.standardInput = FileHandle.nullDevice
        try process.run()
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let more = out.fileHandleForReading.availableData
            if more.isEmpty { break }
            line.append(more)
        }
        let text = String(decoding: line, as: UTF8.self).split(separator: "\n").first.map(String.init) ?? ""
        guard text.hasPrefix("listening on http://127.0.0.1:") else {
            process.terminate()
            let stderr = (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? ""
            throw ServeTestFailure("the server did not start: '\(text)' \(stderr)")
        }
        base = String(text.dropFirst("listening on ".count))
    }

    /// SIGTERM (a graceful shutdown), then SIGKILL if it has not ended within 10 s.
    func stop() {
        if process.isRunning {
            process.terminate()
            let deadline = Date().addingTimeInterval(10)
            while process.isRunning && Date() < deadline { usleep(20_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitForExit()
        }
        try? FileManager.default.removeItem(atPath: errorPath)
    }

    deinit { stop() }

    struct Answer {
        var status: Int
        var headers: [String: String]
        var body: Data
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    /// One request on a connection of its own; see ``httpRequest(_:_:method:headers:body:)``.
    func get(_ path: String, method: String = "GET", headers: [String: String] = [:]) throws -> Answer {
        try httpRequest(base, path, method: method, headers: headers)
    }
}

/// One request to the server at `base` (`http://127.0.0.1:PORT`) on a connection of its own
/// (`Connection: close`), read to its end: a plain HTTP/1.1 client over a socket, with nothing
/// between the test and the server's bytes (URLSession stalls under libfaketime).
func httpRequest(
    _ base: String, _ path: String, method: String = "GET", headers: [String: String] = [:], body: Data? = nil
) throws -> ServeProcess.Answer {
    let port = UInt16(base.split(separator: ":").last!)!
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw ServeTestFailure("socket: errno \(errno)") }
    defer { close(fd) }
    var timeout = timeval(tv_sec: 60, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = port.bigEndian
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
    }
    guard connected == 0 else { throw ServeTestFailure("connect to \(base): errno \(errno)") }
    var request = "\(method) \(path) HTTP/1.1\r\nConnection: close\r\n"
    if headers["Host"] == nil { request += "Host: 127.0.0.1:\(port)\r\n" }
    for (name, value) in headers { request += "\(name): \(value)\r\n" }
    request += method == "GET" ? "\r\n" : "Content-Length: \(body?.count ?? 0)\r\n\r\n"
    let bytes = Array(request.utf8) + Array(body ?? Data())
    var sent = 0
    while sent < bytes.count {
        let n = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { throw ServeTestFailure("send: errno \(errno)") }
        sent += n
    }
    var response: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let n = recv(fd, &buffer, buffer.count, 0)
        guard n >= 0 else { throw ServeTestFailure("recv from \(base)\(path): errno \(errno)") }
        if n == 0 { break }
        response += buffer[..<n]
    }
    guard let end = response.indices.first(where: { response[$0...].starts(with: [13, 10, 13, 10]) }) else {
        throw ServeTestFailure("no HTTP head from \(path): \(String(decoding: response, as: UTF8.self))")
    }
    let head = String(decoding: response[..<end], as: UTF8.self).components(separatedBy: "\r\n")
    let status = Int(head[0].split(separator: " ")[1])!
    var fields: [String: String] = [:]
    for line in head.dropFirst() {
        guard let colon = line.firstIndex(of: ":") else { continue }
        fields[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
    }
    var content = Array(response[(end + 4)...])
    if fields["transfer-encoding"] == "chunked" {
        var decoded: [UInt8] = []
        var at = 0
        while let lineEnd = content[at...].indices.first(where: { content[$0...].starts(with: [13, 10]) }),
            let size = Int(String(decoding: content[at..<lineEnd], as: UTF8.self), radix: 16), size > 0
        {
            decoded += content[(lineEnd + 2)..<(lineEnd + 2 + size)]
            at = lineEnd + 2 + size + 2
        }
        content = decoded
    }
    return ServeProcess.Answer(status: status, headers: fields, body: Data(content))
}
