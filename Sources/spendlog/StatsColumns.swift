import ArgumentParser
import SpendLog

/// A metric column of `stats` (`--columns`; the library's ``StatsColumn``): its table header and
/// its value for reading.
extension StatsColumn {
    /// `--columns requests,cost_usd,cost_per_1k_requests` (repeatable; names as in the CSV header).
    static func parse(_ lists: [String]) throws -> [StatsColumn]? {
        do throws(SpendLogError) { return try StatsColumn.parse(lists, naming: .flags) } catch {
            throw ValidationError(error.message)
        }
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
}
