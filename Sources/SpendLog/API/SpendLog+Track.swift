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
        let pricer = RecordPricer(table: prices)
        let clock = ContinuousClock()
        let start = clock.now
        let value: Value
        do {
            value = try await call()
        } catch let callError {
            let failed = failedCallRecord(
                callError, pricer: pricer, latencyMs: SpendLogRecorder.milliseconds(clock.now - start),
                project: project, format: format, model: model, recordUnchargedFailures: recordUnchargedFailures,
                configure: configure)
            if let failed {
                do throws(SpendLogError) {
                    try await append(failed)
                } catch {
                    throw SpendLog.unrecorded(error, callError: callError)
                }
            }
            throw callError
        }
        let latency = SpendLogRecorder.milliseconds(clock.now - start)
        let (record, outcome) = try SpendLogRecorder.capturedRecord(
            body(value), pricer: pricer, project: project, format: format, model: model, latencyMs: latency,
            status: .ok, configure: configure)
        let written = try await append(record)
        return SpendLogRecorder.Recorded(value: value, record: written, pricing: outcome)
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
        let pricer = RecordPricer(table: prices)
        let clock = ContinuousClock()
        let start = clock.now
        let value: Value
        let record: UsageRecord
        let outcome: RecordPricer.Outcome
        do {
            value = try await call()
        } catch let callError {
            let failed = failedCallRecord(
                callError, pricer: pricer, latencyMs: SpendLogRecorder.milliseconds(clock.now - start),
                project: project, format: format, model: model, recordUnchargedFailures: recordUnchargedFailures,
                configure: configure)
            if let failed {
                do throws(BudgetError) {
                    try await settleAnyway(hold, failed)
                } catch {
                    switch error {
                    case .failed(let failure): throw BudgetError.failed(SpendLog.unrecorded(failure, callError: callError))
                    case .limitExceeded: throw error
                    }
                }
            } else {
                try? await release(hold.id)
            }
            throw callError
        }
        do {
            (record, outcome) = try SpendLogRecorder.capturedRecord(
                body(value), pricer: pricer, project: project, format: format, model: model,
                latencyMs: SpendLogRecorder.milliseconds(clock.now - start), status: .ok, configure: configure)
        } catch {
            try? await release(hold.id)
            throw error
        }
        let written = try await settleAnyway(hold, record)
        return SpendLogRecorder.Recorded(value: value, record: written, pricing: outcome)
    }

    /// Settles `hold` with `record`. When a limit the hold did not cover refuses it, or the hold
    /// is gone (expired during a long call), appends the record all the same — the call was paid
    /// for — and frees the hold. When the log fails, frees the hold unless the record may be in
    /// the log.
    @discardableResult
    private func settleAnyway(_ hold: Reservation, _ record: UsageRecord) async throws(BudgetError) -> UsageRecord {
        do throws(BudgetError) {
            return try await settle(hold.id, record: record).record
        } catch {
            switch error {
            case .failed(let failure) where Budget.isNoReservation(failure):
                do throws(SpendLogError) { return try await append(record) } catch { throw .failed(error) }
            case .failed(let failure):
                if failure.possiblyWritten.isEmpty { try? await release(hold.id) }
                throw error
            case .limitExceeded:
                let written: UsageRecord
                do throws(SpendLogError) { written = try await append(record) } catch { throw .failed(error) }
                try? await release(hold.id)
                return written
            }
        }
    }

    /// The record of a call that threw: its usage when the error carries a response that has it
    /// (`status: error`), else a record of zero tokens when `recordUnchargedFailures` is set and
    /// the model is known, else nil.
    private func failedCallRecord(
        _ callError: any Error, pricer: RecordPricer, latencyMs: Int64, project: String, format: ResponseFormat,
        model: String?, recordUnchargedFailures: Bool, configure: (inout UsageRecord) -> Void
    ) -> UsageRecord? {
        if let charged = callError as? any ChargedCallError,
            let record = try? SpendLogRecorder.capturedRecord(
                charged.responseBody, pricer: pricer, project: project, format: format, model: model,
                latencyMs: latencyMs, status: .error, configure: configure
            ).0
        {
            return record
        }
        guard recordUnchargedFailures, let model else { return nil }
        var failed = UsageRecord(project: project, model: model)
        failed.latencyMs = latencyMs
        failed.status = .error
        configure(&failed)
        return (try? pricer.price(&failed)) != nil ? failed : nil
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
