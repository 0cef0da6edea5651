import Foundation
import Testing

@testable import SpendLog

@Suite struct SpendLogRecorderTests {
    func records(_ log: LogDirectory) throws -> [UsageRecord] {
        var found: [UsageRecord] = []
        try LogReader(directory: log).forEachRecord(matching: RecordFilter(), onCorruption: { Issue.record("\($0)") }) {
            found.append($0)
        }
        return found
    }

    @Test func aWrappedCallIsTimedPricedAndRecorded() async throws {
        let temp = TemporaryDirectory()
        let log = try temp.log()
        let recorder = SpendLogRecorder(writer: LogWriter(directory: log))
        let body = Array(
            try #require(
                FileManager.default.contents(
                    atPath: TestPaths.fixtures + "/provider-responses/anthropic_messages.json")))
        let result = try await recorder.record(project: "app", configure: { $0.user = "ann" }) {
            usleep(40_000)  // not Task.sleep: under libfaketime a task's sleep can outlast the test
            return body
        }
        #expect(result.value == body)
        let stored = try records(log)
        #expect(stored.count == 1)
        let record = try #require(stored.first)
        #expect(record.model == "claude-sonnet-4-5-20250929")
        #expect(record.provider == "anthropic")
        #expect(record.inputTokens == 249)
        #expect(record.outputTokens == 26)
        // 249 × 3e-6 + 26 × 15e-6
        #expect(record.cost.decimalString == "0.001137")
        #expect(record.costSource == .priced)
        #expect(record.user == "ann")
        #expect(record.status == .ok)
        // The call's own duration in milliseconds: at least the 40 ms slept (in seconds it would
        // read 0); in nanoseconds it would be at least 4 × 10^7, eleven hours in milliseconds (a
        // bound on the unit, not on the machine's speed).
        #expect((40..<40_000_000).contains(try #require(record.latencyMs)))
        #expect(record.requestID == "msg_01Egs18hRzhru3uGon3qesbA")
    }

    struct CallFailed: Error {}

    @Test func aFailedCallOrAUsagelessBodyRecordsNothing() async throws {
        let temp = TemporaryDirectory()
        let log = try temp.log()
        let recorder = SpendLogRecorder(writer: LogWriter(directory: log))
        await #expect(throws: CallFailed.self) {
            _ = try await recorder.record(project: "app") { () async throws -> [UInt8] in throw CallFailed() }
        }
        await #expect(throws: UsageCaptureError.self) {
            _ = try await recorder.record(project: "app", format: .openai) {
                Array(#"{"id":"x","model":"gpt-4o"}"#.utf8)
            }
        }
        #expect(try records(log).isEmpty)
    }

    /// Within limits: the estimate is held during the call, the real cost settles it, a failed
    /// call releases it, and a call whose hold does not fit is never made.
    @Test func aCallWithinLimitsHoldsSettlesReleasesOrIsNeverMade() async throws {
        let temp = TemporaryDirectory()
        let log = try temp.log()
        let budget = Budget(directory: log)
        try budget.setLimit(try LimitRule.parse(scope: "project=app", type: "cost", maximum: "0.01", window: "day"))
        let recorder = SpendLogRecorder(writer: LogWriter(directory: log))
        let body = Array(
            try #require(
                FileManager.default.contents(
                    atPath: TestPaths.fixtures + "/provider-responses/anthropic_messages.json")))
        let scope = try LimitScope.parse("project=app")

        let result = try await recorder.recordWithinLimits(
            budget: budget, scope: scope, estimate: try Money.parse("0.005"), project: "app",
            call: { () async throws -> [UInt8] in
                let held = try budget.reservations().count
                #expect(held == 1, "the estimate is held during the call")
                return body
            }, body: { $0 })
        #expect(result.record.cost.decimalString == "0.001137")
        #expect(try budget.reservations().isEmpty)
        #expect(try records(log).count == 1)

        await #expect(throws: CallFailed.self) {
            _ = try await recorder.recordWithinLimits(
                budget: budget, scope: scope, estimate: try Money.parse("0.005"), project: "app",
                call: { () async throws -> [UInt8] in throw CallFailed() }, body: { $0 })
        }
        #expect(try budget.reservations().isEmpty, "a failed call releases its hold")

        await #expect(throws: LimitExceeded.self) {
            _ = try await recorder.recordWithinLimits(
                budget: budget, scope: scope, estimate: try Money.parse("0.009"), project: "app",
                call: { () async throws -> [UInt8] in throw CallFailed() }, body: { $0 })
        }
        #expect(try records(log).count == 1)

        // A model limit the scope does not name is not held: the paid call is still recorded.
        try budget.setLimit(
            try LimitRule.parse(scope: "model=claude-sonnet-4-5-20250929", type: "cost", maximum: "0", window: "day"))
        let unheld = try await recorder.recordWithinLimits(
            budget: budget, scope: scope, estimate: try Money.parse("0.005"), project: "app",
            call: { () async throws -> [UInt8] in body }, body: { $0 })
        #expect(unheld.record.cost.decimalString == "0.001137")
        #expect(try records(log).count == 2)
        #expect(try budget.reservations().isEmpty)
    }
}
