/// The names a model may be looked up under, most exact first (docs/PRICING.md, "Model names").
///
/// Each step removes one kind of decoration that does not change the model: a routing prefix
/// (`openai/`), a cross-region prefix (`us.`), the Bedrock vendor prefix (`anthropic.`), a Bedrock
/// version (`-v1:0`), a snapshot date (`-20250929`). The table is asked for each candidate in
/// turn and the first exact hit wins. There is deliberately no prefix matching: `gpt-4o` must
/// never price `gpt-4o-mini`, nor `o3` price `o3-pro`.
public enum ModelNameNormalizer {
    /// Routing prefixes of LiteLLM, OpenRouter-style gateways and the Gemini API (`models/`).
    static let routingPrefixes = [
        "openai/", "anthropic/", "bedrock/", "bedrock_converse/", "converse/", "vertex_ai/", "vertex_ai_beta/",
        "gemini/", "google/", "models/", "azure/", "azure_ai/", "mistral/", "mistralai/", "deepseek/", "xai/",
        "x-ai/", "meta/", "meta-llama/", "groq/", "together_ai/", "fireworks_ai/", "openrouter/",
    ]
    /// Cross-region inference profiles of Bedrock.
    static let regionPrefixes = ["us.", "eu.", "apac.", "global.", "us-gov.", "jp.", "au.", "ca."]
    /// Bedrock vendor prefixes dropped to reach the vendor's own name (`claude-…`).
    static let vendorPrefixes = ["anthropic.", "mistral.", "deepseek.", "openai."]

    /// The names `model` may be found under, most exact first: the name itself, then each
    /// decoration removed in turn. No prefix of another name is ever among them.
    public static func candidates(for model: String) -> [String] {
        var result: [String] = []
        func add(_ name: String) { if !name.isEmpty && !result.contains(name) { result.append(name) } }
        add(model)
        var name = model.lowercased()
        add(name)
        var stripped = true
        while stripped {
            stripped = false
            for prefix in routingPrefixes where name.hasPrefix(prefix) && name.count > prefix.count {
                name = String(name.dropFirst(prefix.count))
                stripped = true
            }
        }
        add(name)
        for region in regionPrefixes where name.hasPrefix(region) {
            let rest = name.dropFirst(region.count)
            if rest.contains(".") { name = String(rest) }  // only before a vendor: `us.anthropic.…`, `eu.meta.…`
            break
        }
        add(name)
        if let version = bedrockVersionSuffix(name) {
            name = String(name.dropLast(version))
            add(name)
        }
        for vendor in vendorPrefixes where name.hasPrefix(vendor) {
            name = String(name.dropFirst(vendor.count))
            add(name)
            break
        }
        if let version = bedrockVersionSuffix(name) {
            name = String(name.dropLast(version))
            add(name)
        }
        if let date = dateSuffix(name) {
            name = String(name.dropLast(date))
            add(name)
        }
        return result
    }

    /// Length of a trailing Bedrock version: `-v1:0` anywhere; `-v2` or `:0` alone only on a
    /// Bedrock id (`vendor.model`), so that `deepseek-v3` is never read as `deepseek` version 3.
    static func bedrockVersionSuffix(_ name: String) -> Int? {
        guard let length = versionSuffix(name) else { return nil }
        if let dot = name.firstIndex(of: "."), dot > name.startIndex,
            name[..<dot].allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) })
        {
            return length
        }
        let chars = Array(name)
        let suffix = chars[(chars.count - length)...]
        return suffix.first == "-" && suffix.contains(":") ? length : nil
    }

    /// Length of a trailing `-vN:M`, `-vN` or `:M`; nil when there is none.
    static func versionSuffix(_ name: String) -> Int? {
        let chars = Array(name)
        var i = chars.count
        var length = 0
        // Optional `:N`.
        var j = i
        while j > 0, chars[j - 1].isASCII, chars[j - 1].isNumber { j -= 1 }
        if j < i, j > 0, chars[j - 1] == ":" {
            length = i - (j - 1)
            i = j - 1
        }
        // `-vN`.
        var k = i
        while k > 0, chars[k - 1].isASCII, chars[k - 1].isNumber { k -= 1 }
        if k < i, k >= 2, chars[k - 1] == "v", chars[k - 2] == "-" {
            return length + (i - k) + 2
        }
        return length > 0 ? length : nil
    }

    /// Length of a trailing `-YYYYMMDD`, `-YYYY-MM-DD` or `@YYYYMMDD`; nil when there is none.
    static func dateSuffix(_ name: String) -> Int? {
        let chars = Array(name)
        func digits(_ range: Range<Int>) -> Bool { range.allSatisfy { chars[$0].isASCII && chars[$0].isNumber } }
        let n = chars.count
        if n > 9, chars[n - 9] == "-" || chars[n - 9] == "@", digits((n - 8)..<n), chars[n - 8] == "2" { return 9 }
        if n > 11, chars[n - 11] == "-", digits((n - 10)..<(n - 6)), chars[n - 6] == "-", digits((n - 5)..<(n - 3)),
            chars[n - 3] == "-", digits((n - 2)..<n), chars[n - 10] == "2"
        {
            return 11
        }
        return nil
    }
}
