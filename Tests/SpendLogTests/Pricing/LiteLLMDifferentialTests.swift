import Foundation
import SpendLogTestSupport
import Testing

/// spendlog's cost against LiteLLM's own cost function (`litellm.cost_per_token`, the PyPI package
/// pinned in the Makefile's venv), both pricing from Fixtures/prices/litellm-model-prices.json.
///
/// scripts/litellm-diff.py picks, with a fixed seed, 300 chat models across providers (rows with
/// cache, reasoning, prompt-size and batch/priority/flex prices; Fireworks, Bedrock, Gemini, xAI,
/// DeepSeek, Dashscope/Qwen, Volcengine) and two random token mixes each (cache reads and writes,
/// 1-hour writes, reasoning, prompts below, at and above each threshold), prices them with LiteLLM
/// and with the built CLI (`prices import`, then one `ingest`), and compares to 1e-9 USD. Every
/// difference must be explained by an entry of its KNOWN_DIFFERENCES table (rule, reason, the
/// provider's price page; where the rule can, the exact difference it predicts); an unexplained
/// difference fails, and so does an entry that explains nothing (a stale rule). LiteLLM prices
/// from the fixture (the script checks it) at a pinned moment, never today's clock, offline.
@Suite struct LiteLLMDifferentialTests {
    @Test func spendlogAgreesWithLiteLLMUpToTheKnownDifferences() throws {
        let script = TestPaths.packageRoot + "/scripts/litellm-diff.py"
        let run = try runProcess(
            TestPaths.python, [script, "--spendlog", TestPaths.binary],
            environment: ["LITELLM_LOCAL_MODEL_COST_MAP": "True"])
        let summary = try #require(
            try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any],
            "no summary from the script: \(run.stderr.suffix(3000))")
        let unexplained = summary["unexplained"] as? [Any] ?? []
        let mispredicted = summary["rule_predicts_another_difference"] as? [Any] ?? []
        let stale = summary["stale_rules"] as? [String] ?? []
        #expect(run.status == 0, "\(run.stdout.prefix(6000))\n\(run.stderr.suffix(2000))")
        #expect(unexplained.isEmpty, "differences no known rule explains (see the summary above)")
        #expect(mispredicted.isEmpty, "differences other than the one their rule predicts")
        #expect(stale.isEmpty, "rules that explain no case any more; remove them: \(stale)")
        #expect((summary["models"] as? Int ?? 0) >= 200)
        #expect((summary["cases"] as? Int ?? 0) >= 400)
        #expect((summary["providers"] as? Int ?? 0) >= 30)
        // Most cases agree exactly: the known differences stay the exception.
        #expect((summary["agree"] as? Int ?? 0) >= 500)
    }
}
