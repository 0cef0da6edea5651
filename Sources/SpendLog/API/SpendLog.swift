#if canImport(Glibc)
    import Glibc
#endif

/// The log, from Swift: one object to append, enforce limits, query and record calls.
///
/// ```swift
/// let log = try SpendLog(directory: "/var/lib/spendlog")   // or SpendLog.default()
/// try await log.append(UsageRecord(project: "etl", model: "gpt-4.1", inputTokens: 1200, outputTokens: 300))
/// let body = try await log.track(project: "etl") { try await client.post(request) }
/// for try await record in log.records(matching: RecordFilter(projects: ["etl"])) { print(record.cost) }
/// await log.close()
/// ```
///
/// `SpendLog` is `Sendable` and every operation is `async`. The work that blocks — `write` and
/// `fsync`, the budget's lock, reading segments — runs on threads the object owns, never on the
/// cooperative pool: an append suspends its task until its record is durable, and other tasks
/// keep running meanwhile. Appends from many tasks share their writes and fsyncs (group commit):
/// every append queued while one batch is being written and synced goes into the next, as one
/// ``LogWriter/append(contentsOf:)``, and each is answered only once that batch is durable (per
/// ``WriterOptions/fsync``). A failed batch fails every append in it with the writer's error,
/// which says whether anything may be in the log (``SpendLogError/possiblyWritten``, ids of the
/// other appends of the batch included). After a failed fsync the writer appends nothing more
/// (see `GroupCommit`): every later append fails too, until a new `SpendLog` is opened.
///
/// Three threads: appends; budget operations (they hold `budget/lock` and append through the
/// budget's own writer); queries. It is a facade: the format, the durability rules and the
/// limits are those of ``LogWriter``, ``Budget`` and ``Query``.
///
/// Errors are typed: ``SpendLogError``; the operations a limit can refuse throw ``BudgetError``,
/// whose ``BudgetError/limitExceeded(_:)`` case carries the ``LimitExceeded`` refusal.
public final class SpendLog: Sendable {
    /// The log's folder.
    public let directory: LogDirectory
    /// How appends are written: the fsync policy, segment rotation, the host in segment names.
    public let writerOptions: WriterOptions
    /// The prices ``track(project:format:model:recordUnchargedFailures:configure:call:)`` and
    /// ``trackWithinLimits(scope:estimate:ttlMs:project:format:model:recordUnchargedFailures:configure:call:)``
    /// price calls with.
    public let prices: PriceTable

    private let batcher: AppendBatcher
    private let budget: Budget
    private let budgetThread = BlockingThread()
    private let queryThread = BlockingThread()

    /// Opens the log at `directory`, creating it if it does not exist.
    public init(
        directory path: String, options: WriterOptions = WriterOptions(), prices: PriceTable = .builtin
    ) throws(SpendLogError) {
        let directory = try LogDirectory.open(path)
        self.directory = directory
        self.writerOptions = options
        self.prices = prices
        // The batcher is the writer's only appender and gathers the group itself: a batch-policy
        // leader waiting for more appenders would wait out its whole delay on every commit.
        var batcherOptions = options
        batcherOptions.batchMaxDelayMs = 0
        self.batcher = AppendBatcher(writer: LogWriter(directory: directory, options: batcherOptions))
        self.budget = Budget(directory: directory, writerOptions: options)
    }

    /// The log the command line uses by default: `$SPENDLOG_DIR`, else `$XDG_DATA_HOME/spendlog`,
    /// else `~/.local/share/spendlog` (``LogDirectory/resolvePath(explicit:environment:)``).
    public static func `default`(
        environment: [String: String] = SpendLog.processEnvironment(), options: WriterOptions = WriterOptions(),
        prices: PriceTable = .builtin
    ) throws(SpendLogError) -> SpendLog {
        try SpendLog(
            directory: LogDirectory.resolvePath(explicit: nil, environment: environment), options: options,
            prices: prices)
    }

    /// This process's environment variables.
    public static func processEnvironment() -> [String: String] {
        var result: [String: String] = [:]
        var entry = environ
        while let pointer = entry.pointee {
            let text = String(cString: pointer)
            if let equals = text.firstIndex(of: "=") {
                result[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            entry += 1
        }
        return result
    }

    deinit {
        batcher.finish()
        budgetThread.stop()
        queryThread.stop()
    }

    /// Lets the appends already made finish, then refuses new ones and ends the threads. Queries
    /// and budget operations already started finish; later ones fail.
    public func close() async {
        await batcher.stop()
        budgetThread.stop()
        queryThread.stop()
    }

    // MARK: - Appending

    /// Appends `record`; returns it as written once it is durable (per the fsync policy).
    @discardableResult
    public func append(_ record: UsageRecord) async throws(SpendLogError) -> UsageRecord {
        try await batcher.append([record], once: false).written[0]
    }

    /// Appends `records`, all or nothing, in one group commit.
    @discardableResult
    public func append(contentsOf records: [UsageRecord]) async throws(SpendLogError) -> [UsageRecord] {
        guard !records.isEmpty else { return [] }
        return try await batcher.append(records, once: false).written
    }

    /// Appends `records` unless their id is in the log already: a retry after a time-out or an
    /// error that left it unclear whether the first try was written writes nothing twice
    /// (``LogWriter/appendOnce(contentsOf:)``). Returns what was written, and what was already
    /// recorded (in the log of its UTC day, or earlier in `records`). Give each record its id
    /// before the first try and keep it for every retry. The check reads the record's day, so
    /// such an append is a group commit of its own.
    public func appendOnce(contentsOf records: [UsageRecord]) async throws(SpendLogError) -> AppendOnceResult {
        guard !records.isEmpty else { return AppendOnceResult(written: [], alreadyRecorded: []) }
        let (written, already) = try await batcher.append(records, once: true)
        return AppendOnceResult(written: written, alreadyRecorded: already)
    }

    /// Appends `record` unless its id is in the log already; see ``appendOnce(contentsOf:)``.
    /// Returns whether it was written now (false: it was recorded before).
    @discardableResult
    public func appendOnce(_ record: UsageRecord) async throws(SpendLogError) -> Bool {
        try await appendOnce(contentsOf: [record]).written.count == 1
    }

    /// What ``appendOnce(contentsOf:)`` did with each record.
    public struct AppendOnceResult: Sendable {
        /// The records written by this call.
        public var written: [UsageRecord]
        /// The records whose id was in the log already, or earlier in the same call: not written.
        public var alreadyRecorded: [UsageRecord]
    }

    /// What the append thread has done: appends queued and answered, and the group commits that
    /// wrote them.
    public var appendCounts: (queued: Int, answered: Int, commits: Int) {
        let counts = batcher.currentCounts
        return (counts.queued, counts.answered, counts.commits)
    }

    // MARK: - Limits

    /// Appends `record` only if no limit would pass its maximum. Throws
    /// ``BudgetError/limitExceeded(_:)`` (which limit, what is left, when its window resets;
    /// nothing written) or ``BudgetError/failed(_:)``. `now` is the budget's clock; with `once`, a
    /// record whose id is in the log already is neither counted nor written again
    /// (``Budget/appendIfWithinLimits(_:now:once:)``).
    @discardableResult
    public func appendIfWithinLimits(_ record: UsageRecord, now: Timestamp = .now(), once: Bool = false)
        async throws(BudgetError) -> Budget.EnforcedAppend
    {
        let budget = self.budget
        return try await budgetThread.run { () throws(BudgetError) -> Budget.EnforcedAppend in
            do { return try budget.appendIfWithinLimits(record, now: now, once: once) } catch { throw BudgetError(error) }
        }
    }

    /// Holds `amount` against every limit covering `fields` (``Budget/reserve(fields:amount:ttlMs:holder:now:)``).
    /// Throws ``BudgetError/limitExceeded(_:)`` when the hold does not fit.
    public func reserve(
        fields: LimitScope, amount: Money, ttlMs: Int64 = 600_000, holder: HolderProcess = .current(),
        now: Timestamp = .now()
    ) async throws(BudgetError) -> Reservation {
        let budget = self.budget
        return try await budgetThread.run { () throws(BudgetError) -> Reservation in
            do {
                return try budget.reserve(fields: fields, amount: amount, ttlMs: ttlMs, holder: holder, now: now)
            } catch { throw BudgetError(error) }
        }
    }

    /// Records the call of a reservation and frees its hold (``Budget/settle(_:record:now:)``).
    /// Throws ``BudgetError/limitExceeded(_:)`` when a limit the hold did not cover refuses the
    /// record (the hold stays open), or ``BudgetError/failed(_:)``.
    @discardableResult
    public func settle(_ reservation: String, record: UsageRecord, now: Timestamp = .now())
        async throws(BudgetError) -> Budget.EnforcedAppend
    {
        let budget = self.budget
        return try await budgetThread.run { () throws(BudgetError) -> Budget.EnforcedAppend in
            do { return try budget.settle(reservation, record: record, now: now) } catch { throw BudgetError(error) }
        }
    }

    /// Records a call that was made and paid for against its hold, never refusing it
    /// (``Budget/settlePaidCall(_:record:now:)``): past a limit the hold did not cover, or after
    /// the hold expired, it is recorded all the same.
    @discardableResult
    public func settlePaidCall(_ reservation: String, record: UsageRecord, now: Timestamp = .now())
        async throws(SpendLogError) -> Budget.EnforcedAppend
    {
        let budget = self.budget
        return try await budgetThread.run { () throws(SpendLogError) in
            try budget.settlePaidCall(reservation, record: record, now: now)
        }
    }

    /// Frees a hold without recording anything.
    public func release(_ reservation: String, now: Timestamp = .now()) async throws(SpendLogError) {
        let budget = self.budget
        try await budgetThread.run { () throws(SpendLogError) in try budget.release(reservation, now: now) }
    }

    /// Every limit's spend in its current window, what is held, and when the window resets.
    public func budgetStatus(now: Timestamp = .now()) async throws(SpendLogError) -> [RuleStatus] {
        let budget = self.budget
        return try await budgetThread.run { () throws(SpendLogError) in try budget.status(now: now) }
    }

    /// Adds a limit (its id is assigned) and returns it.
    @discardableResult
    public func setLimit(_ rule: LimitRule, now: Timestamp = .now()) async throws(SpendLogError) -> LimitRule {
        let budget = self.budget
        return try await budgetThread.run { () throws(SpendLogError) in try budget.setLimit(rule, now: now) }
    }

    /// The limits.
    public func limits() async throws(SpendLogError) -> [LimitRule] {
        let budget = self.budget
        return try await budgetThread.run { () throws(SpendLogError) in try budget.limits() }
    }

    // MARK: - Queries

    /// Totals per group, as `spendlog stats` answers them (``Query/stats(_:)``).
    public func stats(_ query: StatsQuery = StatsQuery()) async throws(SpendLogError) -> StatsResult {
        let directory = self.directory
        return try await queryThread.run { () throws(SpendLogError) in try Query(directory: directory).stats(query) }
    }

    /// Totals per group of the records matching `filter`.
    public func stats(groupBy: [GroupKey], filter: RecordFilter = .all, timeZone: ZoneInfo = .utc)
        async throws(SpendLogError) -> StatsResult
    {
        try await stats(StatsQuery(groupBy: groupBy, filter: filter, timeZone: timeZone))
    }

    /// The records matching `filter`, newest first (by time, then id), as `spendlog logs` lists
    /// them: a record id twice in a day is one record, and adjustments are not listed. Read one
    /// UTC day at a time on the query thread, as the sequence is iterated; records appended
    /// while it is iterated may or may not be seen.
    public func records(matching filter: RecordFilter = .all) -> Records {
        Records(log: self, filter: filter)
    }

    /// The records of one query, newest first; see ``records(matching:)``.
    public struct Records: AsyncSequence, Sendable {
        public typealias Element = UsageRecord
        public typealias Failure = SpendLogError

        let log: SpendLog
        let filter: RecordFilter

        public func makeAsyncIterator() -> Iterator { Iterator(log: log, filter: filter) }

        /// Reads the records one UTC day at a time, on the log's query thread, as it is advanced.
        public struct Iterator: AsyncIteratorProtocol {
            /// A record.
            public typealias Element = UsageRecord
            public typealias Failure = SpendLogError

            let log: SpendLog
            let filter: RecordFilter
            /// UTC days left to read, newest first; nil before the first read.
            var days: [String]?
            var buffer: [UsageRecord] = []
            var next = 0

            public mutating func next() async throws(SpendLogError) -> UsageRecord? {
                while next == buffer.count {
                    if days == nil { days = try await log.days(matching: filter) }
                    guard let day = days?.first else { return nil }
                    days?.removeFirst()
                    buffer = try await log.records(ofDay: day, matching: filter)
                    next = 0
                }
                defer { next += 1 }
                return buffer[next]
            }
        }
    }

    /// The UTC days with segments a record matching `filter` may be in, newest first.
    func days(matching filter: RecordFilter) async throws(SpendLogError) -> [String] {
        let directory = self.directory
        return try await queryThread.run { () throws(SpendLogError) -> [String] in
            let segments = try LogReader(directory: directory).segments(days: { filter.mayMatch(day: $0) })
            return Array(Set(segments.map(\.name.day))).sorted(by: >)
        }
    }

    /// The records of UTC `day` matching `filter`, newest first.
    func records(ofDay day: String, matching filter: RecordFilter) async throws(SpendLogError) -> [UsageRecord] {
        let directory = self.directory
        return try await queryThread.run { () throws(SpendLogError) -> [UsageRecord] in
            guard let start = Timestamp.parse(day + "T00:00:00Z") else { return [] }
            var dayFilter = filter
            let end = Timestamp(millisecondsSinceEpoch: start.millisecondsSinceEpoch + Timestamp.millisecondsPerDay)
            dayFilter.since = max(filter.since ?? start, start)
            dayFilter.until = min(filter.until ?? end, end)
            return try Query(directory: directory).logs(filter: dayFilter, limit: Int.max, offset: 0).records
        }
    }
}
