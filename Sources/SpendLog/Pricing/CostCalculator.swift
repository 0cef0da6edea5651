/// The token counts a cost is computed from, with the record's meaning: `inputTokens` includes
/// cache reads and writes, `outputTokens` includes reasoning.
public struct TokenUsage: Equatable, Sendable {
    public var inputTokens: Int64
    public var outputTokens: Int64
    public var cachedInputTokens: Int64
    public var cacheWriteTokens: Int64
    /// The part of `cacheWriteTokens` written with a 1-hour lifetime.
    public var cacheWrite1hTokens: Int64
    public var reasoningTokens: Int64

    public init(
        inputTokens: Int64 = 0, outputTokens: Int64 = 0, cachedInputTokens: Int64 = 0, cacheWriteTokens: Int64 = 0,
        cacheWrite1hTokens: Int64 = 0, reasoningTokens: Int64 = 0
    ) {
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.cachedInputTokens = cachedInputTokens
        self.cacheWriteTokens = cacheWriteTokens
        self.cacheWrite1hTokens = cacheWrite1hTokens
        self.reasoningTokens = reasoningTokens
    }

    /// The usage of a record, including its `cache_write_1h_tokens` extra key when present.
    public init(record: UsageRecord) {
        self.init(
            inputTokens: record.inputTokens, outputTokens: record.outputTokens,
            cachedInputTokens: record.cachedInputTokens, cacheWriteTokens: record.cacheWriteTokens,
            cacheWrite1hTokens: record.cacheWrite1hTokens ?? 0, reasoningTokens: record.reasoningTokens)
    }
}

/// A cost and how it was reached: one line per component, the prices used, and the tiers.
public struct CostBreakdown: Equatable, Sendable {
    public struct Line: Equatable, Sendable {
        /// `input` (uncached), `cache_read`, `cache_write`, `cache_write_1h`, `output` (excluding reasoning), `reasoning`.
        public var component: String
        public var tokens: Int64
        public var price: TokenPrice
        /// tokens × price, exact.
        public var yoctoDollars: Int128

        /// The exact cost of this line in USD (up to 24 fractional digits).
        public var exactUSD: String { ExactDecimal.format(yoctoDollars, fractionDigits: TokenPrice.perTokenDigits) }
    }

    public var model: String
    public var matchedName: String
    public var lines: [Line]
    /// The exact sum of the lines, in yocto-dollars.
    public var exactYoctoDollars: Int128
    /// The sum rounded once, half up, to nano-dollars: what a record stores.
    public var total: Money
    public var serviceTier: ServiceTier
    /// The prompt-size threshold whose prices applied, if any.
    public var promptTierAbove: Int64?
    /// Fallbacks worth telling the user about (a service tier the model has no prices for).
    public var notes: [String]

    public var exactUSD: String { ExactDecimal.format(exactYoctoDollars, fractionDigits: TokenPrice.perTokenDigits) }
}

/// Cost = uncached input × input + cache reads × cache read + cache writes × cache write
/// (5-minute and 1-hour apart) + (output − reasoning) × output + reasoning × reasoning, with the
/// prompt-size and service tiers applied; exact integer arithmetic, one rounding at the end.
/// The rules are in docs/PRICING.md.
public enum CostCalculator {
    /// Yocto-dollars per nano-dollar.
    static let yoctoPerNano = Int128(10).power(15)

    public static func cost(
        of usage: TokenUsage, entry: PriceEntry, model: String? = nil, serviceTier: ServiceTier = .standard
    ) throws(SpendLogError) -> CostBreakdown {
        try check(usage)
        var notes: [String] = []
        var tier = serviceTier
        var schedule = entry.standard
        if serviceTier != .standard {
            if let special = entry.serviceTiers[serviceTier] {
                schedule = special
            } else {
                notes.append("\(entry.model) has no \(serviceTier.rawValue) prices; standard prices were used")
                tier = .standard
            }
        }
        // Each schedule's own highest tier below the prompt size: a service tier may split at
        // another threshold than standard prices do.
        let serviceTierAtSize = schedule.tier(forInputTokens: usage.inputTokens)
        let standardAtSize = entry.standard.tier(forInputTokens: usage.inputTokens)
        let threshold = [serviceTierAtSize, standardAtSize].compactMap { $0?.aboveInputTokens }.max()
        // Most specific first: the service tier at this prompt size, the service tier, then standard.
        let layers = [serviceTierAtSize?.prices, schedule.base, standardAtSize?.prices, entry.standard.base]
            .compactMap { $0 }
        func price(_ keyPath: KeyPath<PriceComponents, TokenPrice?>) -> TokenPrice? {
            for layer in layers { if let value = layer[keyPath: keyPath] { return value } }
            return nil
        }
        let input = price(\.input) ?? .zero
        let output = price(\.output) ?? .zero
        let cacheRead = price(\.cacheRead) ?? input
        let cacheWrite = price(\.cacheWrite) ?? input
        let cacheWrite1h = price(\.cacheWrite1h) ?? cacheWrite
        // Reasoning is output: under a service tier that prices output but not reasoning, it costs
        // the tier's output price, not standard's reasoning price (docs/PRICING.md).
        let tierLayers = [serviceTierAtSize?.prices, tier == .standard ? nil : schedule.base].compactMap { $0 }
        let tierReasoning = tierLayers.lazy.compactMap { $0.reasoning }.first
        let tierOutput = tierLayers.lazy.compactMap { $0.output }.first
        let reasoning =
            tier == .standard
            ? price(\.reasoning) ?? output : tierReasoning ?? tierOutput ?? price(\.reasoning) ?? output

        let parts: [(String, Int64, TokenPrice, Bool)] = [
            ("input", usage.inputTokens - usage.cachedInputTokens - usage.cacheWriteTokens, input, true),
            ("cache_read", usage.cachedInputTokens, cacheRead, false),
            ("cache_write", usage.cacheWriteTokens - usage.cacheWrite1hTokens, cacheWrite, false),
            ("cache_write_1h", usage.cacheWrite1hTokens, cacheWrite1h, false),
            ("output", usage.outputTokens - usage.reasoningTokens, output, true),
            ("reasoning", usage.reasoningTokens, reasoning, false),
        ]
        var lines: [CostBreakdown.Line] = []
        var sum: Int128 = 0
        for (name, tokens, unit, always) in parts where always || tokens > 0 {
            let (product, overflow) = Int128(tokens).multipliedReportingOverflow(by: unit.yoctoDollarsPerToken)
            let (next, overflow2) = sum.addingReportingOverflow(product)
            guard !overflow, !overflow2 else { throw tooLarge(model ?? entry.model) }
            sum = next
            lines.append(.init(component: name, tokens: tokens, price: unit, yoctoDollars: product))
        }
        let nanos = (sum + yoctoPerNano / 2) / yoctoPerNano
        guard nanos <= Int128(Money.maximumPerRecord.nanos) else { throw tooLarge(model ?? entry.model) }
        return CostBreakdown(
            model: model ?? entry.model, matchedName: entry.model, lines: lines, exactYoctoDollars: sum,
            total: Money(nanos: Int64(nanos)), serviceTier: tier, promptTierAbove: threshold, notes: notes)
    }

    static func tooLarge(_ model: String) -> SpendLogError {
        .invalid(
            "The cost of this \(model) call would be above the per-record maximum of 1000000 USD; check the token counts."
        )
    }

    /// The same rules a record obeys (docs/FORMAT.md, "Record"), so that no component is negative.
    static func check(_ usage: TokenUsage) throws(SpendLogError) {
        let counts = [
            ("input_tokens", usage.inputTokens), ("output_tokens", usage.outputTokens),
            ("cached_input_tokens", usage.cachedInputTokens), ("cache_write_tokens", usage.cacheWriteTokens),
            ("cache_write_1h_tokens", usage.cacheWrite1hTokens), ("reasoning_tokens", usage.reasoningTokens),
        ]
        for (field, value) in counts {
            do { try UsageRecord.validateCount(value, field: field) } catch {
                throw .invalid(field: field, error.reason + ".")
            }
        }
        if usage.cachedInputTokens + usage.cacheWriteTokens > usage.inputTokens {
            throw .invalid(
                field: "cached_input_tokens",
                "\(usage.cachedInputTokens) cache reads + \(usage.cacheWriteTokens) cache writes is more than the "
                    + "\(usage.inputTokens) input tokens, which include cache reads and writes.")
        }
        if usage.cacheWrite1hTokens > usage.cacheWriteTokens {
            throw .invalid(
                field: "cache_write_1h_tokens",
                "\(usage.cacheWrite1hTokens) is more than the \(usage.cacheWriteTokens) cache writes; 1-hour writes are "
                    + "part of the cache writes.")
        }
        if usage.reasoningTokens > usage.outputTokens {
            throw .invalid(
                field: "reasoning_tokens",
                "\(usage.reasoningTokens) is more than the \(usage.outputTokens) output tokens, which include "
                    + "reasoning.")
        }
    }
}

extension UsageRecord {
    /// Extra record key: how many of `cache_write_tokens` were written with a 1-hour lifetime.
    public static let cacheWrite1hKey = "cache_write_1h_tokens"
    /// Extra record key: `batch`, `priority` or `flex` when the call was not served at standard prices.
    public static let serviceTierKey = "service_tier"

    /// The `cache_write_1h_tokens` extra key, when present and a whole number.
    public var cacheWrite1hTokens: Int64? {
        get { extra.first { $0.key == UsageRecord.cacheWrite1hKey }?.value.integerValue }
        set { setExtra(UsageRecord.cacheWrite1hKey, newValue.map { .number(String($0)) }) }
    }

    /// The `service_tier` extra key, when present and a known tier.
    public var serviceTier: ServiceTier? {
        get { extra.first { $0.key == UsageRecord.serviceTierKey }?.value.stringValue.flatMap(ServiceTier.init(name:)) }
        set { setExtra(UsageRecord.serviceTierKey, newValue.map { .string($0.rawValue) }) }
    }

    mutating func setExtra(_ key: String, _ value: JSONValue?) {
        if let index = extra.firstIndex(where: { $0.key == key }) {
            if let value { extra[index].value = value } else { extra.remove(at: index) }
        } else if let value {
            extra.append((key, value))
        }
    }
}
