import Foundation
import Testing

/// What every command owes the person running it: help that reads cleanly at 80 columns, their
/// own paths taken as the shell gives them, record content that never becomes a path, and a
/// release binary that no environment variable can make die mid-append.
@Suite struct OperatorTests {
    // MARK: - Help

    @Test func everyHelpPageReadsCleanlyAtEightyColumns() throws {
        var problems: [String] = []
        var pages: [String] = []
        var queue: [[String]] = [[]]
        while let path = queue.popLast() {
            let result = try spendlog(path + ["--help"], environment: ["COLUMNS": "80"])
            #expect(result.status == 0, "\(path)")
            let name = (["spendlog"] + path).joined(separator: " ")
            pages.append(name)
            problems += HelpText.problems(result.stdout, width: 80).map { "\(name) --help: \($0)" }
            queue += HelpText.subcommands(result.stdout).map { path + [$0] }
        }
        #expect(pages.count >= 26, "\(pages)")
        #expect(pages.contains("spendlog limit set") && pages.contains("spendlog prices import"))
        #expect(problems == [])
    }

    /// The check itself catches text wrapped by hand and then again by the parser, the defect it
    /// guards against, and lets through what the parser wraps alone.
    @Test func theHelpCheckCatchesHandWrappedText() {
        let twice = "OVERVIEW: spendlog.\n\nThe log is found at\n--dir,\nelse $SPENDLOG_DIR.\n"
        #expect(HelpText.problems(twice, width: 80) == ["ends mid-sentence: 'The log is found at'"])
        let short = "A model the\ntable lacks is recorded as unpriced.\n"
        #expect(HelpText.problems(short, width: 80) == ["ends mid-sentence: 'A model the'"])
        let long = String(repeating: "word ", count: 17) + "word\n"
        #expect(HelpText.problems(long, width: 80) == ["is 89 columns: '\(long.dropLast())'"])
        let wrapped =
            "  --by <by>               Group by project, model, provider, user, caller,\n"
            + "                          role, task, status, day, week or month (repeatable).\n"
            + "  --input-tokens <input-tokens>\n                          All input tokens.\n"
            + "Examples:\n  spendlog append --project etl \\\n      --model m\n  spendlog tail\n"
            + "Exit codes:\n  0   success\n  1   failure\n"
        #expect(HelpText.problems(wrapped, width: 80) == [])
    }

    // MARK: - Paths

    /// `--dir`, FILE arguments, `--prices` and `--output` with `..`, absolute or relative: no Unix
    /// tool refuses its own operator's path.
    @Test func pathsTheOperatorTypesAreTakenAsTheShellGivesThem() throws {
        let temp = TemporaryDirectory()
        let work = temp.path + "/work"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        let run = { (arguments: [String]) throws -> ProcessResult in
            try spendlog(
                arguments, environment: ["SPENDLOG_PRICES": "", "XDG_CONFIG_HOME": work], workingDirectory: work)
        }
        let appended = try run([
            "append", "--dir", "../log", "--project", "etl", "--model", "gpt-4.1", "--input-tokens", "10",
            "--output-tokens", "1", "--cost", "0.5", "--ts", "2026-11-23T10:00:00Z",
        ])
        #expect(appended.status == 0, "\(appended.stderr)")
        #expect(FileManager.default.fileExists(atPath: temp.path + "/log/FORMAT"))

        writeFile(
            temp.path + "/calls.jsonl",
            Data(#"{"project":"etl","model":"gpt-4.1","cost_usd":0.25,"ts":"2026-11-23T11:00:00Z"}"#.utf8 + [0x0A]))
        let ingested = try run(["ingest", "../calls.jsonl", "--dir", work + "/../log"])
        #expect(ingested.status == 0, "\(ingested.stderr)")

        let response = try Data(
            contentsOf: URL(fileURLWithPath: TestPaths.fixtures + "/provider-responses/openai_chat_completions.json"))
        writeFile(temp.path + "/response.json", response)
        let captured = try run([
            "append", "--dir", "../log", "--from-response", "openai", "../response.json", "--project", "etl",
            "--cost", "0.25", "--ts", "2026-11-23T12:00:00Z",
        ])
        #expect(captured.status == 0, "\(captured.stderr)")

        let stats = try run(["stats", "--dir", "../work/../log", "--by", "project", "--format", "csv"])
        #expect(stats.status == 0, "\(stats.stderr)")
        // The three calls: 10 + 0 + 19 input tokens (the response's), 1 + 0 + 10 output, $0.5 + 0.25 + 0.25.
        #expect(stats.stdout.hasSuffix("\r\netl,3,29,11,0,0,0,1,0,0,\r\n"), "\(stats.stdout)")

        writeFile(
            temp.path + "/litellm.json",
            Data(
                #"{"house-model": {"input_cost_per_token": 1e-06, "output_cost_per_token": 2e-06, "litellm_provider": "openai", "mode": "chat"}}"#
                    .utf8))
        let imported = try run(["prices", "import", "../litellm.json", "--prices", "../work/../prices.json"])
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(FileManager.default.fileExists(atPath: temp.path + "/prices.json"))
        let written = try run(["prices", "import", "../litellm.json", "--output", "./../table.json"])
        #expect(written.status == 0, "\(written.stderr)")
        #expect(FileManager.default.fileExists(atPath: temp.path + "/table.json"))
        let cost = try run([
            "cost", "--model", "house-model", "--input-tokens", "1000", "--output-tokens", "1000", "--prices",
            "../prices.json",
        ])
        #expect(cost.status == 0, "\(cost.stderr)")
        #expect(cost.stdout.contains("0.003"), "\(cost.stdout)")
    }

    /// A project, model, user, caller, task, tag or host named like a path is data: it is stored
    /// and reported as given, and no file or folder is made from it.
    @Test func recordContentNamedLikeAPathNeverTouchesTheFileSystem() throws {
        let temp = TemporaryDirectory()
        let dir = temp.path + "/log"
        let environment = ["SPENDLOG_HOST": "../../host", "SPENDLOG_PRICES": "", "XDG_CONFIG_HOME": temp.path + "/cfg"]
        let appended = try spendlog(
            [
                "append", "--dir", dir, "--project", "../../etc", "--model", "../../etc/passwd", "--user", "../u",
                "--caller", "/etc/shadow", "--task", "..", "--role", "./r", "--session", "../s", "--request-id",
                "/../r", "--tag", "../k=../../v", "--input-tokens", "1", "--output-tokens", "1", "--cost", "0.5",
                "--ts", "2026-11-23T10:00:00Z",
            ], environment: environment)
        #expect(appended.status == 0, "\(appended.stderr)")
        let line =
            #"{"project":"/","model":"..","user":"../../../../tmp/x","ts":"2026-11-23T11:00:00Z","cost_usd":0.25}"#
        #expect(try spendlog(["ingest", "--dir", dir, "-"], input: line + "\n", environment: environment).status == 0)
        #expect(try spendlog(["seal", "--dir", dir], environment: environment).status == 0)
        #expect(try spendlog(["index", "--dir", dir], environment: environment).status == 0)

        let stats = try spendlog(
            ["stats", "--dir", dir, "--by", "project", "--format", "csv"], environment: environment)
        #expect(stats.stdout.contains("\n../../etc,1,"), "\(stats.stdout)")
        #expect(stats.stdout.contains("\n/,1,"), "\(stats.stdout)")
        let tail = try spendlog(["tail", "--dir", dir, "--json"], environment: environment)
        #expect(tail.stdout.contains(#""project":"../../etc","model":"../../etc/passwd""#), "\(tail.stdout)")
        #expect(tail.stdout.contains(#""tags":{"../k":"../../v"}"#), "\(tail.stdout)")

        // Everything made lies inside the log, under names the log chose.
        #expect(try FileManager.default.contentsOfDirectory(atPath: temp.path).sorted() == ["log"])
        let made = try #require(FileManager.default.subpaths(atPath: dir))
        let segments = made.filter { $0.hasPrefix("segments/") }.sorted()
        let day = "segments/day=2026-11-23"
        #expect(segments == [day, day + "/_._.._host-000000.jsonl.zst", day + "/_._.._host.lock"])
        for path in made {
            #expect(!path.contains("etc") && !path.contains("passwd") && !path.contains("shadow"), "\(path)")
            #expect(!path.split(separator: "/").contains(".."), "\(path)")
        }
    }

    // MARK: - Fault points

    /// The fault seam of the tests is compiled out of the release build: the release binary
    /// completes the appends the debug binary is made to die in or fail, and holds no trace of
    /// the switches.
    @Test(.enabled(if: TestPaths.releaseBinary != nil, "make test builds the release binary and names it"))
    func theReleaseBinaryIgnoresTheFaultSwitches() throws {
        let release = try #require(TestPaths.releaseBinary)
        #expect(FileManager.default.isExecutableFile(atPath: release), "\(release)")
        let temp = TemporaryDirectory()
        for (binary, name) in [(TestPaths.binary, "debug"), (release, "release")] {
            let dir = temp.path + "/" + name
            let result = try runProcess(
                binary,
                [
                    "append", "--dir", dir, "--project", "etl", "--model", "gpt-4.1", "--input-tokens", "1",
                    "--output-tokens", "1", "--cost", "0.1",
                ], environment: ["SPENDLOG_CRASH_AT": "append.afterWrite"])
            let failing = try runProcess(
                binary,
                [
                    "append", "--dir", dir, "--project", "etl", "--model", "gpt-4.1", "--input-tokens", "1",
                    "--output-tokens", "1", "--cost", "0.1",
                ], environment: ["SPENDLOG_FAIL_AT": "fsync=EIO:/segments/day="])
            if name == "debug" {
                #expect(result.status == SIGKILL, "the debug build's fault point fires")
                #expect(result.stdout.isEmpty)
                #expect(failing.status == 1, "the debug build's forced error fires")
                #expect(failing.stderr.contains("Input/output error"), "\(failing.stderr)")
                #expect(failing.stderr.contains("Nothing was written"), "\(failing.stderr)")
            } else {
                #expect(failing.status == 0, "\(failing.stderr)")
                #expect(result.status == 0, "\(result.stderr)")
                #expect(UUID(uuidString: String(result.stdout.dropLast())) != nil, "\(result.stdout)")
                let tail = try spendlog(["tail", "--dir", dir, "--json"])
                #expect(tail.stdout.split(separator: "\n").count == 2)
            }
        }
        let image = try Data(contentsOf: URL(fileURLWithPath: release))
        let debugImage = try Data(contentsOf: URL(fileURLWithPath: TestPaths.binary))
        for variable in ["SPENDLOG_CRASH_AT", "SPENDLOG_FAIL_AT"] {
            #expect(image.range(of: Data(variable.utf8)) == nil, "\(variable)")
            #expect(debugImage.range(of: Data(variable.utf8)) != nil, "\(variable)")
        }
    }

    /// The release build is compiled and linked otherwise than the debug build (Package.swift,
    /// SPENDLOG_FAST_START=1, which `make test` sets: metadata by accessor, libstdc++ and libzstd
    /// from their archives, a position-dependent executable). Given the same ids and times, it
    /// prints, prices and seals the same bytes as the debug build (service tiers, long prompts,
    /// cache writes, dated and regional names, an unpriced model), and each build verifies what
    /// the other sealed.
    @Test(.enabled(if: TestPaths.releaseBinary != nil, "make test builds the release binary and names it"))
    func theReleaseBinaryRecordsWhatTheDebugBinaryRecords() throws {
        let release = try #require(TestPaths.releaseBinary)
        // The build the Makefile makes: an executable of type ET_EXEC (not position-independent)
        // that does not load libstdc++.
        let image = try Data(contentsOf: URL(fileURLWithPath: release))
        #expect(image.count > 18 && image[16] == 2 && image[17] == 0, "e_type of \(release)")
        let needed = try runProcess("/usr/bin/ldd", [release])
        #expect(needed.status == 0 && !needed.stdout.contains("libstdc++"), "\(needed.stdout)")

        let calls: [[String]] = [
            ["--model", "gpt-4.1-mini", "--input-tokens", "1200", "--output-tokens", "80"],
            [
                "--model", "gpt-5", "--service-tier", "priority", "--input-tokens", "5000", "--cached-input-tokens",
                "1000", "--output-tokens", "700", "--reasoning-tokens", "300",
            ],
            ["--model", "gpt-5-mini", "--service-tier", "batch", "--input-tokens", "900", "--output-tokens", "90"],
            [
                "--model", "claude-sonnet-4-5", "--input-tokens", "250000", "--cache-write-tokens", "4000",
                "--cache-write-1h-tokens", "1000", "--output-tokens", "900",
            ],
            [
                "--model", "eu.anthropic.claude-sonnet-4-5-20250929-v1:0", "--input-tokens", "100", "--output-tokens",
                "10",
            ],
            ["--model", "gpt-4o-2024-05-13", "--input-tokens", "100", "--output-tokens", "10"],
            ["--model", "in-house-llama", "--input-tokens", "100", "--output-tokens", "10"],
        ]
        let temp = TemporaryDirectory()
        // The built-in table only, whatever price file the person running the tests has.
        let environment = ["SPENDLOG_PRICES": "", "XDG_CONFIG_HOME": temp.path + "/config"]
        var outputs: [String: [String]] = [:]
        var sealed: [String: String] = [:]
        for (binary, name) in [(TestPaths.binary, "debug"), (release, "release")] {
            let dir = temp.path + "/" + name
            for (index, call) in calls.enumerated() {
                let result = try runProcess(
                    binary,
                    [
                        "append", "--dir", dir, "--project", "etl", "--ts", "2026-11-0\(index + 1)T10:00:00Z",
                        "--id", "0190e6a0-0000-7000-8000-00000000000\(index)",
                    ] + call, environment: environment)
                #expect(result.status == 0, "\(name) \(call): \(result.stderr)")
                outputs[name, default: []].append(result.stdout + result.stderr)
            }
            let seal = try runProcess(binary, ["seal", "--dir", dir])
            #expect(seal.status == 0, "\(name): \(seal.stderr)")
            // The sealed bytes, read by zstd itself.
            let text = try runProcess("/bin/sh", ["-c", "zstd -q -d -c \"$0\"/segments/*/*.zst", dir])
            #expect(text.status == 0, "\(text.stderr)")
            sealed[name] = text.stdout
            // Read back by the other build.
            let other = name == "debug" ? release : TestPaths.binary
            let verified = try runProcess(other, ["verify", "--dir", dir])
            #expect(verified.status == 0, "\(name): \(verified.stdout) \(verified.stderr)")
            #expect(verified.stdout.contains("\(calls.count) records, 0 problems"), "\(verified.stdout)")
        }
        let debugLines = try #require(sealed["debug"]).split(separator: "\n")
        #expect(debugLines.count == calls.count)
        #expect(debugLines.filter { $0.contains(#""cost_source":"priced""#) }.count == calls.count - 1)
        #expect(sealed["release"] == sealed["debug"])
        #expect(outputs["release"] == outputs["debug"])
    }
}

/// Reads `--help` output the way a person does at a given width.
enum HelpText {
    /// The subcommands a help page lists (its SUBCOMMANDS section), without `help`.
    static func subcommands(_ text: String) -> [String] {
        var names: [String] = []
        var inSection = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("SUBCOMMANDS:") {
                inSection = true
            } else if inSection, line.hasPrefix("  "), !line.hasPrefix("   "),
                let name = line.split(separator: " ").first, !line.contains("See '")
            {
                if name != "help" { names.append(String(name)) }
            } else if inSection, !line.isEmpty, !line.hasPrefix(" ") {
                inSection = false
            }
        }
        return names
    }

    /// Lines wider than `width`, and lines broken before the next word had to wrap: a line that
    /// does not end a sentence, followed by prose whose first word would still have fitted. That
    /// is what text wrapped by hand and then again by the parser looks like. Commands in examples
    /// (`spendlog …`, a line continued with `\`), option labels on a line of their own, and the
    /// items of a list (`name  text`) may end anywhere.
    static func problems(_ text: String, width: Int) -> [String] {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var problems: [String] = []
        for (i, line) in lines.enumerated() {
            if line.count > width { problems.append("is \(line.count) columns: '\(line)'") }
            guard i + 1 < lines.count else { continue }
            let next = lines[i + 1]
            let a = line.trimmingCharacters(in: .whitespaces)
            let b = next.trimmingCharacters(in: .whitespaces)
            guard let last = a.last, let firstWord = b.split(separator: " ").first else { continue }
            if ".:!?".contains(last) || isCommand(a) || isCommand(b) || isOptionLabel(a) || isListItem(next) {
                continue
            }
            if b.hasPrefix("-") && next.prefix(while: { $0 == " " }).count == 2 { continue }  // the next option
            if line.count + 1 + firstWord.count < width { problems.append("ends mid-sentence: '\(a)'") }
        }
        return problems
    }

    static func isCommand(_ line: String) -> Bool {
        line.hasPrefix("spendlog ") || line.contains("$(spendlog ") || line.contains("| spendlog ")
            || line.hasSuffix(" \\")
    }

    /// `--input-tokens <input-tokens>`, `-n <n>`, `<file>`: an option whose help starts below.
    static func isOptionLabel(_ line: String) -> Bool {
        line.split(separator: " ").allSatisfy { word in
            let word = word.hasSuffix(",") ? word.dropLast() : word
            return word.hasPrefix("-") || (word.hasPrefix("<") && word.hasSuffix(">")) || word == "..."
        }
    }

    /// `  0   success`, `  append                  Record one LLM call.`
    static func isListItem(_ line: String) -> Bool {
        guard line.hasPrefix("  ") else { return false }
        let body = line.drop(while: { $0 == " " })
        guard let gap = body.firstIndex(of: " ") else { return false }
        return body[gap...].hasPrefix("  ") && body[gap...].contains(where: { $0 != " " })
    }
}
