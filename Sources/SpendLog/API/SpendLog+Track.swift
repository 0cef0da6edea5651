/// An error of a call that may have been charged: it carries the response received before the
/// failure — a whole body, or the events of a stream so far — for ``SpendLog/track(project:format:model:recordUnchargedFailures:configure:call:body:)``
/// to read usage from.
public protocol ChargedCallError: Error {
    /// What the provider sent before the call failed, as received: a whole response body, or
    /// the events of a stream so far. Usage is read from it as from a successful call's body.
    var responseBody: [UInt8] { get }
}

extension SpendLog {
    /// Times `call`, reads usage from `body(value)`, prices the call and appends its record
    /// (`status: ok`); returns the call's value with the record.
    ///
    /// When `call` throws, its error is rethrown after recording what is known of the call:
    /// - the error is a ``ChargedCallError`` whose ``ChargedCallError/responseBody`` has usage
    ///   (the provider said what it charged before the call failed, a stream cut after its usage
    ///   event): that usage is recorded, priced, with `status: error`;
    /// - otherwise nothing is recorded, as no usage is known — unless `recordUnchargedFailures`
    ///   is set and `model` is given: then a record of zero tokens with `status: error` counts the
    ///   failed call.
    ///
    /// If that record cannot be written, the ``SpendLogError`` is thrown instead, its message
    /// naming the call's error. A successful call whose body has no usage throws
    /// ``UsageCaptureError`` and records nothing.
    public func track<Value: Sendable>(
        project: String,
        format: ResponseFormat = .auto,
        model: String? = nil,
        recordUnchargedFailures: Bool = false,
        configure: (inout UsageRecord) -> Void = { _ in },
        call: () async throws -> Value,
        body: (Value) -> [UInt8]
    ) async throws -> SpendLogRecorder.Recorded<Value> {
        switch try await SpendLogRecorder.run(
            call, body: body, pricer: RecordPricer(table: prices), project: project, format: format, model: model,
            recordUnchargedFailures: recordUnchargedFailures, configure: configure)
        {
        case .returned(let value, let record, let outcome):
            let written = try await append(record)
            return SpendLogRecorder.Recorded(value: value, record: written, pricing: outcome)
        case .threw(let callError, let failed):
            if let failed {
                do throws(SpendLogError) { try await append(failed) } catch {
                    throw SpendLog.unrecorded(error, callError: callError)
                }
            }
            throw callError
        }
    }

    /// Like ``track(project:format:model:recordUnchargedFailures:configure:call:body:)``, within
    /// spending limits: before the call, holds `estimate` against every limit covering `scope`
    /// (``reserve(fields:amount:ttlMs:holder:now:)``), and when that does not fit throws
    /// ``BudgetError/limitExceeded(_:)`` without calling. After the call, settles the hold with
    /// the call's real record. A call that fails is recorded as `track` records it (its known
    /// usage, `status: error`) and its hold released; a body without usage releases the hold and
    /// throws ``UsageCaptureError``.
    ///
    /// A limit the hold did not cover (on a field `scope` does not name) may have no room left
    /// when the call returns, or the hold may have expired during a call longer than `ttlMs`:
    /// the call was made and paid for, so it is recorded all the same (and the hold freed). A
    /// process that dies mid-call leaves a hold that expires by itself, after `ttlMs` or when the
    /// process is gone. A failure of the log throws ``BudgetError/failed(_:)``, naming what may
    /// have been written.
    public func trackWithinLimits<Value: Sendable>(
        scope: LimitScope,
        estimate: Money,
        ttlMs: Int64 = 600_000,
        project: String,
        format: ResponseFormat = .auto,
        model: String? = nil,
        recordUnchargedFailures: Bool = false,
        configure: (inout UsageRecord) -> Void = { _ in },
        call: () async throws -> Value,
        body: (Value) -> [UInt8]
    ) async throws -> SpendLogRecorder.Recorded<Value> {
        let hold = try await reserve(fields: scope, amount: estimate, ttlMs: ttlMs)
        let outcome: SpendLogRecorder.CallOutcome<Value>
        do {
            outcome = try await SpendLogRecorder.run(
                call, body: body, pricer: RecordPricer(table: prices), project: project, format: format, model: model,
                recordUnchargedFailures: recordUnchargedFailures, configure: configure)
        } catch {
            try? await release(hold.id)
            throw error
        }
        switch outcome {
        case .returned(let value, let record, let pricing):
            let written: UsageRecord
            do throws(SpendLogError) { written = try await settleTracked(hold, record) } catch {
                throw BudgetError.failed(error)
            }
            return SpendLogRecorder.Recorded(value: value, record: written, pricing: pricing)
        case .threw(let callError, let failed):
            guard let failed else {
                try? await release(hold.id)
                throw callError
            }
            do throws(SpendLogError) { try await settleTracked(hold, failed) } catch {
                throw BudgetError.failed(SpendLog.unrecorded(error, callError: callError))
            }
            throw callError
        }
    }

    /// Records a paid call against its hold (``Budget/settlePaidCall(_:record:now:)``); when the
    /// log fails with nothing written, frees the hold.
    @discardableResult
    private func settleTracked(_ hold: Reservation, _ record: UsageRecord) async throws(SpendLogError) -> UsageRecord {
        do throws(SpendLogError) {
            return try await settlePaidCall(hold.id, record: record).record
        } catch {
            if error.possiblyWritten.isEmpty { try? await release(hold.id) }
            throw error
        }
    }

    /// The error of a failed call whose record could not be written: the log's error, naming the
    /// call's.
    private static func unrecorded(_ error: SpendLogError, callError: any Error) -> SpendLogError {
        var failed = error
        failed.message = "The call failed (\(callError)), and its record could not be written: " + failed.message
        return failed
    }

    /// The common case: the call returns the response body itself.
    public func track(
        project: String,
        format: ResponseFormat = .auto,
        model: String? = nil,
        recordUnchargedFailures: Bool = false,
        configure: (inout UsageRecord) -> Void = { _ in },
        call: () async throws -> [UInt8]
    ) async throws -> SpendLogRecorder.Recorded<[UInt8]> {
        try await track(
            project: project, format: format, model: model, recordUnchargedFailures: recordUnchargedFailures,
            configure: configure, call: call, body: { $0 })
    }

    /// ``trackWithinLimits(scope:estimate:ttlMs:project:format:model:recordUnchargedFailures:configure:call:body:)``
    /// for a call that returns the response body itself.
    public func trackWithinLimits(
        scope: LimitScope,
        estimate: Money,
        ttlMs: Int64 = 600_000,
        project: String,
        format: ResponseFormat = .auto,
        model: String? = nil,
        recordUnchargedFailures: Bool = false,
        configure: (inout UsageRecord) -> Void = { _ in },
        call: () async throws -> [UInt8]
    ) async throws -> SpendLogRecorder.Recorded<[UInt8]> {
        try await trackWithinLimits(
            scope: scope, estimate: estimate, ttlMs: ttlMs, project: project, format: format, model: model,
            recordUnchargedFailures: recordUnchargedFailures, configure: configure, call: call, body: { $0 })
    }
}
