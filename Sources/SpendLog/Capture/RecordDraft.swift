/// A record being put together from what a front end was given — flags, a form, a request — and
/// what a provider's response said (``CapturedUsage``).
///
/// ``record(now:)`` merges the two: a value given here wins, the captured one fills the gap, and
/// the result is checked against the format. Every error names the record's field (`project`,
/// `cache_write_1h_tokens`); a front end maps fields to its own names.
public struct RecordDraft: Sendable {
    /// The project; required, from here only (a response does not name one).
    public var project: String?
    /// The model; nil: the one the response names.
    public var model: String?
    /// The provider; nil: the response's, else inferred from the model.
    public var provider: String?
    /// Every input token, cache reads and writes included; nil: the response's count.
    public var inputTokens: Int64?
    /// Every output token, reasoning included; nil: the response's count.
    public var outputTokens: Int64?
    /// Cache reads; nil: the response's count.
    public var cachedInputTokens: Int64?
    /// Cache writes; nil: the response's count.
    public var cacheWriteTokens: Int64?
    /// Reasoning tokens; nil: the response's count.
    public var reasoningTokens: Int64?
    /// The part of the cache writes with a 1-hour lifetime (priced higher).
    public var cacheWrite1hTokens: Int64?
    /// The tier the request was served at; nil: the response's, if it says (written as the
    /// `service_tier` extra key, which pricing reads).
    public var serviceTier: ServiceTier?
    /// Nil: priced later from the table (``RecordPricer``), or unpriced.
    public var cost: Money?
    /// How long the call took, in milliseconds.
    public var latencyMs: Int64?
    /// The record's `user`.
    public var user: String?
    /// The record's `caller`.
    public var caller: String?
    /// The record's `session`.
    public var session: String?
    /// The provider's response id; nil: the one the response names.
    public var requestID: String?
    /// The record's `role`.
    public var role: String?
    /// The record's `task`.
    public var task: String?
    /// `ok` or `error`; nil: not written.
    public var status: UsageRecord.Status?
    /// The record's tags.
    public var tags: [String: String] = [:]
    /// Nil: the time of ``record(now:)``.
    public var timestamp: Timestamp?
    /// Nil: a new id. Giving one makes a retry recognisable (``LogWriter/appendOnce(contentsOf:)``).
    public var id: RecordID?
    /// What a provider's response said; fills in what is not given above.
    public var captured: CapturedUsage?

    /// A draft filled from `captured` where nothing else is given; nil: every count must be given.
    public init(captured: CapturedUsage? = nil) { self.captured = captured }

    /// The merged, validated record.
    public func record(now: Timestamp = .now()) throws(RecordValidationError) -> UsageRecord {
        guard let project else { throw RecordValidationError(field: "project", reason: "is required") }
        guard let model = model ?? captured?.model else {
            throw RecordValidationError(
                field: "model",
                reason: captured == nil
                    ? "is required" : "is required: the response does not name the model (Bedrock Converse never does)")
        }
        let usage = captured?.usage
        guard let inputTokens = inputTokens ?? usage?.inputTokens else {
            throw RecordValidationError(field: "input_tokens", reason: "is required")
        }
        guard let outputTokens = outputTokens ?? usage?.outputTokens else {
            throw RecordValidationError(field: "output_tokens", reason: "is required")
        }
        var record = UsageRecord(
            timestamp: timestamp ?? now, project: project, model: model, provider: provider ?? captured?.provider,
            inputTokens: inputTokens, outputTokens: outputTokens,
            cachedInputTokens: cachedInputTokens ?? usage?.cachedInputTokens ?? 0,
            cacheWriteTokens: cacheWriteTokens ?? usage?.cacheWriteTokens ?? 0,
            reasoningTokens: reasoningTokens ?? usage?.reasoningTokens ?? 0, cost: cost)
        if let id { record.id = id }
        record.latencyMs = latencyMs
        record.user = user
        record.caller = caller
        record.session = session
        record.requestID = requestID ?? captured?.requestID
        record.role = role
        record.task = task
        record.status = status
        record.tags = tags
        // Captured 1-hour writes belong to the captured cache writes: not to a count given instead.
        let writes1h = cacheWrite1hTokens ?? (cacheWriteTokens == nil ? usage?.cacheWrite1hTokens : nil) ?? 0
        if writes1h > 0 {
            if let problem = RecordSchema.countProblem(writes1h) {
                throw RecordValidationError(field: UsageRecord.cacheWrite1hKey, reason: problem)
            }
            guard writes1h <= record.cacheWriteTokens else {
                throw RecordValidationError(
                    field: UsageRecord.cacheWrite1hKey,
                    reason:
                        "\(writes1h) is more than cache_write_tokens (\(record.cacheWriteTokens)); 1-hour writes are part of the cache writes"
                )
            }
            record.cacheWrite1hTokens = writes1h
        }
        if let tier = serviceTier ?? captured?.serviceTier, tier != .standard { record.serviceTier = tier }
        try record.validate()
        return record
    }
}
