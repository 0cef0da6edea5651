import Foundation
import Testing

@testable import SpendLog

@Suite struct LiteLLMImportTests {
    static let path = TestPaths.fixtures + "/prices/litellm-model-prices.json"

    static func imported() throws -> LiteLLMImporter.Result {
        let bytes = try #require(FileManager.default.contents(atPath: path))
        return try LiteLLMImporter.importTable(Array(bytes), path: path)
    }

    /// Counted independently with Foundation: every chat/completion/responses entry with numeric
    /// per-token input and output prices is in the imported table, and nothing else is.
    @Test func everyChatModelWithPerTokenPricesLoads() throws {
        let data = try #require(FileManager.default.contents(atPath: Self.path))
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        var expected: Set<String> = []
        for (name, value) in object where name != "sample_spec" {
            guard let entry = value as? [String: Any], let mode = entry["mode"] as? String,
                ["chat", "completion", "responses"].contains(mode),
                (entry["input_cost_per_token"] is NSNumber && entry["output_cost_per_token"] is NSNumber)
                    || entry["tiered_pricing"] is [Any]
            else { continue }
            expected.insert(name)
        }
        let result = try Self.imported()
        // 3328 with per-token prices and 49 priced only by a tiered_pricing list.
        #expect(expected.count == 3377)
        #expect(Set(result.table.entries.keys) == expected)
        let chat = object.filter { ($0.value as? [String: Any])?["mode"] as? String == "chat" }.map(\.key)
        #expect(chat.filter { expected.contains($0) }.allSatisfy { result.table.entries[$0] != nil })
    }

    /// Spot checks of ten models against the file's own numbers (USD per token, as written there).
    @Test(
        arguments: [
            ("gpt-5", "standard", "input", nil, "1.25e-06"),
            ("gpt-5", "priority", "output", nil, "2e-05"),
            ("claude-sonnet-4-5", "standard", "cache_write", nil, "3.75e-06"),
            ("claude-sonnet-4-5", "standard", "cache_write_1h", nil, "6e-06"),
            ("claude-opus-4-5", "batch", "cache_read", nil, "2.5e-07"),
            ("gemini-2.5-pro", "standard", "input", 200_000, "2.5e-06"),
            ("gemini/gemini-2.5-flash", "standard", "reasoning", nil, "2.5e-06"),
            ("us.anthropic.claude-sonnet-4-5-20250929-v1:0", "standard", "cache_write_1h", 200_000, "1.32e-05"),
            ("deepseek/deepseek-chat", "standard", "cache_read", nil, "2.8e-08"),
            ("gpt-5.4", "flex", "output", 272_000, "1.125e-05"),
            ("o3", "flex", "cache_read", nil, "2.5e-07"),
            ("novita/google/gemma-4-26b-a4b-it", "standard", "output", nil, "4.0000000000000003e-07"),
        ] as [(String, String, String, Int64?, String)])
    func pricesMatchTheFile(model: String, tier: String, component: String, above: Int64?, perToken: String) throws {
        let entry = try #require(try Self.imported().table.entries[model])
        let schedule = try #require(tier == "standard" ? entry.standard : entry.serviceTiers[ServiceTier(name: tier)!])
        let components = try #require(
            above == nil ? schedule.base : schedule.promptTiers.first { $0.aboveInputTokens == above }?.prices)
        #expect(PriceComponents.names.contains(component))
        #expect(components[name: component] == (try TokenPrice.parse(perToken: perToken)))
    }

    @Test func entriesWithoutPerTokenPricesAreReportedAsSkipped() throws {
        let result = try Self.imported()
        #expect(result.skipped.count == 123)
        #expect(result.skipped.allSatisfy { $0.reason == "no input_cost_per_token and output_cost_per_token" })
    }

    @Test func somethingElseIsRejectedNamingTheFile() {
        #expect(throws: SpendLogError.self) { try LiteLLMImporter.importTable(Array("[1,2]".utf8), path: "x.json") }
        #expect(throws: SpendLogError.self) {
            try LiteLLMImporter.importTable(Array(#"{"a": {"mode": "embedding"}}"#.utf8), path: "x.json")
        }
        #expect(throws: SpendLogError.self) { try LiteLLMImporter.importTable(Array("{".utf8), path: "x.json") }
    }

    /// Every row is imported or accounted for: alias rows (`alias_of`) take their target's prices,
    /// through chains of aliases; an alias of nothing importable is skipped with its reason; rows
    /// of other modes are counted.
    @Test func aliasRowsTakeTheirTargetsPricesAndEveryRowIsCounted() throws {
        let table = """
            {"sample_spec": {"mode": "chat"},
             "base-model": {"mode": "chat", "input_cost_per_token": 1e-6, "output_cost_per_token": 2e-6},
             "alias-one": {"alias_of": "base-model"},
             "alias-two": {"alias_of": "alias-one"},
             "alias-lost": {"alias_of": "nowhere"},
             "embedder": {"mode": "embedding", "input_cost_per_token": 1e-7},
             "free-chat": {"mode": "chat"}}
            """
        let result = try LiteLLMImporter.importTable(Array(table.utf8), path: "test")
        #expect(result.table.modelNames.sorted() == ["alias-one", "alias-two", "base-model"])
        #expect(
            result.table.entries["alias-two"]?.standard.base.output
                == result.table.entries["base-model"]?.standard.base.output)
        #expect(result.table.entries["alias-two"]?.model == "alias-two")
        #expect(result.skipped.map(\.model).sorted() == ["alias-lost", "free-chat"])
        #expect(result.skipped.first { $0.model == "alias-lost" }?.reason.contains("alias of 'nowhere'") == true)
        #expect(result.otherModes.map(\.model) == ["embedder"])
        #expect(result.rows == 6)
        #expect(result.table.count + result.skipped.count + result.otherModes.count == result.rows)
    }
}
