/// OpenAI Chat Completions (`usage.prompt_tokens`, …) and Responses (`usage.input_tokens`, …).
///
/// Streams: Chat Completions sends usage in its last chunk when asked (`stream_options:
/// {"include_usage": true}`); Responses in the `response.completed` (or `.incomplete`/`.failed`)
/// event's `response`. The last event carrying usage is used.
enum OpenAIUsage {
    static func capture(_ events: [JSONValue]) throws(UsageCaptureError) -> CapturedUsage {
        // Responses stream events wrap the response object.
        let objects = events.map { event -> JSONValue in
            if let type = event["type"]?.stringValue, type.hasPrefix("response."), let response = event["response"] {
                return response
            }
            return event
        }
        guard let final = objects.last(where: { $0["usage"] != nil && $0["usage"] != .null }) else {
            throw UsageCaptureError(
                field: "usage",
                reason:
                    "is missing; nothing was recorded (a streamed Chat Completion carries usage only with stream_options: {\"include_usage\": true})"
            )
        }
        let model = objects.reversed().lazy.compactMap { $0["model"]?.stringValue }.first
        let id = objects.reversed().lazy.compactMap { $0["id"]?.stringValue }.first
        let tier = final["service_tier"]?.stringValue.flatMap(ServiceTier.init(name:))
        guard let usage = final["usage"], usage.objectMembers != nil else {
            throw UsageCaptureError(field: "usage", reason: "must be an object")
        }
        let tokens: TokenUsage
        if usage["prompt_tokens"] != nil || usage["completion_tokens"] != nil {
            tokens = TokenUsage(
                inputTokens: try UsageCapture.count(usage, ["prompt_tokens"], prefix: "usage", required: true)!,
                outputTokens: try UsageCapture.count(usage, ["completion_tokens"], prefix: "usage", required: true)!,
                cachedInputTokens: try UsageCapture.count(
                    usage, ["prompt_tokens_details", "cached_tokens"], prefix: "usage", required: false) ?? 0,
                reasoningTokens: try UsageCapture.count(
                    usage, ["completion_tokens_details", "reasoning_tokens"], prefix: "usage", required: false) ?? 0)
        } else {
            tokens = TokenUsage(
                inputTokens: try UsageCapture.count(usage, ["input_tokens"], prefix: "usage", required: true)!,
                outputTokens: try UsageCapture.count(usage, ["output_tokens"], prefix: "usage", required: true)!,
                cachedInputTokens: try UsageCapture.count(
                    usage, ["input_tokens_details", "cached_tokens"], prefix: "usage", required: false) ?? 0,
                cacheWriteTokens: try UsageCapture.count(
                    usage, ["input_tokens_details", "cache_write_tokens"], prefix: "usage", required: false) ?? 0,
                reasoningTokens: try UsageCapture.count(
                    usage, ["output_tokens_details", "reasoning_tokens"], prefix: "usage", required: false) ?? 0)
        }
        return CapturedUsage(provider: "openai", model: model, requestID: id, usage: tokens, serviceTier: tier)
    }
}
