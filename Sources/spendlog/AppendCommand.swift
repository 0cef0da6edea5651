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
    @Option(
        help: ArgumentHelp(
            "The record's id, a UUIDv7 (default: a new one). A record whose id is already in its day's log is not "
                + "written again: give the id on the first try and on every retry.",
            valueName: "uuid"))
    var id: String?

    /// The record the flags describe, merged with `captured` (read from a provider response),
    /// which fills in whatever the flags do not give (``RecordDraft``); errors name the flag.
    func makeRecord(captured: CapturedUsage? = nil, service: ServiceOptions? = nil) throws -> UsageRecord {
        var draft = RecordDraft(captured: captured)
        draft.project = project
        draft.model = model
        draft.provider = provider
        draft.inputTokens = try inputTokens.map { try parseCount($0, option: "--input-tokens") }
        draft.outputTokens = try outputTokens.map { try parseCount($0, option: "--output-tokens") }
        draft.cachedInputTokens = try cachedInputTokens.map { try parseCount($0, option: "--cached-input-tokens") }
        draft.cacheWriteTokens = try cacheWriteTokens.map { try parseCount($0, option: "--cache-write-tokens") }
        draft.reasoningTokens = try reasoningTokens.map { try parseCount($0, option: "--reasoning-tokens") }
        draft.latencyMs = try latencyMs.map { try parseCount($0, option: "--latency-ms") }
        if let ts {
            guard let parsed = Timestamp.parse(ts) else {
                throw ValidationError("--ts: '\(ts)' is not an RFC 3339 time like 2026-11-23T10:15:02.123Z.")
            }
            draft.timestamp = parsed
        }
        if let cost {
            do { draft.cost = try Money.parse(cost) } catch {
                let shown = cost.count > 40 ? String(cost.prefix(40)) + "…" : cost
                throw ValidationError("--cost: '\(shown)' \(error.description).")
            }
        }
        if let id {
            guard let parsed = RecordID.parse(id), parsed.version == 7 else {
                let shown = JSONValue.string(String(id.prefix(60))).jsonText
                throw ValidationError("--id: \(shown) is not a UUIDv7 like 019a1b2c-3d4e-7f00-8a1b-2c3d4e5f6a7b.")
            }
            draft.id = parsed
        }
        draft.user = user
        draft.caller = caller
        draft.session = session
        draft.requestID = requestID
        draft.role = role
        draft.task = task
        if let status {
            guard let value = UsageRecord.Status(rawValue: status) else {
                throw ValidationError("--status: must be ok or error (got '\(status)').")
            }
            draft.status = value
        }
        for tag in tags {
            guard let eq = tag.firstIndex(of: "=") else {
                throw ValidationError("--tag: '\(tag)' must be key=value.")
            }
            let key = String(tag[..<eq])
            if draft.tags.updateValue(String(tag[tag.index(after: eq)...]), forKey: key) != nil {
                throw ValidationError("--tag: the key '\(key)' is given twice.")
            }
        }
        if let service {
            draft.serviceTier = try service.tier()
            draft.cacheWrite1hTokens = try service.writes1h()
        }
        do { return try draft.record() } catch {
            throw ValidationError("\(FlagNames.flag(forField: error.field)): \(error.reason).")
        }
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
    @OptionGroup var store: BudgetStoreOptions

    func run() throws {
        try reportingBudgetErrors {
            var built = try recording.makePricedRecord()
            let log = try directory.open(create: true)
            var options = WriterOptions()
            options.fsync = try recording.durability.policy()
            let once = recording.record.id != nil
            if enforce {
                let now = try budgetClock()
                if recording.record.ts == nil { built.timestamp = now }
                if let shared = try store.sharedBudget(log, writerOptions: options) {
                    let outcome = try shared.appendIfWithinLimits(built, now: now, once: once)
                    printSharedOutcome(outcome)
                    print(outcome.record.id)
                    return
                }
                let budget = makeBudget(log, writerOptions: options)
                budget.checkpointIntervalBytes = 0
                let result = try budget.appendIfWithinLimits(built, now: now, once: once)
                if result.alreadyRecorded { noteAlreadyRecorded(built) }
                printWarnings(result.warnings)
                print(result.record.id)
                return
            }
            let writer = LogWriter(directory: log, options: options)
            if once {
                if !(try writer.appendOnce(contentsOf: [built])).alreadyRecorded.isEmpty { noteAlreadyRecorded(built) }
            } else {
                try writer.append(built)
            }
            print(built.id)
        }
    }
}

func noteAlreadyRecorded(_ record: UsageRecord) {
    printError(
        "Note: a record with id \(record.id) is already in the log of \(record.timestamp.dayString); it was not "
            + "written again.")
}

/// Everything that describes and records one call, shared by `append` and `settle`: the record's
/// flags, or a provider response, its service tier and price table, and the fsync policy.
struct RecordingOptions: ParsableArguments {
    @OptionGroup var record: RecordOptions
    @OptionGroup var durability: FsyncOption
    @OptionGroup var service: ServiceOptions
    @OptionGroup var pricing: PriceFileOption
    @OptionGroup var requirePrice: RequirePriceOption
    @OptionGroup var response: ResponseOptions

    func validate() throws {
        if response.fromResponse == nil { _ = try record.makeRecord(service: service) }
        _ = try durability.policy()
        _ = try service.tier()
    }

    /// The record from the flags (and the response), priced when it has no cost.
    func makePricedRecord() throws -> UsageRecord {
        var built = try record.makeRecord(captured: try response.capture(), service: service)
        // A given cost needs no price table: a broken one does not block it.
        if built.costSource == .unpriced {
            try priceRecord(&built, table: try pricing.table(), required: requirePrice)
        }
        return built
    }
}
