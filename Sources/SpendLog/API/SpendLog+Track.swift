/// An error of a call that may have been charged: it carries the response received before the
/// failure — a whole body, or the events of a stream so far — for ``SpendLog/track(project:format:model:recordUnchargedFailures:configure:call:body:)``
/// to read usage from.
public protocol ChargedCallError: Error {
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
            let latency = SpendLogRecorder.milliseconds(clock.now - start)
            var record: UsageRecord?
            if let charged = callError as? any ChargedCallError {
                record = try? SpendLogRecorder.capturedRecord(
                    charged.responseBody, pricer: pricer, project: project, format: format, model: model,
                    latencyMs: latency, status: .error, configure: configure
                ).0
            }
            if record == nil, recordUnchargedFailures, let model {
                var failed = UsageRecord(project: project, model: model)
                failed.latencyMs = latency
                failed.status = .error
                configure(&failed)
                if (try? pricer.price(&failed)) != nil { record = failed }
            }
            if let record {
                do throws(SpendLogError) {
                    try await append(record)
                } catch {
                    var failed = error
                    failed.message = "The call failed (\(callError)), and its record could not be written: " + failed.message
                    throw failed
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
}
