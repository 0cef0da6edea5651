import ArgumentParser
import SpendLog

struct CostCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cost",
        abstract: "Print what a call would cost, with its breakdown, without recording anything.",
        usage: "spendlog cost --model <model> --input-tokens <n> [<options>]",
        discussion: """
            Example:
              spendlog cost --model gpt-5 --input-tokens 12000 --cached-input-tokens 8000 \\
                  --output-tokens 900 --reasoning-tokens 600

            A model the price table lacks prints cost 0 with cost_source "unpriced" and a \
            warning.
            """)

    @Option(help: "Model name as the provider reports it.")
    var model: String
    @Option(
        name: .customLong("input-tokens"), parsing: .unconditional,
        help: "All input tokens, including cache reads and writes.")
    var inputTokens: String
    @Option(
        name: .customLong("output-tokens"), parsing: .unconditional,
        help: "All output tokens, including reasoning tokens.")
    var outputTokens: String = "0"
    @Option(
        name: .customLong("cached-input-tokens"), parsing: .unconditional, help: "Cache reads (part of --input-tokens)."
    )
    var cachedInputTokens: String = "0"
    @Option(
        name: .customLong("cache-write-tokens"), parsing: .unconditional, help: "Cache writes (part of --input-tokens)."
    )
    var cacheWriteTokens: String = "0"
    @Option(
        name: .customLong("reasoning-tokens"), parsing: .unconditional,
        help: "Reasoning tokens (part of --output-tokens).")
    var reasoningTokens: String = "0"
    @Option(
        help: ArgumentHelp(
            "When the call was made (RFC 3339); prices with off-peak hours depend on it.", valueName: "time"))
    var ts: String?
    @OptionGroup var service: ServiceOptions
    @OptionGroup var pricing: PriceFileOption
    @OptionGroup var requirePrice: RequirePriceOption
    @Option(help: "table (for people) or json.")
    var format: TableOrJSON = .table

    func validate() throws {
        _ = try usage()
        _ = try service.tier()
        _ = try time()
        do { try UsageRecord.validateName(model, field: "model") } catch {
            throw ValidationError("--model: \(error.reason).")
        }
    }

    func usage() throws -> TokenUsage {
        TokenUsage(
            inputTokens: try parseCount(inputTokens, option: "--input-tokens"),
            outputTokens: try parseCount(outputTokens, option: "--output-tokens"),
            cachedInputTokens: try parseCount(cachedInputTokens, option: "--cached-input-tokens"),
            cacheWriteTokens: try parseCount(cacheWriteTokens, option: "--cache-write-tokens"),
            cacheWrite1hTokens: try service.writes1h() ?? 0,
            reasoningTokens: try parseCount(reasoningTokens, option: "--reasoning-tokens"))
    }

    /// `--ts`, else the clock (`SPENDLOG_NOW` in tests).
    func time() throws -> Timestamp {
        guard let ts else { return try budgetClock() }
        guard let parsed = Timestamp.parse(ts) else {
            throw ValidationError("--ts: '\(ts)' is not an RFC 3339 time such as 2026-11-23T10:15:02.123Z.")
        }
        return parsed
    }

    func run() throws {
        try reportingErrors {
            let usage = try usage()
            let table = try pricing.table()
            guard let match = table.lookup(model) else {
                if requirePrice.required { try requirePrice.refuse(model: model) }
                printError("Warning: " + RecordPricer.unpricedWarning(model: model))
                if format == .json {
                    print(
                        JSONValue.object([
                            ("model", .string(model)), ("cost_usd", .number("0")), ("cost_source", .string("unpriced")),
                            ("price_entry", .null), ("components", .array([])),
                        ]).prettyText())
                } else {
                    print("\(model): no price (unpriced); cost 0")
                }
                return
            }
            let tier = try service.tier() ?? .standard
            let breakdown: CostBreakdown
            do {
                breakdown = try CostCalculator.cost(
                    of: usage, entry: match.entry, model: model, serviceTier: tier, at: try time())
            } catch let error as SpendLogError {
                throw ValidationError(error.cliMessage)
            }
            for note in breakdown.notes { printError("Note: " + note) }
            if format == .json {
                print(json(breakdown, match: match, asOf: table.asOf).prettyText())
            } else {
                print(text(breakdown, match: match, asOf: table.asOf), terminator: "")
            }
        }
    }

    func json(_ breakdown: CostBreakdown, match: PriceTable.Match, asOf: String?) -> JSONValue {
        .object([
            ("model", .string(model)),
            ("cost_usd", .number(breakdown.total.decimalString)),
            ("cost_source", .string("priced")),
            ("exact_cost_usd", .string(breakdown.exactUSD)),
            ("rounding", .string("half up to 0.000000001")),
            ("service_tier", .string(breakdown.serviceTier.rawValue)),
            ("prompt_tier_above_input_tokens", breakdown.promptTierAbove.map { .number(String($0)) } ?? .null),
            ("prompt_tier_inclusive", .bool(breakdown.promptTierInclusive)),
            ("notes", .array(breakdown.notes.map(JSONValue.string))),
            (
                "price_entry",
                .object([
                    ("name", .string(match.entry.model)),
                    ("match", .string(match.exact ? "exact" : "normalized")),
                    ("as_of", asOf.map(JSONValue.string) ?? .null),
                    ("prices_per_million_tokens", PriceTable.encode(match.entry)),
                ])
            ),
            (
                "components",
                .array(
                    breakdown.lines.map { line in
                        .object([
                            ("component", .string(line.component)),
                            ("tokens", .number(String(line.tokens))),
                            ("usd_per_million_tokens", .number(line.price.perMillionTokensText)),
                            ("cost_usd", .number(line.exactUSD)),
                        ])
                    })
            ),
        ])
    }

    func text(_ breakdown: CostBreakdown, match: PriceTable.Match, asOf: String?) -> String {
        var out = "model:        \(model)"
        out += match.entry.model == model ? "\n" : " (priced as \(match.entry.model))\n"
        out += "service tier: \(breakdown.serviceTier.rawValue)"
        if let above = breakdown.promptTierAbove {
            out += ", prompt \(breakdown.promptTierInclusive ? "at or above" : "above") \(above) input tokens"
        }
        out += "\nprices as of: \(asOf ?? "unknown")\n\n"
        let rows = breakdown.lines.map { line in
            [line.component, String(line.tokens), line.price.perMillionTokensText, line.exactUSD]
        }
        out += TextTable.render(
            header: ["COMPONENT", "TOKENS", "USD/1M", "COST USD"], rows: rows, rightAligned: [1, 2, 3])
        out += "\ntotal: \(breakdown.total.decimalString) USD"
        if breakdown.exactUSD != breakdown.total.decimalString {
            out += " (exact \(breakdown.exactUSD), rounded half up)"
        }
        return out + "\n"
    }
}
