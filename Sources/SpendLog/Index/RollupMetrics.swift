/// The dimensions a record is grouped by. The raw value is the JSON key; `code` is the byte that
/// names the dimension in rollup files (docs/FORMAT.md, "Index").
public enum Dimension: String, CaseIterable, Sendable, Hashable {
    /// A field of the record, by its JSON key; `status` is `ok` or `error`.
    case project, model, provider, user, caller, role, task, status

    /// The byte that names the dimension in rollup files: its place in `allCases` (0–7).
    public var code: UInt8 {
        switch self {
        case .project: 0
        case .model: 1
        case .provider: 2
        case .user: 3
        case .caller: 4
        case .role: 5
        case .task: 6
        case .status: 7
        }
    }

    /// The dimension a rollup file's byte names; nil for a byte no dimension has.
    public init?(code: UInt8) {
        guard Int(code) < Dimension.allCases.count else { return nil }
        self = Dimension.allCases[Int(code)]
    }

    /// The dimension's value in `record`, nil when the record has none.
    public func value(in record: UsageRecord) -> String? {
        switch self {
        case .project: record.project
        case .model: record.model
        case .provider: record.provider
        case .user: record.user
        case .caller: record.caller
        case .role: record.role
        case .task: record.task
        case .status: record.status?.rawValue
        }
    }
}

/// What a rollup cell (or a query row) adds up. Sums wrap past 2^63: the cost sum holds up to
/// $9.2 billion, token sums 9.2 × 10^18.
public struct RollupMetrics: Equatable, Hashable, Sendable {
    /// Calls counted (adjustments are not calls).
    public var requests: Int64 = 0
    /// Input tokens, cache reads and writes included.
    public var inputTokens: Int64 = 0
    /// Output tokens, reasoning included.
    public var outputTokens: Int64 = 0
    /// Input tokens read from a prompt cache.
    public var cachedInputTokens: Int64 = 0
    /// Input tokens written to a prompt cache.
    public var cacheWriteTokens: Int64 = 0
    /// Output tokens spent on reasoning.
    public var reasoningTokens: Int64 = 0
    /// Exact cost in nano-dollars.
    public var costNanos: Int64 = 0
    /// Records with `status: "error"`.
    public var errors: Int64 = 0
    /// Records with `cost_source: "unpriced"`, less the adjustments that price them: calls whose
    /// cost is not known.
    public var unpricedRequests: Int64 = 0
    /// Sum of `latency_ms` over the records that carry it (``latencyCount``).
    public var latencySumMs: Int64 = 0
    /// Records that carry `latency_ms`.
    public var latencyCount: Int64 = 0

    /// The number of sums a rollup cell stores, in file order.
    public static let fieldCount = 11

    /// All sums 0.
    public init() {}

    /// What one record adds: one request with its tokens, cost, error and latency; an adjustment
    /// adds only its cost, and takes the record it prices out of ``unpricedRequests``.
    public init(record: UsageRecord) {
        if record.isAdjustment {
            // Not a call: its cost, and the record it prices no longer counts as unpriced
            // (docs/FORMAT.md, "Adjustments"). Its token counts are 0 by rule.
            costNanos = record.cost.nanos
            unpricedRequests = -1
            return
        }
        requests = 1
        inputTokens = record.inputTokens
        outputTokens = record.outputTokens
        cachedInputTokens = record.cachedInputTokens
        cacheWriteTokens = record.cacheWriteTokens
        reasoningTokens = record.reasoningTokens
        costNanos = record.cost.nanos
        errors = record.status == .error ? 1 : 0
        unpricedRequests = record.costSource == .unpriced ? 1 : 0
        if let latency = record.latencyMs {
            latencySumMs = latency
            latencyCount = 1
        }
    }

    /// ``costNanos`` as ``Money``.
    public var cost: Money { Money(nanos: costNanos) }

    /// Mean latency in whole milliseconds (rounded half up), nil when no record had one.
    public var averageLatencyMs: Int64? {
        latencyCount > 0 ? (latencySumMs + latencyCount / 2) / latencyCount : nil
    }

    /// Cost per 1,000 requests, rounded to the nano-dollar (halves away from zero); nil without requests.
    public var costPer1kRequests: Money? {
        guard requests > 0 else { return nil }
        return Money(nanos: roundedQuotient(costNanos, times: 1000, over: requests))
    }

    /// Cached input tokens as a share of input tokens, in ten-thousandths (4000 = 40%), rounded
    /// half up; nil without input tokens.
    public var cacheHitShareTenThousandths: Int64? {
        guard inputTokens > 0 else { return nil }
        return roundedQuotient(cachedInputTokens, times: 10_000, over: inputTokens)
    }

    /// `value × factor / divisor` (divisor > 0) rounded to the nearest integer, halves away from
    /// zero, without overflow in between; the quotient is clamped to the 64-bit range.
    private func roundedQuotient(_ value: Int64, times factor: Int64, over divisor: Int64) -> Int64 {
        let negative = value < 0
        let product = value.magnitude.multipliedFullWidth(by: factor.magnitude)
        let d = divisor.magnitude
        guard product.high < d else { return negative ? .min : .max }
        var (q, r) = d.dividingFullWidth(product)
        if r >= d - r { q += 1 }
        guard q <= UInt64(Int64.max) else { return negative ? .min : .max }
        return negative ? -Int64(q) : Int64(q)
    }

    /// Adds `other`'s sums to these (wrapping past 2⁶³, as the rollups do).
    @inline(__always)
    public mutating func add(_ other: RollupMetrics) {
        requests &+= other.requests
        inputTokens &+= other.inputTokens
        outputTokens &+= other.outputTokens
        cachedInputTokens &+= other.cachedInputTokens
        cacheWriteTokens &+= other.cacheWriteTokens
        reasoningTokens &+= other.reasoningTokens
        costNanos &+= other.costNanos
        errors &+= other.errors
        unpricedRequests &+= other.unpricedRequests
        latencySumMs &+= other.latencySumMs
        latencyCount &+= other.latencyCount
    }

    /// Calls `body` with each field in file order, without making an array.
    @inline(__always)
    func forEachField(_ body: (Int64) -> Void) {
        body(requests)
        body(inputTokens)
        body(outputTokens)
        body(cachedInputTokens)
        body(cacheWriteTokens)
        body(reasoningTokens)
        body(costNanos)
        body(errors)
        body(unpricedRequests)
        body(latencySumMs)
        body(latencyCount)
    }

    /// The fields in file order, each from `next` (a rollup cell's sums as they are decoded).
    @inline(__always)
    init<E: Error>(reading next: () throws(E) -> Int64) throws(E) {
        requests = try next()
        inputTokens = try next()
        outputTokens = try next()
        cachedInputTokens = try next()
        cacheWriteTokens = try next()
        reasoningTokens = try next()
        costNanos = try next()
        errors = try next()
        unpricedRequests = try next()
        latencySumMs = try next()
        latencyCount = try next()
    }
}
