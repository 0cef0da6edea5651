import ArgumentParser
import SpendLog

struct PricesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prices",
        abstract: "Show the price table and import LiteLLM's.",
        discussion: """
            Prices come from the user's price file over the built-in table \
            (docs/PRICING.md). The file is --prices FILE, else $SPENDLOG_PRICES, else \
            $XDG_CONFIG_HOME/spendlog/prices.json, else ~/.config/spendlog/prices.json.
            """,
        subcommands: [PricesListCommand.self, PricesShowCommand.self, PricesImportCommand.self, PricesDiffCommand.self])
}

struct PricesListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List every priced model (USD per 1M tokens).")

    @OptionGroup var pricing: PriceFileOption
    @Flag(help: "Print the effective table in the price-file format (JSON).")
    var json = false

    func run() throws {
        try reportingErrors {
            let location = try pricing.location()
            let user = try location.load()
            let table = user.map { PriceTable.builtin.overlaid(by: $0) } ?? .builtin
            var out = OutputBuffer()
            if json {
                out.write(table.encoded())
            } else {
                let rows = table.modelNames.map { name -> [String] in
                    let base = table.entries[name]!.standard.base
                    let tiers = table.entries[name]!.serviceTiers.keys.map(\.rawValue).sorted().joined(separator: ",")
                    return [
                        name, base.input?.perMillionTokensText ?? "-", base.output?.perMillionTokensText ?? "-",
                        base.cacheRead?.perMillionTokensText ?? "-", base.cacheWrite?.perMillionTokensText ?? "-",
                        tiers.isEmpty ? "-" : tiers, user?.entries[name] != nil ? "user" : "built-in",
                    ]
                }
                out.write(
                    TextTable.render(
                        header: ["MODEL", "INPUT", "OUTPUT", "CACHE READ", "CACHE WRITE", "TIERS", "FROM"], rows: rows,
                        rightAligned: [1, 2, 3, 4]))
                out.write(
                    "\(table.count) models; built-in prices as of \(PriceTable.builtin.asOf ?? "unknown")"
                        + (user != nil
                            ? "; user file \(location.path) (\(user!.count) models, as of \(user!.asOf ?? "no date"))"
                            : "") + "\n")
            }
            out.flush()
            let now = try budgetClock()
            let sources =
                [(PriceTable.builtin, "The built-in price table")] + (user.map { [($0, "The price file")] } ?? [])
            for (source, what) in sources {
                if let warning = source.ageWarning(now: now, what: what) { printError("Warning: " + warning) }
            }
        }
    }
}

struct PricesShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Show the prices a model is charged at, and the name they were found under.")

    @Argument(help: "Model name as the provider reports it.")
    var model: String
    @OptionGroup var pricing: PriceFileOption

    func run() throws {
        try reportingErrors {
            let location = try pricing.location()
            let user = try location.load()
            let table = user.map { PriceTable.builtin.overlaid(by: $0) } ?? .builtin
            guard let match = table.lookup(model) else {
                printError(
                    "Error: no price for model '\(model)' (looked up as: \(ModelNameNormalizer.candidates(for: model).joined(separator: ", "))). "
                        + "Add it to your price file (docs/PRICING.md, \"Price files\") or import LiteLLM's table with `spendlog prices import FILE`."
                )
                throw ExitCode(ExitCodes.failure)
            }
            let origin =
                user?.entries[match.entry.model] != nil
                ? "user file \(location.path)" : "built-in table (as of \(PriceTable.builtin.asOf ?? "unknown"))"
            print(
                "\(model): \(match.exact ? "found" : "found as '\(match.entry.model)'") in the \(origin); USD per 1M tokens:"
            )
            print(JSONValue.object([(match.entry.model, PriceTable.encode(match.entry))]).prettyText())
        }
    }
}

struct PricesImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Read LiteLLM's model_prices_and_context_window.json and write it as the user's price file.",
        discussion: """
            Every chat, completion and responses model with per-token input and output \
            prices is imported, with cache, reasoning, prompt-size and batch/priority/flex \
            prices. The user's file is replaced atomically; its entries override the \
            built-in table.
            """)

    @Argument(help: "LiteLLM's JSON file, or - for standard input.")
    var file: String
    @OptionGroup var pricing: PriceFileOption
    @Option(help: "Write the table here instead (- for standard output).")
    var output: String?

    func run() throws {
        try reportingErrors {
            let bytes = try readInputBytes(file)
            let result = try LiteLLMImporter.importTable(
                bytes, path: file == "-" ? "standard input" : file, asOf: try budgetClock().dayString
            )
            if output == "-" {
                print(result.table.encoded(), terminator: "")
                return
            }
            let destination = try output.map { PriceFile(path: $0, isExplicit: true) } ?? pricing.location()
            try destination.replace(with: result.table)
            print(
                "imported \(result.table.count) models into \(destination.path) from \(result.rows) rows; skipped "
                    + "\(result.skipped.count) without usable per-token prices and \(result.otherModes.count) of other "
                    + "modes (embedding, image, audio, …)")
            let rules: [(String, String)] = [
                ("tiered", "priced by prompt-size tiers (tiered_pricing)"),
                ("off_peak", "with off-peak hours, priced by each record's ts"),
                ("inclusive_threshold", "with thresholds that count a prompt of exactly their size (xAI)"),
                ("fireworks_cache_read", "with cache reads at Fireworks' default, 50% of input"),
            ]
            for (key, text) in rules {
                if let count = result.rules[key], count > 0 { print("  \(count) models \(text)") }
            }
            for skipped in result.skipped.prefix(20) { printError("Skipped \(skipped.model): \(skipped.reason)") }
            if result.skipped.count > 20 { printError("… and \(result.skipped.count - 20) more skipped") }
        }
    }
}

struct PricesDiffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Show what changed between two price files: models added, removed, and every price that differs.",
        discussion: """
            Prices are USD per 1M tokens, as the files write them; a component is named as in \
            the price-file format (input, cache_read, batch.output, prompt_tiers[0].input). \
            Exit 0 whether or not anything changed.
            """)

    @Argument(help: "The older price file (spendlog-prices format, as `prices import` writes).")
    var old: String
    @Argument(help: "The newer price file.")
    var new: String
    @Flag(help: "Print the differences as JSON.")
    var json = false

    func run() throws {
        try reportingErrors {
            let before = try PriceFile(path: old, isExplicit: true).load()!
            let after = try PriceFile(path: new, isExplicit: true).load()!
            let diff = PriceDiff(from: before, to: after)
            var out = OutputBuffer()
            if json {
                func text(_ value: String?) -> JSONValue { value.map { .number($0) } ?? .null }
                out.write(
                    JSONValue.object([
                        ("added", .array(diff.added.map { .string($0) })),
                        ("removed", .array(diff.removed.map { .string($0) })),
                        (
                            "changed",
                            .array(
                                diff.changed.map { entry in
                                    .object([
                                        ("model", .string(entry.model)),
                                        (
                                            "changes",
                                            .array(
                                                entry.changes.map {
                                                    .object([
                                                        ("component", .string($0.component)), ("old", text($0.old)),
                                                        ("new", text($0.new)),
                                                    ])
                                                })
                                        ),
                                    ])
                                })
                        ),
                    ]).prettyText() + "\n")
            } else {
                var rows: [[String]] = []
                for model in diff.added { rows.append(["added", model, "-", "-", "-"]) }
                for model in diff.removed { rows.append(["removed", model, "-", "-", "-"]) }
                for entry in diff.changed {
                    for change in entry.changes {
                        rows.append(["changed", entry.model, change.component, change.old ?? "-", change.new ?? "-"])
                    }
                }
                if !rows.isEmpty {
                    out.write(
                        TextTable.render(
                            header: ["CHANGE", "MODEL", "COMPONENT", "OLD", "NEW"], rows: rows, rightAligned: [3, 4]))
                }
                out.write(
                    "\(diff.added.count) added, \(diff.removed.count) removed, \(diff.changed.count) changed "
                        + "(\(before.asOf ?? "no date") → \(after.asOf ?? "no date"))\n")
            }
            out.flush()
        }
    }
}
