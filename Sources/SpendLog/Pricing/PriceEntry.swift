/// How a provider was asked to serve a request; batch, priority and flex have their own prices.
public enum ServiceTier: String, CaseIterable, Sendable {
    case standard, batch, priority, flex

    /// Reads a tier name as users and providers write it: OpenAI reports `default` and `auto`
    /// for standard, Anthropic `standard`; `batches` is LiteLLM's spelling.
    public init?(name: String) {
        switch name.lowercased() {
        case "standard", "default", "auto", "on_demand", "on-demand": self = .standard
        case "batch", "batches": self = .batch
        case "priority": self = .priority
        case "flex": self = .flex
        default: return nil
        }
    }
}

/// The price components of one model (or of one of its service tiers, or prompt-size tiers).
/// A component that is `nil` falls back as docs/PRICING.md, "Which price applies", says.
public struct PriceComponents: Equatable, Sendable {
    public var input: TokenPrice?
    public var output: TokenPrice?
    /// Cache reads.
    public var cacheRead: TokenPrice?
    /// Cache writes with the default (5-minute) lifetime.
    public var cacheWrite: TokenPrice?
    /// Cache writes with a 1-hour lifetime, where they cost more.
    public var cacheWrite1h: TokenPrice?
    /// Reasoning tokens, where they are priced apart from output.
    public var reasoning: TokenPrice?

    public init(
        input: TokenPrice? = nil, output: TokenPrice? = nil, cacheRead: TokenPrice? = nil,
        cacheWrite: TokenPrice? = nil, cacheWrite1h: TokenPrice? = nil, reasoning: TokenPrice? = nil
    ) {
        self.input = input
        self.output = output
        self.cacheRead = cacheRead
        self.cacheWrite = cacheWrite
        self.cacheWrite1h = cacheWrite1h
        self.reasoning = reasoning
    }

    public var isEmpty: Bool {
        input == nil && output == nil && cacheRead == nil && cacheWrite == nil && cacheWrite1h == nil
            && reasoning == nil
    }

    /// The component names as written in price files, with their key paths.
    static var fields: [(name: String, keyPath: WritableKeyPath<PriceComponents, TokenPrice?>)] {
        [
            ("input", \.input), ("output", \.output), ("cache_read", \.cacheRead), ("cache_write", \.cacheWrite),
            ("cache_write_1h", \.cacheWrite1h), ("reasoning", \.reasoning),
        ]
    }
}

/// Prices that apply when a request's prompt is larger than a threshold (e.g. Gemini 2.5 Pro
/// above 200,000 input tokens): the whole request is then charged at these prices.
public struct PromptTier: Equatable, Sendable {
    /// The tier applies when `input_tokens` is strictly greater than this.
    public var aboveInputTokens: Int64
    public var prices: PriceComponents

    public init(aboveInputTokens: Int64, prices: PriceComponents) {
        self.aboveInputTokens = aboveInputTokens
        self.prices = prices
    }
}

/// The prices of one service tier: base components and prompt-size tiers.
public struct PriceSchedule: Equatable, Sendable {
    public var base: PriceComponents
    /// Sorted by threshold, ascending.
    public var promptTiers: [PromptTier]

    public init(base: PriceComponents = PriceComponents(), promptTiers: [PromptTier] = []) {
        self.base = base
        self.promptTiers = promptTiers.sorted { $0.aboveInputTokens < $1.aboveInputTokens }
    }

    /// The tier with the highest threshold that `inputTokens` is strictly above, if any.
    func tier(forInputTokens inputTokens: Int64) -> PromptTier? {
        promptTiers.last { inputTokens > $0.aboveInputTokens }
    }

    public var isEmpty: Bool { base.isEmpty && promptTiers.isEmpty }
}

/// Everything the table knows about one model's prices.
public struct PriceEntry: Equatable, Sendable {
    /// The exact name under which the table holds it.
    public var model: String
    /// Standard prices; `input` and `output` are always present.
    public var standard: PriceSchedule
    /// Batch, priority and flex prices, where the provider has them.
    public var serviceTiers: [ServiceTier: PriceSchedule]

    public init(model: String, standard: PriceSchedule, serviceTiers: [ServiceTier: PriceSchedule] = [:]) {
        self.model = model
        self.standard = standard
        self.serviceTiers = serviceTiers
    }
}
