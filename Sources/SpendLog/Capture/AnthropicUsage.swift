/// Anthropic Messages: `input_tokens` excludes the cache, so input = `input_tokens` +
/// `cache_read_input_tokens` + `cache_creation_input_tokens`.
///
/// Streams: `message_start` carries the message with its input-side usage; each `message_delta`
/// carries cumulative usage (always `output_tokens`, and the input side where the API sends it),
/// which overrides what came before. A `message_delta` alone is accepted only if it carries
/// `input_tokens`.
///
/// Compaction: a response that summarised its context first carries `usage.iterations`, one
/// entry per sampling step (the compaction, then the message); the top-level counts are the last
/// step only, so the call's usage is the sum of the steps.
enum AnthropicUsage {
    static let usageKeys = ["input_tokens", "cache_read_input_tokens", "cache_creation_input_tokens", "output_tokens"]

    static func capture(_ events: [JSONValue]) throws(UsageCaptureError) -> CapturedUsage {
        var merged: [(key: String, value: JSONValue)] = []
        var cacheCreation: JSONValue?
        var model: String?
        var id: String?
        var tier: ServiceTier?
        var sawUsage = false
        func take(_ usage: JSONValue) {
            sawUsage = true
            for member in usage.objectMembers ?? [] where member.value != .null {
                if member.key == "cache_creation" {
                    cacheCreation = member.value
                    continue
                }
                if member.key == "service_tier" {
                    tier = member.value.stringValue.flatMap(ServiceTier.init(name:)) ?? tier
                }
                if let index = merged.firstIndex(where: { $0.key == member.key }) {
                    merged[index].value = member.value
                } else {
                    merged.append(member)
                }
            }
        }
        for event in events {
            let message = event["type"]?.stringValue == "message_start" ? event["message"] : event
            if let message {
                if let m = message["model"]?.stringValue { model = m }
                if let i = message["id"]?.stringValue { id = i }
                if let usage = message["usage"], usage.objectMembers != nil { take(usage) }
            }
        }
        guard sawUsage else { throw UsageCaptureError(field: "usage", reason: "is missing; nothing was recorded") }
        let usage = JSONValue.object(merged)
        guard usage["input_tokens"] != nil else {
            throw UsageCaptureError(
                field: "usage.input_tokens",
                reason:
                    "is missing; a message_delta event carries only output tokens, so give the whole stream (message_start carries the input tokens)"
            )
        }
        // With server-side compaction the top-level usage is the final sampling step only; every
        // step is billed, and `iterations` lists them all.
        let steps: [(usage: JSONValue, cacheCreation: JSONValue?, prefix: String)]
        if let iterations = usage["iterations"]?.arrayValue, !iterations.isEmpty {
            steps = iterations.enumerated().map { ($1, $1["cache_creation"], "usage.iterations[\($0)]") }
        } else {
            steps = [(usage, cacheCreation, "usage")]
        }
        var tokens = TokenUsage()
        for step in steps {
            let uncached = try UsageCapture.count(step.usage, ["input_tokens"], prefix: step.prefix, required: true)!
            let reads =
                try UsageCapture.count(step.usage, ["cache_read_input_tokens"], prefix: step.prefix, required: false)
                ?? 0
            let writes =
                try UsageCapture.count(
                    step.usage, ["cache_creation_input_tokens"], prefix: step.prefix, required: false) ?? 0
            var writes1h: Int64 = 0
            if let creation = step.cacheCreation, creation != .null {
                writes1h =
                    try UsageCapture.count(
                        creation, ["ephemeral_1h_input_tokens"], prefix: step.prefix + ".cache_creation",
                        required: false) ?? 0
            }
            let output = try UsageCapture.count(step.usage, ["output_tokens"], prefix: step.prefix, required: true)!
            tokens.inputTokens += uncached + reads + writes
            tokens.outputTokens += output
            tokens.cachedInputTokens += reads
            tokens.cacheWriteTokens += writes
            tokens.cacheWrite1hTokens += min(writes1h, writes)
        }
        return CapturedUsage(provider: "anthropic", model: model, requestID: id, usage: tokens, serviceTier: tier)
    }
}
