/// Builds ``CapturedUsage`` from a provider's response body: OpenAI Chat Completions and
/// Responses, Anthropic Messages, Gemini generateContent, Bedrock Converse — whole responses, a
/// stream's final chunk that carries usage, or a whole server-sent-event stream.
///
/// A body without usage, or with a token count missing or not a whole number, is an error that
/// names the field; nothing is guessed.
public enum UsageCapture {
    /// The usage in a response `body` of `format` (``ResponseFormat/auto``: recognised by shape): a
    /// JSON object, or a stream given whole (server-sent events, JSON lines, a JSON array of chunks).
    /// Throws ``UsageCaptureError`` naming the field when there is no usage to read.
    public static func capture(_ body: [UInt8], format: ResponseFormat = .auto) throws(UsageCaptureError)
        -> CapturedUsage
    {
        let events = try ResponseEvents.split(body)
        guard !events.isEmpty else { throw UsageCaptureError(field: nil, reason: "the response holds no JSON object") }
        let resolved = format == .auto ? try detect(events) : format
        switch resolved {
        case .openai: return try OpenAIUsage.capture(events)
        case .anthropic: return try AnthropicUsage.capture(events)
        case .gemini: return try GeminiUsage.capture(events)
        case .bedrock: return try BedrockUsage.capture(events)
        case .auto: throw UsageCaptureError(field: nil, reason: "unreachable")
        }
    }

    /// The usage in a response body given as text; see the bytes form.
    public static func capture(_ text: String, format: ResponseFormat = .auto) throws(UsageCaptureError)
        -> CapturedUsage
    {
        try capture(Array(text.utf8), format: format)
    }

    /// Recognises the provider from the events' shape (docs/PRICING.md, "Capture").
    static func detect(_ events: [JSONValue]) throws(UsageCaptureError) -> ResponseFormat {
        for event in events {
            if event["usageMetadata"] != nil || event["candidates"] != nil || event["modelVersion"] != nil {
                return .gemini
            }
            if let type = event["type"]?.stringValue {
                if type == "message" || type.hasPrefix("message_") || type.hasPrefix("content_block") || type == "ping"
                {
                    return .anthropic
                }
                if type.hasPrefix("response.") { return .openai }
            }
            if let object = event["object"]?.stringValue, object.hasPrefix("chat.completion") || object == "response" {
                return .openai
            }
            if event[path: "usage", "prompt_tokens"] != nil || event[path: "usage", "input_tokens_details"] != nil {
                return .openai
            }
            if event[path: "usage", "cache_read_input_tokens"] != nil { return .anthropic }
            if event[path: "usage", "inputTokens"] != nil || event[path: "metadata", "usage"] != nil
                || event["stopReason"] != nil
            {
                return .bedrock
            }
        }
        throw UsageCaptureError(
            field: nil,
            reason: "cannot tell which provider's response this is; name it: openai, anthropic, gemini or bedrock")
    }

    /// A token count at `path` under `object`: a whole number 0…2^53. Missing → nil when
    /// `required` is false, else an error naming `prefix.path`.
    static func count(_ object: JSONValue, _ path: [String], prefix: String, required: Bool) throws(UsageCaptureError)
        -> Int64?
    {
        var value: JSONValue? = object
        for key in path { value = value?[key] }
        let field = ([prefix] + path).filter { !$0.isEmpty }.joined(separator: ".")
        guard let value, value != .null else {
            if required {
                throw UsageCaptureError(
                    field: field, reason: "is missing; the response does not say how many tokens were used")
            }
            return nil
        }
        guard let number = value.integerValue ?? wholeNumber(value.numberText) else {
            throw UsageCaptureError(
                field: field, reason: "must be a whole number of tokens (got \(value.jsonText.prefix(40)))")
        }
        do { try UsageRecord.validateCount(number, field: field) } catch {
            throw UsageCaptureError(field: field, reason: error.reason)
        }
        return number
    }

    /// `12.0` and `1.2e1` are whole numbers some encoders write.
    static func wholeNumber(_ text: String?) -> Int64? {
        guard let text,
            let price = try? ExactDecimal.parse(text, fractionDigits: 0, limit: Int128(RecordSchema.maximumTokenCount))
        else { return nil }
        return Int64(price)
    }
}
