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

    /// The values given, as plain data.
    var flags: RecordFlags {
        RecordFlags(
            project: project, model: model, inputTokens: inputTokens, outputTokens: outputTokens,
            cachedInputTokens: cachedInputTokens, cacheWriteTokens: cacheWriteTokens, reasoningTokens: reasoningTokens,
            cost: cost, provider: provider, latencyMs: latencyMs, user: user, caller: caller, session: session,
            requestID: requestID, role: role, task: task, status: status, tags: tags, ts: ts, id: id)
    }

    /// The record the flags describe; see ``RecordFlags/makeRecord(captured:serviceTier:cacheWrite1hTokens:)``.
    func makeRecord(captured: CapturedUsage? = nil, service: ServiceOptions? = nil) throws -> UsageRecord {
        try flags.makeRecord(
            captured: captured, serviceTier: service?.serviceTier, cacheWrite1hTokens: service?.cacheWrite1hTokens)
    }
}

/// The values of ``RecordOptions`` (and of ``ServiceOptions``), as given on the command line:
/// what both the argument parser and ``AppendFastPath`` produce.
struct RecordFlags: Equatable {
    var project: String?
    var model: String?
    var inputTokens: String?
    var outputTokens: String?
    var cachedInputTokens: String?
    var cacheWriteTokens: String?
    var reasoningTokens: String?
    var cost: String?
    var provider: String?
    var latencyMs: String?
    var user: String?
    var caller: String?
    var session: String?
    var requestID: String?
    var role: String?
    var task: String?
    var status: String?
    var tags: [String] = []
    var ts: String?
    var id: String?

    /// The record the flags describe, merged with `captured` (read from a provider response),
    /// which fills in whatever the flags do not give (``RecordDraft``); errors name the flag.
    func makeRecord(captured: CapturedUsage? = nil, serviceTier: String? = nil, cacheWrite1hTokens: String? = nil)
        throws -> UsageRecord
    {
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
        draft.serviceTier = try ServiceOptions.tier(serviceTier)
        draft.cacheWrite1hTokens = try cacheWrite1hTokens.map { try parseCount($0, option: "--cache-write-1h-tokens") }
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

    func policy() throws -> FsyncPolicy { try FsyncOption.policy(fsync) }

    static func policy(_ fsync: String) throws -> FsyncPolicy {
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

    /// What the flags ask for, as plain data (everything but the response to read usage from).
    var invocation: AppendInvocation {
        AppendInvocation(
            record: recording.record.flags, serviceTier: recording.service.serviceTier,
            cacheWrite1hTokens: recording.service.cacheWrite1hTokens, dir: directory.dir,
            fsync: recording.durability.fsync, enforce: enforce, prices: recording.pricing.prices,
            requirePrice: recording.requirePrice.flag, budgetStoreFile: store.budgetStoreFile)
    }

    func run() throws {
        try invocation.run(captured: recording.response.capture())
    }
}

/// One `spendlog append`, as plain values: parsed by the argument parser (``AppendCommand``), or
/// by ``AppendFastPath`` when every argument is a simple `--flag value` it knows.
struct AppendInvocation: Equatable {
    var record = RecordFlags()
    var serviceTier: String?
    var cacheWrite1hTokens: String?
    var dir: String?
    var fsync = "always"
    var enforce = false
    var prices: String?
    var requirePrice = false
    /// `--budget-store-file`: left to the argument parser (``AppendFastPath`` does not read it).
    var budgetStoreFile: String?

    /// The checks the argument parser makes before running (the `validate()` of each option
    /// group), for a call without `--from-response`.
    func validate() throws {
        if let dir { try DirectoryOptions.validate(dir: dir) }
        _ = try record.makeRecord(serviceTier: serviceTier, cacheWrite1hTokens: cacheWrite1hTokens)
        _ = try FsyncOption.policy(fsync)
    }

    /// Appends the record (merged with `captured`, usage read from a provider response) and
    /// prints its id.
    func run(captured: CapturedUsage?) throws {
        try withReportedBudgetErrors {
            var built = try record.makeRecord(
                captured: captured, serviceTier: serviceTier, cacheWrite1hTokens: cacheWrite1hTokens)
            // A given cost needs no price table: a broken one does not block it.
            if built.costSource == .unpriced {
                try priceRecord(
                    &built, table: try PriceFileOption.table(explicit: prices, forModels: [built.model]),
                    required: RequirePriceOption.isRequired(flag: requirePrice))
            }
            let log = try DirectoryOptions.open(dir: dir, create: true)
            var options = WriterOptions()
            options.fsync = try FsyncOption.policy(fsync)
            let once = record.id != nil
            if enforce {
                let now = try budgetClock()
                if record.ts == nil { built.timestamp = now }
                if let shared = try BudgetStoreOptions.sharedBudget(file: budgetStoreFile, log, writerOptions: options) {
                    let outcome = try shared.appendIfWithinLimits(built, now: now, once: once)
                    printSharedOutcome(outcome)
                    printLine(outcome.record.id.description)
                    return
                }
                let budget = makeBudget(log, writerOptions: options)
                let result = try budget.appendIfWithinLimits(built, now: now, once: once)
                if result.alreadyRecorded { noteAlreadyRecorded(built) }
                printWarnings(result.warnings)
                printLine(result.record.id.description)
                return
            }
            let writer = LogWriter(directory: log, options: options)
            if once {
                if !(try writer.appendOnce(contentsOf: [built])).alreadyRecorded.isEmpty { noteAlreadyRecorded(built) }
            } else {
                try writer.append(built)
            }
            printLine(built.id.description)
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
            try priceRecord(&built, table: try pricing.table(), required: requirePrice.required)
        }
        return built
    }
}
