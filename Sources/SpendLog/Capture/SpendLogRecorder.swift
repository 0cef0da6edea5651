/// Records the calls an app makes: wraps the call, times it, reads usage from the response body,
/// prices it and appends the record.
///
/// ```swift
/// let recorder = SpendLogRecorder(writer: LogWriter(directory: log), prices: try PriceFile
///     .locate(explicit: nil, environment: env).effectiveTable())
/// let body = try await recorder.record(project: "etl", format: .openai) {
///     try await client.post(request)          // returns the response body as [UInt8]
/// }
/// ```
///
/// When the call throws, nothing is recorded (no usage is known) and the error is rethrown. When
/// the body has no usage, ``UsageCaptureError`` is thrown and nothing is recorded; the body is
/// lost to the caller in that case, so pass a `response` closure that keeps it if needed.
public final class SpendLogRecorder: Sendable {
    /// The writer records are appended with.
    public let writer: LogWriter
    /// What prices the records that arrive without a cost.
    public let pricer: RecordPricer

    /// A recorder appending through `writer`, pricing from `prices`.
    public init(writer: LogWriter, prices: PriceTable = .builtin) {
        self.writer = writer
        self.pricer = RecordPricer(table: prices)
    }

    /// The result of a recorded call: the call's value, the record written, and how it was priced.
    public struct Recorded<Value: Sendable>: Sendable {
        /// What the call returned.
        public var value: Value
        /// The record appended.
        public var record: UsageRecord
        /// How the record was priced.
        public var pricing: RecordPricer.Outcome
    }

    /// Runs `call`, reads usage from `body(value)`, and appends a record for `project`.
    /// `configure` sets the other fields (user, caller, tags, a model the response does not name).
    public func record<Value: Sendable>(
        project: String,
        format: ResponseFormat = .auto,
        model: String? = nil,
        configure: (inout UsageRecord) -> Void = { _ in },
        call: () async throws -> Value,
        body: (Value) -> [UInt8]
    ) async throws -> Recorded<Value> {
        let (value, record, outcome) = try await callAndCapture(
            project: project, format: format, model: model, configure: configure, call: call, body: body)
        let written = try writer.append(record)
        return Recorded(value: value, record: written, pricing: outcome)
    }

    /// The common case: the call returns the response body itself.
    public func record(
        project: String,
        format: ResponseFormat = .auto,
        model: String? = nil,
        configure: (inout UsageRecord) -> Void = { _ in },
        call: () async throws -> [UInt8]
    ) async throws -> Recorded<[UInt8]> {
        try await record(project: project, format: format, model: model, configure: configure, call: call, body: { $0 })
    }

    /// Like ``record(project:format:model:configure:call:body:)``, within spending limits: holds
    /// `estimate` against every limit covering `scope` before the call (throwing ``LimitExceeded``
    /// without calling when it does not fit), then settles the hold with the real record, or
    /// releases it when the call fails. A process that dies mid-call leaves a hold that expires by
    /// itself (`ttlMs`, or when the process is gone). Limits on fields `scope` does not name are
    /// not held: a call that passes one of them is still recorded, as the money is spent.
    public func recordWithinLimits<Value: Sendable>(
        budget: Budget,
        scope: LimitScope,
        estimate: Money,
        ttlMs: Int64 = 600_000,
        project: String,
        format: ResponseFormat = .auto,
        model: String? = nil,
        configure: (inout UsageRecord) -> Void = { _ in },
        call: () async throws -> Value,
        body: (Value) -> [UInt8]
    ) async throws -> Recorded<Value> {
        let hold = try budget.reserve(fields: scope, amount: estimate, ttlMs: ttlMs)
        let value: Value
        let record: UsageRecord
        let outcome: RecordPricer.Outcome
        do {
            (value, record, outcome) = try await callAndCapture(
                project: project, format: format, model: model, configure: configure, call: call, body: body)
        } catch {
            try? budget.release(hold.id)
            throw error
        }
        // The call was made and paid for: recorded even past a limit the hold did not cover, or
        // when the hold expired during the call.
        let written = try budget.settlePaidCall(hold.id, record: record).record
        return Recorded(value: value, record: written, pricing: outcome)
    }

    /// Times `call` and builds the priced, validated record from its response.
    private func callAndCapture<Value: Sendable>(
        project: String,
        format: ResponseFormat,
        model: String?,
        configure: (inout UsageRecord) -> Void,
        call: () async throws -> Value,
        body: (Value) -> [UInt8]
    ) async throws -> (Value, UsageRecord, RecordPricer.Outcome) {
        switch try await SpendLogRecorder.run(
            call, body: body, pricer: pricer, project: project, format: format, model: model,
            recordUnchargedFailures: false, configure: configure)
        {
        case .returned(let value, let record, let outcome): return (value, record, outcome)
        case .threw(let error, _): throw error
        }
    }

    /// What became of a timed call.
    enum CallOutcome<Value> {
        /// It returned: its value, and the priced, validated record of its response.
        case returned(Value, UsageRecord, RecordPricer.Outcome)
        /// It threw: its error, and the record of the failure when one is known (the usage of a
        /// ``ChargedCallError``'s response, `status: error`; else, when `recordUnchargedFailures`
        /// and a model are given, a record of zero tokens).
        case threw(any Error, UsageRecord?)
    }

    /// Times `call` and builds its record. Throws only ``UsageCaptureError``, for a call that
    /// returned a body without usage.
    static func run<Value>(
        _ call: () async throws -> Value, body: (Value) -> [UInt8], pricer: RecordPricer, project: String,
        format: ResponseFormat, model: String?, recordUnchargedFailures: Bool, configure: (inout UsageRecord) -> Void
    ) async throws -> CallOutcome<Value> {
        let clock = ContinuousClock()
        let start = clock.now
        let value: Value
        do {
            value = try await call()
        } catch let callError {
            let latency = milliseconds(clock.now - start)
            if let charged = callError as? any ChargedCallError,
                let (record, _) = try? capturedRecord(
                    charged.responseBody, pricer: pricer, project: project, format: format, model: model,
                    latencyMs: latency, status: .error, configure: configure)
            {
                return .threw(callError, record)
            }
            guard recordUnchargedFailures, let model else { return .threw(callError, nil) }
            var failed = UsageRecord(project: project, model: model)
            failed.latencyMs = latency
            failed.status = .error
            configure(&failed)
            return .threw(callError, (try? pricer.price(&failed)) != nil ? failed : nil)
        }
        let (record, outcome) = try capturedRecord(
            body(value), pricer: pricer, project: project, format: format, model: model,
            latencyMs: milliseconds(clock.now - start), status: .ok, configure: configure)
        return .returned(value, record, outcome)
    }

    /// The priced, validated record of a response `body`.
    static func capturedRecord(
        _ body: [UInt8], pricer: RecordPricer, project: String, format: ResponseFormat, model: String?,
        latencyMs: Int64, status: UsageRecord.Status, configure: (inout UsageRecord) -> Void
    ) throws -> (UsageRecord, RecordPricer.Outcome) {
        var record = try UsageCapture.capture(body, format: format).record(project: project, model: model)
        record.latencyMs = latencyMs
        record.status = status
        configure(&record)
        let outcome = try pricer.price(&record)
        do { try record.validate() } catch { throw UsageCaptureError(field: error.field, reason: error.reason) }
        return (record, outcome)
    }

    static func milliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
