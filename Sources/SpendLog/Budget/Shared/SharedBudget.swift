#if canImport(Glibc)
    import Glibc
#endif

/// What a limit of a shared budget does when its store cannot be reached (docs/FORMAT.md,
/// "Shared budgets on PostgreSQL").
public enum StoreFailurePolicy: String, Sendable, CaseIterable {
    /// Refuse the call: nothing is recorded.
    case failClosed = "fail-closed"
    /// Record the call locally, marked `"budget_unchecked": true`; `budget rebuild --from` counts it later.
    case failOpen = "fail-open"
}

/// A limit of a shared budget and what it does when the store is unreachable.
public struct SharedLimit: Sendable, Hashable {
    /// The rule (`L<n>`).
    public var rule: LimitRule
    /// Its failure policy.
    public var policy: StoreFailurePolicy
}

/// Limits shared by every host, kept in PostgreSQL (docs/FORMAT.md, "Shared budgets on
/// PostgreSQL"). PostgreSQL holds the rules, the window counters, the counts not yet confirmed in
/// a log (`spendlog_pending`) and the reservations; the records still go to this host's log,
/// which stays the truth: ``rebuild(from:pendingGraceMs:now:)`` recounts from every host's log.
///
/// An enforced append is one short transaction: lock the matching rules' rows (`SELECT … FOR
/// UPDATE`), sum their counters in the record's window, check, add the record to the counters
/// and a pending marker, commit; then the record is appended to the local log and the marker
/// deleted. A crash after the commit counts the call without a record (over, never under) until
/// a rebuild drops the marker.
public final class SharedBudget: @unchecked Sendable {
    /// This host's log.
    public let directory: LogDirectory
    /// The store.
    public let location: BudgetStoreLocation
    /// The writer records go through.
    public let writer: LogWriter
    private let mutex = PThreadMutex()
    private var connection: PostgresConnection?
    /// The limits this object last found in (or wrote to) `budget/store-limits`: an unchanged
    /// list is neither encoded nor compared with the file again.
    private var limitsOnDisk: [SharedLimit]?

    /// The shared budget in `location`, recording into `directory`'s log with `writerOptions`.
    /// Nothing is connected until the first operation; the connection is then kept for this
    /// object's life (one per process).
    public init(directory: LogDirectory, location: BudgetStoreLocation, writerOptions: WriterOptions = WriterOptions())
    {
        self.directory = directory
        self.location = location
        self.writer = LogWriter(directory: directory, options: writerOptions)
    }

    /// The extra record key that marks a record appended while the store was unreachable.
    public static let uncheckedKey = "budget_unchecked"

    /// `budget/store-limits`: the limits as last read from the store, to apply their failure
    /// policies when it cannot be reached.
    public var limitsCachePath: String { directory.budgetPath + "/store-limits" }

    // MARK: - Rules

    /// Adds a rule; its id is the next `L<n>` of the store. It counts from zero: records
    /// already in the hosts' logs are counted by ``rebuild(from:pendingGraceMs:now:)``.
    @discardableResult
    public func setLimit(_ rule: LimitRule, policy: StoreFailurePolicy, now: Timestamp = .now()) throws -> SharedLimit {
        if rule.softPartsPerMillion != nil {
            throw SpendLogError.invalid(
                field: "soft", "soft thresholds are not kept by a shared budget store; set the limit without one.")
        }
        return try mutex.withLock { () throws -> SharedLimit in
            let c = try connected()
            try createSchema(c)
            let sets = try run(
                c,
                "BEGIN; LOCK TABLE spendlog_limits IN SHARE ROW EXCLUSIVE MODE; "
                    + "SELECT coalesce(max(number), 0) + 1 FROM spendlog_limits")
            let number = Int(sets.last?.rows.first?.first.flatMap { $0 } ?? "1") ?? 1
            var added = rule
            added.id = "L\(number)"
            added.createdAt = now.millisecondsSinceEpoch
            try run(
                c,
                "INSERT INTO spendlog_limits (id, number, scope, metric, window_name, tz, max, policy, created_at) VALUES ("
                    + [
                        lit(added.id), String(number), lit(added.scope.description), lit(added.metric.rawValue),
                        lit(added.window.name), lit(added.window.zoneName), String(added.maximum), lit(policy.rawValue),
                        String(added.createdAt),
                    ].joined(separator: ", ") + "); COMMIT", commit: true)
            return SharedLimit(rule: added, policy: policy)
        }
    }

    /// Removes the rule `id` and its counters.
    public func deleteLimit(id: String) throws {
        try mutex.withLock { () throws in
            let c = try connected()
            try createSchema(c)
            let sets = try run(
                c,
                "BEGIN; DELETE FROM spendlog_limits WHERE id = \(lit(id)); "
                    + "DELETE FROM spendlog_counters WHERE rule = \(lit(id)); COMMIT", commit: true)
            guard sets.count >= 2, sets[1].affected > 0 else {
                throw SpendLogError.invalid("No limit '\(id)' in the budget store at \(location.endpoint).")
            }
        }
    }

    /// The rules, with their failure policies.
    public func limits() throws -> [SharedLimit] {
        try mutex.withLock { () throws -> [SharedLimit] in
            let c = try connected()
            let limits = try readLimits(c, prefix: "")
            cacheLimits(limits)
            return limits
        }
    }

    // MARK: - Enforcement

    /// What an enforced append did.
    public struct Outcome: Sendable {
        /// The record as written (with the unchecked mark when ``unchecked``).
        public var record: UsageRecord
        /// The record's id was in the log already: nothing was written or counted.
        public var alreadyRecorded = false
        /// The store was unreachable and every matching limit fails open: the record was written
        /// with `"budget_unchecked": true` and counted nowhere yet.
        public var unchecked: BudgetStoreUnavailable?
        /// Failures after the record was written that did not fail the call (a pending marker
        /// left in the store); `budget rebuild --from` clears them.
        public var notes: [String] = []
    }

    /// Appends `record` to the local log only if no matching limit of the store would pass its
    /// maximum, counting it in the store first. Throws ``LimitExceeded`` (nothing written),
    /// ``BudgetStoreUnavailable`` (the store failed and a matching limit fails closed, or no
    /// copy of the limits is kept here: nothing written) or ``SpendLogError``.
    @discardableResult
    public func appendIfWithinLimits(_ record: UsageRecord, now: Timestamp = .now(), once: Bool = false) throws
        -> Outcome
    {
        let line = try Budget.validate(record, now: now)
        if once, try writer.isRecorded(record.id, day: record.timestamp.dayString) {
            return Outcome(record: record, alreadyRecorded: true)
        }
        return try enforced(line, settling: nil, now: now, once: once)
    }

    /// Checks and counts the record of `line` (made by ``Budget/validate(_:now:)``), then appends it.
    func enforced(_ line: LogWriter.EncodedRecords, settling: String?, now: Timestamp, once: Bool) throws -> Outcome {
        let record = line.records[0]
        return try mutex.withLock { () throws -> Outcome in
            let counted: Bool
            do {
                counted = try check(record, held: settling, now: now)
            } catch let failure as BudgetStoreUnavailable {
                return try appendUnchecked(record, failure: failure, once: once)
            }
            return try appendChecked(line, counted: counted, once: once)
        }
    }

    /// Runs `body` on the connection, under this object's mutex.
    func withConnection<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        try mutex.withLock { () throws -> T in try body(try connected()) }
    }

    /// The check-and-count transaction. Returns whether a pending marker was written (false when
    /// no limit matches). `settling` frees that reservation in the same transaction and checks
    /// only the rules its fields do not cover.
    private func check(_ record: UsageRecord, held settling: String?, now: Timestamp) throws -> Bool {
        let c = try connected()
        let limits = try readLimits(c, prefix: "BEGIN; ")
        cacheLimits(limits)
        let ts = record.timestamp.millisecondsSinceEpoch
        let at = now.millisecondsSinceEpoch
        let matching = limits.filter { $0.rule.scope.matches(record) }
        let id = record.id.description
        guard !matching.isEmpty || settling != nil else {
            try run(c, "ROLLBACK")
            return false
        }
        var sql = ""
        if !matching.isEmpty {
            sql +=
                "SELECT id FROM spendlog_limits WHERE id IN ("
                + matching.map { lit($0.rule.id) }.joined(separator: ", ")
                + ") ORDER BY number FOR UPDATE; "
        } else {
            sql += "SELECT 1; "
        }
        sql +=
            settling.map {
                "SELECT scope FROM spendlog_reservations WHERE id = \(lit($0)) AND deadline > \(at) FOR UPDATE; "
            }
            ?? "SELECT 1; "
        sql += "SELECT 1 FROM spendlog_pending WHERE record = \(lit(id)); "
        sql += SharedBudget.openHolds(at: at) + "; "
        sql += SharedBudget.windowSums(matching, at: ts)
        let sets = try run(c, sql)
        guard sets.count == 5 else {
            try run(c, "ROLLBACK")
            throw unexpected("the check returned \(sets.count) result sets")
        }
        FaultInjection.reach("shared.inTransaction")
        SharedBudget.pauseForTests()
        let locked = Set(sets[0].rows.compactMap { $0.first ?? nil })
        var heldScope: LimitScope?
        if let settling {
            guard let text = sets[1].rows.first?.first ?? nil, let scope = try? LimitScope.parse(text) else {
                try run(c, "ROLLBACK")
                throw Budget.noReservation(settling)
            }
            heldScope = scope
        }
        if !sets[2].rows.isEmpty {
            // An earlier try of this record was counted and its marker is still there: count nothing again.
            try run(
                c, settling.map { "DELETE FROM spendlog_reservations WHERE id = \(lit($0)); COMMIT" } ?? "COMMIT",
                commit: true)
            return true
        }
        let holds = SharedBudget.holds(sets[3].rows, excluding: settling)
        let spent = SharedBudget.sums(sets[4].rows)
        var counts: [(rule: String, bucket: Int64, amount: Int64)] = []
        for m in matching where locked.contains(m.rule.id) {
            let rule = m.rule
            let requested = rule.metric.amount(of: record)
            let covered = heldScope.map { rule.scope.isCovered(by: $0) } ?? false
            if !covered {
                let held = SharedBudget.held(against: rule, holds)
                let s = spent[rule.id] ?? 0
                if Int128(s) + Int128(held) + Int128(requested) > Int128(rule.maximum) {
                    try run(c, "ROLLBACK")
                    var refusal = LimitExceeded(
                        rule: rule, windowStart: rule.window.firstCountedBucket(at: ts), spent: s, held: held,
                        requested: requested, resetsAt: rule.window.resetTime(after: ts))
                    refusal.pastWindow = ts < rule.window.firstCountedBucket(at: at)
                    throw refusal
                }
            }
            if requested > 0 { counts.append((rule.id, rule.window.bucket(at: ts), requested)) }
        }
        var write = ""
        if !counts.isEmpty {
            write +=
                "INSERT INTO spendlog_counters AS c (rule, bucket, amount) VALUES "
                + counts.map { "(\(lit($0.rule)), \($0.bucket), \($0.amount))" }.joined(separator: ", ")
                + " ON CONFLICT (rule, bucket) DO UPDATE SET amount = CASE WHEN c.amount > "
                + "9223372036854775807 - excluded.amount THEN 9223372036854775807 ELSE c.amount + excluded.amount END; "
        }
        let countsText = counts.map { "\($0.rule):\($0.bucket):\($0.amount)" }.joined(separator: ";")
        write +=
            "INSERT INTO spendlog_pending (record, host, at, counts) VALUES (\(lit(id)), "
            + "\(lit(writer.options.host)), \(at), \(lit(countsText))); "
        if let settling { write += "DELETE FROM spendlog_reservations WHERE id = \(lit(settling)); " }
        write += "COMMIT"
        try run(c, write, commit: true)
        return true
    }

    private func appendChecked(_ line: LogWriter.EncodedRecords, counted: Bool, once: Bool) throws -> Outcome {
        FaultInjection.reach("shared.afterCommit")
        let record = line.records[0]
        let receipt: AppendReceipt
        do {
            receipt = try writer.append(line, once: once)
        } catch {
            if counted {
                var failed = error
                failed.message +=
                    " The call was counted in the budget store at \(location.endpoint) before the append failed: "
                    + "it counts there (over, never under) until `budget rebuild` drops its pending marker."
                throw failed
            }
            throw error
        }
        FaultInjection.reach("shared.afterAppend")
        var outcome = Outcome(record: record, alreadyRecorded: receipt.placements.isEmpty)
        if counted {
            do {
                try run(try connected(), "DELETE FROM spendlog_pending WHERE record = \(lit(record.id.description))")
            } catch {
                outcome.notes.append(
                    "the pending marker of \(record.id) was not cleared in the budget store at \(location.endpoint) "
                        + "(\(SharedBudget.describe(error))); a rebuild from the logs clears it.")
            }
        }
        return outcome
    }

    /// The store failed: the matching limits' policies decide, from this host's copy of them.
    private func appendUnchecked(_ record: UsageRecord, failure: BudgetStoreUnavailable, once: Bool) throws -> Outcome {
        var failure = failure
        guard let cached = cachedLimits() else {
            failure.reason +=
                " No copy of the limits is kept on this host yet (they are copied on every check that "
                + "reaches the store), so the call fails closed: nothing was recorded."
            throw failure
        }
        let matching = cached.filter { $0.rule.scope.matches(record) }
        let closed = matching.filter { $0.policy == .failClosed }
        guard closed.isEmpty else {
            let ids = closed.map(\.rule.id).joined(separator: ", ")
            failure.reason +=
                " Limit\(closed.count == 1 ? "" : "s") \(ids) fail\(closed.count == 1 ? "s" : "") "
                + "closed: nothing was recorded. Retry once PostgreSQL is reachable there."
            if failure.commitUncertain {
                failure.reason +=
                    " (The connection was lost during the commit: the call may be counted there "
                    + "without a record until `budget rebuild` drops its pending marker.)"
            }
            throw failure
        }
        var marked = record
        marked.extra.removeAll { $0.key == SharedBudget.uncheckedKey }
        marked.extra.append((SharedBudget.uncheckedKey, .bool(true)))
        let receipt = once ? try writer.appendOnce(contentsOf: [marked]) : try writer.append(contentsOf: [marked])
        connection = nil
        return Outcome(record: marked, alreadyRecorded: receipt.placements.isEmpty, unchecked: failure)
    }

    // MARK: - Status

    /// Every rule's spend in its current window and what reservations hold.
    public func status(now: Timestamp = .now()) throws -> [RuleStatus] {
        try mutex.withLock { () throws -> [RuleStatus] in
            let c = try connected()
            let limits = try readLimits(c, prefix: "")
            let at = now.millisecondsSinceEpoch
            let sets = try run(c, SharedBudget.openHolds(at: at) + "; " + SharedBudget.windowSums(limits, at: at))
            let holds = SharedBudget.holds(sets[0].rows)
            let spent = SharedBudget.sums(sets[1].rows)
            return limits.map { l in
                RuleStatus(
                    rule: l.rule, windowStart: l.rule.window.firstCountedBucket(at: at), spent: spent[l.rule.id] ?? 0,
                    held: SharedBudget.held(against: l.rule, holds), resetsAt: l.rule.window.resetTime(after: at))
            }
        }
    }

    // MARK: - Connection and SQL

    private func connected() throws -> PostgresConnection {
        if let connection { return connection }
        let made = try PostgresConnection(location)
        connection = made
        return made
    }

    /// Runs SQL; a lost connection is forgotten (the next operation reconnects) and thrown as
    /// ``BudgetStoreUnavailable``; a refused statement rolls back and is thrown as an error.
    @discardableResult
    func run(_ c: PostgresConnection, _ sql: String, commit: Bool = false) throws -> [PostgresConnection.Rows] {
        do {
            return try c.run(sql, commit: commit)
        } catch {
            switch error {
            case .unavailable(let failure):
                connection = nil
                throw failure
            case .statement(let statement):
                _ = try? c.run("ROLLBACK")
                throw SpendLogError(
                    code: .io,
                    message: "The budget store at \(location.endpoint) refused a statement (SQLSTATE "
                        + "\(statement.sqlState)): \(statement.message) Nothing was recorded.")
            }
        }
    }

    func unexpected(_ what: String) -> SpendLogError {
        SpendLogError(
            code: .corruption, message: "The budget store at \(location.endpoint) answered unexpectedly: \(what).")
    }

    static func describe(_ error: any Error) -> String {
        if let e = error as? BudgetStoreUnavailable { return e.reason }
        if let e = error as? SpendLogError { return e.message }
        return "\(error)"
    }

    func lit(_ text: String) -> String { PostgresConnection.literal(text) }

    func createSchema(_ c: PostgresConnection) throws {
        try run(
            c,
            """
            BEGIN; SELECT pg_advisory_xact_lock(7370121901);
            CREATE TABLE IF NOT EXISTS spendlog_limits (id text PRIMARY KEY, number integer NOT NULL UNIQUE,
              scope text NOT NULL, metric text NOT NULL, window_name text NOT NULL, tz text NOT NULL,
              max bigint NOT NULL, policy text NOT NULL, created_at bigint NOT NULL);
            CREATE TABLE IF NOT EXISTS spendlog_counters (rule text NOT NULL, bucket bigint NOT NULL,
              amount bigint NOT NULL, PRIMARY KEY (rule, bucket));
            CREATE TABLE IF NOT EXISTS spendlog_pending (record text PRIMARY KEY, host text NOT NULL,
              at bigint NOT NULL, counts text NOT NULL);
            CREATE TABLE IF NOT EXISTS spendlog_reservations (id text PRIMARY KEY, scope text NOT NULL,
              amount bigint NOT NULL, deadline bigint NOT NULL, host text NOT NULL, created_at bigint NOT NULL);
            COMMIT
            """)
    }

    /// `prefix` (e.g. `BEGIN; `) then the rules, ordered by number. No tables yet: no rules.
    func readLimits(_ c: PostgresConnection, prefix: String, forUpdate: Bool = false) throws -> [SharedLimit] {
        let sets: [PostgresConnection.Rows]
        do {
            sets = try run(
                c,
                prefix + "SELECT id, scope, metric, window_name, tz, max, policy, created_at FROM spendlog_limits "
                    + "ORDER BY number" + (forUpdate ? " FOR UPDATE" : ""))
        } catch let e as SpendLogError where e.message.contains("(SQLSTATE 42P01)") {
            try createSchema(c)
            return try readLimits(c, prefix: prefix, forUpdate: forUpdate)
        }
        guard let rows = sets.last?.rows else { return [] }
        var limits: [SharedLimit] = []
        for row in rows {
            guard row.count == 8, let id = row[0], let scope = row[1], let metric = row[2], let window = row[3],
                let tz = row[4], let maxText = row[5], let maximum = Int64(maxText), let policyText = row[6],
                let policy = StoreFailurePolicy(rawValue: policyText)
            else { throw unexpected("a row of spendlog_limits is malformed") }
            do {
                var rule = try LimitRule.parse(scope: scope, type: metric, maximum: "0", window: window, zone: tz)
                rule.maximum = maximum
                rule.id = id
                rule.createdAt = Int64(row[7] ?? "0") ?? 0
                limits.append(SharedLimit(rule: rule, policy: policy))
            } catch {
                throw unexpected("limit \(id) cannot be read: \(error.message)")
            }
        }
        return limits
    }

    // MARK: - The local copy of the limits

    private static let cacheHeader = "spendlog-store-limits 1"

    private func encodeLimits(_ limits: [SharedLimit]) -> [UInt8] {
        var text = SharedBudget.cacheHeader + "\n"
        for l in limits {
            text +=
                [
                    l.rule.id, l.rule.scope.description, l.rule.metric.rawValue, l.rule.window.name,
                    l.rule.window.zoneName,
                    String(l.rule.maximum), l.policy.rawValue,
                ].joined(separator: "\t") + "\n"
        }
        text += "end " + hex16(Array(text.utf8).withUnsafeBufferPointer { fnv1a64($0) }) + "\n"
        return Array(text.utf8)
    }

    /// Rewrites `budget/store-limits` when the limits changed (temp, rename, no fsync: a hint).
    private func cacheLimits(_ limits: [SharedLimit]) {
        if limitsOnDisk == limits { return }
        let bytes = encodeLimits(limits)
        if let existing = try? FileSystem.readWholeFile(limitsCachePath), existing == bytes {
            limitsOnDisk = limits
            return
        }
        do {
            try FileSystem.makeDirectories(directory.budgetPath)
            try FileSystem.replaceAtomically(limitsCachePath, contents: bytes, sync: false)
            limitsOnDisk = limits
        } catch {}
    }

    /// The limits as last read from the store; nil when none were kept or the copy is damaged.
    func cachedLimits() -> [SharedLimit]? {
        guard let bytes = try? FileSystem.readWholeFile(limitsCachePath), !bytes.isEmpty else { return nil }
        let text = String(decoding: bytes, as: UTF8.self)
        guard text.hasSuffix("\n"), let endLine = text.dropLast().lastIndex(of: "\n") else { return nil }
        let body = String(text[...endLine])
        guard
            text[text.index(after: endLine)...] == "end "
                + hex16(Array(body.utf8).withUnsafeBufferPointer { fnv1a64($0) }) + "\n"
        else { return nil }
        var lines = body.split(separator: "\n")
        guard lines.first == Substring(SharedBudget.cacheHeader) else { return nil }
        lines.removeFirst()
        var limits: [SharedLimit] = []
        for line in lines {
            let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard f.count == 7, let maximum = Int64(f[5]), let policy = StoreFailurePolicy(rawValue: f[6]),
                var rule = try? LimitRule.parse(scope: f[1], type: f[2], maximum: "0", window: f[3], zone: f[4])
            else { return nil }
            rule.id = f[0]
            rule.maximum = maximum
            limits.append(SharedLimit(rule: rule, policy: policy))
        }
        return limits
    }

    /// Debug builds only: `SPENDLOG_SHARED_PAUSE_MS` makes the check wait that long inside its
    /// transaction, rows locked (for the tests that end a backend mid-transaction).
    static func pauseForTests() {
        #if SPENDLOG_FAULT_POINTS
            if let raw = getenv("SPENDLOG_SHARED_PAUSE_MS"), let ms = Int(String(cString: raw)), ms > 0 {
                usleep(useconds_t(ms * 1000))
            }
        #endif
    }

    /// A statement whose rows are `(rule id, sum)`: each limit's counted amount in its window at
    /// `at` (ms since the epoch).
    static func windowSums(_ limits: [SharedLimit], at: Int64) -> String {
        guard !limits.isEmpty else { return "SELECT 1" }
        let lit = PostgresConnection.literal
        return limits.map { l in
            let range = l.rule.window.countedRange(at: at)
            return "SELECT \(lit(l.rule.id)), coalesce(sum(amount), 0)::text FROM spendlog_counters WHERE rule = "
                + "\(lit(l.rule.id)) AND bucket BETWEEN \(range.lowerBound) AND \(range.upperBound)"
        }.joined(separator: " UNION ALL ")
    }

    /// The sums of ``windowSums(_:at:)``'s rows, by rule id (a sum that does not parse counts as
    /// full).
    static func sums(_ rows: [[String?]]) -> [String: Int64] {
        var spent: [String: Int64] = [:]
        for row in rows where row.count == 2 {
            if let rule = row[0], let text = row[1] { spent[rule] = Int64(text) ?? .max }
        }
        return spent
    }

    /// The statement listing the holds open at `at`: rows `(id, scope, amount)`.
    static func openHolds(at: Int64) -> String {
        "SELECT id, scope, amount FROM spendlog_reservations WHERE deadline > \(at)"
    }

    /// The holds of ``openHolds(at:)``'s rows, but `excluding`.
    static func holds(_ rows: [[String?]], excluding: String? = nil) -> [(scope: LimitScope, nanos: Int64)] {
        rows.compactMap { row in
            guard row.count == 3, let id = row[0], id != excluding, let text = row[1],
                let scope = try? LimitScope.parse(text), let amount = row[2], let nanos = Int64(amount)
            else { return nil }
            return (scope, nanos)
        }
    }

    /// What `holds` keep of `rule`'s metric.
    static func held(against rule: LimitRule, _ holds: [(scope: LimitScope, nanos: Int64)]) -> Int64 {
        var held: Int64 = 0
        for hold in holds where rule.scope.isCovered(by: hold.scope) {
            held.addSaturating(Reservation.held(hold.nanos, rule.metric))
        }
        return held
    }
}
