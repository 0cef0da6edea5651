import ArgumentParser
import SpendLog

/// `--prices FILE`: the user's price file, over the built-in table.
struct PriceFileOption: ParsableArguments {
    @Option(
        name: .customLong("prices"),
        help:
            "Price file (default: $SPENDLOG_PRICES, else $XDG_CONFIG_HOME/spendlog/prices.json, else ~/.config/spendlog/prices.json)."
    )
    var prices: String?

    func location() throws -> PriceFile {
        try PriceFile.locate(explicit: prices, environment: ProcessEnvironment.all)
    }

    /// The built-in table with the user's file over it.
    func table() throws -> PriceTable { try PriceFileOption.table(explicit: prices) }

    /// The built-in table with the file at `explicit` (else the default price file) over it.
    static func table(explicit: String?) throws -> PriceTable {
        try PriceFile.locate(explicit: explicit, environment: ProcessEnvironment.all).effectiveTable()
    }

    /// ``table(explicit:)`` for pricing `models` only: the built-in lines of other models are not
    /// decoded (one `append` prices one model).
    static func table(explicit: String?, forModels models: [String]) throws -> PriceTable {
        try PriceFile.locate(explicit: explicit, environment: ProcessEnvironment.all).effectiveTable(forModels: models)
    }
}

/// `--require-price` (or `SPENDLOG_REQUIRE_PRICE=1`): a call whose model no price table knows is
/// refused (exit 65, nothing written) instead of recorded as unpriced, so that a script that
/// checks only the exit code notices.
struct RequirePriceOption: ParsableArguments {
    @Flag(
        name: .customLong("require-price"),
        help:
            "Refuse a call without --cost whose model no price table knows (exit 65, nothing written) instead of recording it unpriced. Also $SPENDLOG_REQUIRE_PRICE=1."
    )
    var flag = false

    var required: Bool { RequirePriceOption.isRequired(flag: flag) }

    /// Whether a price is required: the flag, or `SPENDLOG_REQUIRE_PRICE` set to 1, true or yes.
    static func isRequired(flag: Bool) -> Bool {
        if flag { return true }
        let value = ProcessEnvironment.all["SPENDLOG_REQUIRE_PRICE"]?.lowercased() ?? ""
        return ["1", "true", "yes"].contains(value)
    }

    /// Exits 65 naming the model when a price is required and there is none.
    func refuse(model: String) throws -> Never { try RequirePriceOption.refuse(model: model) }

    static func refuse(model: String) throws -> Never {
        printError("Error: --model: " + RecordPricer.missingPrice(model: model) + ".")
        throw ExitCode(ExitCodes.dataError)
    }
}

/// What prices a call besides its token counts: service tier and 1-hour cache writes.
struct ServiceOptions: ParsableArguments {
    @Option(
        name: .customLong("service-tier"),
        help: "batch, priority or flex when the call was not served at standard prices.")
    var serviceTier: String?
    @Option(
        name: .customLong("cache-write-1h-tokens"), parsing: .unconditional,
        help: "Cache writes with a 1-hour lifetime (part of --cache-write-tokens).")
    var cacheWrite1hTokens: String?

    func tier() throws -> ServiceTier? { try ServiceOptions.tier(serviceTier) }

    static func tier(_ serviceTier: String?) throws -> ServiceTier? {
        guard let serviceTier else { return nil }
        guard let tier = ServiceTier(name: serviceTier) else {
            throw ValidationError("--service-tier: must be standard, batch, priority or flex (got '\(serviceTier)').")
        }
        return tier
    }

    func writes1h() throws -> Int64? {
        try cacheWrite1hTokens.map { try parseCount($0, option: "--cache-write-1h-tokens") }
    }
}

/// `--from-response FORMAT [FILE|-]`: read usage, model and request id from a provider's response.
struct ResponseOptions: ParsableArguments {
    @Option(
        name: .customLong("from-response"),
        help:
            "Read usage from a provider response body: openai, anthropic, gemini, bedrock or auto. Flags given explicitly override what the response says."
    )
    var fromResponse: String?
    @Argument(help: "With --from-response: the response body file, or - for standard input (default).")
    var responseFile: String?

    func validate() throws {
        if fromResponse == nil, responseFile != nil {
            throw ValidationError("A FILE argument is only read with --from-response FORMAT.")
        }
        _ = try format()
    }

    func format() throws -> ResponseFormat? {
        guard let fromResponse else { return nil }
        guard let format = ResponseFormat(rawValue: fromResponse) else {
            throw ValidationError(
                "--from-response: must be openai, anthropic, gemini, bedrock or auto (got '\(fromResponse)').")
        }
        return format
    }

    /// The usage in the response, or nil without --from-response.
    func capture() throws -> CapturedUsage? {
        guard let format = try format() else { return nil }
        let file = responseFile ?? "-"
        let body = try readInputBytes(file)
        do {
            return try UsageCapture.capture(body, format: format)
        } catch {
            let source = file == "-" ? "standard input" : "'\(file)'"
            throw ValidationError(
                "--from-response \(format.rawValue): \(source): \(error.description). Nothing was recorded.")
        }
    }
}

/// Prices a record that has no cost, printing the warning for a model the table lacks (or, when
/// a price is `required`, refusing it).
func priceRecord(_ record: inout UsageRecord, table: PriceTable, required: Bool = false) throws {
    let outcome = try RecordPricer(table: table).price(&record)
    switch outcome {
    case .unpriced(let warning):
        if required { try RequirePriceOption.refuse(model: record.model) }
        printError("Warning: " + warning)
    case .priced(let breakdown): for note in breakdown.notes { printError("Note: " + note) }
    case .provided: break
    }
}
