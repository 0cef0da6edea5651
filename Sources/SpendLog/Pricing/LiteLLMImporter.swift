/// Reads LiteLLM's `model_prices_and_context_window.json` into a ``PriceTable``.
///
/// Prices there are USD per token written as JSON numbers (`3e-06`); they are taken from their
/// exact text, never through `Double`. Which keys map to which price is documented in
/// docs/PRICING.md, "Importing LiteLLM's table".
public enum LiteLLMImporter {
    /// Modes whose entries are priced per text token like a chat call.
    public static let importedModes: Set<String> = ["chat", "completion", "responses"]

    /// What an import read: the table, and what it left out.
    public struct Result: Sendable {
        /// The imported entries.
        public var table: PriceTable
        /// Chat entries left out, with the reason (e.g. no per-token prices).
        public var skipped: [(model: String, reason: String)]
        /// Rows of other modes (embedding, image, audio, …): spendlog prices text tokens only.
        public var otherModes: [(model: String, mode: String)] = []
        /// Every row of the table (`sample_spec` aside): imported + skipped + other modes.
        public var rows = 0
        /// Imported entries priced by a rule of their provider rather than a listed price, by rule:
        /// "tiered", "off_peak", "inclusive_threshold", "fireworks_cache_read" → count.
        public var rules: [String: Int] = [:]
    }

    /// Providers that bill a prompt of exactly the threshold at the higher tier ("≥ 200K").
    static let inclusiveThresholdProviders: Set<String> = ["xai"]
    /// Fireworks prices cached input at half the input price unless a model lists its own.
    static let fireworksCacheReadRule =
        "not listed; Fireworks' default for cached input, 50% of the input price "
        + "(fireworks.ai/docs/guides/prompt-caching)"

    /// LiteLLM's base key → the component it prices.
    static var baseKeys: [(key: String, keyPath: WritableKeyPath<PriceComponents, TokenPrice?>)] {
        [
            ("input_cost_per_token", \.input),
            ("output_cost_per_token", \.output),
            ("cache_read_input_token_cost", \.cacheRead),
            ("cache_creation_input_token_cost_above_1hr", \.cacheWrite1h),
            ("cache_creation_input_token_cost", \.cacheWrite),
            ("output_cost_per_reasoning_token", \.reasoning),
        ]
    }
    static let serviceSuffixes: [(suffix: String, tier: ServiceTier)] = [
        ("_batches", .batch), ("_priority", .priority), ("_flex", .flex),
    ]

    /// Reads LiteLLM's table from `bytes` (named `path` in errors); `asOf` dates the result. Throws
    /// when the bytes are not that table; entries that cannot be priced are skipped with a reason.
    public static func importTable(_ bytes: [UInt8], path: String, asOf: String? = nil) throws(SpendLogError) -> Result
    {
        let document: JSONValue
        do { document = try JSONValue.parse(bytes) } catch {
            throw .invalid("'\(path)' is not valid JSON at byte \(error.offset): \(error.reason).", path: path)
        }
        guard let models = document.objectMembers else {
            throw .invalid(
                "'\(path)' is not a LiteLLM price table: the document must be an object of model name → entry.",
                path: path)
        }
        var table = PriceTable(asOf: asOf, source: "LiteLLM model_prices_and_context_window.json")
        var skipped: [(model: String, reason: String)] = []
        var otherModes: [(model: String, mode: String)] = []
        var aliases: [(name: String, target: String)] = []
        var rows = 0
        var rules: [String: Int] = [:]
        for (name, value) in models where name != "sample_spec" {
            rows += 1
            // A row that only points at another (`alias_of`) takes that row's prices, below.
            if let target = value["alias_of"]?.stringValue, value["input_cost_per_token"] == nil {
                aliases.append((name, target))
                continue
            }
            guard let mode = value["mode"]?.stringValue, importedModes.contains(mode) else {
                otherModes.append((name, value["mode"]?.stringValue ?? "none"))
                continue
            }
            do {
                if let entry = try entry(name: name, value) {
                    table.insert(entry)
                    for rule in appliedRules(entry, value) { rules[rule, default: 0] += 1 }
                } else {
                    skipped.append((name, "no input_cost_per_token and output_cost_per_token"))
                }
            } catch {
                skipped.append((name, error.reason))
            }
        }
        // Aliases of aliases resolve in as many passes as the chain is long.
        var pending = aliases
        while true {
            let before = pending.count
            pending = pending.filter { alias in
                guard var entry = table.entries[alias.target] else { return true }
                do throws(RecordValidationError) { try UsageRecord.validateName(alias.name, field: "model") } catch {
                    skipped.append((alias.name, "model name \(error.reason)"))
                    return false
                }
                entry.model = alias.name
                table.insert(entry)
                return false
            }
            if pending.count == before { break }
        }
        for alias in pending {
            skipped.append((alias.name, "alias of '\(alias.target)', which is not an imported chat model"))
        }
        if table.count == 0 {
            throw .invalid(
                "'\(path)' holds no chat model with per-token prices; is it LiteLLM's model_prices_and_context_window.json?",
                path: path)
        }
        return Result(table: table, skipped: skipped, otherModes: otherModes, rows: rows, rules: rules)
    }

    struct EntryError: Error { var reason: String }

    /// One LiteLLM entry, or nil when it has no per-token input and output price.
    static func entry(name: String, _ value: JSONValue) throws(EntryError) -> PriceEntry? {
        do { try UsageRecord.validateName(name, field: "model") } catch {
            throw EntryError(reason: "model name \(error.reason)")
        }
        var schedules: [ServiceTier: PriceSchedule] = [:]
        var tiers: [ServiceTier: [Int64: PriceComponents]] = [:]
        for (key, member) in value.objectMembers ?? [] {
            guard let text = member.numberText else { continue }
            var rest = Substring(key)
            var service = ServiceTier.standard
            for (suffix, tier) in serviceSuffixes where rest.hasSuffix(suffix) {
                rest = rest.dropLast(suffix.count)
                service = tier
            }
            var threshold: Int64?
            if let range = rest.lastRange(of: "_above_"), rest.hasSuffix("k_tokens") {
                let number = rest[range.upperBound...].dropLast("k_tokens".count)
                if let thousands = Int64(number) {
                    threshold = thousands * 1000
                    rest = rest[..<range.lowerBound]
                }
            }
            guard let keyPath = baseKeys.first(where: { $0.key == rest })?.keyPath else { continue }
            let price: TokenPrice
            do { price = try TokenPrice.parse(perToken: text) } catch {
                throw EntryError(reason: "\(key): '\(text)' \(error.description)")
            }
            if let threshold {
                tiers[service, default: [:]][threshold, default: PriceComponents()][keyPath: keyPath] = price
            } else {
                schedules[service, default: PriceSchedule()].base[keyPath: keyPath] = price
            }
        }
        for (service, byThreshold) in tiers {
            var schedule = schedules[service] ?? PriceSchedule()
            schedule = PriceSchedule(
                base: schedule.base,
                promptTiers: byThreshold.map { PromptTier(aboveInputTokens: $0.key, prices: $0.value) })
            schedules[service] = schedule
        }
        if let list = value["tiered_pricing"] {
            schedules[.standard] = try tieredSchedule(list, over: schedules[.standard] ?? PriceSchedule())
        }
        guard var standard = schedules[.standard], var input = standard.base.input, standard.base.output != nil else {
            return nil
        }
        let provider = value["litellm_provider"]?.stringValue
        var derived: [String: String] = [:]
        if provider == "fireworks_ai", standard.base.cacheRead == nil {
            input.yoctoDollarsPerToken = (input.yoctoDollarsPerToken + 1) / 2
            standard.base.cacheRead = input
            derived["cache_read"] = fireworksCacheReadRule
        }
        var entry = PriceEntry(model: name, standard: standard, derived: derived)
        for tier in [ServiceTier.batch, .priority, .flex] {
            if let schedule = schedules[tier], !schedule.isEmpty { entry.serviceTiers[tier] = schedule }
        }
        if let provider, inclusiveThresholdProviders.contains(provider) {
            func inclusive(_ schedule: PriceSchedule) -> PriceSchedule {
                PriceSchedule(
                    base: schedule.base,
                    promptTiers: schedule.promptTiers.map {
                        PromptTier(aboveInputTokens: $0.aboveInputTokens, inclusive: true, prices: $0.prices)
                    })
            }
            entry.standard = inclusive(entry.standard)
            for (tier, schedule) in entry.serviceTiers { entry.serviceTiers[tier] = inclusive(schedule) }
        }
        if let block = value["off_peak_pricing"], block != .null {
            entry.offPeak = try offPeak(block)
        }
        return entry
    }

    /// Which provider rules an imported entry follows, for the import's summary.
    static func appliedRules(_ entry: PriceEntry, _ value: JSONValue) -> [String] {
        var rules: [String] = []
        if value["tiered_pricing"] != nil { rules.append("tiered") }
        if entry.offPeak != nil { rules.append("off_peak") }
        if entry.standard.promptTiers.contains(where: \.inclusive) { rules.append("inclusive_threshold") }
        if entry.derived["cache_read"] != nil { rules.append("fireworks_cache_read") }
        return rules
    }

    /// The base keys of a nested object (a tier, an off-peak block) as components.
    static func components(_ object: JSONValue, place: String) throws(EntryError) -> PriceComponents {
        var prices = PriceComponents()
        for (key, member) in object.objectMembers ?? [] {
            guard let keyPath = baseKeys.first(where: { $0.key == key })?.keyPath, let number = member.numberText
            else { continue }
            do { prices[keyPath: keyPath] = try TokenPrice.parse(perToken: number) } catch {
                throw EntryError(reason: "\(place).\(key): '\(number)' \(error.description)")
            }
        }
        return prices
    }

    /// A `tiered_pricing` list (Alibaba's and Volcengine's prompt-size tiers): each tier prices a
    /// whole request whose input is in `range_start < input <= range_end` (Alibaba writes
    /// "0 < Token ≤ 32K"), so each tier after the first is a prompt tier above its range's start;
    /// above the last range the last tier holds. The tier from 0 fills what `flat` lacks.
    static func tieredSchedule(_ list: JSONValue, over flat: PriceSchedule) throws(EntryError) -> PriceSchedule {
        guard let items = list.arrayValue, !items.isEmpty else {
            throw EntryError(reason: "tiered_pricing: must be a non-empty list of tiers")
        }
        var tiers: [(start: Int64, prices: PriceComponents)] = []
        for (index, item) in items.enumerated() {
            guard let range = item["range"]?.arrayValue, range.count == 2, let text = range[0].numberText,
                let start = try? ExactDecimal.parse(text, fractionDigits: 0, limit: Int128(Int64.max)), start >= 0
            else {
                throw EntryError(reason: "tiered_pricing[\(index)].range: must be [start, end] in tokens")
            }
            tiers.append((Int64(start), try components(item, place: "tiered_pricing[\(index)]")))
        }
        tiers.sort { $0.start < $1.start }
        var base = flat.base
        for name in PriceComponents.names where base[name: name] == nil {
            base[name: name] = tiers[0].prices[name: name]
        }
        let above = tiers.dropFirst().map { PromptTier(aboveInputTokens: $0.start, prices: $0.prices) }
        return PriceSchedule(base: base, promptTiers: flat.promptTiers + above)
    }

    /// An `off_peak_pricing` block: prices, `windows` of `hours_utc` and `weekdays`, a flat
    /// `hours_utc` for every day, and `weekday_timezone`.
    static func offPeak(_ block: JSONValue) throws(EntryError) -> OffPeakPrices {
        let prices = try components(block, place: "off_peak_pricing")
        func hours(_ value: JSONValue?, _ place: String) throws(EntryError) -> [OffPeakPrices.Hours] {
            let texts: [JSONValue]
            switch value {
            case .string?: texts = [value!]
            case .array(let list)?: texts = list
            default: throw EntryError(reason: "\(place): must be \"HH:MM-HH:MM\" or a list of them")
            }
            var result: [OffPeakPrices.Hours] = []
            for text in texts {
                guard let string = text.stringValue, let parsed = OffPeakPrices.Hours.parse(string) else {
                    throw EntryError(reason: "\(place): '\(text.jsonText.prefix(40))' is not HH:MM-HH:MM")
                }
                result.append(parsed)
            }
            return result
        }
        var windows: [OffPeakPrices.Window] = []
        if let flat = block["hours_utc"], flat != .null {
            windows.append(.init(weekdays: [], hours: try hours(flat, "off_peak_pricing.hours_utc")))
        }
        for (index, item) in (block["windows"]?.arrayValue ?? []).enumerated() {
            let place = "off_peak_pricing.windows[\(index)]"
            var days: [Int] = []
            for day in item["weekdays"]?.arrayValue ?? [] {
                guard let n = day.integerValue, (1...7).contains(n) else {
                    throw EntryError(reason: "\(place).weekdays: must hold ISO weekdays 1–7")
                }
                days.append(Int(n))
            }
            windows.append(.init(weekdays: days, hours: try hours(item["hours_utc"], "\(place).hours_utc")))
        }
        guard !prices.isEmpty, !windows.isEmpty else {
            throw EntryError(reason: "off_peak_pricing: needs prices and at least one window")
        }
        var zone: String?
        if let name = block["weekday_timezone"]?.stringValue {
            guard ZoneInfo.isValidName(name), (try? ZoneInfo.named(name)) != nil else {
                throw EntryError(reason: "off_peak_pricing.weekday_timezone: '\(name)' is not a known time zone")
            }
            zone = name
        }
        return OffPeakPrices(prices: prices, windows: windows, weekdayZone: zone)
    }
}

extension StringProtocol {
    /// The last occurrence of `needle` (Foundation-free).
    func lastRange(of needle: String) -> Range<Index>? {
        var index = endIndex
        let count = needle.count
        while index > startIndex {
            index = self.index(before: index)
            guard let end = self.index(index, offsetBy: count, limitedBy: endIndex) else { continue }
            if self[index..<end] == Substring(needle) { return index..<end }
        }
        return nil
    }
}
