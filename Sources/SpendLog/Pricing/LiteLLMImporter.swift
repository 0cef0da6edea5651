/// Reads LiteLLM's `model_prices_and_context_window.json` into a ``PriceTable``.
///
/// Prices there are USD per token written as JSON numbers (`3e-06`); they are taken from their
/// exact text, never through `Double`. Which keys map to which price is documented in
/// docs/PRICING.md, "Importing LiteLLM's table".
public enum LiteLLMImporter {
    /// Modes whose entries are priced per text token like a chat call.
    public static let importedModes: Set<String> = ["chat", "completion", "responses"]

    public struct Result: Sendable {
        public var table: PriceTable
        /// Chat entries left out, with the reason (e.g. no per-token prices).
        public var skipped: [(model: String, reason: String)]
        /// Rows of other modes (embedding, image, audio, …): spendlog prices text tokens only.
        public var otherModes: [(model: String, mode: String)] = []
        /// Every row of the table (`sample_spec` aside): imported + skipped + other modes.
        public var rows = 0
    }

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
        return Result(table: table, skipped: skipped, otherModes: otherModes, rows: rows)
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
        guard let standard = schedules[.standard], standard.base.input != nil, standard.base.output != nil else {
            return nil
        }
        var entry = PriceEntry(model: name, standard: standard)
        for tier in [ServiceTier.batch, .priority, .flex] {
            if let schedule = schedules[tier], !schedule.isEmpty { entry.serviceTiers[tier] = schedule }
        }
        return entry
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
