/// A set of model prices: the built-in table, a user's file, or both overlaid.
///
/// The file format (`spendlog-prices 1`) is documented in docs/PRICING.md, "Price files": prices
/// are JSON numbers in USD per million tokens, read from their exact decimal text.
public struct PriceTable: Equatable, Sendable {
    /// The `format` of a price file this version reads and writes.
    public static let formatName = "spendlog-prices 1"

    /// The day the prices were taken from their source, `YYYY-MM-DD`.
    public var asOf: String?
    /// Where the prices come from, for people (a provider's page, LiteLLM's table).
    public var source: String?
    /// The entries, by their exact model name.
    public private(set) var entries: [String: PriceEntry]

    /// Prices change: a table older than this many days is worth a warning.
    public static let staleAfterDays: Int64 = 90

    /// "<what> is as of <date>, N days before <now>: …" when the table's `as_of` is more than
    /// ``staleAfterDays`` days before `now`; nil when it is recent or has no date.
    public func ageWarning(now: Timestamp, what: String) -> String? {
        guard let asOf, let date = Timestamp.parseDateOrTime(asOf) else { return nil }
        let days = (now.millisecondsSinceEpoch - date.millisecondsSinceEpoch) / Timestamp.millisecondsPerDay
        guard days > PriceTable.staleAfterDays else { return nil }
        return "\(what) is as of \(asOf), \(days) days before \(now.dayString): providers change prices, and new "
            + "models are missing from it. Import a current copy of LiteLLM's table, or update your price file."
    }

    /// A table of `entries`; a later entry for the same model replaces an earlier one.
    public init(asOf: String? = nil, source: String? = nil, entries: [PriceEntry] = []) {
        self.asOf = asOf
        self.source = source
        self.entries = [:]
        for entry in entries { self.entries[entry.model] = entry }
    }

    /// Adds `entry`, replacing any entry for the same model.
    public mutating func insert(_ entry: PriceEntry) { entries[entry.model] = entry }

    /// The number of models.
    public var count: Int { entries.count }

    /// Model names in byte order.
    public var modelNames: [String] { entries.keys.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) } }

    /// A found price: the entry and the name it was found under.
    public struct Match: Equatable, Sendable {
        /// The entry found.
        public var entry: PriceEntry
        /// `exact`, or the normalisation that found it (`normalized`).
        public var exact: Bool
    }

    /// Finds a model by its exact name, then by the normalised names of ``ModelNameNormalizer``;
    /// never by prefix.
    public func lookup(_ model: String) -> Match? {
        for (index, candidate) in ModelNameNormalizer.candidates(for: model).enumerated() {
            if let entry = entries[candidate] { return Match(entry: entry, exact: index == 0) }
        }
        return nil
    }

    /// This table with `overrides`' entries in place of (or beside) its own: a user's file over
    /// the built-in table. An entry replaces the one of the same exact name as a whole.
    public func overlaid(by overrides: PriceTable) -> PriceTable {
        var result = self
        for (name, entry) in overrides.entries { result.entries[name] = entry }
        result.asOf = overrides.asOf ?? asOf
        let sources = [overrides.source, source].compactMap { $0 }
        result.source = sources.isEmpty ? nil : sources.joined(separator: " over ")
        return result
    }
}

// MARK: - The price-file format

extension PriceTable {
    /// Reads a `spendlog-prices 1` file's bytes; `path` names the file in errors.
    public static func decode(_ bytes: [UInt8], path: String) throws(SpendLogError) -> PriceTable {
        let document: JSONValue
        do { document = try JSONValue.parse(bytes) } catch {
            throw .invalid(
                "'\(path)' is not valid JSON at byte \(error.offset): \(error.reason). Fix the file, or write it again with `spendlog prices import`.",
                path: path)
        }
        func fail(_ field: String, _ reason: String) -> SpendLogError {
            .invalid("'\(path)': \(field) \(reason). See docs/PRICING.md, \"Price files\".", path: path)
        }
        guard document.objectMembers != nil else { throw fail("the document", "must be a JSON object") }
        guard document["format"]?.stringValue == formatName else {
            throw fail(
                "\"format\"", "must be \"\(formatName)\" (a LiteLLM table is read with `spendlog prices import`)")
        }
        var table = PriceTable(asOf: document["as_of"]?.stringValue, source: document["source"]?.stringValue)
        guard let models = document["models"]?.objectMembers else {
            throw fail("\"models\"", "must be an object of model name → prices")
        }
        for (name, value) in models {
            let field = "models.\(name)"
            do { try UsageRecord.validateName(name, field: field) } catch {
                throw fail("the model name \(Quoted(name))", error.reason)
            }
            guard value.objectMembers != nil else { throw fail(field, "must be an object") }
            let standard = try decodeSchedule(value, field: field, fail: fail)
            guard standard.base.input != nil, standard.base.output != nil else {
                throw fail(field, "needs both \"input\" and \"output\" prices")
            }
            var entry = PriceEntry(model: name, standard: standard)
            if let derived = value["derived"], derived != .null {
                guard let members = derived.objectMembers else {
                    throw fail("\(field).derived", "must be an object of component → the rule that derived its price")
                }
                let components = Set(PriceComponents.names)
                for member in members {
                    guard components.contains(member.key), let text = member.value.stringValue else {
                        throw fail(
                            "\(field).derived.\(member.key)",
                            "must be a price component (\(components.sorted().joined(separator: ", "))) → a string")
                    }
                    entry.derived[member.key] = text
                }
            }
            if let offPeak = value["off_peak"], offPeak != .null {
                entry.offPeak = try decodeOffPeak(offPeak, field: "\(field).off_peak", fail: fail)
            }
            for tier in [ServiceTier.batch, .priority, .flex] {
                if let nested = value[tier.rawValue] {
                    guard nested.objectMembers != nil else {
                        throw fail("\(field).\(tier.rawValue)", "must be an object")
                    }
                    entry.serviceTiers[tier] = try decodeSchedule(
                        nested, field: "\(field).\(tier.rawValue)", isServiceTier: true, fail: fail)
                }
            }
            table.insert(entry)
        }
        return table
    }

    static func decodeComponents(
        _ value: JSONValue, field: String, fail: (String, String) -> SpendLogError
    ) throws(SpendLogError) -> PriceComponents {
        var components = PriceComponents()
        for name in PriceComponents.names {
            guard let member = value[name], member != .null else { continue }
            guard let text = member.numberText else {
                throw fail("\(field).\(name)", "must be a JSON number (USD per million tokens)")
            }
            do throws(PriceParseError) { components[name: name] = try TokenPrice.parse(perMillionTokens: text) } catch {
                throw fail("\(field).\(name)", "'\(text)' \(error.description)")
            }
        }
        return components
    }

    /// Fails on a key outside `known`: a misspelt price must never be silently unpriced.
    static func checkKeys(
        _ value: JSONValue, known: Set<String>, field: String, fail: (String, String) -> SpendLogError
    ) throws(SpendLogError) {
        for member in value.objectMembers ?? [] where !known.contains(member.key) {
            throw fail(
                "\(field).\(member.key)",
                "is not a key this format knows here (\(known.sorted().joined(separator: ", ")))"
            )
        }
    }

    /// A model's prices (`isServiceTier` false) or one of its service tiers' (no nested tiers).
    static func decodeSchedule(
        _ value: JSONValue, field: String, isServiceTier: Bool = false, fail: (String, String) -> SpendLogError
    ) throws(SpendLogError) -> PriceSchedule {
        let prices = PriceComponents.names
        let tiers = isServiceTier ? [] : ServiceTier.allCases.filter { $0 != .standard }.map(\.rawValue)
        let entryKeys = isServiceTier ? ["note"] : ["note", "off_peak", "derived"]
        try checkKeys(value, known: Set(prices + tiers + entryKeys + ["prompt_tiers"]), field: field, fail: fail)
        var schedule = PriceSchedule(base: try decodeComponents(value, field: field, fail: fail))
        if let tiers = value["prompt_tiers"] {
            guard let items = tiers.arrayValue else { throw fail("\(field).prompt_tiers", "must be an array") }
            var result: [PromptTier] = []
            for (index, item) in items.enumerated() {
                let tierField = "\(field).prompt_tiers[\(index)]"
                guard item.objectMembers != nil else { throw fail(tierField, "must be an object") }
                try checkKeys(
                    item, known: Set(prices + ["above_input_tokens", "at_or_above_input_tokens", "note"]),
                    field: tierField, fail: fail)
                let inclusive = item["at_or_above_input_tokens"] != nil
                if inclusive && item["above_input_tokens"] != nil {
                    throw fail(
                        tierField, "has both above_input_tokens and at_or_above_input_tokens; a threshold is one or the other")
                }
                let key = inclusive ? "at_or_above_input_tokens" : "above_input_tokens"
                guard let above = item[key]?.integerValue, above >= 0 else {
                    throw fail("\(tierField).\(key)", "must be a whole number of tokens")
                }
                result.append(
                    PromptTier(
                        aboveInputTokens: above, inclusive: inclusive,
                        prices: try decodeComponents(item, field: tierField, fail: fail)))
            }
            schedule = PriceSchedule(base: schedule.base, promptTiers: result)
        }
        return schedule
    }

    /// An `off_peak` object: prices, `windows` of `hours_utc` (`"HH:MM-HH:MM"` or a list of them)
    /// and ISO `weekdays`, and an optional `weekday_zone`.
    static func decodeOffPeak(
        _ value: JSONValue, field: String, fail: (String, String) -> SpendLogError
    ) throws(SpendLogError) -> OffPeakPrices {
        guard value.objectMembers != nil else { throw fail(field, "must be an object") }
        let prices = PriceComponents.names
        try checkKeys(value, known: Set(prices + ["windows", "weekday_zone", "note"]), field: field, fail: fail)
        let components = try decodeComponents(value, field: field, fail: fail)
        guard !components.isEmpty else { throw fail(field, "names no price") }
        var zone: String?
        if let member = value["weekday_zone"], member != .null {
            guard let name = member.stringValue, ZoneInfo.isValidName(name) else {
                throw fail("\(field).weekday_zone", "must be an IANA time zone name such as \"Asia/Shanghai\"")
            }
            do { _ = try ZoneInfo.named(name) } catch {
                throw fail("\(field).weekday_zone", "names '\(name)', which this system's time zone data does not know")
            }
            zone = name
        }
        guard let items = value["windows"]?.arrayValue, !items.isEmpty else {
            throw fail("\(field).windows", "must be a non-empty array of {\"hours_utc\", \"weekdays\"}")
        }
        var windows: [OffPeakPrices.Window] = []
        for (index, item) in items.enumerated() {
            let place = "\(field).windows[\(index)]"
            guard item.objectMembers != nil else { throw fail(place, "must be an object") }
            try checkKeys(item, known: ["hours_utc", "weekdays"], field: place, fail: fail)
            let texts: [JSONValue]
            switch item["hours_utc"] {
            case .string?: texts = [item["hours_utc"]!]
            case .array(let list)?: texts = list
            default: throw fail("\(place).hours_utc", "must be \"HH:MM-HH:MM\" or a list of them")
            }
            var hours: [OffPeakPrices.Hours] = []
            for text in texts {
                guard let string = text.stringValue, let parsed = OffPeakPrices.Hours.parse(string) else {
                    throw fail(
                        "\(place).hours_utc", "has '\(text.jsonText.prefix(40))', which is not \"HH:MM-HH:MM\" (UTC)")
                }
                hours.append(parsed)
            }
            var weekdays: [Int] = []
            if let days = item["weekdays"], days != .null {
                guard let list = days.arrayValue else { throw fail("\(place).weekdays", "must be a list of 1–7") }
                for day in list {
                    guard let n = day.integerValue, (1...7).contains(n) else {
                        throw fail("\(place).weekdays", "must hold ISO weekdays, 1 (Monday) to 7 (Sunday)")
                    }
                    weekdays.append(Int(n))
                }
            }
            windows.append(OffPeakPrices.Window(weekdays: weekdays, hours: hours))
        }
        return OffPeakPrices(prices: components, windows: windows, weekdayZone: zone)
    }

    /// The `spendlog-prices 1` JSON text of this table, models in byte order, one per line group.
    public func encoded() -> String {
        var members: [(key: String, value: JSONValue)] = [("format", .string(PriceTable.formatName))]
        if let asOf { members.append(("as_of", .string(asOf))) }
        if let source { members.append(("source", .string(source))) }
        members.append(("unit", .string("USD per 1M tokens")))
        var models: [(key: String, value: JSONValue)] = []
        for name in modelNames { models.append((name, PriceTable.encode(entries[name]!))) }
        members.append(("models", .object(models)))
        return JSONValue.object(members).prettyText() + "\n"
    }

    /// One entry as JSON (also what `spendlog cost --format json` shows as the matched entry).
    public static func encode(_ entry: PriceEntry) -> JSONValue {
        var members = encode(entry.standard)
        for tier in [ServiceTier.batch, .priority, .flex] {
            if let schedule = entry.serviceTiers[tier] { members.append((tier.rawValue, .object(encode(schedule)))) }
        }
        if let offPeak = entry.offPeak {
            var block = encode(offPeak.prices)
            if let zone = offPeak.weekdayZone { block.append(("weekday_zone", .string(zone))) }
            block.append(
                (
                    "windows",
                    .array(
                        offPeak.windows.map { window in
                            var item: [(key: String, value: JSONValue)] = [
                                ("hours_utc", .array(window.hours.map { .string($0.text) }))
                            ]
                            if !window.weekdays.isEmpty {
                                item.append(("weekdays", .array(window.weekdays.map { .number(String($0)) })))
                            }
                            return .object(item)
                        })
                ))
            members.append(("off_peak", .object(block)))
        }
        if !entry.derived.isEmpty {
            members.append(
                ("derived", .object(entry.derived.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })))
        }
        return .object(members)
    }

    static func encode(_ components: PriceComponents) -> [(key: String, value: JSONValue)] {
        PriceComponents.names.compactMap { name -> (key: String, value: JSONValue)? in
            guard let price = components[name: name] else { return nil }
            return (name, .number(price.perMillionTokensText))
        }
    }

    static func encode(_ schedule: PriceSchedule) -> [(key: String, value: JSONValue)] {
        var members = encode(schedule.base)
        if !schedule.promptTiers.isEmpty {
            members.append(
                (
                    "prompt_tiers",
                    .array(
                        schedule.promptTiers.map { tier in
                            .object(
                                [
                                    (
                                        tier.inclusive ? "at_or_above_input_tokens" : "above_input_tokens",
                                        .number(String(tier.aboveInputTokens))
                                    )
                                ] + encode(tier.prices))
                        })
                ))
        }
        return members
    }
}
