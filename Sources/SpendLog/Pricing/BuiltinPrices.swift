import Glibc

/// The built-in price table, in the price-file format (docs/PRICING.md, "Price files").
///
/// A Swift literal rather than a bundle resource, so the CLI needs no resource lookup at run
/// time. Derived from LiteLLM 1.109.1's `model_prices_and_context_window.json` (MIT licence) as of
/// the `as_of` date below: prices converted from USD per token to USD per million tokens. Rows for
/// older Anthropic models (`claude-3-5-sonnet`, `claude-3-7-sonnet`, `claude-sonnet-4`,
/// `claude-opus-4`, `claude-opus-4-1`, …) take the price of LiteLLM's on-demand Bedrock entry,
/// which equals Anthropic's list price; `grok-4`, `grok-3`, `grok-3-mini` come from LiteLLM's
/// gateway entries of xAI's list price. Dated snapshots are found through the date-suffix rule;
/// snapshots whose price differs from their alias (`gpt-4o-2024-05-13`) and Bedrock
/// cross-region ids that cost more than the global id (`eu.`, `jp.`, `au.`, `apac.`, `us-gov.`, …
/// of the newer Claude, Nova and OpenAI models) are listed by their exact name, because the
/// region rule of ``ModelNameNormalizer`` would otherwise price them at the global id's price.
/// `claude-sonnet-4-5` carries Anthropic's long-context prices above 200,000 input tokens (from
/// LiteLLM's Bedrock and Vertex entries of the same model; its first-party entry lacks them).
extension PriceTable {
    /// The built-in table (parsed once). A user's file overrides or extends it.
    public static let builtin: PriceTable = {
        // The literal is checked by the tests; should it ever fail to parse, pricing degrades to
        // "unpriced" with a warning instead of stopping the program.
        (try? PriceTable.decode(Array(builtinText.utf8), path: "built-in price table")) ?? PriceTable()
    }()

    /// The built-in entries that a lookup of any of `models` could find (each name's
    /// ``ModelNameNormalizer/candidates(for:)``), with the built-in table's date and source: for a
    /// command that prices a few models, such as one `spendlog append`, it decodes only their lines
    /// of the table instead of every model's. A lookup of one of `models` finds what it finds in
    /// ``builtin``.
    public static func builtin(forModels models: [String]) -> PriceTable {
        let wanted = Set(models.flatMap { ModelNameNormalizer.candidates(for: $0) }).map { Array($0.utf8) }
        var text = builtinText
        // The literal's own bytes, searched with memchr: this runs once per CLI append.
        let document: [UInt8]? = text.withUTF8 { bytes -> [UInt8]? in
            guard let base = bytes.baseAddress else { return nil }
            let modelsKey: StaticString = #""models": {"#
            let keyCount = modelsKey.utf8CodeUnitCount
            var keyAt = 0
            while true {  // the key is near the top
                guard bytes.count - keyAt >= keyCount, let quote = memchr(base + keyAt, 0x22, bytes.count - keyAt) else {
                    return nil
                }
                keyAt = UnsafeRawPointer(quote) - UnsafeRawPointer(base)
                if bytes.count - keyAt >= keyCount, memcmp(quote, modelsKey.utf8Start, keyCount) == 0 { break }
                keyAt += 1
            }
            let start = keyAt + keyCount
            var document = Array(bytes[..<start])
            var chosen = 0
            var lineStart = start
            // One model per line: `"<name>": {...},`, the name without escapes.
            while lineStart < bytes.count, let found = memchr(base + lineStart, 0x0A, bytes.count - lineStart) {
                let newline = UnsafeRawPointer(found) - UnsafeRawPointer(base)
                defer { lineStart = newline + 1 }
                var from = lineStart
                while from < newline, bytes[from] == 0x20 { from += 1 }
                guard newline - from > 1, bytes[from] == 0x22,
                    let quote = memchr(base + from + 1, 0x22, newline - from - 1)
                else { continue }
                let name = UnsafeBufferPointer(rebasing: bytes[(from + 1)..<(UnsafeRawPointer(quote) - UnsafeRawPointer(base))])
                guard wanted.contains(where: { $0.count == name.count && memcmp($0, name.baseAddress!, name.count) == 0 }) else {
                    continue
                }
                let end = bytes[newline - 1] == 0x2C ? newline - 1 : newline
                if chosen > 0 { document.append(contentsOf: ",\n".utf8) }
                document.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[from..<end]))
                chosen += 1
            }
            document.append(contentsOf: "}}".utf8)
            return document
        }
        guard let document else { return builtin }
        return (try? PriceTable.decode(document, path: "built-in price table")) ?? builtin
    }

    static let builtinText = #"""
        {
          "format": "spendlog-prices 1",
          "as_of": "2026-11-23",
          "source": "spendlog built-in table, derived from LiteLLM 1.109.1 model_prices_and_context_window.json (MIT)",
          "unit": "USD per 1M tokens",
          "models": {
            "gpt-5": {"input": 1.25, "output": 10, "cache_read": 0.125, "batch": {"input": 0.625, "output": 5, "cache_read": 0.0625}, "priority": {"input": 2.5, "output": 20, "cache_read": 0.25}, "flex": {"input": 0.625, "output": 5, "cache_read": 0.0625}},
            "gpt-5-mini": {"input": 0.25, "output": 2, "cache_read": 0.025, "batch": {"input": 0.125, "output": 1, "cache_read": 0.0125}, "priority": {"input": 0.45, "output": 3.6, "cache_read": 0.045}, "flex": {"input": 0.125, "output": 1, "cache_read": 0.0125}},
            "gpt-5-nano": {"input": 0.05, "output": 0.4, "cache_read": 0.005, "batch": {"input": 0.025, "output": 0.2, "cache_read": 0.0025}, "flex": {"input": 0.025, "output": 0.2, "cache_read": 0.0025}},
            "gpt-5-pro": {"input": 15, "output": 120, "batch": {"input": 7.5, "output": 60}},
            "gpt-5-codex": {"input": 1.25, "output": 10, "cache_read": 0.125},
            "gpt-5.1": {"input": 1.25, "output": 10, "cache_read": 0.125, "batch": {"input": 0.625, "output": 5, "cache_read": 0.0625}, "priority": {"input": 2.5, "output": 20, "cache_read": 0.25}, "flex": {"input": 0.625, "output": 5, "cache_read": 0.0625}},
            "gpt-5.2": {"input": 1.75, "output": 14, "cache_read": 0.175, "batch": {"input": 0.875, "output": 7, "cache_read": 0.0875}, "priority": {"input": 3.5, "output": 28, "cache_read": 0.35}, "flex": {"input": 0.875, "output": 7, "cache_read": 0.0875}},
            "gpt-5.4": {"input": 2.5, "output": 15, "cache_read": 0.25, "prompt_tiers": [{"above_input_tokens": 272000, "input": 5, "output": 22.5, "cache_read": 0.5}], "batch": {"input": 1.25, "output": 7.5, "cache_read": 0.13, "prompt_tiers": [{"above_input_tokens": 272000, "input": 2.5, "output": 11.25, "cache_read": 0.25}]}, "priority": {"input": 5, "output": 30, "cache_read": 0.5}, "flex": {"input": 1.25, "output": 7.5, "cache_read": 0.13, "prompt_tiers": [{"above_input_tokens": 272000, "input": 2.5, "output": 11.25, "cache_read": 0.25}]}},
            "gpt-4.1": {"input": 2, "output": 8, "cache_read": 0.5, "batch": {"input": 1, "output": 4}, "priority": {"input": 3.5, "output": 14, "cache_read": 0.875}},
            "gpt-4.1-mini": {"input": 0.4, "output": 1.6, "cache_read": 0.1, "batch": {"input": 0.2, "output": 0.8}, "priority": {"input": 0.7, "output": 2.8, "cache_read": 0.175}},
            "gpt-4.1-nano": {"input": 0.1, "output": 0.4, "cache_read": 0.025, "batch": {"input": 0.05, "output": 0.2}, "priority": {"input": 0.2, "output": 0.8, "cache_read": 0.05}},
            "gpt-4o": {"input": 2.5, "output": 10, "cache_read": 1.25, "batch": {"input": 1.25, "output": 5}, "priority": {"input": 4.25, "output": 17, "cache_read": 2.125}},
            "gpt-4o-2024-05-13": {"input": 5, "output": 15, "batch": {"input": 2.5, "output": 7.5}, "priority": {"input": 8.75, "output": 26.25}},
            "gpt-4o-mini": {"input": 0.15, "output": 0.6, "cache_read": 0.075, "batch": {"input": 0.075, "output": 0.3}, "priority": {"input": 0.25, "output": 1, "cache_read": 0.125}},
            "o1": {"input": 15, "output": 60, "cache_read": 7.5, "batch": {"input": 7.5, "output": 30}},
            "o1-pro": {"input": 150, "output": 600, "batch": {"input": 75, "output": 300}},
            "o3": {"input": 2, "output": 8, "cache_read": 0.5, "batch": {"input": 1, "output": 4}, "priority": {"input": 3.5, "output": 14, "cache_read": 0.875}, "flex": {"input": 1, "output": 4, "cache_read": 0.25}},
            "o3-mini": {"input": 1.1, "output": 4.4, "cache_read": 0.55, "batch": {"input": 0.55, "output": 2.2}},
            "o3-pro": {"input": 20, "output": 80, "batch": {"input": 10, "output": 40}},
            "o4-mini": {"input": 1.1, "output": 4.4, "cache_read": 0.275, "batch": {"input": 0.55, "output": 2.2}, "priority": {"input": 2, "output": 8, "cache_read": 0.5}, "flex": {"input": 0.55, "output": 2.2, "cache_read": 0.138}},
            "gpt-4-turbo": {"input": 10, "output": 30},
            "gpt-3.5-turbo": {"input": 0.5, "output": 1.5},
            "claude-opus-4-7": {"input": 5, "output": 25, "cache_read": 0.5, "cache_write": 6.25, "cache_write_1h": 10, "batch": {"input": 2.5, "output": 12.5, "cache_read": 0.25, "cache_write": 3.125}},
            "claude-opus-4-6": {"input": 5, "output": 25, "cache_read": 0.5, "cache_write": 6.25, "cache_write_1h": 10, "batch": {"input": 2.5, "output": 12.5, "cache_read": 0.25, "cache_write": 3.125}},
            "claude-opus-4-5": {"input": 5, "output": 25, "cache_read": 0.5, "cache_write": 6.25, "cache_write_1h": 10, "batch": {"input": 2.5, "output": 12.5, "cache_read": 0.25, "cache_write": 3.125}},
            "claude-sonnet-4-6": {"input": 3, "output": 15, "cache_read": 0.3, "cache_write": 3.75, "cache_write_1h": 6, "batch": {"input": 1.5, "output": 7.5, "cache_read": 0.15, "cache_write": 1.875}},
            "claude-sonnet-4-5": {"input": 3, "output": 15, "cache_read": 0.3, "cache_write": 3.75, "cache_write_1h": 6, "prompt_tiers": [{"above_input_tokens": 200000, "input": 6, "output": 22.5, "cache_read": 0.6, "cache_write": 7.5, "cache_write_1h": 12}], "batch": {"input": 1.5, "output": 7.5, "cache_read": 0.15, "cache_write": 1.875}},
            "claude-haiku-4-5": {"input": 1, "output": 5, "cache_read": 0.1, "cache_write": 1.25, "cache_write_1h": 2, "batch": {"input": 0.5, "output": 2.5, "cache_read": 0.05, "cache_write": 0.625}},
            "claude-opus-4-1": {"input": 15, "output": 75, "cache_read": 1.5, "cache_write": 18.75},
            "claude-opus-4": {"input": 15, "output": 75, "cache_read": 1.5, "cache_write": 18.75},
            "claude-sonnet-4": {"input": 3, "output": 15, "cache_read": 0.3, "cache_write": 3.75, "prompt_tiers": [{"above_input_tokens": 200000, "input": 6, "output": 22.5, "cache_read": 0.6, "cache_write": 7.5}]},
            "claude-3-7-sonnet": {"input": 3, "output": 15, "cache_read": 0.3, "cache_write": 3.75},
            "claude-3-5-sonnet": {"input": 3, "output": 15, "cache_read": 0.3, "cache_write": 3.75},
            "claude-3-5-haiku": {"input": 0.8, "output": 4, "cache_read": 0.08, "cache_write": 1},
            "claude-3-opus": {"input": 15, "output": 75, "cache_read": 1.5, "cache_write": 18.75},
            "gemini-2.5-pro": {"input": 1.25, "output": 10, "cache_read": 0.125, "prompt_tiers": [{"above_input_tokens": 200000, "input": 2.5, "output": 15, "cache_read": 0.25}], "batch": {"input": 0.625, "output": 5, "cache_read": 0.125, "prompt_tiers": [{"above_input_tokens": 200000, "input": 1.25, "output": 7.5, "cache_read": 0.25}]}, "priority": {"input": 2.25, "output": 18, "cache_read": 0.225, "prompt_tiers": [{"above_input_tokens": 200000, "input": 4.5, "output": 27, "cache_read": 0.45}]}, "flex": {"input": 0.625, "output": 5, "cache_read": 0.125}},
            "gemini-2.5-flash": {"input": 0.3, "output": 2.5, "cache_read": 0.03, "reasoning": 2.5, "batch": {"input": 0.15, "output": 1.25, "cache_read": 0.03}, "priority": {"input": 0.54, "output": 4.5, "cache_read": 0.054}, "flex": {"input": 0.15, "output": 1.25, "cache_read": 0.03}},
            "gemini-2.5-flash-lite": {"input": 0.1, "output": 0.4, "cache_read": 0.01, "reasoning": 0.4, "batch": {"input": 0.05, "output": 0.2, "cache_read": 0.01}, "priority": {"input": 0.18, "output": 0.72, "cache_read": 0.018}, "flex": {"input": 0.05, "output": 0.2, "cache_read": 0.01}},
            "gemini-3-flash-preview": {"input": 0.5, "output": 3, "cache_read": 0.05, "reasoning": 3, "batch": {"input": 0.25, "output": 1.5, "cache_read": 0.05}, "priority": {"input": 0.9, "output": 5.4, "cache_read": 0.09}, "flex": {"input": 0.25, "output": 1.5, "cache_read": 0.05}},
            "gemini-3.1-pro-preview": {"input": 2, "output": 12, "cache_read": 0.2, "prompt_tiers": [{"above_input_tokens": 200000, "input": 4, "output": 18, "cache_read": 0.4}], "batch": {"input": 1, "output": 6, "cache_read": 0.2, "prompt_tiers": [{"above_input_tokens": 200000, "input": 2, "output": 9, "cache_read": 0.4}]}, "priority": {"input": 3.6, "output": 21.6, "cache_read": 0.36, "prompt_tiers": [{"above_input_tokens": 200000, "input": 7.2, "output": 32.4, "cache_read": 0.72}]}, "flex": {"input": 1, "output": 6, "cache_read": 0.2}},
            "gemini-2.0-flash": {"input": 0.15, "output": 0.6, "batch": {"input": 0.075, "output": 0.3}},
            "gemini-2.0-flash-lite": {"input": 0.075, "output": 0.3, "batch": {"input": 0.0375, "output": 0.15}},
            "mistral-large-latest": {"input": 0.5, "output": 1.5, "cache_read": 0.05},
            "mistral-medium-latest": {"input": 1.5, "output": 7.5, "cache_read": 0.15},
            "mistral-small-latest": {"input": 0.15, "output": 0.6, "cache_read": 0.015},
            "codestral-latest": {"input": 0.3, "output": 0.9, "cache_read": 0.03},
            "magistral-medium-latest": {"input": 1.5, "output": 7.5, "cache_read": 0.15},
            "ministral-8b-latest": {"input": 0.15, "output": 0.15, "cache_read": 0.015},
            "open-mistral-nemo": {"input": 0.3, "output": 0.3, "cache_read": 0.03},
            "devstral-medium-latest": {"input": 0.4, "output": 2, "cache_read": 0.04},
            "deepseek-chat": {"input": 0.28, "output": 0.42, "cache_read": 0.028, "cache_write": 0},
            "deepseek-reasoner": {"input": 0.28, "output": 0.42, "cache_read": 0.028},
            "grok-4.3": {"input": 1.25, "output": 2.5, "cache_read": 0.2, "prompt_tiers": [{"at_or_above_input_tokens": 200000, "input": 2.5, "output": 5, "cache_read": 0.4}], "batch": {"input": 1, "output": 2, "cache_read": 0.16, "prompt_tiers": [{"at_or_above_input_tokens": 200000, "input": 2, "output": 4, "cache_read": 0.32}]}},
            "grok-4.20": {"input": 1.25, "output": 2.5, "cache_read": 0.2, "prompt_tiers": [{"at_or_above_input_tokens": 200000, "input": 2.5, "output": 5, "cache_read": 0.4}], "batch": {"input": 1, "output": 2, "cache_read": 0.16, "prompt_tiers": [{"at_or_above_input_tokens": 200000, "input": 2, "output": 4, "cache_read": 0.32}]}},
            "grok-code-fast-1": {"input": 1, "output": 2, "cache_read": 0.2, "prompt_tiers": [{"at_or_above_input_tokens": 200000, "input": 2, "output": 4, "cache_read": 0.4}]},
            "grok-4": {"input": 3, "output": 15},
            "grok-3": {"input": 3, "output": 15},
            "grok-3-mini": {"input": 0.3, "output": 0.5},
            "meta.llama3-3-70b-instruct-v1:0": {"input": 0.72, "output": 0.72, "batch": {"input": 0.36, "output": 0.36}},
            "meta.llama4-maverick-17b-instruct-v1:0": {"input": 0.24, "output": 0.97, "batch": {"input": 0.12, "output": 0.485}},
            "meta.llama4-scout-17b-instruct-v1:0": {"input": 0.17, "output": 0.66, "batch": {"input": 0.085, "output": 0.33}},
            "meta.llama3-1-405b-instruct-v1:0": {"input": 2.4, "output": 2.4},
            "meta.llama3-1-70b-instruct-v1:0": {"input": 0.72, "output": 0.72, "batch": {"input": 0.36, "output": 0.36}},
            "meta.llama3-1-8b-instruct-v1:0": {"input": 0.22, "output": 0.22, "batch": {"input": 0.11, "output": 0.11}},
            "us.anthropic.claude-sonnet-4-5-20250929-v1:0": {"input": 3.3, "output": 16.5, "cache_read": 0.33, "cache_write": 4.125, "cache_write_1h": 6.6, "prompt_tiers": [{"above_input_tokens": 200000, "input": 6.6, "output": 24.75, "cache_read": 0.66, "cache_write": 8.25, "cache_write_1h": 13.2}], "batch": {"input": 1.65, "output": 8.25}},
            "eu.anthropic.claude-sonnet-4-5-20250929-v1:0": {"input": 3.3, "output": 16.5, "cache_read": 0.33, "cache_write": 4.125, "cache_write_1h": 6.6, "prompt_tiers": [{"above_input_tokens": 200000, "input": 6.6, "output": 24.75, "cache_read": 0.66, "cache_write": 8.25, "cache_write_1h": 13.2}], "batch": {"input": 1.65, "output": 8.25}},
            "us.anthropic.claude-haiku-4-5-20251001-v1:0": {"input": 1.1, "output": 5.5, "cache_read": 0.11, "cache_write": 1.375, "cache_write_1h": 2.2, "batch": {"input": 0.55, "output": 2.75}},
            "us.anthropic.claude-opus-4-5-20251101-v1:0": {"input": 5.5, "output": 27.5, "cache_read": 0.55, "cache_write": 6.875, "cache_write_1h": 11},
            "apac.amazon.nova-lite-v1:0": {"input": 0.063, "output": 0.252, "cache_read": 0.01575},
            "apac.amazon.nova-micro-v1:0": {"input": 0.037, "output": 0.148, "cache_read": 0.00925},
            "apac.amazon.nova-pro-v1:0": {"input": 0.84, "output": 3.36, "cache_read": 0.21, "flex": {"input": 0.42, "output": 1.68, "cache_read": 0.105}},
            "apac.anthropic.claude-haiku-4-5-20251001-v1:0": {"input": 1.1, "output": 5.5, "cache_read": 0.11, "cache_write": 1.375, "batch": {"input": 0.55, "output": 2.75}},
            "apac.anthropic.claude-opus-4-7": {"input": 5.5, "output": 27.5, "cache_read": 0.55, "cache_write": 6.875, "cache_write_1h": 11},
            "apac.anthropic.claude-sonnet-4-6": {"input": 3.3, "output": 16.5, "cache_read": 0.33, "cache_write": 4.125, "cache_write_1h": 6.6},
            "au.anthropic.claude-haiku-4-5-20251001-v1:0": {"input": 1.1, "output": 5.5, "cache_read": 0.11, "cache_write": 1.375, "cache_write_1h": 2.2, "batch": {"input": 0.55, "output": 2.75}},
            "au.anthropic.claude-opus-4-6-v1": {"input": 5.5, "output": 27.5, "cache_read": 0.55, "cache_write": 6.875, "cache_write_1h": 11},
            "au.anthropic.claude-opus-4-7": {"input": 5.5, "output": 27.5, "cache_read": 0.55, "cache_write": 6.875, "cache_write_1h": 11},
            "au.anthropic.claude-sonnet-4-5-20250929-v1:0": {"input": 3.3, "output": 16.5, "cache_read": 0.33, "cache_write": 4.125, "cache_write_1h": 6.6, "prompt_tiers": [{"above_input_tokens": 200000, "input": 6.6, "output": 24.75, "cache_read": 0.66, "cache_write": 8.25, "cache_write_1h": 13.2}], "batch": {"input": 1.65, "output": 8.25}},
            "au.anthropic.claude-sonnet-4-6": {"input": 3.3, "output": 16.5, "cache_read": 0.33, "cache_write": 4.125, "cache_write_1h": 6.6},
            "eu.amazon.nova-lite-v1:0": {"input": 0.078, "output": 0.312, "cache_read": 0.0195},
            "eu.amazon.nova-micro-v1:0": {"input": 0.046, "output": 0.184, "cache_read": 0.0115},
            "eu.amazon.nova-pro-v1:0": {"input": 1.05, "output": 4.2, "cache_read": 0.2625, "flex": {"input": 0.525, "output": 2.1, "cache_read": 0.13125}},
            "eu.anthropic.claude-haiku-4-5-20251001-v1:0": {"input": 1.1, "output": 5.5, "cache_read": 0.11, "cache_write": 1.375, "cache_write_1h": 2.2, "batch": {"input": 0.55, "output": 2.75}},
            "eu.anthropic.claude-opus-4-5-20251101-v1:0": {"input": 5.5, "output": 27.5, "cache_read": 0.55, "cache_write": 6.875, "cache_write_1h": 11},
            "eu.anthropic.claude-opus-4-6-v1": {"input": 5.5, "output": 27.5, "cache_read": 0.55, "cache_write": 6.875, "cache_write_1h": 11},
            "eu.anthropic.claude-opus-4-7": {"input": 5.5, "output": 27.5, "cache_read": 0.55, "cache_write": 6.875, "cache_write_1h": 11},
            "eu.anthropic.claude-sonnet-4-6": {"input": 3.3, "output": 16.5, "cache_read": 0.33, "cache_write": 4.125, "cache_write_1h": 6.6},
            "jp.anthropic.claude-haiku-4-5-20251001-v1:0": {"input": 1.1, "output": 5.5, "cache_read": 0.11, "cache_write": 1.375, "cache_write_1h": 2.2, "batch": {"input": 0.55, "output": 2.75}},
            "jp.anthropic.claude-opus-4-7": {"input": 5.5, "output": 27.5, "cache_read": 0.55, "cache_write": 6.875, "cache_write_1h": 11},
            "jp.anthropic.claude-sonnet-4-5-20250929-v1:0": {"input": 3.3, "output": 16.5, "cache_read": 0.33, "cache_write": 4.125, "cache_write_1h": 6.6, "prompt_tiers": [{"above_input_tokens": 200000, "input": 6.6, "output": 24.75, "cache_read": 0.66, "cache_write": 8.25, "cache_write_1h": 13.2}], "batch": {"input": 1.65, "output": 8.25}},
            "jp.anthropic.claude-sonnet-4-6": {"input": 3.3, "output": 16.5, "cache_read": 0.33, "cache_write": 4.125, "cache_write_1h": 6.6},
            "us-gov.anthropic.claude-sonnet-4-5-20250929-v1:0": {"input": 3.6, "output": 18, "cache_read": 0.36, "cache_write": 4.5, "cache_write_1h": 7.2, "prompt_tiers": [{"above_input_tokens": 200000, "input": 7.2, "output": 27, "cache_read": 0.72, "cache_write": 9, "cache_write_1h": 14.4}]},
            "us.anthropic.claude-opus-4-6-v1": {"input": 5.5, "output": 27.5, "cache_read": 0.55, "cache_write": 6.875, "cache_write_1h": 11},
            "us.anthropic.claude-opus-4-7": {"input": 5.5, "output": 27.5, "cache_read": 0.55, "cache_write": 6.875, "cache_write_1h": 11},
            "us.anthropic.claude-sonnet-4-6": {"input": 3.3, "output": 16.5, "cache_read": 0.33, "cache_write": 4.125, "cache_write_1h": 6.6},
            "us.openai.gpt-5.4": {"input": 2.75, "output": 16.5, "cache_read": 0.275, "prompt_tiers": [{"above_input_tokens": 272000, "input": 5.5, "output": 24.75, "cache_read": 0.55}]},
            "amazon.nova-pro-v1:0": {"input": 0.8, "output": 3.2, "cache_read": 0.2, "batch": {"input": 0.4, "output": 1.6}, "priority": {"input": 1.4, "output": 5.6, "cache_read": 0.35}, "flex": {"input": 0.4, "output": 1.6, "cache_read": 0.1}},
            "amazon.nova-lite-v1:0": {"input": 0.06, "output": 0.24, "cache_read": 0.015, "batch": {"input": 0.03, "output": 0.12}},
            "amazon.nova-micro-v1:0": {"input": 0.035, "output": 0.14, "cache_read": 0.00875, "batch": {"input": 0.0175, "output": 0.07}}
          }
        }
        """#
}
