/// One LLM call: who made it, which model, how many tokens, what it cost.
///
/// The JSON form (one object per line) is the on-disk contract described in docs/FORMAT.md,
/// "Record". Token counts follow OpenTelemetry semantics: `inputTokens` includes cache reads and
/// cache writes, `outputTokens` includes reasoning tokens.
public struct UsageRecord: Equatable, Sendable {
    /// Record format version written by this library.
    public static let currentVersion = 1

    /// The record format version (`v`); only ``currentVersion`` is read or written.
    public var version: Int = UsageRecord.currentVersion
    /// The record's UUIDv7 (`id`): unique, time-ordered; readers count an id once per UTC day.
    public var id: RecordID
    /// When the call was made (`ts`), in UTC with milliseconds; it decides the day folder the
    /// record is written to.
    public var timestamp: Timestamp
    /// The project the call is charged to (`project`): 1–256 bytes of UTF-8, no control characters.
    public var project: String
    /// The model as the provider names it (`model`); same rules as `project`.
    public var model: String
    /// OpenTelemetry `gen_ai.provider.name` (`openai`, `anthropic`, `gcp.gemini`, `aws.bedrock`, …).
    public var provider: String
    /// Every input token, cache reads and cache writes included (`input_tokens`, 0…2⁵³).
    public var inputTokens: Int64 = 0
    /// Every output token, reasoning tokens included (`output_tokens`, 0…2⁵³).
    public var outputTokens: Int64 = 0
    /// Input tokens read from the provider's prompt cache (`cached_input_tokens`); at most
    /// `inputTokens`.
    public var cachedInputTokens: Int64 = 0
    /// Input tokens written to the provider's prompt cache (`cache_write_tokens`); with the cache
    /// reads, at most `inputTokens`.
    public var cacheWriteTokens: Int64 = 0
    /// Output tokens spent on reasoning (`reasoning_tokens`); at most `outputTokens`.
    public var reasoningTokens: Int64 = 0
    /// What the call cost (`cost_usd`), exact; 0 when ``costSource`` is ``CostSource/unpriced``.
    public var cost: Money = .zero
    /// Where ``cost`` came from (`cost_source`).
    public var costSource: CostSource = .unpriced
    /// Set on an adjustment: the id of the unpriced record whose cost it adds (docs/FORMAT.md,
    /// "Adjustments"). An adjustment is not a call: it counts its cost, and no request or tokens.
    public var adjusts: RecordID?
    /// How long the call took, in milliseconds (`latency_ms`), if known.
    public var latencyMs: Int64?
    /// The user the call was made for (`user`), if any.
    public var user: String?
    /// The part of the application that made the call (`caller`): a service, route or function.
    public var caller: String?
    /// The conversation or session the call belongs to (`session`), if any.
    public var session: String?
    /// The provider's id of the response (`request_id`: `chatcmpl-…`, `msg_…`), if known.
    public var requestID: String?
    /// The role of the call in its application (`role`), a free-form name such as `agent`.
    public var role: String?
    /// The task the call served (`task`), a free-form name such as `summarise`.
    public var task: String?
    /// Whether the call succeeded (`status`); nil when the writer did not say.
    public var status: Status?
    /// Free-form labels; written with keys in byte order so equal records encode identically.
    public var tags: [String: String] = [:]
    /// Keys this version does not know, in their original order; written back unchanged.
    public var extra: [(key: String, value: JSONValue)] = []

    /// Where a record's cost came from (`cost_source`).
    public enum CostSource: String, Sendable, CaseIterable {
        /// The caller gave the cost.
        case provided
        /// Computed from the price table.
        case priced
        /// The model is not in the price table: the cost is 0 and flagged, never a silent $0.
        case unpriced
    }

    /// How a call ended (`status`).
    public enum Status: String, Sendable, CaseIterable {
        /// The call succeeded.
        case ok
        /// The call failed; it may still have been charged.
        case error
    }

    /// A record of one call. `id` and `timestamp` default to a new UUIDv7 and the current time;
    /// `provider` is inferred from the model when nil (docs/FORMAT.md, "Provider"). A `cost` makes
    /// the record ``CostSource/provided`` unless `costSource` says otherwise; without one it is
    /// ``CostSource/unpriced`` with cost 0. Nothing is checked until the record is written
    /// (``validate()``).
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
            && lhs.costSource == rhs.costSource && lhs.adjusts == rhs.adjusts && lhs.latencyMs == rhs.latencyMs && lhs.user == rhs.user
            && lhs.caller == rhs.caller && lhs.session == rhs.session && lhs.requestID == rhs.requestID
            && lhs.role == rhs.role && lhs.task == rhs.task && lhs.status == rhs.status && lhs.tags == rhs.tags
            && lhs.extra.count == rhs.extra.count
            && zip(lhs.extra, rhs.extra).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    }

    /// Total tokens, input plus output.
    public var totalTokens: Int64 { inputTokens + outputTokens }

    /// Whether this line adjusts another record's cost instead of recording a call.
    public var isAdjustment: Bool { adjusts != nil }
}

/// A record that breaks a rule of the format. `field` is the JSON key (`input_tokens`, `tags.env`).
public struct RecordValidationError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The JSON key of the broken rule (`input_tokens`, `tags.env`).
    public var field: String
    /// What is wrong, for people.
    public var reason: String

    /// An error for `field`, saying `reason`.
    public init(field: String, reason: String) {
        self.field = field
        self.reason = reason
    }

    public var description: String { "\(field): \(reason)" }
}

extension UsageRecord {
    /// Checks every rule of the record (``RecordSchema``); the first broken rule is thrown.
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
        if let problem = RecordSchema.amountsProblem(
            inputTokens: inputTokens, outputTokens: outputTokens, cachedInputTokens: cachedInputTokens,
            cacheWriteTokens: cacheWriteTokens, reasoningTokens: reasoningTokens, cost: cost, costSource: costSource)
        {
            throw problem
        }
        if let problem = RecordSchema.adjustmentProblem(self) { throw problem }
        if let latencyMs { try UsageRecord.validateCount(latencyMs, field: "latency_ms") }
        if let user { try UsageRecord.validateName(user, field: "user") }
        if let caller { try UsageRecord.validateName(caller, field: "caller") }
        if let session { try UsageRecord.validateName(session, field: "session") }
        if let requestID { try UsageRecord.validateName(requestID, field: "request_id") }
        if let role { try UsageRecord.validateName(role, field: "role") }
        if let task { try UsageRecord.validateName(task, field: "task") }
        guard tags.count <= RecordSchema.maximumTagCount else {
            throw RecordValidationError(field: "tags", reason: "more than \(RecordSchema.maximumTagCount) tags")
        }
        for (key, value) in tags {
            try UsageRecord.validateName(key, field: "tags")
            try UsageRecord.validateText(
                value, field: "tags.\(key)", minimumBytes: 0, maximumBytes: RecordSchema.maximumTagValueBytes)
        }
        for member in extra where RecordSchema.knownKeys.contains(member.key) {
            throw RecordValidationError(field: member.key, reason: "is a known key and cannot be carried as an extra")
        }
    }

    /// ``validate()`` and the checks writers make that readers do not, as records written before
    /// them may fail them: the 1-hour cache writes are a whole count, and part of the cache writes.
    public func validateForWriting() throws(RecordValidationError) {
        try validate()
        guard let member = extra.first(where: { $0.key == UsageRecord.cacheWrite1hKey }) else { return }
        guard let value = member.value.integerValue, RecordSchema.countProblem(value) == nil else {
            throw RecordValidationError(
                field: UsageRecord.cacheWrite1hKey, reason: "must be a whole number of tokens from 0 to 2^53")
        }
        guard value <= cacheWriteTokens else {
            throw RecordValidationError(
                field: UsageRecord.cacheWrite1hKey,
                reason: "\(value) is more than cache_write_tokens (\(cacheWriteTokens)); 1-hour writes are part of the "
                    + "cache writes")
        }
    }

    /// Checks a name (`project`, `model`, `user`, a tag key, …): 1–256 bytes of UTF-8, no control
    /// characters. Errors name `field`.
    public static func validateName(_ value: String, field: String) throws(RecordValidationError) {
        try validateText(value, field: field, minimumBytes: 1, maximumBytes: RecordSchema.maximumNameBytes)
    }

    static func validateText(_ value: String, field: String, minimumBytes: Int, maximumBytes: Int)
        throws(RecordValidationError)
    {
        if let problem = RecordSchema.textProblem(value, minimumBytes: minimumBytes, maximumBytes: maximumBytes) {
            throw RecordValidationError(field: field, reason: problem)
        }
    }

    /// Checks a token count or other count: 0 through 2⁵³. Errors name `field`.
    public static func validateCount(_ value: Int64, field: String) throws(RecordValidationError) {
        if let problem = RecordSchema.countProblem(value) { throw RecordValidationError(field: field, reason: problem) }
    }
}
