import Foundation
import Testing

@testable import SpendLog

@Suite struct PriceTableTests {
    /// Normalisation finds dated, prefixed and regional names; each expected entry is the exact
    /// built-in name that must be found.
    @Test(arguments: [
        ("gpt-4.1", "gpt-4.1"), ("GPT-4.1", "gpt-4.1"), ("openai/gpt-4.1", "gpt-4.1"),
        ("gpt-4.1-2025-04-14", "gpt-4.1"),
        ("gpt-4o-2024-05-13", "gpt-4o-2024-05-13"), ("gpt-4o-2024-08-06", "gpt-4o"),
        ("gpt-4o-mini-2024-07-18", "gpt-4o-mini"),
        ("o1-2024-12-17", "o1"), ("o3-pro", "o3-pro"),
        ("claude-3-5-sonnet-20241022", "claude-3-5-sonnet"), ("claude-sonnet-4-5-20250929", "claude-sonnet-4-5"),
        ("anthropic/claude-sonnet-4-5", "claude-sonnet-4-5"), ("claude-sonnet-4-5@20250929", "claude-sonnet-4-5"),
        ("anthropic.claude-3-5-sonnet-20241022-v2:0", "claude-3-5-sonnet"),
        ("us.anthropic.claude-sonnet-4-5-20250929-v1:0", "us.anthropic.claude-sonnet-4-5-20250929-v1:0"),
        ("bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0", "us.anthropic.claude-sonnet-4-5-20250929-v1:0"),
        ("apac.anthropic.claude-sonnet-4-5-20250929-v1:0", "claude-sonnet-4-5"),
        ("jp.anthropic.claude-sonnet-4-5-20250929-v1:0", "jp.anthropic.claude-sonnet-4-5-20250929-v1:0"),
        ("bedrock/eu.anthropic.claude-haiku-4-5-20251001-v1:0", "eu.anthropic.claude-haiku-4-5-20251001-v1:0"),
        ("global.anthropic.claude-haiku-4-5-20251001-v1:0", "claude-haiku-4-5"),
        ("eu.amazon.nova-pro-v1:0", "eu.amazon.nova-pro-v1:0"), ("us.amazon.nova-pro-v1:0", "amazon.nova-pro-v1:0"),
        ("us.meta.llama3-3-70b-instruct-v1:0", "meta.llama3-3-70b-instruct-v1:0"),
        ("gemini/gemini-2.5-pro", "gemini-2.5-pro"), ("models/gemini-2.5-flash", "gemini-2.5-flash"),
        ("vertex_ai/gemini-2.5-flash-lite", "gemini-2.5-flash-lite"),
        ("mistral/mistral-large-latest", "mistral-large-latest"),
        ("deepseek/deepseek-chat", "deepseek-chat"), ("xai/grok-4", "grok-4"),
    ])
    func modelNamesAreFoundByDocumentedNormalisation(model: String, expected: String) throws {
        #expect(PriceTable.builtin.lookup(model)?.entry.model == expected)
    }

    /// Never a loose prefix: these are different (or unknown) models.
    @Test(arguments: [
        "gpt-4o-turbo-x", "gpt-5-super", "claude-sonnet-4-5-x", "o3-deep-research-preview", "gemini-2.5", "gpt",
        "grok-4-heavy",
    ])
    func noPrefixMatchPicksAnotherModel(model: String) {
        #expect(PriceTable.builtin.lookup(model) == nil)
    }

    /// The part of the built-in table decoded for a few models finds, for each of them, what the
    /// whole table finds: every built-in name, the normalised names above, names it lacks, and
    /// names of several models at once.
    @Test func theBuiltinEntriesForSomeModelsPriceThemAsTheWholeTableDoes() {
        let whole = PriceTable.builtin
        let normalised = [
            "GPT-4.1", "openai/gpt-4.1", "gpt-4.1-2025-04-14", "gpt-4o-2024-05-13", "gpt-4o-2024-08-06",
            "claude-sonnet-4-5@20250929", "anthropic.claude-3-5-sonnet-20241022-v2:0",
            "bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0", "apac.anthropic.claude-sonnet-4-5-20250929-v1:0",
            "us.amazon.nova-pro-v1:0", "models/gemini-2.5-flash", "xai/grok-4", "gpt-5-super", "grok-4-heavy",
            "no-such-model", "",
        ]
        for model in whole.modelNames + normalised {
            let part = PriceTable.builtin(forModels: [model])
            #expect(part.lookup(model) == whole.lookup(model), "\(model)")
            #expect(part.asOf == whole.asOf && part.source == whole.source)
            #expect(part.count <= 2, "\(model): \(part.modelNames)")
        }
        let several = ["gpt-4.1", "claude-sonnet-4-5-20250929", "us.amazon.nova-pro-v1:0", "unknown"]
        let part = PriceTable.builtin(forModels: several)
        for model in several { #expect(part.lookup(model) == whole.lookup(model)) }
        #expect(PriceTable.builtin(forModels: whole.modelNames) == whole)
    }

    /// Each component name of the price-file format reads and writes its own field, and only it.
    @Test func eachComponentNameReadsAndWritesItsOwnField() throws {
        let fields: [(String, WritableKeyPath<PriceComponents, TokenPrice?>)] = [
            ("input", \.input), ("output", \.output), ("cache_read", \.cacheRead), ("cache_write", \.cacheWrite),
            ("cache_write_1h", \.cacheWrite1h), ("reasoning", \.reasoning),
        ]
        #expect(PriceComponents.names == fields.map(\.0))
        for (index, (name, keyPath)) in fields.enumerated() {
            let price = try TokenPrice.parse(perMillionTokens: "\(index + 1).5")
            var components = PriceComponents()
            components[name: name] = price
            var expected = PriceComponents()
            expected[keyPath: keyPath] = price
            #expect(components == expected, "\(name)")
            #expect(components[name: name] == price)
        }
    }

    @Test func theBuiltinTableParsesAndIsDated() {
        let table = PriceTable.builtin
        #expect(table.count == 99)
        #expect(table.asOf == "2026-11-23")
        for model in [
            "gpt-5", "gpt-5-mini", "gpt-5-nano", "gpt-4.1", "gpt-4.1-mini", "gpt-4o", "gpt-4o-mini", "o3", "o4-mini",
            "claude-opus-4-5", "claude-sonnet-4-5", "claude-haiku-4-5", "claude-3-7-sonnet", "claude-3-5-sonnet",
            "gemini-2.5-pro", "gemini-2.5-flash", "gemini-2.5-flash-lite", "mistral-large-latest", "deepseek-chat",
            "grok-4", "meta.llama3-3-70b-instruct-v1:0",
        ] {
            #expect(table.entries[model] != nil, "\(model) is missing from the built-in table")
        }
        #expect(table.entries["gemini-2.5-pro"]?.standard.promptTiers.map(\.aboveInputTokens) == [200_000])
    }

    /// Every built-in row carries exactly the prices of the LiteLLM entry it was derived from.
    @Test func theBuiltinTableAgreesWithLiteLLMsFile() throws {
        let bytes = try #require(
            FileManager.default.contents(atPath: TestPaths.fixtures + "/prices/litellm-model-prices.json"))
        let imported = try LiteLLMImporter.importTable(Array(bytes), path: "litellm").table
        let derivedFrom: [String: String] = [
            "claude-opus-4-1": "anthropic.claude-opus-4-1-20250805-v1:0",
            "claude-opus-4": "anthropic.claude-opus-4-20250514-v1:0",
            "claude-sonnet-4": "anthropic.claude-sonnet-4-20250514-v1:0",
            "claude-3-7-sonnet": "anthropic.claude-3-7-sonnet-20250219-v1:0",
            "claude-3-5-sonnet": "anthropic.claude-3-5-sonnet-20241022-v2:0",
            "claude-3-5-haiku": "anthropic.claude-3-5-haiku-20241022-v1:0",
            "claude-3-opus": "anthropic.claude-3-opus-20240229-v1:0",
            "gemini-2.0-flash": "vertex_ai/gemini-2.0-flash",
            "gemini-2.0-flash-lite": "vertex_ai/gemini-2.0-flash-lite",
            "deepseek-chat": "deepseek/deepseek-chat", "deepseek-reasoner": "deepseek/deepseek-reasoner",
            "grok-4": "vercel_ai_gateway/xai/grok-4", "grok-3": "vercel_ai_gateway/xai/grok-3",
            "grok-3-mini": "vercel_ai_gateway/xai/grok-3-mini",
        ]
        // Anthropic's long-context prices of Sonnet 4.5 are on LiteLLM's Bedrock entry, not its first-party one.
        let standardFrom = ["claude-sonnet-4-5": "anthropic.claude-sonnet-4-5-20250929-v1:0"]
        for (name, entry) in PriceTable.builtin.entries {
            if let other = standardFrom[name] {
                #expect(imported.entries[other]?.standard == entry.standard, "\(name)")
                #expect(imported.entries[name]?.serviceTiers == entry.serviceTiers, "\(name)")
                continue
            }
            // Gemini rows take the Gemini API's prices (`gemini/…`), not Vertex AI's.
            var source = derivedFrom[name] ?? name
            for prefix in ["gemini/", "mistral/", "xai/"] where imported.entries[prefix + name] != nil {
                source = prefix + name
            }
            let original = try #require(imported.entries[source], "no LiteLLM entry for \(name)")
            #expect(original.standard == entry.standard, "\(name)")
            #expect(original.serviceTiers == entry.serviceTiers, "\(name)")
        }
    }

    /// Normalisation must not give a name another model's price: every first-party or Bedrock
    /// name of LiteLLM's file (regional ids such as `jp.anthropic.…`, dated snapshots, `-v1:0`
    /// ids) that the built-in table finds gets the standard prices LiteLLM lists for that name.
    /// Gateway names (`azure/…`) are resellers' prices and are left out (docs/PRICING.md).
    @Test func namesFoundByNormalisationGetTheirOwnPrice() throws {
        let bytes = try #require(
            FileManager.default.contents(atPath: TestPaths.fixtures + "/prices/litellm-model-prices.json"))
        let imported = try LiteLLMImporter.importTable(Array(bytes), path: "litellm").table
        // LiteLLM lists a "Claude 3.7 Sonnet of 2024-06-20" at Claude 3.5 Sonnet v1's price; no such model exists.
        let litellmOddities: Set = ["anthropic.claude-3-7-sonnet-20240620-v1:0"]
        var checked = 0
        for (name, original) in imported.entries where !name.contains("/") && !litellmOddities.contains(name) {
            guard let match = PriceTable.builtin.lookup(name), !match.exact else { continue }
            checked += 1
            #expect(
                match.entry.standard.base.input == original.standard.base.input
                    && match.entry.standard.base.output == original.standard.base.output,
                "\(name) is priced as \(match.entry.model)")
            // The same call costs the same under every service tier both rows price, cache reads
            // and writes included: a Bedrock row without a batch cache-read price takes standard's
            // × the batch input discount, which is the first-party batch price the built-in row
            // lists. (A tier only one of the rows prices is standard prices on the other.)
            let usage = TokenUsage(
                inputTokens: 10_000, outputTokens: 2_000, cachedInputTokens: 4_000, cacheWriteTokens: 3_000,
                cacheWrite1hTokens: 1_000, reasoningTokens: 500)
            let long = TokenUsage(inputTokens: 250_000, outputTokens: 10, cachedInputTokens: 50_000)
            // LiteLLM's first-party Sonnet 4.5 rows lack the >200k prices the built-in row takes from Bedrock's.
            let sizes = name.hasPrefix("claude-sonnet-4-5") ? [usage] : [usage, long]
            for tier in ServiceTier.allCases
            where tier == .standard || (match.entry.serviceTiers[tier] != nil && original.serviceTiers[tier] != nil) {
                for size in sizes {
                    let mine = try CostCalculator.cost(of: size, entry: match.entry, serviceTier: tier)
                    let theirs = try CostCalculator.cost(of: size, entry: original, serviceTier: tier)
                    #expect(
                        mine.exactYoctoDollars == theirs.exactYoctoDollars,
                        "\(name) \(tier.rawValue) at \(size.inputTokens): \(mine.exactUSD) as \(match.entry.model), \(theirs.exactUSD) by its own row")
                }
            }
        }
        #expect(checked > 50)
    }

    /// Names one normalisation step away from a cheaper or dearer sibling must never reach it.
    @Test(arguments: [
        ("gpt-4o-mini", ["gpt-4o"]), ("gpt-4o-mini-2024-07-18", ["gpt-4o"]), ("o1-mini", ["o1"]),
        ("o1-mini-2024-09-12", ["o1"]), ("gpt-4.1-nano", ["gpt-4.1"]), ("gpt-4.1-nano-2025-04-14", ["gpt-4.1"]),
        ("openai/o3-mini", ["o3"]), ("o3-pro-2025-06-10", ["o3"]), ("gpt-5-mini", ["gpt-5"]),
        ("claude-sonnet-4-5-v2", ["claude-sonnet-4"]), ("gemini-2.5-flash-lite", ["gemini-2.5-flash"]),
        ("us.anthropic.claude-3-5-haiku-20241022-v1:0", ["claude-3-5-sonnet"]),
        ("deepseek-v3", ["deepseek"]), ("mistral-large-v2", ["mistral-large"]), ("qwen3:8", ["qwen3"]),
    ])
    func aSiblingIsNeverReached(model: String, siblings: [String]) throws {
        let sibling = try #require(siblings.first)
        let table = PriceTable(entries: [
            PriceEntry(
                model: sibling,
                standard: PriceSchedule(base: PriceComponents(input: .init(yoctoDollarsPerToken: 1), output: .zero)))
        ])
        #expect(table.lookup(model) == nil, "\(model) was priced as \(sibling)")
    }

    @Test func aUserFileOverridesAndExtendsTheBuiltinTable() throws {
        let user = try PriceTable.decode(
            Array(
                """
                {"format": "spendlog-prices 1", "models": {
                  "gpt-4.1": {"input": 1, "output": 2},
                  "in-house-7b": {"input": 0.01, "output": 0.02}
                }}
                """.utf8), path: "user.json")
        let table = PriceTable.builtin.overlaid(by: user)
        #expect(
            table.lookup("gpt-4.1-2025-04-14")?.entry.standard.base.input
                == (try TokenPrice.parse(perMillionTokens: "1")))
        #expect(table.lookup("in-house-7b") != nil)
        #expect(table.lookup("gpt-4o") == PriceTable.builtin.lookup("gpt-4o"))
        #expect(table.count == PriceTable.builtin.count + 1)
    }

    @Test func thePriceFileFormatRoundTrips() throws {
        let table = try CostCalculatorTests.table()
        let again = try PriceTable.decode(Array(table.encoded().utf8), path: "again")
        #expect(again == table)
        #expect(
            PriceTable.builtin == (try PriceTable.decode(Array(PriceTable.builtin.encoded().utf8), path: "builtin")))
    }

    @Test(arguments: [
        (
            #"{"format": "spendlog-prices 1", "models": {"m": {"input": 1}}}"#,
            "models.m needs both \"input\" and \"output\""
        ),
        (
            #"{"format": "spendlog-prices 1", "models": {"m": {"input": "1", "output": 2}}}"#,
            "models.m.input must be a JSON number"
        ),
        (
            #"{"format": "spendlog-prices 1", "models": {"m": {"input": -1, "output": 2}}}"#,
            "models.m.input '-1' must not be negative"
        ),
        (
            #"{"format": "spendlog-prices 1", "models": {"m": {"input": 1, "output": 2, "inptu": 3}}}"#,
            "models.m.inptu is not a key"
        ),
        (
            #"{"format": "spendlog-prices 1", "models": {"m": {"input": 1, "output": 2, "prompt_tiers": [{"above_input_tokens": 9, "inptu": 3}]}}}"#,
            "models.m.prompt_tiers[0].inptu is not a key"
        ),
        (
            #"{"format": "spendlog-prices 1", "models": {"m": {"input": 1, "output": 2, "prompt_tiers": [5]}}}"#,
            "models.m.prompt_tiers[0] must be an object"
        ),
        (
            #"{"format": "spendlog-prices 1", "models": {"m": {"input": 1, "output": 2, "batch": {"flex": {"input": 1}}}}}"#,
            "models.m.batch.flex is not a key"
        ),
        (#"{"models": {}}"#, "\"format\" must be \"spendlog-prices 1\""),
        (#"{"format": "spendlog-prices 1", "models": {"m": {"input": 1, "output": 2,}}}"#, "not valid JSON at byte 73"),
    ])
    func aBadPriceFileIsRejectedNamingTheFileAndField(text: String, message: String) {
        do {
            _ = try PriceTable.decode(Array(text.utf8), path: "/etc/prices.json")
            Issue.record("accepted \(text)")
        } catch {
            #expect(error.message.contains("'/etc/prices.json'"))
            #expect(error.message.contains(message), "\(error.message)")
            #expect(error.code == .invalidInput)
        }
    }
}
