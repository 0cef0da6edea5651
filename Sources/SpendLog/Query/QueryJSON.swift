/// The JSON forms of answers, shared by every front end: `spendlog stats --format json` and the
/// HTTP API's `/v1/stats` are the same bytes.

/// A metric column of a stats answer: its name in JSON and CSV, and its exact value.
public enum StatsColumn: String, CaseIterable, Sendable {
    /// Calls.
    case requests
    /// All input tokens, cache reads and writes included.
    case input_tokens
    /// All output tokens, reasoning included.
    case output_tokens
    /// Cache reads (part of the input tokens).
    case cached_input_tokens
    /// Cache writes (part of the input tokens).
    case cache_write_tokens
    /// Reasoning tokens (part of the output tokens).
    case reasoning_tokens
    /// Cost in USD, exact to the nano-dollar.
    case cost_usd
    /// Calls recorded without a price (cost 0 until repriced).
    case unpriced_requests
    /// Calls with `status: error`.
    case errors
    /// Mean latency of the calls that give one, in milliseconds.
    case avg_latency_ms
    /// Cost per 1,000 requests, rounded to the nano-dollar.
    case cost_per_1k_requests
    /// Cached input tokens over input tokens, to four decimals.
    case cache_hit_share

    /// The columns when none are chosen, in order.
    public static let standard: [StatsColumn] = [
        .requests, .input_tokens, .output_tokens, .cached_input_tokens, .cache_write_tokens, .reasoning_tokens,
        .cost_usd, .unpriced_requests, .errors, .avg_latency_ms,
    ]

    /// Comma-separated lists of column names (`requests,cost_usd`), in order; nil when none are
    /// given. A refusal's field is `columns`.
    public static func parse(_ lists: [String], naming: ParameterNaming) throws(SpendLogError) -> [StatsColumn]? {
        guard !lists.isEmpty else { return nil }
        var columns: [StatsColumn] = []
        for list in lists {
            for name in list.split(separator: ",", omittingEmptySubsequences: false) {
                let trimmed = String(name)
                guard let column = StatsColumn(rawValue: trimmed) else {
                    throw QueryParameters.refusal(
                        "columns",
                        "\(naming.name("columns")): '\(QueryParameters.shown(trimmed))' is not one of "
                            + allCases.map(\.rawValue).joined(separator: ", ") + ".")
                }
                guard !columns.contains(column) else {
                    throw QueryParameters.refusal("columns", "\(naming.name("columns")): '\(trimmed)' is given twice.")
                }
                columns.append(column)
            }
        }
        return columns
    }

    /// The exact value as JSON.
    public func json(_ m: RollupMetrics) -> JSONValue {
        switch self {
        case .cost_usd: .number(m.cost.decimalString)
        case .avg_latency_ms: m.averageLatencyMs.map { .number(String($0)) } ?? .null
        case .cost_per_1k_requests: m.costPer1kRequests.map { .number($0.decimalString) } ?? .null
        case .cache_hit_share: m.cacheHitShareTenThousandths.map { .number(Self.fraction4($0)) } ?? .null
        default: .number(csv(m))
        }
    }

    /// The exact value as CSV text (empty when there is none).
    public func csv(_ m: RollupMetrics) -> String {
        switch self {
        case .requests: String(m.requests)
        case .input_tokens: String(m.inputTokens)
        case .output_tokens: String(m.outputTokens)
        case .cached_input_tokens: String(m.cachedInputTokens)
        case .cache_write_tokens: String(m.cacheWriteTokens)
        case .reasoning_tokens: String(m.reasoningTokens)
        case .cost_usd: m.cost.decimalString
        case .unpriced_requests: String(m.unpricedRequests)
        case .errors: String(m.errors)
        case .avg_latency_ms: m.averageLatencyMs.map { String($0) } ?? ""
        case .cost_per_1k_requests: m.costPer1kRequests?.decimalString ?? ""
        case .cache_hit_share: m.cacheHitShareTenThousandths.map(Self.fraction4) ?? ""
        }
    }

    /// 4000 → "0.4000".
    public static func fraction4(_ tenThousandths: Int64) -> String {
        let digits = String(tenThousandths % 10_000)
        return "\(tenThousandths / 10_000)." + String(repeating: "0", count: 4 - digits.count) + digits
    }
}

/// The JSON text of stats, records, budget and limit answers: the bytes `spendlog … --format
/// json` prints and the HTTP API serves.
public enum QueryJSON {
    /// A stats answer: an array of rows, each with its group keys then its metric columns; a
    /// line feed at the end.
    public static func stats(_ result: StatsResult, columns: [StatsColumn] = StatsColumn.standard) -> String {
        let rows = result.rows.map { row -> JSONValue in
            var members: [(key: String, value: JSONValue)] = []
            for (lane, key) in result.groupBy.enumerated() {
                members.append((key.rawValue, row.keys[lane].map { .string($0) } ?? .null))
            }
            for column in columns { members.append((column.rawValue, column.json(row.metrics))) }
            return .object(members)
        }
        return JSONValue.array(rows).jsonText + "\n"
    }

    /// Records as one array, each as stored; a line feed at the end.
    public static func records(_ records: [UsageRecord]) -> String {
        var bytes: [UInt8] = [UInt8(ascii: "[")]
        for (i, record) in records.enumerated() {
            if i > 0 { bytes.append(UInt8(ascii: ",")) }
            bytes.append(contentsOf: record.jsonLine().dropLast())
        }
        bytes.append(contentsOf: "]\n".utf8)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// A limit's members: id, scope, type, max, window, tz and soft (when set).
    public static func ruleMembers(_ rule: LimitRule) -> [(key: String, value: JSONValue)] {
        var members: [(key: String, value: JSONValue)] = [
            ("id", .string(rule.id)), ("scope", .string(rule.scope.description)),
            ("type", .string(rule.metric.rawValue)),
            ("max", .number(rule.metric.jsonNumber(rule.maximum))), ("window", .string(rule.window.name)),
            ("tz", .string(rule.window.zoneName)),
        ]
        if let soft = rule.softPartsPerMillion {
            members.append(("soft", .number(Money(nanos: soft * 1000).decimalString)))
        }
        return members
    }

    /// Every limit's status: the limit, then spent, held, remaining, percent used, the window's
    /// start and when it resets (null for lifetime and rolling windows); a line feed at the end.
    public static func budget(_ statuses: [RuleStatus]) -> String {
        func time(_ ms: Int64) -> String { Timestamp(millisecondsSinceEpoch: ms).rfc3339 }
        let items = statuses.map { s -> JSONValue in
            let m = s.rule.metric
            return .object(
                ruleMembers(s.rule) + [
                    ("spent", .number(m.jsonNumber(s.spent))), ("held", .number(m.jsonNumber(s.held))),
                    ("remaining", .number(m.jsonNumber(s.remaining))), ("percent_used", .number(s.percentUsed)),
                    ("window_start", .string(time(s.windowStart))),
                    ("resets_at", s.resetsAt.map { .string(time($0)) } ?? .null),
                ])
        }
        return JSONValue.array(items).jsonText + "\n"
    }
}
