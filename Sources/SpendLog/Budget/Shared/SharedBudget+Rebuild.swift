extension SharedBudget {
    /// A counter the logs and the store disagreed on.
    public struct Drift: Sendable, Hashable {
        /// The limit (`L<n>`).
        public var rule: String
        /// The bucket (ms since the epoch; 0 for lifetime).
        public var bucket: Int64
        /// What the store held.
        public var stored: Int64
        /// What the logs (and the calls still in flight) give.
        public var counted: Int64
    }

    /// What a rebuild found and did.
    public struct RebuildReport: Sendable {
        /// Records read from the logs (each id once).
        public var records = 0
        /// Records marked `budget_unchecked` among them, now counted.
        public var unchecked = 0
        /// Counters that differed from the logs, now repaired.
        public var drift: [Drift] = []
        /// Pending markers whose record was found in a log (cleared).
        public var confirmed = 0
        /// Pending markers older than the grace period whose record is in no log (the call was
        /// counted but never recorded: its count was dropped).
        public var dropped = 0
        /// Pending markers still within the grace period (their calls may be in flight: kept and counted).
        public var inFlight = 0
    }

    /// Recounts every limit of the store from `logs` (every host's log, gathered) and replaces the
    /// counters with the result, reporting each counter that differed. Holds every limit's row
    /// lock meanwhile, so no check runs against half-rebuilt counters. Pending markers whose
    /// record is in a log are cleared; those younger than `pendingGraceMs` at `now` are kept and
    /// counted (their call may be in flight); older ones are dropped. Enforced appends on every
    /// host wait while it reads the logs (up to their lock time-out, then their failure policy
    /// applies); the transaction itself may stay idle for as long as the reading takes.
    public func rebuild(from logs: [LogDirectory], pendingGraceMs: Int64, now: Timestamp = .now()) throws
        -> RebuildReport
    {
        try withConnection { c throws -> RebuildReport in
            // The logs are read with the rows locked and the transaction idle: no idle time-out.
            let limits = try readLimits(
                c, prefix: "BEGIN; SET LOCAL idle_in_transaction_session_timeout = 0; ", forUpdate: true)
            let sets = try run(
                c,
                "SELECT record, at, counts FROM spendlog_pending FOR UPDATE; "
                    + "SELECT rule, bucket, amount FROM spendlog_counters")
            var pending: [String: (at: Int64, counts: String)] = [:]
            for row in sets[0].rows {
                guard let record = row[0], let at = row[1].flatMap({ Int64($0) }), let counts = row[2] else { continue }
                pending[record] = (at, counts)
            }
            var stored: [String: [Int64: Int64]] = [:]
            for row in sets[1].rows {
                guard let rule = row[0], let bucket = row[1].flatMap({ Int64($0) }),
                    let amount = row[2].flatMap({ Int64($0) })
                else { continue }
                stored[rule, default: [:]][bucket] = amount
            }
            var report = RebuildReport()
            var counted: [String: [Int64: Int64]] = [:]
            var seen = Set<RecordID>()
            var found = Set<String>()
            for log in logs {
                var corruption: SpendLogError?
                try LogReader(directory: log).forEachRecord(onCorruption: { if corruption == nil { corruption = $0 } })
                {
                    record throws(SpendLogError) in
                    guard seen.insert(record.id).inserted else { return }
                    report.records += 1
                    if record.extra.contains(where: { $0.key == SharedBudget.uncheckedKey }) { report.unchecked += 1 }
                    let id = record.id.description
                    if pending[id] != nil { found.insert(id) }
                    let ts = record.timestamp.millisecondsSinceEpoch
                    for l in limits where l.rule.scope.matches(record) {
                        let amount = l.rule.metric.amount(of: record)
                        if amount == 0 { continue }
                        counted[l.rule.id, default: [:]][l.rule.window.bucket(at: ts), default: 0].addSaturating(amount)
                    }
                }
                if let corruption {
                    _ = try? run(c, "ROLLBACK")
                    var failed = corruption
                    failed.message += " The budget store was not changed: a rebuild must count every record."
                    throw failed
                }
            }
            let ruleIDs = Set(limits.map(\.rule.id))
            var clear: [String] = []
            for (record, marker) in pending.sorted(by: { $0.key < $1.key }) {
                if found.contains(record) {
                    report.confirmed += 1
                    clear.append(record)
                } else if now.millisecondsSinceEpoch - marker.at >= pendingGraceMs {
                    report.dropped += 1
                    clear.append(record)
                } else {
                    report.inFlight += 1
                    for part in marker.counts.split(separator: ";") {
                        let f = part.split(separator: ":")
                        guard f.count == 3, ruleIDs.contains(String(f[0])), let bucket = Int64(f[1]),
                            let amount = Int64(f[2])
                        else { continue }
                        counted[String(f[0]), default: [:]][bucket, default: 0].addSaturating(amount)
                    }
                }
            }
            for rule in Set(stored.keys).union(counted.keys).sorted() where ruleIDs.contains(rule) {
                let a = stored[rule] ?? [:]
                let b = counted[rule] ?? [:]
                for bucket in Set(a.keys).union(b.keys).sorted() where (a[bucket] ?? 0) != (b[bucket] ?? 0) {
                    report.drift.append(
                        Drift(rule: rule, bucket: bucket, stored: a[bucket] ?? 0, counted: b[bucket] ?? 0))
                }
            }
            var sql = "DELETE FROM spendlog_counters; "
            let rows = counted.filter { ruleIDs.contains($0.key) }.sorted { $0.key < $1.key }.flatMap { rule, buckets in
                buckets.sorted { $0.key < $1.key }.map { "(\(lit(rule)), \($0.key), \($0.value))" }
            }
            for chunk in stride(from: 0, to: rows.count, by: 1000) {
                sql +=
                    "INSERT INTO spendlog_counters (rule, bucket, amount) VALUES "
                    + rows[chunk..<min(chunk + 1000, rows.count)].joined(separator: ", ") + "; "
            }
            for chunk in stride(from: 0, to: clear.count, by: 1000) {
                sql +=
                    "DELETE FROM spendlog_pending WHERE record IN ("
                    + clear[chunk..<min(chunk + 1000, clear.count)].map { lit($0) }.joined(separator: ", ") + "); "
            }
            try run(c, sql + "COMMIT", commit: true)
            return report
        }
    }
}
