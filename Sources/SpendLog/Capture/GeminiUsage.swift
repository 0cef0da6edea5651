/// Gemini generateContent: `promptTokenCount` includes cached content; output =
/// `candidatesTokenCount` + `thoughtsTokenCount` (thinking is billed as output but reported apart).
///
/// Streams (`streamGenerateContent`, SSE or a JSON array) repeat `usageMetadata` in chunks; the
/// last chunk that has it is final.
enum GeminiUsage {
    static func capture(_ events: [JSONValue]) throws(UsageCaptureError) -> CapturedUsage {
        guard let final = events.last(where: { $0["usageMetadata"] != nil }), let usage = final["usageMetadata"] else {
            throw UsageCaptureError(field: "usageMetadata", reason: "is missing; nothing was recorded")
        }
        let model = events.reversed().lazy.compactMap { $0["modelVersion"]?.stringValue }.first
        let id = events.reversed().lazy.compactMap { $0["responseId"]?.stringValue }.first
        let prompt = try UsageCapture.count(usage, ["promptTokenCount"], prefix: "usageMetadata", required: true)!
        // A response cut off before any candidate may omit candidatesTokenCount: zero tokens.
        let candidates =
            try UsageCapture.count(usage, ["candidatesTokenCount"], prefix: "usageMetadata", required: false) ?? 0
        let thoughts =
            try UsageCapture.count(usage, ["thoughtsTokenCount"], prefix: "usageMetadata", required: false) ?? 0
        let cached =
            try UsageCapture.count(usage, ["cachedContentTokenCount"], prefix: "usageMetadata", required: false) ?? 0
        let tokens = TokenUsage(
            inputTokens: prompt, outputTokens: candidates + thoughts, cachedInputTokens: cached,
            reasoningTokens: thoughts)
        return CapturedUsage(provider: "gcp.gemini", model: model, requestID: id, usage: tokens)
    }
}
