import Foundation
import HTTPTypes
import Hummingbird
import SpendLog
import Synchronization

/// The routes: each answers GET only, after the bearer token when one is set. The answers are the
/// CLI's, rendered by the same library functions; nothing here writes to the log.
final class Server: Sendable {
    let log: LogDirectory
    let token: [UInt8]?
    let timeout: Duration
    let clock: @Sendable () -> Timestamp
    let gate = Gate(slots: 4, queue: 256)
    let metrics = Metrics()
    let answers = AnswerCache()

    /// The most records one page of `/v1/records` holds, and the default.
    static let maximumLimit = 1000
    static let defaultLimit = 100

    init(log: LogDirectory, token: [UInt8]?, timeout: Duration, clock: @escaping @Sendable () -> Timestamp) {
        self.log = log
        self.token = token
        self.timeout = timeout
        self.clock = clock
    }

    func respond(to request: Request) async -> Response {
        // Without a token, only a page of this machine's loopback names may ask: a web page
        // whose name was rebound to 127.0.0.1 (DNS rebinding) sends its own name as Host.
        if token == nil, !Self.isLoopbackHost(request.head.authority) {
            return Self.json(
                .misdirectedRequest,
                Self.errorBody(
                    "Host must be 127.0.0.1, localhost or [::1] (with the port): without a token this server answers local clients only.",
                    parameter: nil))
        }
        if let token, !Self.authorized(request.headers[.authorization], token: token) {
            var response = Self.json(
                .unauthorized, Self.errorBody("send the token as `Authorization: Bearer <token>`.", parameter: nil))
            response.headers[.wwwAuthenticate] = "Bearer"
            return response
        }
        guard request.method == .get else {
            var response = Self.json(
                .methodNotAllowed, Self.errorBody("only GET is served: the API is read-only.", parameter: nil))
            response.headers[.allow] = "GET"
            return response
        }
        let path = request.uri.path
        let query = request.uri.queryParameters.map { (key: String($0.key), value: String($0.value)) }
        do throws(APIError) {
            switch path {
            case "/healthz":
                try Parameters(query, allowed: []).done()
                return Self.json(.ok, "{\"status\":\"ok\"}\n")
            case "/v1/openapi.json":
                try Parameters(query, allowed: []).done()
                return Self.json(.ok, String(decoding: PackageResources.openapi_json, as: UTF8.self))
            case "/v1/stats": return try await stats(query, daily: false)
            case "/v1/daily": return try await stats(query, daily: true)
            case "/v1/records": return try await records(query)
            case "/v1/budget":
                try Parameters(query, allowed: []).done()
                let now = clock()
                let log = self.log
                return Self.json(
                    .ok, try await work { () throws(SpendLogError) in QueryJSON.budget(try Self.budget(log, now: now)) }
                )
            case "/v1/report": return try await report(query, html: false)
            case "/v1/changes":
                try Parameters(query, allowed: []).done()
                let log = self.log
                let token = try await work { () throws(SpendLogError) in try LogReader(directory: log).changeToken() }
                var response = Self.json(.ok, JSONValue.object([("token", .string(token))]).jsonText + "\n")
                response.headers[.eTag] = "\"\(token)\""
                if request.headers[.ifNoneMatch] == "\"\(token)\"" {
                    response = Response(status: .notModified, headers: response.headers)
                }
                return response
            case "/metrics":
                try Parameters(query, allowed: []).done()
                let log = self.log
                let now = clock()
                let metrics = self.metrics
                let text = try await work { () throws(SpendLogError) in try metrics.render(log: log, now: now) }
                return Self.text(.ok, text, type: "text/plain; version=0.0.4; charset=utf-8")
            case "/", "/index.html": return try await report(query, html: true)
            default:
                return Self.json(
                    .notFound,
                    Self.errorBody("no such endpoint; the API is described at /v1/openapi.json.", parameter: nil))
            }
        } catch {
            return Self.json(error.status, Self.errorBody(error.message, parameter: error.parameter))
        }
    }

    // MARK: - Endpoints

    /// The parameters as a cache key: each name and value, in order.
    static func key(_ query: [(key: String, value: String)]) -> String {
        query.map { $0.key + "\u{1}" + $0.value }.joined(separator: "\u{0}")
    }

    static let filterNames = [
        "project", "model", "provider", "user", "caller", "role", "task", "status", "session", "tag", "since", "until",
    ]

    func stats(_ query: [(key: String, value: String)], daily: Bool) async throws(APIError) -> Response {
        let p = Parameters(query, allowed: Self.filterNames + ["tz", "columns"] + (daily ? [] : ["by"]))
        let zone = try p.zone()
        let filter = try p.filter(zone: zone)
        let columns = try APIError.wrap { () throws(SpendLogError) in
            try StatsColumn.parse(p.all("columns"), naming: .plain)
        }
        let groupBy =
            daily
            ? [GroupKey.day]
            : try APIError.wrap { () throws(SpendLogError) in try QueryParameters.groupKeys(p.all("by"), naming: .plain)
            }
        try p.done()
        let log = self.log
        let answers = self.answers
        let key = (daily ? "daily\u{0}" : "stats\u{0}") + Self.key(query)
        let statsQuery = StatsQuery(groupBy: groupBy, filter: filter, timeZone: zone)
        let answer = try await work { () throws(SpendLogError) in
            try answers.answer(log: log, key: key) { () throws(SpendLogError) in
                let result = try Query(directory: log).stats(statsQuery)
                return Answer(
                    body: QueryJSON.stats(result, columns: columns ?? StatsColumn.standard),
                    problems: result.trace.problems)
            }
        }
        return Self.json(.ok, answer)
    }

    func records(_ query: [(key: String, value: String)]) async throws(APIError) -> Response {
        let p = Parameters(query, allowed: Self.filterNames + ["limit", "cursor"])
        let filter = try p.filter(zone: .utc)
        var limit = Self.defaultLimit
        if let text = try p.one("limit") {
            guard let value = Int(text), (1...Self.maximumLimit).contains(value), text.allSatisfy(\.isNumber) else {
                throw APIError(
                    "limit: '\(QueryParameters.shown(text))' is not a whole number from 1 to \(Self.maximumLimit).",
                    parameter: "limit")
            }
            limit = value
        }
        let offset = try (p.one("cursor")).map(Cursor.offset(_:)) ?? 0
        try p.done()
        let log = self.log
        let pageSize = limit
        let page = try await work { () throws(SpendLogError) in
            try Query(directory: log).logs(filter: filter, limit: pageSize + 1, offset: offset)
        }
        let shown = Array(page.records.prefix(limit))
        let next = page.records.count > limit ? JSONValue.string(Cursor.make(offset: offset + limit)) : .null
        let body = "{\"records\":" + QueryJSON.records(shown).dropLast() + ",\"next_cursor\":" + next.jsonText + "}\n"
        return Self.json(.ok, Answer(body: body, problems: page.problems))
    }

    func report(_ query: [(key: String, value: String)], html: Bool) async throws(APIError) -> Response {
        let p = Parameters(query, allowed: Self.filterNames + ["tz", "title"])
        let zone = try p.zone()
        let filter = try p.filter(zone: zone)
        let title = try p.one("title") ?? "LLM spend report"
        do throws(RecordValidationError) { try UsageRecord.validateName(title, field: "title") } catch {
            throw APIError("title: \(error.reason).", parameter: "title")
        }
        try p.done()
        let log = self.log
        let now = clock()
        let text = try await work { () throws(SpendLogError) -> String in
            guard html else {
                return try ReportData.build(directory: log, filter: filter, timeZone: zone, now: now, title: title)
                    .json()
            }
            // The token first: a record that arrives while the page is made reloads it.
            let token = try LogReader(directory: log).changeToken()
            let data = try ReportData.build(directory: log, filter: filter, timeZone: zone, now: now, title: title)
            return data.html(live: ReportData.LiveScript(nonce: Self.nonce(), source: Self.liveScript(token: token)))
        }
        return html ? Self.text(.ok, text, type: "text/html; charset=utf-8") : Self.json(.ok, text)
    }

    /// Polls `/v1/changes` every second; reloads the page when the log changed since it was made.
    static func liveScript(token: String) -> String {
        """
        (function () {
          "use strict";
          var seen = "\(token)";
          var busy = false;
          setInterval(function () {
            if (busy) { return; }
            busy = true;
            fetch("/v1/changes", { cache: "no-store", credentials: "same-origin" })
              .then(function (r) { return r.ok ? r.json() : null; })
              .then(function (j) {
                busy = false;
                if (j && j.token !== seen) { seen = j.token; window.location.reload(); }
              })
              .catch(function () { busy = false; });
          }, 1000);
        })();
        """
    }

    static func nonce() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<16).map { _ in String(UInt8.random(in: 0...255, using: &generator), radix: 16) }.joined()
    }

    static func budget(_ log: LogDirectory, now: Timestamp) throws(SpendLogError) -> [RuleStatus] {
        // Read only: nothing is written, not even an expired hold; no journal, no limits.
        try Budget(directory: log).peekStatus(now: now)
    }

    // MARK: - Work off the event loops, bounded

    /// Runs `body` on a worker thread, at most ``Gate`` slots at once, answering 503 when it takes
    /// longer than the time-out (it then finishes in the background, still holding its slot).
    func work<T: Sendable>(_ body: @escaping @Sendable () throws(SpendLogError) -> T) async throws(APIError) -> T {
        guard await gate.enter() else {
            throw APIError("the server is busy; try again shortly.", parameter: nil, status: .serviceUnavailable)
        }
        let gate = self.gate
        let outcome: Result<T, SpendLogError>? = await withCheckedContinuation { continuation in
            let once = Mutex(false)
            let finish: @Sendable (Result<T, SpendLogError>?) -> Void = { value in
                let first = once.withLock { done in
                    defer { done = true }
                    return !done
                }
                if first { continuation.resume(returning: value) }
            }
            let timer = Task {
                try? await Task.sleep(for: timeout)
                if !Task.isCancelled { finish(nil) }
            }
            DispatchQueue.global().async {
                let result = Result { () throws(SpendLogError) -> T in try body() }
                timer.cancel()
                Task { await gate.leave() }
                finish(result)
            }
        }
        switch outcome {
        case nil:
            throw APIError(
                "the answer took longer than the time-out; ask about a shorter period or fewer groups.",
                parameter: nil, status: .serviceUnavailable)
        case .success(let value): return value
        case .failure(let error): throw APIError(error)
        }
    }

    // MARK: - Responses

    static func errorBody(_ message: String, parameter: String?) -> String {
        var members: [(key: String, value: JSONValue)] = [("error", .string(message))]
        if let parameter { members.append(("parameter", .string(parameter))) }
        return JSONValue.object(members).jsonText + "\n"
    }

    static func json(_ status: HTTPResponse.Status, _ body: String) -> Response {
        text(status, body, type: "application/json")
    }

    /// An answer that left out damaged segments says so in `Spendlog-Damaged` (how many, and
    /// the first one's message), as the CLI warns on standard error: the body is the same.
    static func json(_ status: HTTPResponse.Status, _ answer: Answer) -> Response {
        var response = text(status, answer.body, type: "application/json")
        if let first = answer.problems.first {
            let message = String(
                first.message.unicodeScalars.filter { $0.value >= 0x20 && $0.value < 0x7F }.prefix(300).map(
                    Character.init))
            response.headers[damagedHeader] =
                "\(answer.problems.count) damaged segment(s) left out; `spendlog verify` lists them. \(message)"
        }
        return response
    }

    static let damagedHeader = HTTPField.Name("Spendlog-Damaged")!

    static func text(_ status: HTTPResponse.Status, _ body: String, type: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = type
        headers[.cacheControl] = "no-store"
        headers[.xContentTypeOptions] = "nosniff"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }

    /// Whether `authority` (the Host header: a host, then an optional `:port`; an IPv6 address
    /// in brackets) names this machine's loopback (``ListenAddress/isLoopback(host:)``).
    static func isLoopbackHost(_ authority: String?) -> Bool {
        guard let authority, !authority.isEmpty else { return false }
        var host = Substring(authority)
        var port: Substring?
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return false }
            let rest = host[host.index(after: close)...]
            if !rest.isEmpty {
                guard rest.first == ":" else { return false }
                port = rest.dropFirst()
            }
            host = host[host.index(after: host.startIndex)..<close]
        } else if let colon = host.firstIndex(of: ":") {
            port = host[host.index(after: colon)...]
            host = host[..<colon]
        }
        if let port, UInt16(port) == nil { return false }
        return ListenAddress.isLoopback(host: host)
    }

    /// `Bearer <token>` (the scheme in any case), compared in constant time (the time depends on
    /// the lengths only).
    static func authorized(_ header: String?, token: [UInt8]) -> Bool {
        guard let header, header.count > 7, header.prefix(7).lowercased() == "bearer " else { return false }
        let given = Array(header.utf8.dropFirst(7))
        var difference = UInt8(given.count == token.count ? 0 : 1)
        for i in 0..<token.count { difference |= token[i] ^ (i < given.count ? given[i] : 0) }
        return difference == 0
    }
}

/// A refused request: the status, a message, and the parameter it names.
struct APIError: Error {
    var message: String
    var parameter: String?
    var status: HTTPResponse.Status

    init(_ message: String, parameter: String?, status: HTTPResponse.Status = .badRequest) {
        self.message = message
        self.parameter = parameter
        self.status = status
    }

    /// A library error: invalid input is the client's (400, naming the parameter), anything else
    /// the server's.
    init(_ error: SpendLogError) {
        if error.code == .invalidInput {
            self.init(error.message, parameter: error.field)
        } else {
            self.init(error.message, parameter: nil, status: .internalServerError)
        }
    }

    static func wrap<T>(_ body: () throws(SpendLogError) -> T) throws(APIError) -> T {
        do throws(SpendLogError) { return try body() } catch { throw APIError(error) }
    }
}

/// The query parameters of one request: each must be one the endpoint takes; single ones at most
/// once.
struct Parameters {
    let query: [(key: String, value: String)]
    let allowed: Set<String>

    init(_ query: [(key: String, value: String)], allowed: [String]) {
        self.query = query
        self.allowed = Set(allowed)
    }

    /// Refuses a parameter the endpoint does not take.
    func done() throws(APIError) {
        if query.count > 256 {
            throw APIError("\(query.count) parameters; a request takes at most 256.", parameter: nil)
        }
        for (key, _) in query where !allowed.contains(key) {
            let name = QueryParameters.shown(key)
            let known =
                allowed.isEmpty
                ? "this endpoint takes none" : "this endpoint takes " + allowed.sorted().joined(separator: ", ")
            throw APIError("\(name): not a parameter of this endpoint; \(known).", parameter: name)
        }
    }

    func all(_ name: String) -> [String] { query.filter { $0.key == name }.map(\.value) }

    func one(_ name: String) throws(APIError) -> String? {
        let values = all(name)
        guard values.count <= 1 else {
            throw APIError("\(name): given \(values.count) times; give it once.", parameter: name)
        }
        return values.first
    }

    func zone() throws(APIError) -> ZoneInfo {
        let name = try one("tz")
        return try APIError.wrap { () throws(SpendLogError) in try QueryParameters.zone(name, naming: .plain) }
    }

    func filter(zone: ZoneInfo) throws(APIError) -> RecordFilter {
        var f = FilterParameters()
        f.project = all("project")
        f.model = all("model")
        f.provider = all("provider")
        f.user = all("user")
        f.caller = all("caller")
        f.role = all("role")
        f.task = all("task")
        f.status = all("status")
        f.session = all("session")
        f.tag = all("tag")
        f.since = try one("since")
        f.until = try one("until")
        let parameters = f
        return try APIError.wrap { () throws(SpendLogError) in
            try QueryParameters.filter(parameters, zone: zone, naming: .plain)
        }
    }
}

/// The opaque cursor of `/v1/records`: the offset of the page's first record among the matching
/// records, newest first.
enum Cursor {
    static let maximumOffset = 100_000_000

    static func make(offset: Int) -> String {
        Data("o\(offset)".utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func offset(_ cursor: String) throws(APIError) -> Int {
        let refusal = APIError(
            "cursor: not a cursor this server gave; give next_cursor as it came.", parameter: "cursor")
        guard cursor.utf8.count <= 64 else { throw refusal }
        var text = cursor.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while text.utf8.count % 4 != 0 { text += "=" }
        guard let data = Data(base64Encoded: text), let decoded = String(data: data, encoding: .utf8),
            decoded.hasPrefix("o"), let offset = Int(decoded.dropFirst()), decoded.dropFirst().allSatisfy(\.isNumber),
            offset >= 0, offset <= maximumOffset
        else { throw refusal }
        return offset
    }
}

/// A JSON body and the damaged segments its question left out.
struct Answer: Sendable {
    var body: String
    var problems: [SpendLogError] = []
}

/// The answers of `/v1/stats` and `/v1/daily` since the log last changed (by
/// ``LogReader/changeToken()``: a segment added, grown, sealed or removed), so that a dashboard
/// or a scraper asking the same question again is answered without reading the log again.
/// Those answers depend on the records alone, and every record is in a segment. At most 16 MiB.
final class AnswerCache: Sendable {
    private struct State {
        var token = ""
        var answers: [String: Answer] = [:]
        var bytes = 0
    }

    private let state = Mutex(State())
    static let maximumBytes = 16 << 20

    /// The answer to `key`: the cached one if the log has not changed since it was made, else
    /// `make()`'s, kept under the token read before it was made.
    func answer(log: LogDirectory, key: String, _ make: () throws(SpendLogError) -> Answer) throws(SpendLogError)
        -> Answer
    {
        let token = try LogReader(directory: log).changeToken()
        if let cached = state.withLock({ $0.token == token ? $0.answers[key] : nil }) { return cached }
        let answer = try make()
        state.withLock { state in
            if state.token != token {
                state = State()
                state.token = token
            }
            let size = key.utf8.count + answer.body.utf8.count
            guard state.bytes + size <= Self.maximumBytes else { return }
            if state.answers.updateValue(answer, forKey: key) == nil { state.bytes += size }
        }
        return answer
    }
}

/// At most `slots` bodies run at once; at most `queue` wait.
actor Gate {
    private var free: Int
    private let queue: Int
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(slots: Int, queue: Int) {
        free = slots
        self.queue = queue
    }

    func enter() async -> Bool {
        if free > 0 {
            free -= 1
            return true
        }
        guard waiting.count < queue else { return false }
        await withCheckedContinuation { waiting.append($0) }
        return true
    }

    func leave() {
        if waiting.isEmpty {
            free += 1
        } else {
            waiting.removeFirst().resume()
        }
    }
}
