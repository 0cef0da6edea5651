import ArgumentParser
import SpendLog

/// A metric column of `stats` (`--columns`): its name in JSON and CSV, its table header, and its
/// value exactly (JSON, CSV) and for reading (table).
enum StatsColumn: String, CaseIterable {
    case requests, input_tokens, output_tokens, cached_input_tokens, cache_write_tokens, reasoning_tokens
    case cost_usd, unpriced_requests, errors, avg_latency_ms
    /// Cost per 1,000 requests, rounded to the nano-dollar.
    case cost_per_1k_requests
    /// Cached input tokens over input tokens, to four decimals.
    case cache_hit_share

    /// The columns without `--columns`, in order (the table leaves out unpriced and errors when 0).
    static let standard: [StatsColumn] = [
        .requests, .input_tokens, .output_tokens, .cached_input_tokens, .cache_write_tokens, .reasoning_tokens,
        .cost_usd, .unpriced_requests, .errors, .avg_latency_ms,
    ]

    /// `--columns requests,cost_usd,cost_per_1k_requests` (repeatable; names as in the CSV header).
    static func parse(_ lists: [String]) throws -> [StatsColumn]? {
        guard !lists.isEmpty else { return nil }
        var columns: [StatsColumn] = []
        for list in lists {
            for name in list.split(separator: ",", omittingEmptySubsequences: false) {
                let trimmed = String(name)
                guard let column = StatsColumn(rawValue: trimmed) else {
                    throw ValidationError(
                        "--columns: '\(QueryFilterOptions.shown(trimmed))' is not one of "
                            + allCases.map(\.rawValue).joined(separator: ", ") + ".")
                }
                guard !columns.contains(column) else {
                    throw ValidationError("--columns: '\(trimmed)' is given twice.")
                }
                columns.append(column)
            }
        }
        return columns
    }

    var header: String {
        switch self {
        case .requests: "REQUESTS"
        case .input_tokens: "INPUT"
        case .output_tokens: "OUTPUT"
        case .cached_input_tokens: "CACHED"
        case .cache_write_tokens: "CACHE WRITE"
        case .reasoning_tokens: "REASONING"
        case .cost_usd: "COST"
        case .unpriced_requests: "UNPRICED"
        case .errors: "ERRORS"
        case .avg_latency_ms: "AVG LATENCY MS"
        case .cost_per_1k_requests: "COST/1K REQ"
        case .cache_hit_share: "CACHE HIT"
        }
    }

    /// The exact value as JSON.
    func json(_ m: RollupMetrics) -> JSONValue {
        switch self {
        case .cost_usd: .number(m.cost.decimalString)
        case .avg_latency_ms: m.averageLatencyMs.map { .number(String($0)) } ?? .null
        case .cost_per_1k_requests: m.costPer1kRequests.map { .number($0.decimalString) } ?? .null
        case .cache_hit_share: m.cacheHitShareTenThousandths.map { .number(Self.fraction4($0)) } ?? .null
        default: .number(csv(m))
        }
    }

    /// The exact value as CSV text (empty when there is none).
    func csv(_ m: RollupMetrics) -> String {
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

    /// The value for a table; costs with `fractionDigits` decimals.
    func table(_ m: RollupMetrics, fractionDigits: Int) -> String {
        switch self {
        case .cost_usd: "$" + m.cost.formatted(fractionDigits: fractionDigits)
        case .avg_latency_ms: m.averageLatencyMs.map { StatsOutput.grouped($0) } ?? "-"
        case .cost_per_1k_requests: m.costPer1kRequests.map { "$" + $0.formatted(fractionDigits: 4) } ?? "-"
        case .cache_hit_share:
            m.cacheHitShareTenThousandths.map { "\($0 / 100).\(pad2($0 % 100))%" } ?? "-"
        default: StatsOutput.grouped(Int64(csv(m)) ?? 0)
        }
    }

    /// 4000 → "0.4000".
    static func fraction4(_ tenThousandths: Int64) -> String {
        let digits = String(tenThousandths % 10_000)
        return "\(tenThousandths / 10_000)." + String(repeating: "0", count: 4 - digits.count) + digits
    }
}
