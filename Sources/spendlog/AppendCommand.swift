import ArgumentParser
import SpendLog

/// Parses a token-count option: a whole number from 0 to 2^53.
func parseCount(_ text: String, option: String) throws -> Int64 {
    guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
        if text.hasPrefix("-") { throw ValidationError("\(option): must not be negative (got '\(text)').") }
        throw ValidationError("\(option): must be a whole number of tokens (got '\(text)').")
    }
    guard text.utf8.count <= 16, let value = Int64(text), value <= RecordSchema.maximumTokenCount else {
        throw ValidationError("\(option): '\(text)' is above the maximum of 2^53 (9007199254740992).")
    }
    return value
}

/// The flags that describe one record, shared by `append` and commands that record.
struct RecordOptions: ParsableArguments {
    @Option(help: "Project the call belongs to (1–256 bytes, no control characters).")
    var project: String?
    @Option(help: "Model name as the provider reports it.")
    var model: String?
    @Option(
        name: .customLong("input-tokens"), parsing: .unconditional,
        help: "All input tokens, including cache reads and writes.")
    var inputTokens: String?
    @Option(
        name: .customLong("output-tokens"), parsing: .unconditional,
        help: "All output tokens, including reasoning tokens.")
    var outputTokens: String?
    @Option(
        name: .customLong("cached-input-tokens"), parsing: .unconditional, help: "Cache reads (part of --input-tokens)."
    )
    var cachedInputTokens: String?
    @Option(
        name: .customLong("cache-write-tokens"), parsing: .unconditional, help: "Cache writes (part of --input-tokens)."
    )
    var cacheWriteTokens: String?
    @Option(
        name: .customLong("reasoning-tokens"), parsing: .unconditional,
        help: "Reasoning tokens (part of --output-tokens).")
    var reasoningTokens: String?
    @Option(
        parsing: .unconditional,
        help:
            "Cost in USD, exact decimal with at most 9 decimals. Without it the cost is computed from the price table (or the record is marked unpriced)."
    )
    var cost: String?
    @Option(help: "Provider (OpenTelemetry gen_ai.provider.name); inferred from the model when absent.")
    var provider: String?
    @Option(name: .customLong("latency-ms"), parsing: .unconditional, help: "Call latency in milliseconds.")
    var latencyMs: String?
    @Option(help: "End user the call was made for.")
    var user: String?
    @Option(help: "The program or service that made the call.")
    var caller: String?
    @Option(help: "Session or conversation id.")
    var session: String?
    @Option(name: .customLong("request-id"), help: "The provider's request id.")
    var requestID: String?
    @Option(help: "Role of the call in a pipeline (e.g. planner, summarizer).")
    var role: String?
    @Option(help: "Task the call served.")
    var task: String?
    @Option(help: "Outcome: ok or error.")
    var status: String?
    @Option(name: .customLong("tag"), help: "A label key=value (repeatable).")
    var tags: [String] = []
    @Option(help: "Time of the call, RFC 3339 (default: now).")
    var ts: String?

    /// Builds the record, or throws a ValidationError naming the flag. Values of `captured` (read
    /// from a provider response) fill in whatever the flags do not give.
    func makeRecord(captured: CapturedUsage? = nil) throws -> UsageRecord {
        guard let project else { throw ValidationError("--project is required.") }
        guard let model = model ?? captured?.model else {
            throw ValidationError(
                captured == nil ? "--model is required." : "--model is required: the response does not name the model.")
        }
        let capturedCount = { (count: Int64?) in count.map(String.init) }
        guard let inputTokens = inputTokens ?? capturedCount(captured?.usage.inputTokens) else {
            throw ValidationError("--input-tokens is required.")
        }
        guard let outputTokens = outputTokens ?? capturedCount(captured?.usage.outputTokens) else {
            throw ValidationError("--output-tokens is required.")
        }
        let cachedInputTokens = cachedInputTokens ?? capturedCount(captured?.usage.cachedInputTokens)
        let cacheWriteTokens = cacheWriteTokens ?? capturedCount(captured?.usage.cacheWriteTokens)
        let reasoningTokens = reasoningTokens ?? capturedCount(captured?.usage.reasoningTokens)
        var timestamp = Timestamp.now()
        if let ts {
            guard let parsed = Timestamp.parse(ts) else {
                throw ValidationError("--ts: '\(ts)' is not an RFC 3339 time like 2026-11-23T10:15:02.123Z.")
            }
            timestamp = parsed
        }
        var money: Money?
        if let cost {
            do { money = try Money.parse(cost) } catch {
                let shown = cost.count > 40 ? String(cost.prefix(40)) + "…" : cost
                throw ValidationError("--cost: '\(shown)' \(error.description).")
            }
        }
        var record = UsageRecord(
            timestamp: timestamp, project: project, model: model, provider: provider ?? captured?.provider,
            inputTokens: try parseCount(inputTokens, option: "--input-tokens"),
            outputTokens: try parseCount(outputTokens, option: "--output-tokens"),
            cachedInputTokens: try cachedInputTokens.map { try parseCount($0, option: "--cached-input-tokens") } ?? 0,
            cacheWriteTokens: try cacheWriteTokens.map { try parseCount($0, option: "--cache-write-tokens") } ?? 0,
            reasoningTokens: try reasoningTokens.map { try parseCount($0, option: "--reasoning-tokens") } ?? 0,
            cost: money)
        record.latencyMs = try latencyMs.map { try parseCount($0, option: "--latency-ms") }
        record.user = user
        record.caller = caller
        record.session = session
        record.requestID = requestID ?? captured?.requestID
        if let captured, captured.usage.cacheWrite1hTokens > 0, self.cacheWriteTokens == nil {
            record.cacheWrite1hTokens = captured.usage.cacheWrite1hTokens
        }
        if let tier = captured?.serviceTier, tier != .standard { record.serviceTier = tier }
        record.role = role
        record.task = task
        if let status {
            guard let value = UsageRecord.Status(rawValue: status) else {
                throw ValidationError("--status: must be ok or error (got '\(status)').")
            }
            record.status = value
        }
        for tag in tags {
            guard let eq = tag.firstIndex(of: "=") else {
                throw ValidationError("--tag: '\(tag)' must be key=value.")
            }
            let key = String(tag[..<eq])
            let value = String(tag[tag.index(after: eq)...])
            if record.tags.updateValue(value, forKey: key) != nil {
                throw ValidationError("--tag: the key '\(key)' is given twice.")
            }
        }
        do {
            try record.validate()
        } catch {
            throw ValidationError("\(FlagNames.flag(forField: error.field)): \(error.reason).")
        }
        return record
    }

}

extension String {
    func replacingOccurrences(of target: Character, with replacement: Character) -> String {
        String(map { $0 == target ? replacement : $0 })
    }

    func replacingOccurrences(of target: String, with replacement: String) -> String {
        guard target.count == 1, replacement.count == 1 else { return self }
        return replacingOccurrences(of: target.first!, with: replacement.first!)
    }
}

struct FsyncOption: ParsableArguments {
    @Option(help: "When an append is durable: always (fsync each), batch (group commit), none (page cache).")
    var fsync: String = "always"

    func policy() throws -> FsyncPolicy {
        guard let policy = FsyncPolicy(rawValue: fsync) else {
            throw ValidationError("--fsync: must be always, batch or none (got '\(fsync)').")
        }
        return policy
    }
}

struct AppendCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "append",
        abstract: "Record one LLM call and print its id.",
        discussion: """
            Examples:
              spendlog append --project etl --model gpt-4.1 --input-tokens 1200 \\
                  --output-tokens 300 --cost 0.0048
              curl … | spendlog append --from-response openai - --project etl

            Without --cost the cost is computed from the price table (docs/PRICING.md); \
            a model the table lacks is recorded as unpriced (cost 0) with a warning.
            """)

    @OptionGroup var directory: DirectoryOptions
    @OptionGroup var recording: RecordingOptions
    @Flag(help: "Append only if every matching limit allows it; otherwise write nothing and exit 3.")
    var enforce = false

    func run() throws {
        try reportingBudgetErrors {
            var built = try recording.makePricedRecord()
            let log = try directory.open(create: true)
            var options = WriterOptions()
            options.fsync = try recording.durability.policy()
            if enforce {
                let now = try budgetClock()
                if recording.record.ts == nil { built.timestamp = now }
                let budget = Budget(directory: log, writerOptions: options)
                budget.checkpointIntervalBytes = 0
                let result = try budget.appendIfWithinLimits(built, now: now)
                printWarnings(result.warnings)
                print(result.record.id)
                return
            }
            let writer = LogWriter(directory: log, options: options)
            let written = try writer.append(built)
            print(written.id)
        }
    }
}

/// Everything that describes and records one call, shared by `append` and `settle`: the record's
/// flags, or a provider response, its service tier and price table, and the fsync policy.
struct RecordingOptions: ParsableArguments {
    @OptionGroup var record: RecordOptions
    @OptionGroup var durability: FsyncOption
    @OptionGroup var service: ServiceOptions
    @OptionGroup var pricing: PriceFileOption
    @OptionGroup var response: ResponseOptions

    func validate() throws {
        if response.fromResponse == nil { _ = try record.makeRecord() }
        _ = try durability.policy()
        _ = try service.tier()
    }

    /// The record from the flags (and the response), priced when it has no cost.
    func makePricedRecord() throws -> UsageRecord {
        var built = try record.makeRecord(captured: try response.capture())
        try service.apply(to: &built)
        try priceRecord(&built, table: try pricing.table())
        return built
    }
}
