import Testing

@testable import SpendLog

/// Costs computed by hand from the price file below (USD per 1M tokens).
@Suite struct CostCalculatorTests {
    static let priceFile = """
        {
          "format": "spendlog-prices 1",
          "as_of": "2026-11-01",
          "models": {
            "test-model": {
              "input": 2, "output": 8, "cache_read": 0.5, "cache_write": 2.5, "cache_write_1h": 4, "reasoning": 10,
              "prompt_tiers": [{"above_input_tokens": 1000, "input": 4, "output": 12, "cache_read": 1}],
              "batch": {"input": 1, "output": 4, "prompt_tiers": [{"above_input_tokens": 1000, "input": 2}]},
              "priority": {"input": 3.5}
            },
            "split": {
              "input": 1, "output": 2, "prompt_tiers": [{"above_input_tokens": 2000, "input": 3, "output": 4}],
              "flex": {"input": 0.5, "output": 1, "prompt_tiers": [{"above_input_tokens": 1000, "input": 0.75}]}
            },
            "plain": {"input": 0.15, "output": 0.6},
            "tiny": {"input": 0.0005, "output": 0}
          }
        }
        """

    static func table() throws -> PriceTable {
        try PriceTable.decode(Array(priceFile.utf8), path: "test prices")
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var model: String
        var usage: TokenUsage
        var tier: ServiceTier = .standard
        var expected: String
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        // 1000 × 0.15e-6 + 500 × 0.6e-6
        Case(
            name: "plain input and output", model: "plain", usage: TokenUsage(inputTokens: 1000, outputTokens: 500),
            expected: "0.00045"),
        // 600 × 2e-6 + 400 × 0.5e-6 + 100 × 8e-6
        Case(
            name: "cache reads", model: "test-model",
            usage: TokenUsage(inputTokens: 1000, outputTokens: 100, cachedInputTokens: 400), expected: "0.0022"),
        // 700 × 2e-6 + 200 × 2.5e-6 (5-minute) + 100 × 4e-6 (1-hour)
        Case(
            name: "cache writes, 5-minute and 1-hour", model: "test-model",
            usage: TokenUsage(inputTokens: 1000, cacheWriteTokens: 300, cacheWrite1hTokens: 100), expected: "0.0023"),
        // 10 × 2e-6 + 40 × 8e-6 + 60 × 10e-6
        Case(
            name: "reasoning priced apart", model: "test-model",
            usage: TokenUsage(inputTokens: 10, outputTokens: 100, reasoningTokens: 60), expected: "0.00094"),
        // reasoning without its own price is output: 10 × 0.6e-6 of 10 output tokens
        Case(
            name: "reasoning at the output price", model: "plain",
            usage: TokenUsage(inputTokens: 0, outputTokens: 10, reasoningTokens: 10), expected: "0.000006"),
        // 1000 × 4e-6 + 1 × 1e-6 + 10 × 12e-6: the whole request at the tier's prices
        Case(
            name: "above the prompt-size tier", model: "test-model",
            usage: TokenUsage(inputTokens: 1001, outputTokens: 10, cachedInputTokens: 1), expected: "0.004121"),
        // exactly at the threshold is not above it: 1000 × 2e-6
        Case(
            name: "at the tier threshold", model: "test-model", usage: TokenUsage(inputTokens: 1000), expected: "0.002"),
        // 500 × 1e-6 + 100 × 4e-6
        Case(
            name: "batch", model: "test-model", usage: TokenUsage(inputTokens: 500, outputTokens: 100), tier: .batch,
            expected: "0.0009"),
        // batch has no cache-read price: the standard one × the batch input discount (0.5 ÷ 1),
        // 400 × 1e-6 + 100 × 0.25e-6
        Case(
            name: "batch scales standard cache reads by its input discount", model: "test-model",
            usage: TokenUsage(inputTokens: 500, cachedInputTokens: 100), tier: .batch, expected: "0.000425"),
        // batch above the tier: 2000 × 2e-6 + 10 × 4e-6 (batch output, no batch tier output)
        Case(
            name: "batch above the tier", model: "test-model",
            usage: TokenUsage(inputTokens: 2000, outputTokens: 10), tier: .batch, expected: "0.00404"),
        // priority input 3.5, output from standard: 100 × 3.5e-6 + 10 × 8e-6
        Case(
            name: "priority", model: "test-model",
            usage: TokenUsage(inputTokens: 100, outputTokens: 10), tier: .priority, expected: "0.00043"),
        // flex splits at 1000, standard at 2000: 3000 × 0.75e-6 (flex's own tier, not flex's base)
        // + 10 × 1e-6 (flex output; flex's tier has none, and flex prices come before standard's)
        Case(
            name: "a service tier with its own threshold", model: "split",
            usage: TokenUsage(inputTokens: 3000, outputTokens: 10), tier: .flex, expected: "0.00226"),
        // 1500 × 0.75e-6 + 10 × 1e-6: above flex's threshold only
        Case(
            name: "above the service tier's threshold only", model: "split",
            usage: TokenUsage(inputTokens: 1500, outputTokens: 10), tier: .flex, expected: "0.001135"),
        // 3 × 0.0005e-6 = 1.5 nano-dollars, rounded half up once
        Case(
            name: "rounded half up once at the end", model: "tiny", usage: TokenUsage(inputTokens: 3),
            expected: "0.000000002"),
        // 1 × 0.0005e-6 = 0.5 nano-dollars → 1
        Case(
            name: "half a nano-dollar rounds up", model: "tiny", usage: TokenUsage(inputTokens: 1),
            expected: "0.000000001"),
    ]

    @Test(arguments: cases)
    func costMatchesTheHandComputedValue(_ testCase: Case) throws {
        let table = try Self.table()
        let entry = try #require(table.lookup(testCase.model)?.entry)
        let breakdown = try CostCalculator.cost(of: testCase.usage, entry: entry, serviceTier: testCase.tier)
        #expect(breakdown.total.decimalString == testCase.expected)
    }

    /// Built-in prices: Sonnet 4.5 above 200,000 input tokens, and a regional Bedrock id's premium.
    @Test(arguments: [
        // 250000 × 6e-6 + 1000 × 22.5e-6
        ("claude-sonnet-4-5-20250929", 250_000, "1.5225"),
        // 200000 × 3e-6 + 1000 × 15e-6: at the threshold, standard prices
        ("claude-sonnet-4-5-20250929", 200_000, "0.615"),
        // 1000 × 3.3e-6 + 1000 × 16.5e-6
        ("jp.anthropic.claude-sonnet-4-5-20250929-v1:0", 1000, "0.0198"),
    ])
    func builtinLongContextAndRegionalPrices(model: String, input: Int64, expected: String) throws {
        let entry = try #require(PriceTable.builtin.lookup(model)?.entry)
        let usage = TokenUsage(inputTokens: input, outputTokens: 1000)
        #expect(try CostCalculator.cost(of: usage, entry: entry).total.decimalString == expected)
    }

    @Test func breakdownHasOneLinePerComponentAndAnExactSum() throws {
        let entry = try #require(try Self.table().lookup("test-model")?.entry)
        let usage = TokenUsage(
            inputTokens: 1000, outputTokens: 100, cachedInputTokens: 300, cacheWriteTokens: 200, cacheWrite1hTokens: 50,
            reasoningTokens: 30)
        let breakdown = try CostCalculator.cost(of: usage, entry: entry)
        let lines = breakdown.lines.map {
            "\($0.component) \($0.tokens) \($0.price.perMillionTokensText) \($0.exactUSD)"
        }
        #expect(
            lines == [
                "input 500 2 0.001", "cache_read 300 0.5 0.00015", "cache_write 150 2.5 0.000375",
                "cache_write_1h 50 4 0.0002", "output 70 8 0.00056", "reasoning 30 10 0.0003",
            ])
        #expect(breakdown.total.decimalString == "0.002585")
        #expect(breakdown.exactUSD == "0.002585")
    }

    /// Reasoning is output: under a service tier that prices output but not reasoning, reasoning
    /// costs the tier's output price (flex and batch halve it, priority raises it), not the
    /// standard reasoning price; a tier that names a reasoning price uses it; a tier that prices
    /// neither leaves the standard reasoning price.
    @Test func reasoningUnderAServiceTierCostsTheTiersOutputPrice() throws {
        let table = try PriceTable.decode(
            Array(
                #"""
                {"format": "spendlog-prices 1", "models": {"thinker": {
                  "input": 1, "output": 3, "reasoning": 3.5,
                  "flex": {"input": 0.5, "output": 1.5},
                  "priority": {"input": 2, "output": 6},
                  "batch": {"input": 0.5, "output": 1.5, "reasoning": 1.75}}}}
                """#.utf8), path: "test prices")
        let entry = try #require(table.lookup("thinker")?.entry)
        let usage = TokenUsage(inputTokens: 0, outputTokens: 1_000_000, reasoningTokens: 1_000_000)
        func cost(_ tier: ServiceTier) throws -> String {
            try CostCalculator.cost(of: usage, entry: entry, serviceTier: tier).total.decimalString
        }
        #expect(try cost(.standard) == "3.5")
        #expect(try cost(.flex) == "1.5")
        #expect(try cost(.priority) == "6")
        #expect(try cost(.batch) == "1.75")
        // test-model's priority tier prices input only: standard reasoning (10) stays.
        let other = try #require(try Self.table().lookup("test-model")?.entry)
        #expect(
            try CostCalculator.cost(
                of: TokenUsage(inputTokens: 0, outputTokens: 100, reasoningTokens: 100), entry: other,
                serviceTier: .priority
            ).total.decimalString == "0.001")
    }

    @Test func aServiceTierTheModelLacksUsesStandardPricesAndSaysSo() throws {
        let entry = try #require(try Self.table().lookup("test-model")?.entry)
        let breakdown = try CostCalculator.cost(
            of: TokenUsage(inputTokens: 100, outputTokens: 10), entry: entry, serviceTier: .flex)
        #expect(breakdown.total.decimalString == "0.00028")
        #expect(breakdown.serviceTier == .standard)
        #expect(breakdown.notes == ["test-model has no flex prices; standard prices were used"])
    }

    @Test func aCostAboveThePerRecordMaximumIsAnError() throws {
        let entry = PriceEntry(
            model: "dear", standard: PriceSchedule(base: PriceComponents(input: .maximum, output: .maximum)))
        #expect(throws: SpendLogError.self) {
            try CostCalculator.cost(of: TokenUsage(inputTokens: RecordSchema.maximumTokenCount), entry: entry)
        }
    }

    @Test func inconsistentCountsAreRejected() throws {
        let entry = try #require(try Self.table().lookup("plain")?.entry)
        #expect(throws: SpendLogError.self) {
            try CostCalculator.cost(of: TokenUsage(inputTokens: 10, cachedInputTokens: 11), entry: entry)
        }
        #expect(throws: SpendLogError.self) {
            try CostCalculator.cost(of: TokenUsage(outputTokens: 1, reasoningTokens: 2), entry: entry)
        }
        #expect(throws: SpendLogError.self) {
            try CostCalculator.cost(
                of: TokenUsage(inputTokens: 10, cacheWriteTokens: 1, cacheWrite1hTokens: 2), entry: entry)
        }
    }

    @Test func anUnknownModelIsRecordedUnpricedWithAWarningNamingIt() throws {
        var record = UsageRecord(project: "p", model: "mystery-9", inputTokens: 10, outputTokens: 5)
        let outcome = try RecordPricer(table: try Self.table()).price(&record)
        guard case .unpriced(let warning) = outcome else {
            Issue.record("expected unpriced, got \(outcome)")
            return
        }
        #expect(warning.contains("'mystery-9'"))
        #expect(warning.contains("spendlog prices import"))
        #expect(record.costSource == .unpriced)
        #expect(record.cost == .zero)
    }

    @Test func aProvidedCostIsNeverRepriced() throws {
        var record = UsageRecord(
            project: "p", model: "plain", inputTokens: 1000, outputTokens: 500, cost: try Money.parse("9"))
        #expect(try RecordPricer(table: try Self.table()).price(&record) == .provided)
        #expect(record.cost.decimalString == "9")
        #expect(record.costSource == .provided)
    }

    @Test func pricingUsesTheRecordsServiceTierAndOneHourWrites() throws {
        var record = UsageRecord(project: "p", model: "test-model", inputTokens: 1000, cacheWriteTokens: 300)
        record.cacheWrite1hTokens = 100
        try RecordPricer(table: try Self.table()).price(&record)
        #expect(record.cost.decimalString == "0.0023")
        #expect(record.costSource == .priced)
        var batch = UsageRecord(project: "p", model: "test-model", inputTokens: 500, outputTokens: 100)
        batch.serviceTier = .batch
        try RecordPricer(table: try Self.table()).price(&batch)
        #expect(batch.cost.decimalString == "0.0009")
        #expect(batch.jsonLine().count > 0)
    }

    @Test func unpricedRequestsAreCountedPerModel() {
        var records = [
            UsageRecord(project: "p", model: "a", inputTokens: 10, outputTokens: 1),
            UsageRecord(project: "p", model: "b", inputTokens: 5, outputTokens: 2),
            UsageRecord(project: "p", model: "a", inputTokens: 7, outputTokens: 3),
            UsageRecord(project: "p", model: "c", inputTokens: 1, outputTokens: 1, cost: .zero),
        ]
        records[3].costSource = .priced
        let summary = UnpricedSummary(records)
        #expect(
            summary.sortedRows.map { "\($0.model) \($0.requests) \($0.inputTokens) \($0.outputTokens)" } == [
                "a 2 17 4", "b 1 5 2",
            ])
        #expect(summary.totalRequests == 3)
    }
}
