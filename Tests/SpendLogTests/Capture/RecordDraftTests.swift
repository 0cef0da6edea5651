import Testing

@testable import SpendLog

/// Merging what a front end was given with what a provider response said.
@Suite struct RecordDraftTests {
    static let captured = CapturedUsage(
        provider: "anthropic", model: "claude-opus-4-5", requestID: "msg_1",
        usage: TokenUsage(
            inputTokens: 2510, outputTokens: 40, cachedInputTokens: 2000, cacheWriteTokens: 500,
            cacheWrite1hTokens: 300),
        serviceTier: .priority)
    static let now = Timestamp.parse("2026-11-23T10:00:00Z")!

    @Test func capturedValuesFillWhatIsNotGiven() throws {
        var draft = RecordDraft(captured: Self.captured)
        draft.project = "etl"
        draft.user = "ann"
        let record = try draft.record(now: Self.now)
        #expect(record.model == "claude-opus-4-5" && record.provider == "anthropic" && record.requestID == "msg_1")
        #expect(record.inputTokens == 2510 && record.outputTokens == 40)
        #expect(record.cachedInputTokens == 2000 && record.cacheWriteTokens == 500)
        #expect(record.cacheWrite1hTokens == 300 && record.serviceTier == .priority)
        #expect(record.user == "ann" && record.timestamp == Self.now && record.costSource == .unpriced)
    }

    @Test func givenValuesWinOverCapturedOnes() throws {
        var draft = RecordDraft(captured: Self.captured)
        draft.project = "etl"
        draft.model = "claude-opus-4-5-20251101"
        draft.inputTokens = 3000
        draft.cacheWriteTokens = 100
        draft.serviceTier = .standard
        draft.requestID = "req-given"
        draft.cost = Money(nanos: 7)
        let record = try draft.record(now: Self.now)
        #expect(record.model == "claude-opus-4-5-20251101" && record.inputTokens == 3000)
        #expect(record.cacheWriteTokens == 100)
        // The captured 1-hour writes were part of the captured writes, not of the ones given.
        #expect(record.cacheWrite1hTokens == nil)
        #expect(record.serviceTier == nil && record.requestID == "req-given")
        #expect(record.cost == Money(nanos: 7) && record.costSource == .provided)
    }

    @Test(arguments: [
        ("no project", "project", "is required"),
        ("no model", "model", "is required"),
        ("no input", "input_tokens", "is required"),
        ("empty project", "project", "must not be empty"),
        ("reads above input", "cached_input_tokens", "more than input_tokens"),
        ("1h above writes", "cache_write_1h_tokens", "more than cache_write_tokens"),
        ("control in tag", "tags.env", "control character"),
    ])
    func aDraftThatBreaksARuleNamesTheField(change: String, field: String, reason: String) {
        var draft = RecordDraft()
        draft.project = "etl"
        draft.model = "gpt-4.1"
        draft.inputTokens = 10
        draft.outputTokens = 1
        draft.cacheWriteTokens = 2
        switch change {
        case "no project": draft.project = nil
        case "no model": draft.model = nil
        case "no input": draft.inputTokens = nil
        case "empty project": draft.project = ""
        case "reads above input": draft.cachedInputTokens = 11
        case "1h above writes": draft.cacheWrite1hTokens = 3
        default: draft.tags = ["env": "a\u{1}"]
        }
        #expect {
            try draft.record(now: Self.now)
        } throws: { error in
            guard let error = error as? RecordValidationError else { return false }
            return error.field == field && error.reason.contains(reason)
        }
    }

    @Test func aResponseWithoutAModelNeedsOneGiven() throws {
        var draft = RecordDraft(captured: CapturedUsage(provider: "aws.bedrock", usage: TokenUsage(inputTokens: 1)))
        draft.project = "etl"
        #expect(
            throws: RecordValidationError(
                field: "model",
                reason: "is required: the response does not name the model (Bedrock Converse never does)")
        ) { try draft.record(now: Self.now) }
        draft.model = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
        #expect(try draft.record(now: Self.now).provider == "aws.bedrock")
    }
}
