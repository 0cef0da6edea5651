/// Infers the OpenTelemetry `gen_ai.provider.name` of a model from its name, for records that
/// do not say. The rules are documented in docs/FORMAT.md, "Provider".
public enum ProviderInference {
    /// Written when nothing in the model name identifies the provider.
    public static let unknown = "unknown"

    /// The provider of `model`: a routing prefix (`bedrock/…`) first, else the model family's maker
    /// (`gpt-…` is `openai`, `claude-…` is `anthropic`), else ``unknown``.
    public static func provider(forModel model: String) -> String {
        var name = model
        return name.withUTF8 { bytes in
            // Most names are lower-case ASCII already: no new string for them.
            guard !bytes.contains(where: { ($0 >= 0x41 && $0 <= 0x5A) || $0 >= 0x80 }) else {
                var lowered = model.lowercased()
                return lowered.withUTF8 { provider(lowercased: $0) }
            }
            return provider(lowercased: bytes)
        }
    }

    /// ``provider(forModel:)`` of a lower-cased name's UTF-8 bytes. Prefixes are compared as bytes
    /// (they are ASCII): the name is an identifier, not text.
    private static func provider(lowercased name: UnsafeBufferPointer<UInt8>) -> String {
        // Explicit routing prefixes first: `bedrock/…`, `openai/…`, `vertex_ai/…`.
        if let slash = name.firstIndex(of: UInt8(ascii: "/")) {
            let prefix = name[..<slash]
            if let route = routes.first(where: { $0.prefix.elementsEqual(prefix) }) { return route.provider }
        }
        var bare = name[...]
        for region in regions where bare.starts(with: region) {
            bare = bare.dropFirst(region.count)
        }
        if bedrockFamilies.contains(where: { bare.starts(with: $0) }) { return "aws.bedrock" }
        for family in families where bare.starts(with: family.prefix) {
            // `o1`, `o3`, `o4` only as whole tokens (`o3-mini`, `o4`), not `o3something`.
            if family.prefix.count == 2, family.prefix[0] == UInt8(ascii: "o") {
                if let next = bare.dropFirst(2).first, next != UInt8(ascii: "-") { continue }
            }
            return family.provider
        }
        return unknown
    }

    /// Routing prefixes (the part before the first `/`) and their providers.
    private static let routes: [(prefix: [UInt8], provider: String)] = [
        ("openai", "openai"), ("anthropic", "anthropic"), ("gemini", "gcp.gemini"), ("google", "gcp.gemini"),
        ("vertex_ai", "gcp.vertex_ai"), ("vertex", "gcp.vertex_ai"), ("bedrock", "aws.bedrock"),
        ("bedrock_converse", "aws.bedrock"), ("azure", "azure.ai.openai"), ("azure_ai", "azure.ai.openai"),
        ("mistral", "mistral_ai"), ("deepseek", "deepseek"), ("xai", "x_ai"), ("x_ai", "x_ai"), ("groq", "groq"),
        ("cohere", "cohere"), ("perplexity", "perplexity"),
    ].map { (Array($0.0.utf8), $0.1) }
    /// Bedrock's cross-region prefixes of model ids (`us.anthropic.…`).
    private static let regions = ["us.", "eu.", "apac.", "global.", "us-gov."].map { Array($0.utf8) }
    /// Bedrock model ids: `anthropic.claude-…-v1:0`, `us.anthropic.…`, `meta.llama3-…`, `amazon.nova-…`.
    private static let bedrockFamilies = [
        "anthropic.", "meta.", "amazon.", "cohere.", "ai21.", "mistral.", "deepseek.", "writer.",
    ].map { Array($0.utf8) }
    /// Model families by the start of their names, and their makers.
    private static let families: [(prefix: [UInt8], provider: String)] = [
        ("gpt-", "openai"), ("o1", "openai"), ("o3", "openai"), ("o4", "openai"), ("chatgpt-", "openai"),
        ("text-embedding-", "openai"), ("davinci", "openai"), ("babbage", "openai"), ("dall-e", "openai"),
        ("whisper", "openai"), ("tts-", "openai"), ("codex-", "openai"), ("omni-moderation", "openai"),
        ("claude", "anthropic"),
        ("gemini", "gcp.gemini"), ("gemma", "gcp.gemini"),
        ("mistral", "mistral_ai"), ("codestral", "mistral_ai"), ("ministral", "mistral_ai"),
        ("pixtral", "mistral_ai"), ("magistral", "mistral_ai"), ("devstral", "mistral_ai"),
        ("open-mistral", "mistral_ai"), ("open-mixtral", "mistral_ai"),
        ("deepseek", "deepseek"),
        ("grok", "x_ai"),
        ("command", "cohere"),
        ("sonar", "perplexity"),
    ].map { (Array($0.0.utf8), $0.1) }
}
