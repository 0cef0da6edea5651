import HTTPTypes
import Hummingbird
import NIOCore
import SpendLog

/// Records every request to the routes behind it as an LLM call, and refuses the request with
/// `429 Too Many Requests` when the project's limits have no room for it. One line:
///
/// ```swift
/// router.group("v1").add(middleware: SpendLogMiddleware(log: log, project: "chat"))
/// ```
///
/// Before the route runs, an estimate is held against every limit of the project
/// (``SpendLog/trackWithinLimits(scope:estimate:ttlMs:project:format:model:recordUnchargedFailures:configure:call:body:)``):
/// requests in flight cannot overspend together. When the route answers, usage is read from its
/// response body — the provider's JSON, passed through — priced, and the hold settled with the
/// real record, before the response leaves (so the whole body is gathered first: a streamed
/// answer is sent once it has ended). A response without usage (the route failed before calling
/// the provider) frees the hold and records nothing; an answer of status 400 or above that has
/// usage is recorded with `status: error`. A body larger than ``maxBodyBytes`` fails the request
/// (500), and what was read of it is searched for usage, so a charged call is still recorded
/// when its usage came first (as in a stream's opening event).
struct SpendLogMiddleware<Context: RequestContext>: RouterMiddleware {
    let log: SpendLog
    let project: String
    /// Held per request until its real cost is known: at least what one call can cost.
    var estimate = Money(nanos: 2_000_000)
    /// Response bodies larger than this are refused rather than buffered.
    var maxBodyBytes = 4 << 20

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var answered: Response?
        do {
            let recorded = try await log.trackWithinLimits(
                scope: LimitScope(fields: ["project": project]), estimate: estimate, project: project,
                configure: { record in
                    record.caller = "http"
                    if let status = answered?.status, status.code >= 400 { record.status = .error }
                }
            ) { () async throws -> [UInt8] in
                var response = try await next(request, context)
                let body = try await collect(response.body)
                response.body = ResponseBody(byteBuffer: ByteBuffer(bytes: body))
                answered = response
                return body
            }
            guard var response = answered else { throw HTTPError(.internalServerError) }
            response.headers[.spendLogRecord] = recorded.record.id.description
            return response
        } catch let error as BudgetError {
            guard let refusal = error.limitExceeded else { throw error }
            return tooManyRequests(refusal)
        } catch let error as UsageCaptureError {
            // No usage in the answer: no provider call was charged, so nothing is recorded.
            guard let answered else { throw error }
            return answered
        }
    }

    /// The refusal, as JSON naming the limit, what is left and when it resets.
    func tooManyRequests(_ refusal: LimitExceeded) -> Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        var fields = [
            "\"error\":\"spending limit reached\"", "\"limit\":\"\(refusal.rule.id)\"",
            "\"type\":\"\(refusal.rule.metric.rawValue)\"",
            "\"remaining\":\(refusal.rule.metric.jsonNumber(refusal.remaining))",
        ]
        if let resetsAt = refusal.resetsAt {
            let reset = Timestamp(millisecondsSinceEpoch: resetsAt)
            fields.append("\"resets_at\":\"\(reset.rfc3339)\"")
            let seconds = max(1, (resetsAt - Timestamp.now().millisecondsSinceEpoch + 999) / 1000)
            headers[.retryAfter] = String(seconds)
        }
        return Response(
            status: .tooManyRequests, headers: headers,
            body: ResponseBody(byteBuffer: ByteBuffer(string: "{" + fields.joined(separator: ",") + "}\n")))
    }

    /// The whole body of a response, up to ``maxBodyBytes``.
    func collect(_ body: ResponseBody) async throws -> [UInt8] {
        let sink = BodySink(limit: maxBodyBytes)
        try await body.write(sink)
        return sink.bytes
    }
}

extension HTTPField.Name {
    /// The id of the record a response was recorded as.
    static let spendLogRecord = HTTPField.Name("X-SpendLog-Record")!
}

/// Gathers a response body as it is written.
final class BodySink: ResponseBodyWriter {
    let limit: Int
    var bytes: [UInt8] = []

    init(limit: Int) { self.limit = limit }

    func write(_ buffer: ByteBuffer) async throws {
        guard bytes.count + buffer.readableBytes <= limit else { throw BodyTooLarge(responseBody: bytes) }
        bytes.append(contentsOf: buffer.readableBytesView)
    }

    func finish(_ trailingHeaders: HTTPFields?) async throws {}
}

/// A response body past the middleware's bound: the call may have been charged, so what was read
/// is handed to `trackWithinLimits` to find usage in.
struct BodyTooLarge: ChargedCallError {
    var responseBody: [UInt8]
}
