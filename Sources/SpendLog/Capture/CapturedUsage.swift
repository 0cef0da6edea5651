/// Token usage read from a provider's response, in the record's terms (docs/FORMAT.md, "Record"):
/// `inputTokens` includes cache reads and writes, `outputTokens` includes reasoning. How each
/// provider's fields map is in docs/PRICING.md, "Capture from provider responses".
public struct CapturedUsage: Equatable, Sendable {
    /// OpenTelemetry `gen_ai.provider.name`: `openai`, `anthropic`, `gcp.gemini`, `aws.bedrock`.
    public var provider: String
    /// The model the response names; nil when it names none (Bedrock Converse).
    public var model: String?
    /// The response's id (`chatcmpl-…`, `resp_…`, `msg_…`, Gemini's `responseId`).
    public var requestID: String?
    /// The token counts, in the record's terms.
    public var usage: TokenUsage
    /// The tier the provider reports serving the request at (OpenAI `service_tier`).
    public var serviceTier: ServiceTier?

    /// Usage read by a parser, or given by a test.
    public init(
        provider: String, model: String? = nil, requestID: String? = nil, usage: TokenUsage,
        serviceTier: ServiceTier? = nil
    ) {
        self.provider = provider
        self.model = model
        self.requestID = requestID
        self.usage = usage
        self.serviceTier = serviceTier
    }

    /// A record of this usage (``RecordDraft``); the caller sets the cost (``RecordPricer``) and
    /// any other fields.
    public func record(project: String, model explicitModel: String? = nil, timestamp: Timestamp = .now())
        throws(UsageCaptureError) -> UsageRecord
    {
        var draft = RecordDraft(captured: self)
        draft.project = project
        draft.model = explicitModel
        do { return try draft.record(now: timestamp) } catch {
            throw UsageCaptureError(field: error.field, reason: error.reason)
        }
    }
}

/// A response body that usage could not be read from. `field` is the JSON path that is missing
/// or wrong (`usage.prompt_tokens`); nothing is recorded.
public struct UsageCaptureError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The JSON path that is missing or wrong; nil when the body as a whole is the problem.
    public var field: String?
    /// What is wrong, for people.
    public var reason: String

    /// An error about `field`, saying `reason`.
    public init(field: String?, reason: String) {
        self.field = field
        self.reason = reason
    }

    public var description: String {
        if let field { return "\(field): \(reason)" }
        return reason
    }
}

/// The response formats usage is read from.
public enum ResponseFormat: String, CaseIterable, Sendable {
    /// OpenAI Chat Completions or Responses (told apart by shape).
    case openai
    /// Anthropic Messages, whole or streamed.
    case anthropic
    /// Gemini `generateContent`, whole or streamed (Vertex AI too).
    case gemini
    /// Bedrock Converse and InvokeModel.
    case bedrock
    /// Recognised from the body's shape.
    case auto
}
