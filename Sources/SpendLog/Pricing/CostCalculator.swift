/// The token counts a cost is computed from, with the record's meaning: `inputTokens` includes
/// cache reads and writes, `outputTokens` includes reasoning.
public struct TokenUsage: Equatable, Sendable {
    /// Every input token, cache reads and writes included.
    public var inputTokens: Int64
    /// Every output token, reasoning included.
    public var outputTokens: Int64
    /// Input tokens read from a cache.
    public var cachedInputTokens: Int64
    /// Input tokens written to a cache (both lifetimes).
    public var cacheWriteTokens: Int64
    /// The part of `cacheWriteTokens` written with a 1-hour lifetime.
    public var cacheWrite1hTokens: Int64
    /// Output tokens spent on reasoning.
    public var reasoningTokens: Int64

    /// Usage with these counts (0 when left out); checked when a cost is computed.
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
    /// One component of a cost: its tokens, its price per token, and their exact product.
    public struct Line: Equatable, Sendable {
        /// `input` (uncached), `cache_read`, `cache_write`, `cache_write_1h`, `output` (excluding reasoning), `reasoning`.
        public var component: String
        /// The tokens charged at this line's price.
        public var tokens: Int64
        /// The price per token that applied.
        public var price: TokenPrice
        /// tokens × price, exact.
        public var yoctoDollars: Int128

        /// The exact cost of this line in USD (up to 24 fractional digits).
        public var exactUSD: String { ExactDecimal.format(yoctoDollars, fractionDigits: TokenPrice.perTokenDigits) }
    }

    /// The model the cost is for, as asked.
    public var model: String
    /// The price table's name the model was found under (after normalisation, docs/PRICING.md).
    public var matchedName: String
    /// The components with tokens, in the order of ``CostBreakdown/Line/component``'s list.
    public var lines: [Line]
    /// The exact sum of the lines, in yocto-dollars.
    public var exactYoctoDollars: Int128
    /// The sum rounded once, half up, to nano-dollars: what a record stores.
    public var total: Money
    /// The service tier whose prices were used (standard when the model has none for the one asked).
    public var serviceTier: ServiceTier
    /// The prompt-size threshold whose prices applied, if any.
    public var promptTierAbove: Int64?
    /// Whether that threshold counts a prompt of exactly its size (xAI's "≥").
    public var promptTierInclusive: Bool = false
    /// Fallbacks worth telling the user about (a service tier the model has no prices for).
    public var notes: [String]

    /// The exact sum of the lines in USD (up to 24 fractional digits), before rounding.
    public var exactUSD: String { ExactDecimal.format(exactYoctoDollars, fractionDigits: TokenPrice.perTokenDigits) }
}

/// Cost = uncached input × input + cache reads × cache read + cache writes × cache write
/// (5-minute and 1-hour apart) + (output − reasoning) × output + reasoning × reasoning, with the
/// prompt-size and service tiers applied; exact integer arithmetic, one rounding at the end.
/// The rules are in docs/PRICING.md.
public enum CostCalculator {
    /// Yocto-dollars per nano-dollar.
    static let yoctoPerNano = Int128(10).power(15)

    /// The cost of `usage` at `entry`'s prices: for `serviceTier` (standard prices when the model has
    /// none for it, with a note), the prompt tier the input reaches, and off-peak prices when `time`
    /// falls in their hours. Exact integer arithmetic, one rounding to the nano-dollar. Refuses
    /// counts that contradict each other (cache reads above input, reasoning above output).
    public static func cost(
        of usage: TokenUsage, entry: PriceEntry, model: String? = nil, serviceTier: ServiceTier = .standard,
        at time: Timestamp? = nil
    ) throws(SpendLogError) -> CostBreakdown {
        try check(usage)
        var notes: [String] = []
        var tier = serviceTier
        var special: PriceSchedule?
        if serviceTier != .standard {
            if let schedule = entry.serviceTiers[serviceTier] {
                special = schedule
            } else {
                notes.append("\(entry.model) has no \(serviceTier.rawValue) prices; standard prices were used")
                tier = .standard
            }
        }
        // Each schedule's own highest tier at the prompt size: a service tier may split at
        // another threshold than standard prices do.
        let standardAtSize = entry.standard.tier(forInputTokens: usage.inputTokens)
        let specialAtSize = special?.tier(forInputTokens: usage.inputTokens)
        let crossed = [specialAtSize, standardAtSize].compactMap { $0 }.max {
            $0.aboveInputTokens < $1.aboveInputTokens
        }
        // Off-peak prices replace standard ones (prompt tiers included) while a window is open.
        var offPeak: PriceComponents?
        if special == nil, let hours = entry.offPeak, let time, hours.contains(time) {
            offPeak = hours.prices
            notes.append("\(entry.model) is priced off-peak at this time (\(hours.windowsText))")
        }
        func standardPrice(_ component: PriceComponents.Component) -> TokenPrice? {
            offPeak?[component] ?? standardAtSize?.prices[component]
                ?? entry.standard.base[component]
        }
        var scaledAtSize: [String] = []
        var scaledByInput: [String] = []
        /// A price of the service tier (docs/PRICING.md, "Which price applies"): its own price at
        /// this prompt size; its base price, scaled like standard's at this size when the tier
        /// has no price for a crossed threshold; else nil.
        func specialPrice(_ component: PriceComponents.Component, _ name: String) -> TokenPrice? {
            guard let special else { return nil }
            if let own = specialAtSize?.prices[component] { return own }
            guard let base = special.base[component] else { return nil }
            if specialAtSize == nil, let atSize = standardAtSize?.prices[component],
                let standardBase = entry.standard.base[component], standardBase != .zero,
                let scaled = scale(atSize, by: base, over: standardBase)
            {
                scaledAtSize.append(name)
                return scaled
            }
            return base
        }
        let input = specialPrice(.input, "input") ?? standardPrice(.input) ?? .zero
        let tierOutput = specialPrice(.output, "output")
        let output = tierOutput ?? standardPrice(.output) ?? .zero
        /// A cache price: the service tier's own, else standard's (which falls back to the input
        /// price) scaled by the tier's input discount: providers discount every input token.
        func cachePrice(
            _ component: PriceComponents.Component, _ name: String, fallback: TokenPrice
        ) -> TokenPrice {
            if let own = specialPrice(component, name) { return own }
            guard let standard = standardPrice(component) else { return fallback }
            if special != nil, let tierInput = special?.base.input, let standardInput = entry.standard.base.input,
                standardInput != .zero, let scaled = scale(standard, by: tierInput, over: standardInput)
            {
                scaledByInput.append(name)
                return scaled
            }
            return standard
        }
        let cacheRead = cachePrice(.cacheRead, "cache_read", fallback: input)
        let cacheWrite = cachePrice(.cacheWrite, "cache_write", fallback: input)
        let cacheWrite1h = cachePrice(.cacheWrite1h, "cache_write_1h", fallback: cacheWrite)
        // Reasoning is output: under a service tier that prices output but not reasoning, it costs
        // the tier's output price, not standard's reasoning price (docs/PRICING.md).
        let reasoning = specialPrice(.reasoning, "reasoning") ?? tierOutput ?? standardPrice(.reasoning) ?? output
        let threshold = crossed?.aboveInputTokens

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
        // Rules are named only for the components this call has tokens of.
        let billed = Set(lines.filter { $0.tokens > 0 }.map(\.component))
        scaledAtSize = scaledAtSize.filter(billed.contains).sorted()
        scaledByInput = scaledByInput.filter(billed.contains)
        if special != nil, let crossed, !scaledAtSize.isEmpty {
            let names = scaledAtSize
            notes.append(
                "\(entry.model) has no \(tier.rawValue) price for a prompt \(crossed.thresholdText) input tokens "
                    + "for \(names.joined(separator: ", ")): the standard price there × the \(tier.rawValue) "
                    + "discount (\(tier.rawValue) ÷ standard base price)")
        }
        if !scaledByInput.isEmpty, let tierInput = special?.base.input, let standardInput = entry.standard.base.input {
            notes.append(
                "\(entry.model) has no \(tier.rawValue) price for \(scaledByInput.joined(separator: ", ")): the "
                    + "standard price × the \(tier.rawValue) input discount (\(tierInput.perMillionTokensText) ÷ "
                    + "\(standardInput.perMillionTokensText))")
        }
        for (component, rule) in entry.derived.sorted(by: { $0.key < $1.key }) {
            if billed.contains(component) { notes.append("\(entry.model) \(component): \(rule)") }
        }
        let nanos = (sum + yoctoPerNano / 2) / yoctoPerNano
        guard nanos <= Int128(Money.maximumPerRecord.nanos) else { throw tooLarge(model ?? entry.model) }
        return CostBreakdown(
            model: model ?? entry.model, matchedName: entry.model, lines: lines, exactYoctoDollars: sum,
            total: Money(nanos: Int64(nanos)), serviceTier: tier, promptTierAbove: threshold,
            promptTierInclusive: crossed?.inclusive ?? false, notes: notes)
    }

    /// `price × numerator ÷ denominator`, rounded half up to a yocto-dollar per token (exact
    /// when, as with the providers' 50% discounts, the division leaves no remainder); nil on
    /// overflow.
    static func scale(_ price: TokenPrice, by numerator: TokenPrice, over denominator: TokenPrice) -> TokenPrice? {
        var n = numerator.yoctoDollarsPerToken
        var d = denominator.yoctoDollarsPerToken
        guard d > 0 else { return nil }
        var a = n
        var b = d
        while b != 0 { (a, b) = (b, a % b) }
        if a > 1 {
            n /= a
            d /= a
        }
        let (product, overflow) = price.yoctoDollarsPerToken.multipliedReportingOverflow(by: n)
        guard !overflow else { return nil }
        return TokenPrice(yoctoDollarsPerToken: (product + d / 2) / d)
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
