/// One LLM call: who made it, which model, how many tokens, what it cost.
///
/// The JSON form (one object per line) is the on-disk contract described in docs/FORMAT.md,
/// "Record". Token counts follow OpenTelemetry semantics: `inputTokens` includes cache reads and
/// cache writes, `outputTokens` includes reasoning tokens.
public struct UsageRecord: Equatable, Sendable {
    /// Record format version written by this library.
    public static let currentVersion = 1

    public var version: Int = UsageRecord.currentVersion
    public var id: RecordID
    public var timestamp: Timestamp
    public var project: String
    public var model: String
    /// OpenTelemetry `gen_ai.provider.name` (`openai`, `anthropic`, `gcp.gemini`, `aws.bedrock`, …).
    public var provider: String
    public var inputTokens: Int64 = 0
    public var outputTokens: Int64 = 0
    public var cachedInputTokens: Int64 = 0
    public var cacheWriteTokens: Int64 = 0
    public var reasoningTokens: Int64 = 0
    public var cost: Money = .zero
    public var costSource: CostSource = .unpriced
    public var latencyMs: Int64?
    public var user: String?
    public var caller: String?
    public var session: String?
    public var requestID: String?
    public var role: String?
    public var task: String?
    public var status: Status?
    /// Free-form labels; written with keys in byte order so equal records encode identically.
    public var tags: [String: String] = [:]
    /// Keys this version does not know, in their original order; written back unchanged.
    public var extra: [(key: String, value: JSONValue)] = []

    public enum CostSource: String, Sendable, CaseIterable {
        /// The caller gave the cost.
        case provided
        /// Computed from the price table.
        case priced
        /// The model is not in the price table: the cost is 0 and flagged, never a silent $0.
        case unpriced
    }

    public enum Status: String, Sendable, CaseIterable {
        case ok
        case error
    }

    public init(
        id: RecordID = .generate(),
        timestamp: Timestamp = .now(),
        project: String,
        model: String,
        provider: String? = nil,
        inputTokens: Int64 = 0,
        outputTokens: Int64 = 0,
        cachedInputTokens: Int64 = 0,
        cacheWriteTokens: Int64 = 0,
        reasoningTokens: Int64 = 0,
        cost: Money? = nil,
        costSource: CostSource? = nil
    ) {
        self.id = id
        self.timestamp = timestamp
        self.project = project
        self.model = model
        self.provider = provider ?? ProviderInference.provider(forModel: model)
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.cachedInputTokens = cachedInputTokens
        self.cacheWriteTokens = cacheWriteTokens
        self.reasoningTokens = reasoningTokens
        self.cost = cost ?? .zero
        self.costSource = costSource ?? (cost == nil ? .unpriced : .provided)
    }

    public static func == (lhs: UsageRecord, rhs: UsageRecord) -> Bool {
        lhs.version == rhs.version && lhs.id == rhs.id && lhs.timestamp == rhs.timestamp
            && lhs.project == rhs.project && lhs.model == rhs.model && lhs.provider == rhs.provider
            && lhs.inputTokens == rhs.inputTokens && lhs.outputTokens == rhs.outputTokens
            && lhs.cachedInputTokens == rhs.cachedInputTokens && lhs.cacheWriteTokens == rhs.cacheWriteTokens
            && lhs.reasoningTokens == rhs.reasoningTokens && lhs.cost == rhs.cost
            && lhs.costSource == rhs.costSource && lhs.latencyMs == rhs.latencyMs && lhs.user == rhs.user
            && lhs.caller == rhs.caller && lhs.session == rhs.session && lhs.requestID == rhs.requestID
            && lhs.role == rhs.role && lhs.task == rhs.task && lhs.status == rhs.status && lhs.tags == rhs.tags
            && lhs.extra.count == rhs.extra.count
            && zip(lhs.extra, rhs.extra).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    }

    /// Total tokens, input plus output.
    public var totalTokens: Int64 { inputTokens + outputTokens }
}

/// A record that breaks a rule of the format. `field` is the JSON key (`input_tokens`, `tags.env`).
public struct RecordValidationError: Error, Equatable, Sendable, CustomStringConvertible {
    public var field: String
    public var reason: String

    public init(field: String, reason: String) {
        self.field = field
        self.reason = reason
    }

    public var description: String { "\(field): \(reason)" }
}

extension UsageRecord {
    /// The largest token count accepted: 2^53, the largest integer every JSON reader holds exactly.
    public static let maximumTokenCount: Int64 = 1 << 53
    /// Names (project, model, user, …) are 1 to 256 bytes of UTF-8.
    public static let maximumNameBytes = 256
    /// Tag values may be empty and up to 1024 bytes.
    public static let maximumTagValueBytes = 1024
    /// At most this many tags on one record.
    public static let maximumTagCount = 64

    /// Checks every rule of docs/FORMAT.md, "Record"; the first broken rule is thrown.
    public func validate() throws(RecordValidationError) {
        guard version == UsageRecord.currentVersion else {
            throw RecordValidationError(
                field: "v", reason: "record format version \(version) is not supported (this spendlog reads 1)")
        }
        guard id.version == 7, id.low >> 62 == 0b10 else {
            throw RecordValidationError(field: "id", reason: "must be a UUIDv7 (version 7, RFC 9562 variant)")
        }
        guard timestamp >= .earliest, timestamp <= .latest else {
            throw RecordValidationError(field: "ts", reason: "must be between 1970 and 9999")
        }
        try UsageRecord.validateName(project, field: "project")
        try UsageRecord.validateName(model, field: "model")
        try UsageRecord.validateName(provider, field: "provider")
        try UsageRecord.validateCount(inputTokens, field: "input_tokens")
        try UsageRecord.validateCount(outputTokens, field: "output_tokens")
        try UsageRecord.validateCount(cachedInputTokens, field: "cached_input_tokens")
        try UsageRecord.validateCount(cacheWriteTokens, field: "cache_write_tokens")
        try UsageRecord.validateCount(reasoningTokens, field: "reasoning_tokens")
        guard cachedInputTokens <= inputTokens else {
            throw RecordValidationError(
                field: "cached_input_tokens",
                reason:
                    "\(cachedInputTokens) is more than input_tokens (\(inputTokens)); input_tokens includes cache reads"
            )
        }
        guard cacheWriteTokens <= inputTokens else {
            throw RecordValidationError(
                field: "cache_write_tokens",
                reason:
                    "\(cacheWriteTokens) is more than input_tokens (\(inputTokens)); input_tokens includes cache writes"
            )
        }
        guard cachedInputTokens + cacheWriteTokens <= inputTokens else {
            throw RecordValidationError(
                field: "cache_write_tokens",
                reason:
                    "cached_input_tokens + cache_write_tokens (\(cachedInputTokens + cacheWriteTokens)) is more than input_tokens (\(inputTokens))"
            )
        }
        guard reasoningTokens <= outputTokens else {
            throw RecordValidationError(
                field: "reasoning_tokens",
                reason:
                    "\(reasoningTokens) is more than output_tokens (\(outputTokens)); output_tokens includes reasoning")
        }
        guard cost >= .zero else { throw RecordValidationError(field: "cost_usd", reason: "must not be negative") }
        guard cost <= Money.maximumPerRecord else {
            throw RecordValidationError(field: "cost_usd", reason: MoneyParseError.tooLarge.description)
        }
        if costSource == .unpriced && cost != .zero {
            throw RecordValidationError(
                field: "cost_source",
                reason: "is \"unpriced\" but cost_usd is \(cost); use \"provided\" for a given cost")
        }
        if let latencyMs { try UsageRecord.validateCount(latencyMs, field: "latency_ms") }
        if let user { try UsageRecord.validateName(user, field: "user") }
        if let caller { try UsageRecord.validateName(caller, field: "caller") }
        if let session { try UsageRecord.validateName(session, field: "session") }
        if let requestID { try UsageRecord.validateName(requestID, field: "request_id") }
        if let role { try UsageRecord.validateName(role, field: "role") }
        if let task { try UsageRecord.validateName(task, field: "task") }
        guard tags.count <= UsageRecord.maximumTagCount else {
            throw RecordValidationError(field: "tags", reason: "more than \(UsageRecord.maximumTagCount) tags")
        }
        for (key, value) in tags {
            try UsageRecord.validateName(key, field: "tags")
            try UsageRecord.validateText(
                value, field: "tags.\(key)", minimumBytes: 0, maximumBytes: UsageRecord.maximumTagValueBytes)
        }
        for member in extra where UsageRecord.knownKeys.contains(member.key) {
            throw RecordValidationError(field: member.key, reason: "is a known key and cannot be carried as an extra")
        }
    }

    public static func validateName(_ value: String, field: String) throws(RecordValidationError) {
        try validateText(value, field: field, minimumBytes: 1, maximumBytes: maximumNameBytes)
    }

    static func validateText(_ value: String, field: String, minimumBytes: Int, maximumBytes: Int)
        throws(RecordValidationError)
    {
        let count = value.utf8.count
        if count < minimumBytes { throw RecordValidationError(field: field, reason: "must not be empty") }
        if count > maximumBytes {
            throw RecordValidationError(field: field, reason: "is \(count) bytes; at most \(maximumBytes) are allowed")
        }
        for scalar in value.unicodeScalars where scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) {
            let code = String(scalar.value, radix: 16, uppercase: true)
            throw RecordValidationError(
                field: field,
                reason: "contains the control character U+\(String(repeating: "0", count: 4 - code.count))\(code)")
        }
    }

    public static func validateCount(_ value: Int64, field: String) throws(RecordValidationError) {
        if value < 0 { throw RecordValidationError(field: field, reason: "must not be negative (got \(value))") }
        if value > maximumTokenCount {
            throw RecordValidationError(
                field: field, reason: "\(value) is above the maximum of 2^53 (9007199254740992)")
        }
    }

    /// Every key the format defines, in the order they are written.
    public static let knownKeys: Set<String> = [
        "v", "id", "ts", "project", "model", "provider", "input_tokens", "output_tokens", "cached_input_tokens",
        "cache_write_tokens", "reasoning_tokens", "cost_usd", "cost_source", "latency_ms", "user", "caller",
        "session", "request_id", "role", "task", "status", "tags",
    ]
}
