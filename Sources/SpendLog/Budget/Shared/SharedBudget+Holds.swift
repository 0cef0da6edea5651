extension SharedBudget {
    // MARK: - Reservations

    /// Holds `amount` (and one request) against every limit of the store whose scope `fields`
    /// cover, until settled, released or `ttlMs` passes (holders on any host end by deadline
    /// only). Throws ``LimitExceeded`` when it does not fit, ``BudgetStoreUnavailable`` when the
    /// store cannot be reached (a hold needs the store, whatever the limits' policies).
    public func reserve(fields: LimitScope, amount: Money, ttlMs: Int64, now: Timestamp = .now()) throws -> Reservation
    {
        guard amount >= .zero, amount <= Money.maximumPerRecord else {
            throw SpendLogError.invalid(field: "amount", "must be between 0 and 1000000 USD.")
        }
        guard ttlMs > 0, ttlMs <= 366 * Timestamp.millisecondsPerDay else {
            throw SpendLogError.invalid(field: "ttl", "must be longer than 0 and at most 366 days.")
        }
        return try withConnection { c throws -> Reservation in
            let at = now.millisecondsSinceEpoch
            let limits = try readLimits(c, prefix: "BEGIN; ")
            let covered = limits.filter { $0.rule.scope.isCovered(by: fields) }
            var sql =
                covered.isEmpty
                ? "SELECT 1; "
                : "SELECT id FROM spendlog_limits WHERE id IN ("
                    + covered.map { lit($0.rule.id) }.joined(separator: ", ")
                    + ") ORDER BY number FOR UPDATE; "
            sql += SharedBudget.openHolds(at: at) + "; " + SharedBudget.windowSums(covered, at: at)
            let sets = try run(c, sql)
            let locked = Set(sets[0].rows.compactMap { $0.first ?? nil })
            let holds = SharedBudget.holds(sets[1].rows)
            let spentByRule = SharedBudget.sums(sets[2].rows)
            let reservation = Reservation(
                id: "R" + RecordID.generate(at: now).description, scope: fields, amount: amount,
                holder: HolderProcess(pid: 0, startTicks: 0, host: writer.options.host), deadline: at + ttlMs,
                createdAt: at)
            for l in covered where locked.contains(l.rule.id) {
                let rule = l.rule
                let spent = spentByRule[rule.id] ?? 0
                let held = SharedBudget.held(against: rule, holds)
                let requested = reservation.held(rule.metric)
                let total = Int128(spent) + Int128(held) + Int128(requested)
                if total > Int128(rule.maximum) || (requested == 0 && total >= Int128(rule.maximum)) {
                    try run(c, "ROLLBACK")
                    throw LimitExceeded(
                        rule: rule, windowStart: rule.window.firstCountedBucket(at: at), spent: spent, held: held,
                        requested: requested, resetsAt: rule.window.resetTime(after: at))
                }
            }
            try run(
                c,
                "INSERT INTO spendlog_reservations (id, scope, amount, deadline, host, created_at) VALUES ("
                    + "\(lit(reservation.id)), \(lit(fields.description)), \(amount.nanos), \(reservation.deadline), "
                    + "\(lit(writer.options.host)), \(at)); COMMIT", commit: true)
            return reservation
        }
    }

    /// Records the call of reservation `id` and frees its hold, in one transaction: the record is
    /// counted without a check against the limits the hold covered (the money is spent), and
    /// checked against the others. Then it is appended to the local log. When the store cannot
    /// be reached, the record's limits' policies decide, as for an enforced append (the hold then
    /// stays in the store until its deadline: over, never under).
    @discardableResult
    public func settle(_ id: String, record: UsageRecord, now: Timestamp = .now()) throws -> Outcome {
        let line = try Budget.validate(record, now: now)
        return try enforced(line, settling: id, now: now, once: false)
    }

    /// Frees a hold without recording anything.
    public func release(_ id: String, now: Timestamp = .now()) throws {
        try withConnection { c throws in
            let sets = try run(
                c,
                "DELETE FROM spendlog_reservations WHERE id = \(lit(id)) AND deadline > \(now.millisecondsSinceEpoch)")
            guard sets.first?.affected ?? 0 > 0 else { throw Budget.noReservation(id) }
        }
    }
}
