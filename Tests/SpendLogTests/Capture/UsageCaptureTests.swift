import Foundation
import Testing

@testable import SpendLog

@Suite struct UsageCaptureTests {
    static let folder = TestPaths.fixtures + "/provider-responses"

    static func body(_ name: String) throws -> [UInt8] {
        Array(try #require(FileManager.default.contents(atPath: folder + "/" + name)))
    }

    struct Expected: Sendable, CustomTestStringConvertible {
        var file: String
        var format: ResponseFormat
        var provider: String
        var model: String?
        var requestID: String?
        var usage: TokenUsage
        var testDescription: String { file }
    }

    /// Token counts read by hand from each file, with the provider's semantics (docs/PRICING.md).
    static let expected: [Expected] = [
        Expected(
            file: "openai_chat_completions.json", format: .openai, provider: "openai", model: "gpt-5.4",
            requestID: "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT", usage: TokenUsage(inputTokens: 19, outputTokens: 10)),
        Expected(
            file: "openai_responses.json", format: .openai, provider: "openai", model: "o1-2024-12-17",
            requestID: "resp_67ccd7eca01881908ff0b5146584e408072912b2993db808",
            usage: TokenUsage(inputTokens: 81, outputTokens: 1035, reasoningTokens: 832)),
        Expected(
            file: "anthropic_messages.json", format: .anthropic, provider: "anthropic",
            model: "claude-sonnet-4-5-20250929",
            requestID: "msg_01Egs18hRzhru3uGon3qesbA", usage: TokenUsage(inputTokens: 249, outputTokens: 26)),
        // promptTokenCount includes the cache; output = candidates 15 + thoughts 73.
        Expected(
            file: "gemini_generate_content.json", format: .gemini, provider: "gcp.gemini", model: "gemini-2.5-flash",
            usage: TokenUsage(inputTokens: 12013, outputTokens: 88, cachedInputTokens: 11243, reasoningTokens: 73)),
        // inputTokens 2 excludes the cache: 2 + 0 reads + 1322 writes (5-minute ttl).
        Expected(
            file: "bedrock_converse.json", format: .bedrock, provider: "aws.bedrock",
            usage: TokenUsage(inputTokens: 1324, outputTokens: 5, cacheWriteTokens: 1322)),
        // Streams, whole. The last chunk carries usage (stream_options.include_usage).
        Expected(
            file: "openai_chat_completions_stream.sse", format: .openai, provider: "openai",
            model: "gpt-4o-mini-2024-07-18", requestID: "chatcmpl-Dx0Xq5Xx9rHB2ehcHZCRDsnuymUXc",
            usage: TokenUsage(inputTokens: 78, outputTokens: 9)),
        // response.completed carries the usage.
        Expected(
            file: "openai_responses_stream.sse", format: .openai, provider: "openai", model: "gpt-4.1-2025-04-14",
            requestID: "resp_01000000000000000000000000000000000000000000000000",
            usage: TokenUsage(inputTokens: 21, outputTokens: 3)),
        // message_start: 17 input; message_delta: 10 output (and the same input again, not added).
        Expected(
            file: "anthropic_messages_stream.sse", format: .anthropic, provider: "anthropic",
            model: "claude-sonnet-4-5-20250929", requestID: "msg_014Z12bJxZvKUjLkhBzUz358",
            usage: TokenUsage(inputTokens: 17, outputTokens: 10)),
        // Compaction: the top level counts the last step only (181 in, 8 out); the steps are
        // 100 + 55096 cache reads in, 83 out, then 181 in, 8 out.
        Expected(
            file: "anthropic_messages_stream_compaction.sse", format: .anthropic, provider: "anthropic",
            model: "claude-sonnet-4-6", requestID: "msg_011CduoCRono7pFKoTWpPAia",
            usage: TokenUsage(inputTokens: 55377, outputTokens: 91, cachedInputTokens: 55096)),
        // Running totals per chunk, CRLF line ends; the last: 18 prompt, 80 candidates + 35 thoughts.
        Expected(
            file: "gemini_stream_generate_content.sse", format: .gemini, provider: "gcp.gemini",
            model: "gemini-2.5-flash", requestID: "ru1garvBEoOiqtsP2fznmQw",
            usage: TokenUsage(inputTokens: 18, outputTokens: 115, reasoningTokens: 35)),
    ]

    @Test func everyReferenceResponseHasAnExpectation() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.folder).filter {
            $0.hasSuffix(".json") || $0.hasSuffix(".sse")
        }
        #expect(Set(files) == Set(Self.expected.map(\.file)))
    }

    @Test(arguments: expected)
    func referenceResponsesParseToTheRightTokens(_ expected: Expected) throws {
        for format in [expected.format, .auto] {
            let captured = try UsageCapture.capture(try Self.body(expected.file), format: format)
            #expect(captured.provider == expected.provider)
            #expect(captured.model == expected.model)
            #expect(captured.requestID == expected.requestID)
            #expect(captured.usage == expected.usage)
        }
    }

    @Test func anthropicCacheReadsAndOneHourWritesAddToInput() throws {
        let body = """
            {"id": "msg_1", "type": "message", "model": "claude-opus-4-5", "usage": {"input_tokens": 10,
             "cache_read_input_tokens": 2000, "cache_creation_input_tokens": 500,
             "cache_creation": {"ephemeral_5m_input_tokens": 200, "ephemeral_1h_input_tokens": 300}, "output_tokens": 40}}
            """
        let captured = try UsageCapture.capture(body)
        #expect(
            captured.usage
                == TokenUsage(
                    inputTokens: 2510, outputTokens: 40, cachedInputTokens: 2000, cacheWriteTokens: 500,
                    cacheWrite1hTokens: 300))
    }

    @Test func anOpenAIChatStreamTakesUsageFromTheFinalChunk() throws {
        let stream = """
            data: {"id":"chatcmpl-9","object":"chat.completion.chunk","model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"delta":{"content":"Hi"}}],"usage":null}

            data: {"id":"chatcmpl-9","object":"chat.completion.chunk","model":"gpt-4o-mini-2024-07-18","choices":[],"usage":{"prompt_tokens":1200,"completion_tokens":30,"total_tokens":1230,"prompt_tokens_details":{"cached_tokens":1024},"completion_tokens_details":{"reasoning_tokens":0}}}

            data: [DONE]

            """
        let captured = try UsageCapture.capture(stream)
        #expect(captured.model == "gpt-4o-mini-2024-07-18")
        #expect(captured.requestID == "chatcmpl-9")
        #expect(captured.usage == TokenUsage(inputTokens: 1200, outputTokens: 30, cachedInputTokens: 1024))
    }

    @Test func aResponsesStreamTakesUsageFromResponseCompleted() throws {
        let stream = """
            event: response.created
            data: {"type":"response.created","response":{"id":"resp_1","object":"response","model":"o4-mini","usage":null}}

            event: response.completed
            data: {"type":"response.completed","response":{"id":"resp_1","object":"response","model":"o4-mini","service_tier":"flex","usage":{"input_tokens":500,"input_tokens_details":{"cached_tokens":100},"output_tokens":300,"output_tokens_details":{"reasoning_tokens":200}}}}

            """
        let captured = try UsageCapture.capture(stream, format: .openai)
        #expect(
            captured.usage
                == TokenUsage(inputTokens: 500, outputTokens: 300, cachedInputTokens: 100, reasoningTokens: 200))
        #expect(captured.serviceTier == .flex)
        #expect(captured.requestID == "resp_1")
    }

    @Test func anAnthropicStreamCombinesMessageStartAndTheLastMessageDelta() throws {
        let stream = """
            event: message_start
            data: {"type":"message_start","message":{"id":"msg_7","type":"message","model":"claude-haiku-4-5-20251001","usage":{"input_tokens":25,"cache_read_input_tokens":1000,"cache_creation_input_tokens":0,"output_tokens":1}}}

            event: content_block_delta
            data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello"}}

            event: message_delta
            data: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":15}}

            event: message_delta
            data: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":42}}

            event: message_stop
            data: {"type":"message_stop"}

            """
        let captured = try UsageCapture.capture(stream)
        #expect(captured.model == "claude-haiku-4-5-20251001")
        #expect(captured.requestID == "msg_7")
        #expect(captured.usage == TokenUsage(inputTokens: 1025, outputTokens: 42, cachedInputTokens: 1000))
    }

    @Test func aLoneAnthropicMessageDeltaWithoutInputIsRejected() {
        let chunk = #"{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":42}}"#
        #expect(
            throws: UsageCaptureError(
                field: "usage.input_tokens",
                reason:
                    "is missing; a message_delta event carries only output tokens, so give the whole stream (message_start carries the input tokens)"
            )
        ) { try UsageCapture.capture(chunk, format: .anthropic) }
    }

    @Test func aGeminiStreamArrayTakesTheLastUsageMetadata() throws {
        let stream = """
            [{"candidates":[{"content":{"parts":[{"text":"A"}]}}],"usageMetadata":{"promptTokenCount":100,"candidatesTokenCount":1},"modelVersion":"gemini-2.5-pro","responseId":"r-1"},
             {"candidates":[{"content":{"parts":[{"text":"B"}]}}],"usageMetadata":{"promptTokenCount":100,"candidatesTokenCount":20,"thoughtsTokenCount":5},"modelVersion":"gemini-2.5-pro","responseId":"r-1"}]
            """
        let captured = try UsageCapture.capture(stream, format: .gemini)
        #expect(captured.usage == TokenUsage(inputTokens: 100, outputTokens: 25, reasoningTokens: 5))
        #expect(captured.requestID == "r-1")
    }

    @Test func aBedrockStreamMetadataEventAndOneHourCacheDetails() throws {
        let event =
            #"{"metadata":{"usage":{"inputTokens":3,"outputTokens":7,"cacheReadInputTokens":10,"cacheWriteInputTokens":500,"cacheDetails":[{"inputTokens":200,"ttl":"1h"},{"inputTokens":300,"ttl":"5m"}]},"metrics":{"latencyMs":10}}}"#
        let captured = try UsageCapture.capture(event)
        #expect(captured.provider == "aws.bedrock")
        #expect(
            captured.usage
                == TokenUsage(
                    inputTokens: 513, outputTokens: 7, cachedInputTokens: 10, cacheWriteTokens: 500,
                    cacheWrite1hTokens: 200))
    }

    @Test(arguments: [
        (#"{"id":"x","object":"chat.completion","model":"gpt-4o","choices":[]}"#, ResponseFormat.openai, "usage"),
        (
            #"{"id":"x","object":"chat.completion","model":"gpt-4o","usage":{"completion_tokens":3}}"#, .openai,
            "usage.prompt_tokens"
        ),
        (
            #"{"id":"x","object":"chat.completion","model":"gpt-4o","usage":{"prompt_tokens":-1,"completion_tokens":3}}"#,
            .openai, "usage.prompt_tokens"
        ),
        (
            #"{"id":"x","object":"chat.completion","model":"gpt-4o","usage":{"prompt_tokens":"7","completion_tokens":3}}"#,
            .openai, "usage.prompt_tokens"
        ),
        (
            #"{"id":"x","object":"chat.completion","model":"gpt-4o","usage":{"prompt_tokens":1.5,"completion_tokens":3}}"#,
            .openai, "usage.prompt_tokens"
        ),
        (#"{"type":"message","model":"claude-haiku-4-5","content":[]}"#, .anthropic, "usage"),
        (#"{"type":"message","usage":{"input_tokens":1}}"#, .anthropic, "usage.output_tokens"),
        (#"{"candidates":[]}"#, .gemini, "usageMetadata"),
        (#"{"usageMetadata":{"candidatesTokenCount":2}}"#, .gemini, "usageMetadata.promptTokenCount"),
        (#"{"output":{},"stopReason":"end_turn"}"#, .bedrock, "usage"),
        (#"{"usage":{"outputTokens":2}}"#, .bedrock, "usage.inputTokens"),
    ])
    func malformedOrUsagelessResponsesNameWhatIsMissing(body: String, format: ResponseFormat, field: String) {
        do {
            _ = try UsageCapture.capture(body, format: format)
            Issue.record("accepted \(body)")
        } catch {
            #expect(error.field == field, "\(error)")
        }
    }

    @Test(arguments: ["", "   ", "not json", "{\"a\":", #"{"hello": "world"}"#])
    func bodiesThatAreNotResponsesAreRejected(body: String) {
        #expect(throws: UsageCaptureError.self) { try UsageCapture.capture(body) }
    }

    @Test func aRecordFromCapturedUsageKeepsRequestIdAndOneHourWrites() throws {
        let captured = CapturedUsage(
            provider: "anthropic", model: "claude-opus-4-5", requestID: "msg_1",
            usage: TokenUsage(
                inputTokens: 2510, outputTokens: 40, cachedInputTokens: 2000, cacheWriteTokens: 500,
                cacheWrite1hTokens: 300))
        var record = try captured.record(project: "p")
        #expect(record.requestID == "msg_1")
        #expect(record.cacheWrite1hTokens == 300)
        try RecordPricer(table: .builtin).price(&record)
        // 10 × 5e-6 + 2000 × 0.5e-6 + 200 × 6.25e-6 + 300 × 10e-6 + 40 × 25e-6
        #expect(record.cost.decimalString == "0.0063")
        #expect(String(decoding: record.jsonLine(), as: UTF8.self).contains(#""cache_write_1h_tokens":300"#))
        #expect(throws: UsageCaptureError.self) {
            try CapturedUsage(provider: "aws.bedrock", usage: TokenUsage()).record(project: "p")
        }
    }
}
