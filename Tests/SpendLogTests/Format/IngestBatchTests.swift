import Testing

@testable import SpendLog

/// JSON lines to records, before anything is written: what `ingest` writes or refuses.
@Suite struct IngestBatchTests {
    static let now = Timestamp.parse("2026-11-23T10:00:00Z")!

    @Test func linesBecomeRecordsPricedAndNumberedAndBadLinesAreNamed() {
        let input = [
            #"{"project":"etl","model":"gpt-4.1","input_tokens":1000000,"output_tokens":0}"#,
            "",
            "   \t",
            #"{"project":"etl","model":"house-model","input_tokens":10,"output_tokens":1}"# + "\r",
            #"{"project":"etl","model":"gpt-4.1","input_tokens":-1}"#,
            #"{"project":"etl","model":"house-model","input_tokens":5,"output_tokens":1,"ts":"2026-11-22T00:00:00Z"}"#,
            #"{"project":"etl","model":"gpt-4.1","cost_usd":0.5,"service_tier":"bulk"}"#,
            #"{"project":"etl","model":"gpt-4.1","input_tokens":1,"output_tokens":1,"service_tier":"bulk"}"#,
            "not json",
            #"{"project":"etl","model":"gpt-4.1","cost_usd":0.25}"#,
        ].joined(separator: "\n")
        let batch = IngestBatch(Array(input.utf8), now: Self.now, prices: .builtin)
        #expect(batch.lineNumbers == [1, 4, 6, 7, 10])
        #expect(batch.records.map(\.costSource) == [.priced, .unpriced, .unpriced, .provided, .provided])
        #expect(batch.records[0].cost.decimalString == "2")  // gpt-4.1: $2 per 1M input tokens
        #expect(batch.records[0].timestamp == Self.now)
        #expect(batch.records[2].timestamp == Timestamp.parse("2026-11-22T00:00:00Z"))
        #expect(batch.records.map(\.id).count == Set(batch.records.map(\.id)).count)
        #expect(batch.problems.map(\.line) == [5, 8, 9])
        #expect(batch.problems[0].description == "line 5: input_tokens: must not be negative")
        #expect(batch.problems[1].reason.hasPrefix("service_tier: must be standard, batch, priority or flex"))
        #expect(batch.unpriced.rows.map(\.model) == ["house-model"])
        #expect(batch.unpriced.totalRequests == 2)
    }

    @Test func anEmptyInputIsAnEmptyBatch() {
        let batch = IngestBatch(Array("\n\n".utf8), now: Self.now, prices: .builtin)
        #expect(batch.records.isEmpty && batch.problems.isEmpty)
    }

    /// Only a line that gives its own id makes the batch a possible retry: a tag named "id" does not.
    @Test func onlyALineThatGivesItsIdAsksForTheRetryCheck() {
        let now = Timestamp.parse("2026-11-23T10:00:00Z")!
        let tagged = #"{"project":"p","model":"m","input_tokens":1,"output_tokens":1,"cost_usd":1,"tags":{"id":"x"}}"#
        #expect(!IngestBatch(Array(tagged.utf8), now: now, prices: .builtin).givesIDs)
        let given =
            #"{"id":"019aaf00-0000-7000-8000-000000000001","project":"p","model":"m","input_tokens":1,"output_tokens":1,"cost_usd":1}"#
        #expect(IngestBatch(Array((tagged + "\n" + given).utf8), now: now, prices: .builtin).givesIDs)
    }
}
