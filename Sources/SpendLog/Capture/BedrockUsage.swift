/// Bedrock Converse: `inputTokens` excludes the cache, so input = `inputTokens` +
/// `cacheReadInputTokens` + `cacheWriteInputTokens`; 1-hour writes are the `cacheDetails` entries
/// with `ttl` `1h`. The response names no model and carries no request id (that is an HTTP header).
///
/// Streams (ConverseStream): the `metadata` event, `{"metadata": {"usage": …}}`, as JSON.
enum BedrockUsage {
    static func capture(_ events: [JSONValue]) throws(UsageCaptureError) -> CapturedUsage {
        let objects = events.map { $0["metadata"] ?? $0 }
        guard let final = objects.last(where: { $0["usage"] != nil }), let usage = final["usage"] else {
            throw UsageCaptureError(field: "usage", reason: "is missing; nothing was recorded")
        }
        let uncached = try UsageCapture.count(usage, ["inputTokens"], prefix: "usage", required: true)!
        let reads = try UsageCapture.count(usage, ["cacheReadInputTokens"], prefix: "usage", required: false) ?? 0
        let writes = try UsageCapture.count(usage, ["cacheWriteInputTokens"], prefix: "usage", required: false) ?? 0
        let output = try UsageCapture.count(usage, ["outputTokens"], prefix: "usage", required: true)!
        var writes1h: Int64 = 0
        for (index, detail) in (usage["cacheDetails"]?.arrayValue ?? []).enumerated()
        where detail["ttl"]?.stringValue == "1h" {
            writes1h += try UsageCapture.count(
                detail, ["inputTokens"], prefix: "usage.cacheDetails[\(index)]", required: true)!
        }
        let tokens = TokenUsage(
            inputTokens: uncached + reads + writes, outputTokens: output, cachedInputTokens: reads,
            cacheWriteTokens: writes, cacheWrite1hTokens: min(writes1h, writes))
        return CapturedUsage(provider: "aws.bedrock", usage: tokens)
    }
}
