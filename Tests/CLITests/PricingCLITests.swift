import Foundation
import Testing

/// `spendlog cost`, `spendlog prices …`, and pricing in `append`/`ingest`, through the built binary.
/// Every run gets its own config folder so that no user price file outside the test is read.
@Suite struct PricingCLITests {
    let temp = TemporaryDirectory()
    var dir: String { temp.path + "/log" }
    var environment: [String: String] { ["XDG_CONFIG_HOME": temp.path + "/config", "SPENDLOG_PRICES": ""] }
    static let responses = TestPaths.fixtures + "/provider-responses/"

    func run(_ arguments: [String], input: String? = nil, environment extra: [String: String] = [:]) throws
        -> ProcessResult
    {
        try spendlog(arguments, input: input, environment: environment.merging(extra) { $1 })
    }

    func storedLines() throws -> [[String: Any]] {
        let tail = try run(["tail", "--dir", dir, "-n", "100", "--json"])
        guard tail.status == 0 else { return [] }
        return try tail.stdout.split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
    }

    func costText(_ line: [String: Any]) -> String { "\(line["cost_usd"]!)" }

    @Test func costPrintsTheBreakdownAsATable() throws {
        // 4000 × 1.25e-6 + 8000 × 0.125e-6 + 900 × 10e-6 (reasoning at the output price)
        let result = try run([
            "cost", "--model", "gpt-5", "--input-tokens", "12000", "--cached-input-tokens", "8000", "--output-tokens",
            "900",
            "--reasoning-tokens", "600",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(
            result.stdout == """
                model:        gpt-5
                service tier: standard
                prices as of: 2026-11-23

                COMPONENT   TOKENS  USD/1M  COST USD
                input         4000    1.25     0.005
                cache_read    8000   0.125     0.001
                output         300      10     0.003
                reasoning      600      10     0.006

                total: 0.015 USD

                """)
    }

    @Test func costAsJSONNamesTheMatchedEntryAndEveryComponent() throws {
        // Gemini 2.5 Pro above 200k: 240000 × 2.5e-6 + 10000 × 0.25e-6 + 2000 × 15e-6
        let result = try run([
            "cost", "--model", "gemini/gemini-2.5-pro", "--input-tokens", "250000", "--cached-input-tokens", "10000",
            "--output-tokens", "2000", "--format", "json",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains(#""cost_usd": 0.6325,"#))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(json["cost_source"] as? String == "priced")
        #expect(json["prompt_tier_above_input_tokens"] as? Int == 200_000)
        let entry = try #require(json["price_entry"] as? [String: Any])
        #expect(entry["name"] as? String == "gemini-2.5-pro")
        #expect(entry["match"] as? String == "normalized")
        let components = try #require(json["components"] as? [[String: Any]])
        #expect(
            components.map { "\($0["component"]!) \($0["tokens"]!) \($0["usd_per_million_tokens"]!)" } == [
                "input 240000 2.5", "cache_read 10000 0.25", "output 2000 15",
            ])
    }

    @Test func costOfABatchCallWithOneHourCacheWrites() throws {
        // claude-sonnet-4-5 batch: 100 × 1.5e-6 + 1000 × 1.875e-6 (5m, batch) + 500 × 3e-6 (1h: no batch price,
        // standard 6e-6 × the batch input discount 1.5 ÷ 3) + 10 × 7.5e-6
        let result = try run([
            "cost", "--model", "claude-sonnet-4-5-20250929", "--input-tokens", "1600", "--cache-write-tokens", "1500",
            "--cache-write-1h-tokens", "500", "--output-tokens", "10", "--service-tier", "batch", "--format", "json",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains(#""cost_usd": 0.0036,"#), "\(result.stdout)")
        #expect(result.stderr.contains("has no batch price for cache_write_1h"), "\(result.stderr)")
    }

    /// Off-peak prices follow the call's time: `cost --ts`, the clock without it, and a record's
    /// `ts` when `append` prices it.
    @Test func offPeakPricesFollowTheTimeOfTheCall() throws {
        let prices = temp.path + "/offpeak.json"
        try """
        {"format": "spendlog-prices 1", "models": {"night-model": {"input": 2, "output": 4,
          "off_peak": {"input": 1, "output": 2, "windows": [{"hours_utc": "16:30-00:30"}]}}}}
        """.write(toFile: prices, atomically: true, encoding: .utf8)
        func cost(_ extra: [String], clock: String = "2026-12-01T12:00:00Z") throws -> ProcessResult {
            try run(
                ["cost", "--prices", prices, "--model", "night-model", "--input-tokens", "1000000", "--format", "json"]
                    + extra, environment: ["SPENDLOG_NOW": clock])
        }
        let night = try cost(["--ts", "2026-12-01T23:00:00Z"])
        #expect(night.status == 0, "\(night.stderr)")
        #expect(night.stdout.contains(#""cost_usd": 1,"#), "\(night.stdout)")
        #expect(night.stderr.contains("priced off-peak at this time (16:30-00:30 UTC)"), "\(night.stderr)")
        #expect(try cost(["--ts", "2026-12-01T12:00:00Z"]).stdout.contains(#""cost_usd": 2,"#))
        // Without --ts, the clock decides.
        #expect(try cost([], clock: "2026-12-02T00:15:00Z").stdout.contains(#""cost_usd": 1,"#))
        #expect(try cost([], clock: "2026-12-02T00:30:00Z").stdout.contains(#""cost_usd": 2,"#))
        let bad = try cost(["--ts", "tonight"])
        #expect(bad.status == 64)
        #expect(bad.stderr.contains("--ts: 'tonight' is not an RFC 3339 time"), "\(bad.stderr)")

        for ts in ["2026-12-01T23:00:00Z", "2026-12-01T12:00:00Z"] {
            let appended = try run(
                [
                    "append", "--dir", dir, "--prices", prices, "--project", "p", "--model", "night-model",
                    "--input-tokens", "1000000", "--output-tokens", "0", "--ts", ts,
                ], environment: ["SPENDLOG_NOW": "2026-12-01T12:00:00Z"])
            #expect(appended.status == 0, "\(appended.stderr)")
        }
        #expect(try storedLines().map(costText).sorted() == ["1", "2"])
    }

    @Test func anUnknownModelCostsZeroFlaggedUnpricedWithAWarning() throws {
        let result = try run(["cost", "--model", "mystery-model-2", "--input-tokens", "10", "--format", "json"])
        #expect(result.status == 0)
        #expect(result.stdout.contains(#""cost_source": "unpriced""#))
        #expect(result.stderr.contains("no price for model 'mystery-model-2'"))
        #expect(result.stderr.contains("spendlog prices import"))
    }

    @Test(arguments: [
        (["--input-tokens", "abc"], "--input-tokens"),
        (["--input-tokens", "10", "--cached-input-tokens", "11"], "--cached-input-tokens"),
        (["--input-tokens", "10", "--service-tier", "turbo"], "--service-tier"),
        (["--input-tokens", "10", "--format", "xml"], "--format"),
        (["--input-tokens", "10", "--output-tokens", "1", "--reasoning-tokens", "2"], "--reasoning-tokens"),
    ])
    func badCostInputsExit64NamingTheFlag(extra: [String], field: String) throws {
        let result = try run(["cost", "--model", "gpt-5"] + extra)
        #expect(result.status == 64)
        #expect(result.stderr.contains(field), "\(result.stderr)")
    }

    @Test func importingLiteLLMsTableWritesTheUserFileThatPricesThenUse() throws {
        let prices = temp.path + "/prices.json"
        let clock = ["SPENDLOG_NOW": "2026-11-30T12:00:00Z"]
        let imported = try run(
            ["prices", "import", TestPaths.fixtures + "/prices/litellm-model-prices.json", "--prices", prices],
            environment: clock)
        #expect(imported.status == 0, "\(imported.stderr)")
        // Every row is accounted for: 3377 + 123 + 1052 = 4552.
        #expect(
            imported.stdout
                == "imported 3377 models into \(prices) from 4552 rows; skipped 123 without usable per-token prices "
                + "and 1052 of other modes (embedding, image, audio, …)\n"
                + "  54 models priced by prompt-size tiers (tiered_pricing)\n"
                + "  10 models with off-peak hours, priced by each record's ts\n"
                + "  43 models with thresholds that count a prompt of exactly their size (xAI)\n"
                + "  236 models with cache reads at Fireworks' default, 50% of input\n")
        #expect(FileManager.default.fileExists(atPath: prices))
        let list = try run(["prices", "list", "--prices", prices], environment: clock)
        #expect(
            list.stdout.hasSuffix(
                "3400 models; built-in prices as of 2026-11-23; user file \(prices) (3377 models, as of 2026-11-30)\n"))
        // A model only LiteLLM knows: 1000 × 0.13e-6 + 1000 × 0.4e-6 (written 4.0000000000000003e-07 there)
        let cost = try run(
            [
                "cost", "--model", "novita/google/gemma-4-26b-a4b-it", "--input-tokens", "1000", "--output-tokens",
                "1000",
                "--format", "json",
            ], environment: ["SPENDLOG_PRICES": prices])
        #expect(cost.status == 0, "\(cost.stderr)")
        #expect(cost.stdout.contains(#""cost_usd": 0.00053,"#))
        #expect(cost.stdout.contains(#""exact_cost_usd": "0.00053000000000000003","#))
        let show = try run(["prices", "show", "gpt-5-2025-08-07", "--prices", prices])
        #expect(show.status == 0)
        #expect(show.stdout.hasPrefix("gpt-5-2025-08-07: found in the user file \(prices); USD per 1M tokens:\n"))
    }

    @Test func importingSomethingElseFailsAndWritesNothing() throws {
        let bogus = temp.path + "/bogus.json"
        writeFile(bogus, Data(#"{"format": "spendlog-prices 1"}"#.utf8))
        let prices = temp.path + "/prices.json"
        let result = try run(["prices", "import", bogus, "--prices", prices])
        #expect(result.status == 64)
        #expect(result.stderr.contains("'\(bogus)'"))
        #expect(!FileManager.default.fileExists(atPath: prices))
    }

    @Test func aUserFileFromTheEnvironmentOverridesTheBuiltinPrice() throws {
        let prices = temp.path + "/mine.json"
        writeFile(
            prices, Data(#"{"format": "spendlog-prices 1", "models": {"gpt-4.1": {"input": 1, "output": 1}}}"#.utf8))
        let result = try run(
            [
                "append", "--dir", dir, "--project", "p", "--model", "gpt-4.1", "--input-tokens", "1000",
                "--output-tokens", "1000",
            ],
            environment: ["SPENDLOG_PRICES": prices])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try storedLines().map(costText) == ["0.002"])
        let missing = try run(["prices", "list"], environment: ["SPENDLOG_PRICES": temp.path + "/nope.json"])
        #expect(missing.status == 64)
        #expect(missing.stderr.contains("does not exist"))
        let broken = temp.path + "/broken.json"
        writeFile(broken, Data(#"{"format": "spendlog-prices 1", "models": {"m": {"input": "x", "output": 1}}}"#.utf8))
        let bad = try run(["cost", "--model", "m", "--input-tokens", "1", "--prices", broken])
        #expect(bad.status == 64)
        #expect(bad.stderr.contains("'\(broken)': models.m.input must be a JSON number"))
    }

    @Test func appendWithoutCostPricesTheCallOrFlagsItUnpriced() throws {
        let base = ["append", "--dir", dir, "--project", "p", "--input-tokens", "1200", "--output-tokens", "300"]
        let priced = try run(base + ["--model", "gpt-4.1"])
        #expect(priced.status == 0, "\(priced.stderr)")
        #expect(priced.stderr.isEmpty)
        let unknown = try run(base + ["--model", "llm-toll-special"])
        #expect(unknown.status == 0)
        #expect(unknown.stderr.contains("no price for model 'llm-toll-special'"))
        let provided = try run(base + ["--model", "gpt-4.1", "--cost", "1.5"])
        #expect(provided.status == 0)
        let lines = try storedLines()
        // 1200 × 2e-6 + 300 × 8e-6
        #expect(
            lines.map { "\($0["model"]!) \(costText($0)) \($0["cost_source"]!)" } == [
                "gpt-4.1 0.0048 priced", "llm-toll-special 0 unpriced", "gpt-4.1 1.5 provided",
            ])
    }

    @Test(
        arguments: [
            (
                "openai_chat_completions.json", "openai", [],
                "gpt-5.4 openai 19 10 0 0 0 0.0001975 chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT"
            ),
            (
                "openai_responses.json", "auto", [],
                "o1-2024-12-17 openai 81 1035 0 0 832 0.063315 resp_67ccd7eca01881908ff0b5146584e408072912b2993db808"
            ),
            (
                "anthropic_messages.json", "anthropic", [],
                "claude-sonnet-4-5-20250929 anthropic 249 26 0 0 0 0.001137 msg_01Egs18hRzhru3uGon3qesbA"
            ),
            (
                "gemini_generate_content.json", "gemini", [],
                "gemini-2.5-flash gcp.gemini 12013 88 11243 0 73 0.00078829 -"
            ),
            (
                "bedrock_converse.json", "bedrock", ["--model", "us.anthropic.claude-sonnet-4-5-20250929-v1:0"],
                "us.anthropic.claude-sonnet-4-5-20250929-v1:0 aws.bedrock 1324 5 0 1322 0 0.00554235 -"
            ),
        ] as [(String, String, [String], String)])
    func appendFromAResponseFileRecordsItsUsageAndPricesIt(
        file: String, format: String, extra: [String], expected: String
    ) throws {
        let result = try run(
            ["append", "--dir", dir, "--project", "p", "--from-response", format, Self.responses + file] + extra)
        #expect(result.status == 0, "\(result.stderr)")
        let line = try #require(try storedLines().first)
        let fields = [
            "model", "provider", "input_tokens", "output_tokens", "cached_input_tokens", "cache_write_tokens",
            "reasoning_tokens",
        ]
        let text =
            fields.map { "\(line[$0]!)" }.joined(separator: " ") + " \(costText(line)) \(line["request_id"] ?? "-")"
        #expect(text == expected)
        #expect(line["cost_source"] as? String == "priced")
    }

    @Test func appendFromStandardInputAndExplicitFlagsWin() throws {
        let body = try String(contentsOfFile: Self.responses + "openai_chat_completions.json", encoding: .utf8)
        let result = try run(
            [
                "append", "--dir", dir, "--project", "p", "--from-response", "openai", "-", "--model", "gpt-4o",
                "--input-tokens", "100",
                "--tag", "env=test",
            ], input: body)
        #expect(result.status == 0, "\(result.stderr)")
        let piped = try run(
            ["append", "--dir", dir, "--project", "p", "--from-response", "auto", "--cost", "0.5"], input: body)
        #expect(piped.status == 0, "\(piped.stderr)")
        let lines = try storedLines()
        // gpt-4o at 100 × 2.5e-6 + 10 × 10e-6; the response's own tokens otherwise
        #expect(
            lines.map {
                "\($0["model"]!) \($0["input_tokens"]!) \($0["output_tokens"]!) \(costText($0)) \($0["cost_source"]!)"
            } == [
                "gpt-4o 100 10 0.00035 priced", "gpt-5.4 19 10 0.5 provided",
            ])
    }

    @Test(
        arguments: [
            (
                #"{"id":"x","object":"chat.completion","model":"gpt-4o","choices":[]}"#, "openai", [],
                "usage: is missing"
            ),
            (
                #"{"id":"x","object":"chat.completion","model":"gpt-4o","usage":{"completion_tokens":1}}"#, "openai",
                [], "usage.prompt_tokens"
            ),
            (
                #"{"usageMetadata":{"promptTokenCount":"12"},"modelVersion":"gemini-2.5-flash"}"#, "gemini", [],
                "usageMetadata.promptTokenCount"
            ),
            ("not json at all", "auto", [], "neither JSON nor a server-sent-event stream"),
            (#"{"usage":{"inputTokens":1,"outputTokens":1}}"#, "bedrock", [], "--model: is required"),
            (
                #"{"type":"message","model":"m","usage":{"input_tokens":1,"output_tokens":5}}"#, "anthropic",
                ["--reasoning-tokens", "6"], "--reasoning-tokens"
            ),
            (#"{}"#, "cohere", [], "--from-response"),
        ] as [(String, String, [String], String)])
    func aBadResponseExits64NamingWhatIsMissingAndRecordsNothing(
        body: String, format: String, extra: [String], message: String
    ) throws {
        let result = try run(
            ["append", "--dir", dir, "--project", "p", "--from-response", format] + extra, input: body)
        #expect(result.status == 64)
        #expect(result.stderr.contains(message), "\(result.stderr)")
        #expect(try storedLines().isEmpty)
    }

    @Test func ingestPricesLinesWithoutACostAndWarnsOncePerUnknownModel() throws {
        let lines = """
            {"project":"p","model":"gpt-4o-mini","input_tokens":1000,"output_tokens":100}
            {"project":"p","model":"gpt-4o-mini","input_tokens":1000,"output_tokens":100,"cost_usd":2}
            {"project":"p","model":"house-model","input_tokens":1,"output_tokens":1}
            {"project":"p","model":"house-model","input_tokens":1,"output_tokens":1}
            {"project":"p","model":"claude-sonnet-4-5","input_tokens":1000,"cache_write_tokens":1000,"cache_write_1h_tokens":1000,"output_tokens":0,"service_tier":"batch"}

            """
        let result = try run(["ingest", "--dir", dir, "-"], input: lines)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(
            result.stderr
                == "Warning: 2 lines of model 'house-model': no price for model 'house-model': recorded as unpriced (cost 0, cost_source \"unpriced\"). Add it to your price file (docs/PRICING.md, \"Price files\") or import LiteLLM's table with `spendlog prices import FILE`; `spendlog prices show 'house-model'` tells whether it is found.\n"
                + "Note: claude-sonnet-4-5 has no batch price for cache_write_1h: the standard price × the batch input "
                + "discount (1.5 ÷ 3)\n"
        )
        let stored = try storedLines()
        // 1000 × 0.15e-6 + 100 × 0.6e-6; then the batch 1-hour writes at the standard 1-hour price × the batch
        // input discount (1.5 ÷ 3), 1000 × 3e-6
        #expect(
            stored.map { "\(costText($0)) \($0["cost_source"]!)" } == [
                "0.00021 priced", "2 provided", "0 unpriced", "0 unpriced", "0.003 priced",
            ])
    }

    /// A line that cannot be priced is an invalid line named by its number: nothing is written,
    /// or with --skip-invalid only the others are. A misspelt service tier never prices at standard.
    @Test func ingestReportsLinesThatCannotBePricedAndWritesNothing() throws {
        let lines = """
            {"project":"p","model":"gpt-4o","input_tokens":1000,"output_tokens":500}
            {"project":"p","model":"gpt-4o","input_tokens":9000000000000000,"output_tokens":5}
            {"project":"p","model":"gpt-4o","input_tokens":10,"output_tokens":5,"service_tier":"turbo"}
            {"project":"p","model":"gpt-4o","input_tokens":10,"output_tokens":5,"cache_write_tokens":5,"cache_write_1h_tokens":"x"}
            {"project":"p","model":"gpt-4o","input_tokens":10,"output_tokens":5,"service_tier":"turbo","cost_usd":1}

            """
        let result = try run(["ingest", "--dir", dir, "-"], input: lines)
        #expect(result.status == 65)
        #expect(result.stderr.contains("line 2: The cost of this gpt-4o call would be above the per-record maximum"))
        #expect(
            result.stderr.contains("line 3: service_tier: must be standard, batch, priority or flex (got \"turbo\")."))
        #expect(result.stderr.contains("line 4: cache_write_1h_tokens: must be a whole number of tokens (got \"x\")."))
        #expect(!result.stderr.contains("line 5"))
        #expect(result.stderr.contains("3 invalid lines; nothing was written"))
        #expect(try storedLines().isEmpty)

        let skipping = try run(["ingest", "--dir", dir, "--skip-invalid", "-"], input: lines)
        #expect(skipping.status == 65)
        // 1000 × 2.5e-6 + 500 × 10e-6
        #expect(try storedLines().map { costText($0) } == ["0.0075", "1"])
    }

    /// With --require-price (or SPENDLOG_REQUIRE_PRICE=1) a call whose model no table knows is an
    /// error a script notices by its exit code (65), and nothing is written; a known model, or a
    /// call that gives its cost, is recorded as before.
    @Test func aRequiredPriceRefusesAnUnknownModelAndWritesNothing() throws {
        let call = [
            "append", "--dir", dir, "--model", "mystery-model-2", "--project", "p", "--input-tokens", "10",
            "--output-tokens", "1", "--ts", "2026-11-23T10:00:00Z",
        ]
        let refused = try run(call + ["--require-price"])
        #expect(refused.status == 65, "\(refused.stderr)")
        #expect(refused.stdout.isEmpty)
        #expect(refused.stderr.contains(#"--model: no price for model "mystery-model-2", and a price is required"#))
        let byEnvironment = try run(call, environment: ["SPENDLOG_REQUIRE_PRICE": "1"])
        #expect(byEnvironment.status == 65, "\(byEnvironment.stderr)")
        #expect(try storedLines().isEmpty)
        #expect(try run(call + ["--require-price", "--cost", "0.01"]).status == 0)
        var known = call
        known[known.firstIndex(of: "mystery-model-2")!] = "gpt-4o"
        #expect(try run(known + ["--require-price"]).status == 0)
        #expect(try run(call).status == 0, "without the flag: recorded unpriced, with a warning")
        #expect(try storedLines().map { "\($0["cost_source"]!)" } == ["provided", "priced", "unpriced"])

        let lines = """
            {"project":"p","model":"gpt-4o","input_tokens":10,"output_tokens":5}
            {"project":"p","model":"mystery-model-2","input_tokens":10,"output_tokens":5}
            """
        let ingest = try run(["ingest", "--dir", dir, "--require-price", "-"], input: lines)
        #expect(ingest.status == 65)
        #expect(ingest.stderr.contains(#"line 2: model: no price for model "mystery-model-2""#), "\(ingest.stderr)")
        #expect(try storedLines().count == 3)
        let cost = try run(["cost", "--model", "mystery-model-2", "--input-tokens", "10", "--require-price"])
        #expect(cost.status == 65)
        #expect(cost.stdout.isEmpty)
    }

    /// `prices list` says when the table was made and warns once it is more than 90 days old (the
    /// clock is set: the warning must not depend on the day the tests run).
    @Test func pricesListWarnsWhenTheTableIsOlderThanNinetyDays() throws {
        let fresh = try run(["prices", "list"], environment: ["SPENDLOG_NOW": "2026-12-01T00:00:00Z"])
        #expect(fresh.status == 0)
        #expect(fresh.stdout.contains("built-in prices as of 2026-11-23"))
        #expect(!fresh.stderr.contains("Warning"), "\(fresh.stderr)")
        let stale = try run(["prices", "list"], environment: ["SPENDLOG_NOW": "2027-03-01T00:00:00Z"])
        #expect(stale.status == 0)
        #expect(
            stale.stderr.contains("Warning: The built-in price table is as of 2026-11-23, 98 days before 2027-03-01"),
            "\(stale.stderr)")
    }

    @Test func pricesDiffShowsAddedRemovedAndEveryChangedPrice() throws {
        let old = temp.path + "/old.json"
        let new = temp.path + "/new.json"
        writeFile(
            old,
            Data(
                #"{"format":"spendlog-prices 1","as_of":"2026-10-01","unit":"USD per 1M tokens","models":{"a":{"input":1,"output":2},"b":{"input":3,"output":4,"batch":{"input":1.5,"output":2}},"gone":{"input":1,"output":1}}}"#
                    .utf8))
        writeFile(
            new,
            Data(
                #"{"format":"spendlog-prices 1","as_of":"2026-11-01","unit":"USD per 1M tokens","models":{"a":{"input":1,"output":2},"b":{"input":3.5,"output":4,"cache_read":0.35},"new":{"input":9,"output":9}}}"#
                    .utf8))
        let diff = try run(["prices", "diff", old, new])
        #expect(diff.status == 0, "\(diff.stderr)")
        #expect(
            diff.stdout == """
                CHANGE   MODEL  COMPONENT     OLD   NEW
                added    new    -               -     -
                removed  gone   -               -     -
                changed  b      batch.input   1.5     -
                changed  b      batch.output    2     -
                changed  b      cache_read      -  0.35
                changed  b      input           3   3.5
                1 added, 1 removed, 1 changed (2026-10-01 → 2026-11-01)

                """)
        let same = try run(["prices", "diff", old, old])
        #expect(same.stdout == "0 added, 0 removed, 0 changed (2026-10-01 → 2026-10-01)\n")
        let json = try run(["prices", "diff", old, new, "--json"])
        #expect(json.stdout.contains(#""component": "cache_read","#), "\(json.stdout)")
        let missing = try run(["prices", "diff", old, temp.path + "/nope.json"])
        #expect(missing.status == 64)
        #expect(missing.stderr.contains(temp.path + "/nope.json"))
    }
}
