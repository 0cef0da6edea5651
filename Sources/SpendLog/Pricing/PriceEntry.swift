/// How a provider was asked to serve a request; batch, priority and flex have their own prices.
public enum ServiceTier: String, CaseIterable, Sendable {
    /// The provider's default tier, and its cheaper (batch, flex) and dearer (priority) ones.
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
    /// Input tokens that are neither cache reads nor cache writes.
    public var input: TokenPrice?
    /// Output tokens (reasoning tokens too, unless ``reasoning`` prices them).
    public var output: TokenPrice?
    /// Cache reads.
    public var cacheRead: TokenPrice?
    /// Cache writes with the default (5-minute) lifetime.
    public var cacheWrite: TokenPrice?
    /// Cache writes with a 1-hour lifetime, where they cost more.
    public var cacheWrite1h: TokenPrice?
    /// Reasoning tokens, where they are priced apart from output.
    public var reasoning: TokenPrice?

    /// Components with the given prices; nil ones fall back (docs/PRICING.md).
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

    /// Whether no component has a price.
    public var isEmpty: Bool {
        input == nil && output == nil && cacheRead == nil && cacheWrite == nil && cacheWrite1h == nil
            && reasoning == nil
    }

    /// One of the six components, for code that picks one by value: a switch, not key paths,
    /// which are instantiated at run time, a cost in every CLI append.
    enum Component: CaseIterable {
        case input, output, cacheRead, cacheWrite, cacheWrite1h, reasoning

        /// The component's name in price files.
        var name: String {
            switch self {
            case .input: "input"
            case .output: "output"
            case .cacheRead: "cache_read"
            case .cacheWrite: "cache_write"
            case .cacheWrite1h: "cache_write_1h"
            case .reasoning: "reasoning"
            }
        }
    }

    /// The price of `component`.
    subscript(_ component: Component) -> TokenPrice? {
        get {
            switch component {
            case .input: input
            case .output: output
            case .cacheRead: cacheRead
            case .cacheWrite: cacheWrite
            case .cacheWrite1h: cacheWrite1h
            case .reasoning: reasoning
            }
        }
        set {
            switch component {
            case .input: input = newValue
            case .output: output = newValue
            case .cacheRead: cacheRead = newValue
            case .cacheWrite: cacheWrite = newValue
            case .cacheWrite1h: cacheWrite1h = newValue
            case .reasoning: reasoning = newValue
            }
        }
    }

    /// The component names as written in price files, in that order.
    static let names = Component.allCases.map(\.name)

    /// The component named `name` (one of ``names``) as written in price files.
    subscript(name name: String) -> TokenPrice? {
        get { self[component(named: name)] }
        set { self[component(named: name)] = newValue }
    }

    private func component(named name: String) -> Component {
        guard let component = Component.allCases.first(where: { $0.name == name }) else {
            preconditionFailure("no price component \(name)")
        }
        return component
    }
}

/// Prices that apply when a request's prompt is larger than a threshold (e.g. Gemini 2.5 Pro
/// above 200,000 input tokens): the whole request is then charged at these prices.
public struct PromptTier: Equatable, Sendable {
    /// The threshold, in input tokens.
    public var aboveInputTokens: Int64
    /// Whether a prompt of exactly `aboveInputTokens` is in this tier: xAI bills "≥ 200K" at the
    /// higher rate, Google, Anthropic, OpenAI and Alibaba only prompts above the threshold
    /// (price-file key `at_or_above_input_tokens` instead of `above_input_tokens`).
    public var inclusive: Bool
    /// The prices that apply to the whole request when it is in the tier.
    public var prices: PriceComponents

    /// A tier for prompts above `aboveInputTokens` input tokens (or at it too, when `inclusive`).
    public init(aboveInputTokens: Int64, inclusive: Bool = false, prices: PriceComponents) {
        self.aboveInputTokens = aboveInputTokens
        self.inclusive = inclusive
        self.prices = prices
    }

    /// Whether a request of `inputTokens` (cache reads and writes included) is in this tier.
    public func applies(toInputTokens inputTokens: Int64) -> Bool {
        inclusive ? inputTokens >= aboveInputTokens : inputTokens > aboveInputTokens
    }

    /// "above 200000" or "at or above 200000" input tokens.
    public var thresholdText: String { (inclusive ? "at or above " : "above ") + String(aboveInputTokens) }
}

/// The prices of one service tier: base components and prompt-size tiers.
public struct PriceSchedule: Equatable, Sendable {
    /// The components that apply below every prompt tier.
    public var base: PriceComponents
    /// Sorted by threshold, ascending.
    public var promptTiers: [PromptTier]

    /// A schedule; `promptTiers` are sorted by threshold.
    public init(base: PriceComponents = PriceComponents(), promptTiers: [PromptTier] = []) {
        self.base = base
        self.promptTiers = promptTiers.sorted { $0.aboveInputTokens < $1.aboveInputTokens }
    }

    /// The tier with the highest threshold that applies to `inputTokens`, if any.
    func tier(forInputTokens inputTokens: Int64) -> PromptTier? {
        promptTiers.last { $0.applies(toInputTokens: inputTokens) }
    }

    /// Whether the schedule has no price at all.
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
    /// Prices in force at certain hours (DeepSeek's off-peak discount), by the record's `ts`.
    public var offPeak: OffPeakPrices?
    /// Standard prices that are not on the provider's list but derived by a rule (Fireworks'
    /// default cache-read discount), by component name, with the rule and its source: the price
    /// file's `derived`. A cost that uses one says so in its notes.
    public var derived: [String: String]

    /// An entry for `model`; the other tiers, off-peak prices and derived components are optional.
    public init(
        model: String, standard: PriceSchedule, serviceTiers: [ServiceTier: PriceSchedule] = [:],
        offPeak: OffPeakPrices? = nil, derived: [String: String] = [:]
    ) {
        self.model = model
        self.standard = standard
        self.serviceTiers = serviceTiers
        self.offPeak = offPeak
        self.derived = derived
    }
}

/// Prices that replace the standard ones during some hours of some weekdays (DeepSeek's off-peak
/// discount). The hours are UTC; the weekday is read on the calendar of `weekdayZone` (UTC when
/// nil), because a provider's "weekday" is its own local one.
public struct OffPeakPrices: Equatable, Sendable {
    /// Hours of the day, as minutes after 00:00 UTC: `start..<end`, wrapping past midnight when
    /// `end <= start` (`start == end` is the whole day).
    public struct Hours: Equatable, Sendable {
        /// The first minute, after 00:00 UTC (0–1440).
        public var start: Int
        /// The minute the hours end, excluded (0–1440).
        public var end: Int

        /// The minutes `start..<end` after 00:00 UTC.
        public init(start: Int, end: Int) {
            self.start = start
            self.end = end
        }

        /// `HH:MM-HH:MM`, each 00:00–24:00.
        public static func parse(_ text: String) -> Hours? {
            let parts = text.split(separator: "-", omittingEmptySubsequences: false)
            guard parts.count == 2, let start = minutes(parts[0]), let end = minutes(parts[1]) else { return nil }
            return Hours(start: start, end: end)
        }

        static func minutes(_ text: Substring) -> Int? {
            let parts = text.trimmingSpaces.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 2, parts[0].count == 2, parts[1].count == 2, let hours = Int(parts[0]),
                let minutes = Int(parts[1]), (0...24).contains(hours), (0..<60).contains(minutes),
                hours * 60 + minutes <= 1440
            else { return nil }
            return hours * 60 + minutes
        }

        /// `HH:MM-HH:MM`, or `all day`.
        public var description: String { start == end ? "all day" : text }

        /// `HH:MM-HH:MM`, as in price files.
        public var text: String {
            func two(_ n: Int) -> String { n < 10 ? "0\(n)" : String(n) }
            return "\(two(start / 60)):\(two(start % 60))-\(two(end / 60)):\(two(end % 60))"
        }

        func contains(minute: Int) -> Bool {
            if start == end || (start == 0 && end == 1440) { return true }
            return start < end ? (start <= minute && minute < end) : (minute >= start || minute < end)
        }
    }

    /// Hours on some weekdays (ISO: 1 Monday … 7 Sunday; empty is every day).
    public struct Window: Equatable, Sendable {
        /// ISO weekdays, 1 Monday … 7 Sunday; empty is every day.
        public var weekdays: [Int]
        /// The hours of those days.
        public var hours: [Hours]

        /// `hours` on `weekdays`.
        public init(weekdays: [Int], hours: [Hours]) {
            self.weekdays = weekdays
            self.hours = hours
        }
    }

    /// The components in force during the windows; missing ones are the standard prices.
    public var prices: PriceComponents
    /// When the prices apply; an instant in any window is off-peak.
    public var windows: [Window]
    /// The IANA zone whose calendar decides the weekday (`Asia/Shanghai`), nil for UTC.
    public var weekdayZone: String?

    /// Off-peak `prices` during `windows`, weekdays read in `weekdayZone` (UTC when nil).
    public init(prices: PriceComponents, windows: [Window], weekdayZone: String? = nil) {
        self.prices = prices
        self.windows = windows
        self.weekdayZone = weekdayZone
    }

    /// Whether the instant `ts` is off-peak. An unknown zone counts as not off-peak (standard
    /// prices, never a discount that may not apply); the price file is checked when read.
    public func contains(_ ts: Timestamp) -> Bool {
        let ms = ts.millisecondsSinceEpoch
        let minute = Int((ms - ts.utcDay * Timestamp.millisecondsPerDay) / 60_000)
        var local = ms
        if let weekdayZone {
            guard let zone = try? ZoneInfo.named(weekdayZone) else { return false }
            local += zone.offset(at: ms)
        }
        let day = Timestamp(millisecondsSinceEpoch: local).utcDay
        // 1970-01-01 was a Thursday (ISO weekday 4).
        let weekday = Int(((day % 7) + 7 + 3) % 7) + 1
        return windows.contains { window in
            (window.weekdays.isEmpty || window.weekdays.contains(weekday))
                && window.hours.contains { $0.contains(minute: minute) }
        }
    }

    /// "00:00-01:00, 10:00-24:00 UTC on weekdays 1-5" style description of the windows.
    public var windowsText: String {
        windows.map { window in
            let hours = window.hours.map(\.description).joined(separator: ", ") + " UTC"
            return window.weekdays.isEmpty
                ? hours : hours + " on ISO weekdays " + window.weekdays.map(String.init).joined(separator: ",")
        }.joined(separator: "; ") + (weekdayZone.map { " (weekdays in \($0))" } ?? "")
    }
}

extension Substring {
    var trimmingSpaces: Substring {
        var s = self
        while s.first == " " { s = s.dropFirst() }
        while s.last == " " { s = s.dropLast() }
        return s
    }
}
