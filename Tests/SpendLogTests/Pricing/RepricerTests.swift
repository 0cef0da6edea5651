import Foundation
import Testing

@testable import SpendLog

/// Adjustments (docs/FORMAT.md, "Adjustments") in the library: their ids, their line, how every
/// reader counts them, and the repricer's plan.
@Suite struct RepricerTests {
    static let unpriced: UsageRecord = {
        var record = UsageRecord(
            id: RecordID.parse("019a9f00-1234-7abc-8def-0123456789ab")!,
            timestamp: Timestamp.parseDateOrTime("2026-11-20T10:00:00.000Z")!, project: "etl", model: "new-model-x",
            inputTokens: 1000, outputTokens: 500)
        record.latencyMs = 12
        record.role = "agent"
        record.status = .error
        return record
    }()

    @Test func anAdjustmentsIDIsAUUIDv7OfItsRecordsMillisecondAndTheSameEachTime() throws {
        let id = RecordID.adjustment(of: Self.unpriced.id)
        #expect(id == RecordID.adjustment(of: Self.unpriced.id))
        #expect(id != Self.unpriced.id)
        #expect(id.version == 7 && id.low >> 62 == 0b10)
        #expect(id.milliseconds == Self.unpriced.id.milliseconds)
        let other = RecordID(high: Self.unpriced.id.high, low: Self.unpriced.id.low ^ 1)
        #expect(RecordID.adjustment(of: other) != id)
    }

    @Test func anAdjustmentRoundTripsAndCountsItsCostAndNoRequest() throws {
        let adjustment = UsageRecord(adjusting: Self.unpriced, cost: Money(nanos: 6_000_000))
        try adjustment.validateForWriting()
        let line = adjustment.jsonLine()
        let parsed = try line.dropLast().withUnsafeBufferPointer { buffer throws(RecordParseError) in
            try RecordParser.parse(buffer, mode: .stored).record
        }
        #expect(parsed == adjustment)
        #expect(parsed.adjusts == Self.unpriced.id && parsed.role == "agent" && parsed.status == .error)
        #expect(parsed.latencyMs == nil && parsed.inputTokens == 0)

        var expected = RollupMetrics()
        expected.costNanos = 6_000_000
        expected.unpricedRequests = -1
        #expect(RollupMetrics(record: parsed) == expected)
        // The index's scanner hands the line to the full parser and counts the same.
        let scanner = RecordScanner()
        line.dropLast().withUnsafeBufferPointer { #expect(scanner.scanFast($0) == nil) }
        var scanning = scanner
        let scanned = try line.dropLast().withUnsafeBufferPointer { buffer throws(RecordParseError) in
            try scanning.scan(buffer)
        }
        #expect(scanned.metrics == expected)
        #expect(LimitMetric.requests.amount(of: parsed) == 0)
        #expect(LimitMetric.cost.amount(of: parsed) == 6_000_000)
        var sum = RollupMetrics(record: Self.unpriced)
        sum.add(expected)
        #expect(sum.requests == 1 && sum.unpricedRequests == 0 && sum.costNanos == 6_000_000 && sum.errors == 1)
    }

    @Test(arguments: [
        (#","input_tokens":1,"cost_usd":1,"cost_source":"priced""#, "input_tokens"),
        (#","cost_usd":1,"cost_source":"provided""#, "cost_source"),
        (#","cost_source":"unpriced""#, "cost_source"),
        (#","cost_usd":1,"cost_source":"priced","latency_ms":5"#, "latency_ms"),
        (#","cost_usd":1,"cost_source":"priced","adjusts":"019a6f3c-5b2e-4c41-8d2a-3f9e1b7c6d5a""#, "adjusts"),
    ])
    func anAdjustmentThatIsNotOnlyAPricedCostIsRefused(members: String, field: String) {
        let adjusts = members.contains(#""adjusts""#) ? "" : #","adjusts":"019a9f00-1234-7abc-8def-0123456789ab""#
        let line = Array(
            (#"{"v":1,"id":"019a9f00-1234-7abc-8def-0123456789ac","ts":"2026-11-20T10:00:00.000Z","project":"etl","model":"m""#
                + members + adjusts + "}").utf8)
        let result = line.withUnsafeBufferPointer { buffer in
            Result { () throws(RecordParseError) in try RecordParser.parse(buffer, mode: .stored).record }
        }
        guard case .failure(let error) = result else {
            Issue.record("accepted \(String(decoding: line, as: UTF8.self))")
            return
        }
        #expect(error.field == field, "\(error)")
    }

    @Test func thePlanPricesOnlyUnpricedRecordsWithoutAnAdjustment() throws {
        let temp = TemporaryDirectory()
        let log = try temp.log()
        var provided = Self.unpriced
        provided.id = RecordID.generate(at: provided.timestamp)
        provided.cost = Money(nanos: 5)
        provided.costSource = .provided
        var unknown = Self.unpriced
        unknown.id = RecordID.generate(at: unknown.timestamp)
        unknown.model = "still-unknown"
        let writer = LogWriter(directory: log)
        _ = try writer.append(contentsOf: [Self.unpriced, provided, unknown])
        // $2 and $8 per million tokens.
        let table = PriceTable(entries: [
            PriceEntry(
                model: "new-model-x",
                standard: PriceSchedule(
                    base: PriceComponents(
                        input: try TokenPrice.parse(perMillionTokens: "2"),
                        output: try TokenPrice.parse(perMillionTokens: "8"))))
        ])
        let repricer = Repricer(directory: log, table: table)
        let plan = try repricer.plan()
        #expect(plan.adjustments == [UsageRecord(adjusting: Self.unpriced, cost: Money(nanos: 6_000_000))])
        #expect(plan.stillUnpriced.rows.map(\.model) == ["still-unknown"])
        #expect(try repricer.apply(plan, writer: writer).records.count == 1)
        let again = try repricer.plan()
        #expect(again.adjustments.isEmpty && again.alreadyRepriced == 1)
        // Appending the first plan again is recognised as already recorded.
        #expect(try repricer.apply(plan, writer: writer).alreadyRecorded.count == 1)
    }
}
