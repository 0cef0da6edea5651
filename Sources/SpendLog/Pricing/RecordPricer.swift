/// Prices records that arrive without a cost: `priced` from the table, or `unpriced` (cost 0,
/// flagged) with a warning that names the model and how to add its price. A cost the caller
/// gave (`provided`) is never touched.
public struct RecordPricer: Sendable {
    /// The prices records are priced from.
    public var table: PriceTable

    /// A pricer over `table`.
    public init(table: PriceTable) { self.table = table }

    /// What ``price(_:)`` did to a record.
    public enum Outcome: Equatable, Sendable {
        /// The record already carried a cost.
        case provided
        /// Priced from the table; the breakdown says how.
        case priced(CostBreakdown)
        /// Not in the table; the message is for the user (standard error).
        case unpriced(warning: String)
    }

    /// Sets `cost_usd` and `cost_source` of a record that has no cost yet (`costSource ==
    /// .unpriced`), using its `service_tier` and `cache_write_1h_tokens` extra keys when present.
    @discardableResult
    public func price(_ record: inout UsageRecord) throws(SpendLogError) -> Outcome {
        guard record.costSource == .unpriced else { return .provided }
        try RecordPricer.checkPricingKeys(record)
        guard let match = table.lookup(record.model) else {
            record.cost = .zero
            return .unpriced(warning: RecordPricer.unpricedWarning(model: record.model))
        }
        let breakdown = try CostCalculator.cost(
            of: TokenUsage(record: record), entry: match.entry, model: record.model,
            serviceTier: record.serviceTier ?? .standard, at: record.timestamp)
        record.cost = breakdown.total
        record.costSource = .priced
        return .priced(breakdown)
    }

    /// The `service_tier` and `cache_write_1h_tokens` extra keys, when present, must be what
    /// pricing can use: a misspelt tier must not silently price at standard prices.
    static func checkPricingKeys(_ record: UsageRecord) throws(SpendLogError) {
        for (key, value) in record.extra {
            if key == UsageRecord.serviceTierKey, value.stringValue.flatMap(ServiceTier.init(name:)) == nil {
                throw .invalid(
                    "service_tier: must be standard, batch, priority or flex (got \(value.jsonText.prefix(40))).")
            }
            if key == UsageRecord.cacheWrite1hKey, value.integerValue.map({ $0 >= 0 }) != true {
                throw .invalid(
                    "cache_write_1h_tokens: must be a whole number of tokens (got \(value.jsonText.prefix(40))).")
            }
        }
    }

    /// Why a call was refused when a price is required: "model: no price for model '…'".
    public static func missingPrice(model: String) -> String {
        "no price for model \(Quoted(Array(model.utf8))), and a price is required: nothing was recorded. Add it to "
            + "your price file (docs/PRICING.md, \"Price files\"), import LiteLLM's table (`spendlog prices import "
            + "FILE`), or give the cost"
    }

    /// What a record of an unknown model is told: recorded as unpriced, and how to add its price.
    public static func unpricedWarning(model: String) -> String {
        "no price for model '\(model)': recorded as unpriced (cost 0, cost_source \"unpriced\"). "
            + "Add it to your price file (docs/PRICING.md, \"Price files\") or import LiteLLM's table with "
            + "`spendlog prices import FILE`; `spendlog prices show '\(model)'` tells whether it is found."
    }
}

/// How many requests of each model were recorded without a price, so the gap is visible in
/// reports: a model priced at $0 by omission must never look free.
public struct UnpricedSummary: Equatable, Sendable {
    /// One model's unpriced calls.
    public struct Row: Equatable, Sendable {
        /// The model as recorded.
        public var model: String
        /// Calls recorded without a price.
        public var requests: Int
        /// Their input tokens.
        public var inputTokens: Int64
        /// Their output tokens.
        public var outputTokens: Int64
    }

    /// Most requests first, then by model name.
    public private(set) var rows: [Row] = []
    private var index: [String: Int] = [:]

    /// An empty summary.
    public init() {}

    /// The summary of `records` (priced ones are passed over).
    public init(_ records: some Sequence<UsageRecord>) {
        for record in records { add(record) }
    }

    /// Counts `record` if it is unpriced.
    public mutating func add(_ record: UsageRecord) {
        guard record.costSource == .unpriced else { return }
        if let i = index[record.model] {
            rows[i].requests += 1
            rows[i].inputTokens += record.inputTokens
            rows[i].outputTokens += record.outputTokens
        } else {
            index[record.model] = rows.count
            rows.append(
                Row(
                    model: record.model, requests: 1, inputTokens: record.inputTokens, outputTokens: record.outputTokens
                ))
        }
    }

    /// The rows, most requests first, ties by model name.
    public var sortedRows: [Row] {
        rows.sorted { ($0.requests, $1.model) > ($1.requests, $0.model) }
    }

    /// Unpriced calls of every model.
    public var totalRequests: Int { rows.reduce(0) { $0 + $1.requests } }
}
