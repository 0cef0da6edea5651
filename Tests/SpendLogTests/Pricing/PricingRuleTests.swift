import Foundation
import Testing

@testable import SpendLog

/// The provider rules of docs/PRICING.md, "Which price applies", each with hand-computed cases
/// from the providers' price pages, priced from LiteLLM's table as `prices import` reads it.
@Suite struct PricingRuleTests {
    static let imported: PriceTable = {
        let path = TestPaths.fixtures + "/prices/litellm-model-prices.json"
        let bytes = FileManager.default.contents(atPath: path) ?? Data()
        return (try? LiteLLMImporter.importTable(Array(bytes), path: path).table) ?? PriceTable()
    }()

    static func cost(
        _ model: String, _ usage: TokenUsage, tier: ServiceTier = .standard, at time: String? = nil,
        table: PriceTable = imported
    ) throws -> CostBreakdown {
        let entry = try #require(table.lookup(model)?.entry, "\(model) is not in the table")
        return try CostCalculator.cost(
            of: usage, entry: entry, model: model, serviceTier: tier, at: time.flatMap(Timestamp.parse))
    }

    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var model: String
        var usage: TokenUsage
        var tier: ServiceTier = .standard
        var time: String?
        var builtin = false
        var expected: String
        var testDescription: String { name }
    }

    @Test(arguments: [
        // xAI bills a prompt of 200K tokens or more at the higher rate (docs.x.ai/docs/models):
        // 200000 × 2.5e-6 + 1000 × 5e-6.
        Case(
            name: "xAI at exactly the threshold is the higher tier", model: "xai/grok-4.3",
            usage: TokenUsage(inputTokens: 200_000, outputTokens: 1000), expected: "0.505"),
        // 199999 × 1.25e-6 + 1000 × 2.5e-6
        Case(
            name: "xAI one token below", model: "xai/grok-4.3",
            usage: TokenUsage(inputTokens: 199_999, outputTokens: 1000), expected: "0.25249875"),
        // The built-in grok-4.3 follows the same rule.
        Case(
            name: "built-in grok-4.3 at the threshold", model: "grok-4.3",
            usage: TokenUsage(inputTokens: 200_000, outputTokens: 1000), builtin: true, expected: "0.505"),
        // Google: "prompts <= 200k tokens" at the lower rate (ai.google.dev/gemini-api/docs/pricing):
        // 200000 × 1.25e-6 + 1000 × 10e-6.
        Case(
            name: "Gemini at exactly the threshold is the lower tier", model: "gemini/gemini-2.5-pro",
            usage: TokenUsage(inputTokens: 200_000, outputTokens: 1000), expected: "0.26"),
        // 200001 × 2.5e-6 + 1000 × 15e-6
        Case(
            name: "Gemini one token above", model: "gemini/gemini-2.5-pro",
            usage: TokenUsage(inputTokens: 200_001, outputTokens: 1000), expected: "0.5150025"),
        // Flex has no >200k prices in the table: standard's >200k prices × flex's discount (0.5),
        // 200000 × 1.25e-6 + 100000 × 0.25e-6 (cache reads: flex lists standard's, so × 1) + 1000 × 7.5e-6,
        Case(
            name: "Gemini flex above 200k scales standard's long-context prices", model: "gemini/gemini-2.5-pro",
            usage: TokenUsage(inputTokens: 300_000, outputTokens: 1000, cachedInputTokens: 100_000), tier: .flex,
            expected: "0.2825"),
        // … which is what batch, which lists its >200k prices, costs: Google prices flex as batch.
        Case(
            name: "Gemini batch above 200k, listed", model: "gemini/gemini-2.5-pro",
            usage: TokenUsage(inputTokens: 300_000, outputTokens: 1000, cachedInputTokens: 100_000), tier: .batch,
            expected: "0.2825"),
        // Alibaba: "0 < Token ≤ 256K" and "256K < Token ≤ 1M", the whole request at one tier
        // (alibabacloud.com/help/en/model-studio/models): 300000 × 1.2e-6 + 500 × 3.6e-6 + 500 × 12e-6
        Case(
            name: "Qwen above 256k is the second tier", model: "dashscope/qwen-plus-2025-07-28",
            usage: TokenUsage(inputTokens: 300_000, outputTokens: 1000, reasoningTokens: 500), expected: "0.3678"),
        // 256000 × 0.4e-6 + 500 × 1.2e-6 + 500 × 4e-6
        Case(
            name: "Qwen at exactly 256k is the first tier", model: "dashscope/qwen-plus-2025-07-28",
            usage: TokenUsage(inputTokens: 256_000, outputTokens: 1000, reasoningTokens: 500), expected: "0.105"),
        // Volcengine: 32K < input ≤ 128K: 100000 × 0.7e-6 + 1000 × 3.5e-6
        Case(
            name: "Doubao's middle tier", model: "volcengine/doubao-seed-2-0-pro-260215",
            usage: TokenUsage(inputTokens: 100_000, outputTokens: 1000), expected: "0.0735"),
        // DeepSeek off-peak (api-docs.deepseek.com/quick_start/pricing): 1M × 0.66e-6 + 1M × 1.98e-6
        // on a Tuesday at 12:00 UTC, inside 10:00–24:00 …
        Case(
            name: "DeepSeek weekday off-peak", model: "deepseek/deepseek-v4-pro",
            usage: TokenUsage(inputTokens: 1_000_000, outputTokens: 1_000_000), time: "2026-12-01T12:00:00Z",
            expected: "2.64"),
        // … at 08:00 the standard 1M × 1.32e-6 + 1M × 3.96e-6 …
        Case(
            name: "DeepSeek weekday peak", model: "deepseek/deepseek-v4-pro",
            usage: TokenUsage(inputTokens: 1_000_000, outputTokens: 1_000_000), time: "2026-12-01T08:00:00Z",
            expected: "5.28"),
        // … a window's end is not in it (01:00), its start is (10:00) …
        Case(
            name: "DeepSeek at the end of a window", model: "deepseek/deepseek-v4-pro",
            usage: TokenUsage(inputTokens: 1_000_000, outputTokens: 1_000_000), time: "2026-12-01T01:00:00Z",
            expected: "5.28"),
        Case(
            name: "DeepSeek at the start of a window", model: "deepseek/deepseek-v4-pro",
            usage: TokenUsage(inputTokens: 1_000_000, outputTokens: 1_000_000), time: "2026-12-01T10:00:00Z",
            expected: "2.64"),
        // … and a Saturday is off-peak all day.
        Case(
            name: "DeepSeek on a Saturday", model: "deepseek/deepseek-v4-pro",
            usage: TokenUsage(inputTokens: 1_000_000, outputTokens: 1_000_000), time: "2026-12-05T08:00:00Z",
            expected: "2.64"),
        // Without a time (a library call that gives none): standard prices.
        Case(
            name: "DeepSeek without a time", model: "deepseek/deepseek-v4-pro",
            usage: TokenUsage(inputTokens: 1_000_000, outputTokens: 1_000_000), expected: "5.28"),
        // Fireworks: cached input at 50% of the input price when a model lists none
        // (fireworks.ai/docs/guides/prompt-caching): 500000 × 1.2e-6 + 500000 × 0.6e-6 + 10 × 1.2e-6
        Case(
            name: "Fireworks' default cache-read discount",
            model: "fireworks_ai/accounts/fireworks/models/deepseek-coder-v2-instruct",
            usage: TokenUsage(inputTokens: 1_000_000, outputTokens: 10, cachedInputTokens: 500_000),
            expected: "0.900012"),
        // Bedrock's Claude row has batch input and output but no batch cache prices: standard's ×
        // the batch input discount (1.5 ÷ 3), which is Anthropic's own batch cache-read price 0.15
        // (docs.anthropic.com/en/docs/about-claude/pricing: batch and caching discounts stack):
        // 50000 × 1.5e-6 + 50000 × 0.15e-6 + 10000 × 1.875e-6 + 10 × 7.5e-6
        Case(
            name: "Bedrock Claude batch cache reads and writes", model: "anthropic.claude-sonnet-4-5-20250929-v1:0",
            usage: TokenUsage(
                inputTokens: 110_000, outputTokens: 10, cachedInputTokens: 50_000, cacheWriteTokens: 10_000),
            tier: .batch, expected: "0.101325"),
        Case(
            name: "Bedrock global. Claude batch cache reads", model: "global.anthropic.claude-sonnet-4-5-20250929-v1:0",
            usage: TokenUsage(inputTokens: 100_000, outputTokens: 10, cachedInputTokens: 50_000), tier: .batch,
            expected: "0.082575"),
        // … and the first-party row, which lists them, costs the same.
        Case(
            name: "Anthropic Claude batch cache reads, listed", model: "claude-sonnet-4-5-20250929",
            usage: TokenUsage(
                inputTokens: 110_000, outputTokens: 10, cachedInputTokens: 50_000, cacheWriteTokens: 10_000),
            tier: .batch, expected: "0.101325"),
        // Above 200k under batch: Bedrock's >200k prices × 0.5: 250000 × 3e-6 + 10 × 11.25e-6
        Case(
            name: "Bedrock Claude batch above 200k", model: "anthropic.claude-sonnet-4-5-20250929-v1:0",
            usage: TokenUsage(inputTokens: 250_000, outputTokens: 10), tier: .batch, expected: "0.7501125"),
    ])
    func handComputed(_ testCase: Case) throws {
        let breakdown = try Self.cost(
            testCase.model, testCase.usage, tier: testCase.tier, at: testCase.time,
            table: testCase.builtin ? .builtin : Self.imported)
        #expect(breakdown.total.decimalString == testCase.expected, "\(breakdown.lines)")
    }

    /// A rule that is not a listed price is never silent: the breakdown names it.
    @Test func everyRuleSaysSoInTheBreakdown() throws {
        let fireworks = try Self.cost(
            "fireworks_ai/accounts/fireworks/models/deepseek-coder-v2-instruct",
            TokenUsage(inputTokens: 100, outputTokens: 1, cachedInputTokens: 50))
        #expect(fireworks.notes.contains { $0.contains("Fireworks' default") && $0.contains("cache_read") })
        // Without cache reads, the rule does not apply and is not mentioned.
        let plain = try Self.cost(
            "fireworks_ai/accounts/fireworks/models/deepseek-coder-v2-instruct",
            TokenUsage(inputTokens: 100, outputTokens: 1))
        #expect(plain.notes.isEmpty)

        let bedrock = try Self.cost(
            "anthropic.claude-sonnet-4-5-20250929-v1:0",
            TokenUsage(inputTokens: 250_000, outputTokens: 1, cachedInputTokens: 10), tier: .batch)
        #expect(
            bedrock.notes == [
                "anthropic.claude-sonnet-4-5-20250929-v1:0 has no batch price for a prompt above 200000 input tokens "
                    + "for input, output: the standard price there × the batch discount (batch ÷ standard base price)",
                "anthropic.claude-sonnet-4-5-20250929-v1:0 has no batch price for cache_read: the standard price × "
                    + "the batch input discount (1.5 ÷ 3)",
            ])
        let small = try Self.cost(
            "anthropic.claude-sonnet-4-5-20250929-v1:0", TokenUsage(inputTokens: 100, outputTokens: 1, cachedInputTokens: 10),
            tier: .batch)
        #expect(small.notes == [
            "anthropic.claude-sonnet-4-5-20250929-v1:0 has no batch price for cache_read: the standard price × the batch "
                + "input discount (1.5 ÷ 3)"
        ])

        let xai = try Self.cost("xai/grok-4.3", TokenUsage(inputTokens: 200_000, outputTokens: 1))
        #expect(xai.promptTierAbove == 200_000 && xai.promptTierInclusive)
        let deepseek = try Self.cost(
            "deepseek/deepseek-v4-pro", TokenUsage(inputTokens: 1, outputTokens: 1), at: "2026-12-01T12:00:00Z")
        #expect(deepseek.notes.contains { $0.contains("off-peak") && $0.contains("10:00-00:00 UTC") })
    }

    /// The weekday of an off-peak window is read on the provider's calendar when the table names
    /// one: 17:00 UTC on a Friday is Saturday 01:00 in Shanghai.
    @Test func offPeakWeekdaysFollowTheNamedZone() throws {
        let text = """
            {"format": "spendlog-prices 1", "models": {"m": {"input": 2, "output": 2,
              "off_peak": {"input": 1, "output": 1, "weekday_zone": "Asia/Shanghai",
                "windows": [{"hours_utc": "00:00-00:00", "weekdays": [6, 7]}]}}}}
            """
        let table = try PriceTable.decode(Array(text.utf8), path: "p.json")
        let usage = TokenUsage(inputTokens: 1_000_000, outputTokens: 0)
        #expect(try Self.cost("m", usage, at: "2026-12-04T17:00:00Z", table: table).total.decimalString == "1")
        #expect(try Self.cost("m", usage, at: "2026-12-04T15:59:59Z", table: table).total.decimalString == "2")
        // Sunday 17:00 UTC is Monday in Shanghai.
        #expect(try Self.cost("m", usage, at: "2026-12-06T17:00:00Z", table: table).total.decimalString == "2")
        #expect(try Self.cost("m", usage, at: "2026-12-06T15:00:00Z", table: table).total.decimalString == "1")
    }

    /// What the import reads from LiteLLM's tier forms survives a round trip through the price file.
    @Test func newFormsRoundTripThroughThePriceFile() throws {
        var table = PriceTable(asOf: "2026-12-01")
        for name in [
            "xai/grok-4.3", "deepseek/deepseek-v4-pro", "tencent/deepseek-v4.1-flash", "dashscope/qwen3-max",
            "fireworks_ai/accounts/fireworks/models/deepseek-coder-v2-instruct", "opencode_go/grok-4.7",
        ] {
            table.insert(try #require(Self.imported.entries[name]))
        }
        let decoded = try PriceTable.decode(Array(table.encoded().utf8), path: "p.json")
        #expect(decoded == table)
        #expect(decoded.entries["dashscope/qwen3-max"]?.standard.promptTiers.map(\.aboveInputTokens) == [32_000, 128_000])
        #expect(decoded.entries["opencode_go/grok-4.7"]?.standard.promptTiers.map(\.aboveInputTokens) == [200_000])
        #expect(decoded.entries["tencent/deepseek-v4.1-flash"]?.offPeak?.weekdayZone == "Asia/Shanghai")
    }

    @Test(arguments: [
        (
            #"{"input": 1, "output": 1, "prompt_tiers": [{"above_input_tokens": 5, "at_or_above_input_tokens": 5, "input": 2}]}"#,
            "models.m.prompt_tiers[0] has both above_input_tokens and at_or_above_input_tokens"
        ),
        (
            #"{"input": 1, "output": 1, "off_peak": {"input": 0.5, "windows": [{"hours_utc": "25:00-01:00"}]}}"#,
            "models.m.off_peak.windows[0].hours_utc has '\"25:00-01:00\"'"
        ),
        (
            #"{"input": 1, "output": 1, "off_peak": {"input": 0.5, "windows": [{"hours_utc": "01:00-02:00", "weekdays": [8]}]}}"#,
            "models.m.off_peak.windows[0].weekdays must hold ISO weekdays"
        ),
        (
            #"{"input": 1, "output": 1, "off_peak": {"input": 0.5, "weekday_zone": "Mars/Olympus", "windows": [{"hours_utc": "01:00-02:00"}]}}"#,
            "models.m.off_peak.weekday_zone names 'Mars/Olympus'"
        ),
        (
            #"{"input": 1, "output": 1, "off_peak": {"windows": [{"hours_utc": "01:00-02:00"}]}}"#,
            "models.m.off_peak names no price"
        ),
        (
            #"{"input": 1, "output": 1, "derived": {"cache_reads": "x"}}"#,
            "models.m.derived.cache_reads must be a price component"
        ),
    ])
    func aBadNewFormIsRejectedNamingTheField(entry: String, message: String) {
        let text = #"{"format": "spendlog-prices 1", "models": {"m": "# + entry + "}}"
        #expect {
            try PriceTable.decode(Array(text.utf8), path: "p.json")
        } throws: { error in
            "\(error)".contains(message)
        }
    }
}
