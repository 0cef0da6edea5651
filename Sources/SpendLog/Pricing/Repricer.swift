/// Prices records that were recorded unpriced, later, by appending adjustments (docs/FORMAT.md,
/// "Adjustments"; `spendlog reprice`). Sealed segments are never rewritten: an adjustment is a line
/// of its own, in the day folder of the record it prices, that adds the cost the price table now
/// gives. Each record is adjusted at most once: the adjustment's id is derived from the record's
/// (``RecordID/adjustment(of:)``), records already adjusted are left out of the plan, and
/// ``apply(_:writer:)`` appends through the retry check, so repricing again writes nothing.
public struct Repricer: Sendable {
    /// The log repriced.
    public let directory: LogDirectory
    /// The prices to apply.
    public var table: PriceTable

    /// A repricer of `directory` with `table`.
    public init(directory: LogDirectory, table: PriceTable) {
        self.directory = directory
        self.table = table
    }

    /// What a reprice would write, and what it leaves unpriced.
    public struct Plan: Sendable {
        /// The adjustments to append, oldest first (by time, then id).
        public var adjustments: [UsageRecord] = []
        /// Unpriced records the table still has no price for.
        public var stillUnpriced = UnpricedSummary()
        /// Unpriced records that an adjustment prices already.
        public var alreadyRepriced = 0
        /// Unpriced records whose pricing keys (`service_tier`, `cache_write_1h_tokens`) are
        /// unusable: each message names the record. They are not adjusted.
        public var unusable: [String] = []
        /// Notes from pricing (a service tier the model has no prices for), once each.
        public var notes: [String] = []
        /// Damaged segments left out: their records are neither read nor adjusted.
        public var problems: [SpendLogError] = []

        /// The cost the adjustments add.
        public var total: Money {
            Money(nanos: adjustments.reduce(0) { $0 &+ $1.cost.nanos })
        }
    }

    /// Reads the records that match `filter` and prices every unpriced one that no adjustment
    /// prices yet. Writes nothing.
    public func plan(filter: RecordFilter = .all) throws(SpendLogError) -> Plan {
        var plan = Plan()
        var unpriced: [UsageRecord] = []
        // An adjustment lies in its record's day folder and shares its fields, so whenever the
        // filter keeps a record it also keeps the record's adjustment.
        var adjusted = Set<RecordID>()
        try LogReader(directory: directory).forEachRecord(
            matching: filter, onCorruption: { plan.problems.append($0) }
        ) { record throws(SpendLogError) in
            if let target = record.adjusts {
                adjusted.insert(target)
            } else if record.costSource == .unpriced {
                unpriced.append(record)
            }
        }
        let pricer = RecordPricer(table: table)
        var notes = Set<String>()
        for record in unpriced {
            if adjusted.contains(record.id) {
                plan.alreadyRepriced += 1
                continue
            }
            var priced = record
            let outcome: RecordPricer.Outcome
            do throws(SpendLogError) {
                outcome = try pricer.price(&priced)
            } catch {
                plan.unusable.append("record \(record.id) (\(record.timestamp.dayString)): \(error.message)")
                continue
            }
            switch outcome {
            case .priced(let breakdown):
                plan.adjustments.append(UsageRecord(adjusting: record, cost: priced.cost))
                for note in breakdown.notes where notes.insert(note).inserted { plan.notes.append(note) }
            case .unpriced, .provided:
                plan.stillUnpriced.add(record)
            }
        }
        plan.adjustments.sort { ($0.timestamp, $0.id) < ($1.timestamp, $1.id) }
        return plan
    }

    /// Appends the plan's adjustments in one batch through the retry check: all or nothing, and an
    /// adjustment already in its day folder (a concurrent or earlier reprice) is not written again
    /// (the receipt's `alreadyRecorded`).
    public func apply(_ plan: Plan, writer: LogWriter) throws(SpendLogError) -> AppendReceipt {
        guard !plan.adjustments.isEmpty else { return AppendReceipt(placements: [], records: []) }
        return try writer.appendOnce(contentsOf: plan.adjustments)
    }
}

extension UsageRecord {
    /// The adjustment that adds `cost` to `record`, an unpriced record: the record's time and
    /// fields (so it falls in the same day folder, budget windows and rollup cells), no tokens, no
    /// latency, `cost_source` `priced`, and `adjusts` naming the record (docs/FORMAT.md,
    /// "Adjustments"). Extra keys are not copied: they describe the call, not the adjustment.
    public init(adjusting record: UsageRecord, cost: Money) {
        self.init(
            id: RecordID.adjustment(of: record.id), timestamp: record.timestamp, project: record.project,
            model: record.model, provider: record.provider, cost: cost, costSource: .priced)
        adjusts = record.id
        user = record.user
        caller = record.caller
        session = record.session
        requestID = record.requestID
        role = record.role
        task = record.task
        status = record.status
        tags = record.tags
    }
}
