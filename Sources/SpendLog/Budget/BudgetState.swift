/// How much of one segment the counters cover: bytes of whole lines (of the decompressed text
/// for sealed segments), and whether the segment was sealed when it was read to its end.
struct SegmentCoverage: Equatable, Sendable {
    var bytes: Int64
    var sealed: Bool
}

/// Everything the budget knows, derived from the control journal and the log: the rules, resets,
/// open reservations and soft warnings (from the journal), and the counters with the log
/// position they cover (docs/FORMAT.md, "Budgets", "Sidecar"). The sidecar is this, encoded.
///
/// Counters depend only on the rules, the resets and the set of records covered — never on the
/// order things were read in or on the clock — so a rebuild from scratch encodes to the same bytes.
struct BudgetState: Equatable, Sendable {
    static let formatMarker = "spendlog-budget 2"

    var journalBytes: Int64 = 0
    var nextRuleNumber = 1
    var rules: [String: LimitRule] = [:]
    /// Scope (canonical text) → time of its latest reset.
    var resets: [String: Int64] = [:]
    var reservations: [String: Reservation] = [:]
    /// Rule id → key of the window of its latest soft-limit warning.
    var softWarned: [String: Int64] = [:]
    /// Segment (`day=YYYY-MM-DD/<host>-<seq>`) → coverage.
    var coverage: [String: SegmentCoverage] = [:]
    /// The latest record time seen (-1: none); buckets too old to count at that time are pruned.
    var highWater: Int64 = -1
    /// Rule id → bucket → amount.
    var counters: [String: [Int64: Int64]] = [:]

    var sortedRules: [LimitRule] { rules.values.sorted { $0.number < $1.number } }

    /// Applies one journal event. Returns true when the counters must be recounted from the log
    /// (a rule was added or a reset changed what counts).
    mutating func apply(_ event: BudgetEvent) -> Bool {
        switch event {
        case .limitSet(let rule, _):
            rules[rule.id] = rule
            nextRuleNumber = max(nextRuleNumber, rule.number + 1)
            return true
        case .limitDelete(let id, _):
            rules[id] = nil
            counters[id] = nil
            softWarned[id] = nil
            forgetUncountedDays()  // the rules left may count fewer days
            return false
        case .reset(let scope, let at):
            resets[scope.description] = max(resets[scope.description] ?? at, at)
            return true
        case .reserve(let reservation):
            reservations[reservation.id] = reservation
        case .settle(let id, _, _), .release(let id, _), .expire(let id, _, _):
            reservations[id] = nil
        case .softWarning(let rule, let window, _):
            if rules[rule] != nil { softWarned[rule] = max(softWarned[rule] ?? window, window) }
        }
        return false
    }

    /// Forgets every count and log position, to count the whole log again.
    mutating func clearCounts() {
        counters = [:]
        coverage = [:]
        highWater = -1
    }

    /// Adds one record to the counters of every rule whose scope it matches. The order records
    /// are folded in does not matter once ``prune()`` has run: a record skipped here as too old
    /// is below every later prune floor as well, since the floor only rises.
    mutating func fold(_ record: UsageRecord) {
        fold(
            at: record.timestamp.millisecondsSinceEpoch, matching: { $0.scope.matches(record) },
            amount: { $0.amount(of: record) })
    }

    /// ``fold(_:)`` of a record known by its time, which rules' scopes it matches, and its
    /// amount of each metric (a record read by the scanner, without a ``UsageRecord``).
    mutating func fold(at ts: Int64, matching: (LimitRule) -> Bool, amount: (LimitMetric) -> Int64) {
        if ts > highWater { highWater = ts }
        for (id, rule) in rules where matching(rule) {
            if let reset = reset(of: rule.scope), ts < reset { continue }
            let amount = amount(rule.metric)
            if amount == 0 { continue }
            let key = rule.window.bucket(at: ts)
            // Too old to count at the newest record's time: a rebuild prunes it as well.
            if key < rule.window.pruneBelow(highWater: highWater) { continue }
            counters[id, default: [:]][key, default: 0].addSaturating(amount)
        }
    }

    /// The time of the latest reset of `scope`, if any. Most logs have none: then no scope's
    /// text is made (a scope's text is sorted and joined anew each time).
    func reset(of scope: LimitScope) -> Int64? {
        resets.isEmpty ? nil : resets[scope.description]
    }

    /// Drops buckets that can no longer count (relative to the newest record, not the clock), and
    /// the log positions of days none of whose records can (``forgetUncountedDays()``).
    mutating func prune() {
        pruneBuckets()
        forgetUncountedDays()
    }

    /// ``prune()`` after the high-water time moved from `earlier`, in a state pruned at that time.
    /// Only a newer record makes more prunable: ``fold(at:matching:amount:)`` adds no bucket below
    /// the floor of the newest record time, so a pruned state stays pruned until the high-water
    /// time moves (counting prunes only then), and its log positions until the first counting day
    /// does.
    mutating func prune(since earlier: Int64) {
        pruneBuckets()
        if firstCountingDay(at: earlier) != firstCountingDay(at: highWater) { forgetUncountedDays() }
    }

    /// The first UTC day (days since 1970-01-01) whose records can still count once a record at
    /// `highWater` exists: those of an earlier day fall below every rule's prune floor, so
    /// ``fold(at:matching:amount:)`` skips them all, and a catch-up need not look at those days.
    /// Nil while every day can count: no record yet, no rule, or a lifetime window.
    func firstCountingDay(at highWater: Int64) -> Int64? {
        guard highWater >= 0, !rules.isEmpty else { return nil }
        var floor = Int64.max
        for rule in rules.values {
            let below = rule.window.pruneBelow(highWater: highWater)
            if below == Int64.min { return nil }
            floor = min(floor, below)
        }
        return floorDiv(floor, Timestamp.millisecondsPerDay)
    }

    /// Forgets the log positions of segments of days before the first counting day: their records
    /// count no more, and a catch-up does not look at them again (so a rebuild, which reads them,
    /// ends with the same positions).
    mutating func forgetUncountedDays() {
        guard let day = firstCountingDay(at: highWater) else { return }
        // Keys are `day=YYYY-MM-DD/<segment>`: those of earlier days sort before this.
        let first = SegmentName.dayFolderPrefix + Timestamp.dayString(utcDay: day)
        if coverage.keys.contains(where: { $0 < first }) { coverage = coverage.filter { $0.key >= first } }
    }

    private mutating func pruneBuckets() {
        for (id, rule) in rules {
            guard let buckets = counters[id] else { continue }
            let floor = rule.window.pruneBelow(highWater: highWater)
            guard buckets.keys.contains(where: { $0 < floor }) else { continue }  // the common case
            let kept = buckets.filter { $0.key >= floor }
            counters[id] = kept.isEmpty ? nil : kept
        }
    }

    /// Recorded spend of `rule` in its window at `now`.
    func spent(_ rule: LimitRule, now: Int64) -> Int64 {
        guard let buckets = counters[rule.id] else { return 0 }
        let range = rule.window.countedRange(at: now)
        if range.lowerBound == range.upperBound { return buckets[range.lowerBound] ?? 0 }
        var sum: Int64 = 0
        for (key, value) in buckets where range.contains(key) { sum.addSaturating(value) }
        return sum
    }

    /// What open reservations hold against `rule`.
    func held(_ rule: LimitRule) -> Int64 {
        var sum: Int64 = 0
        for reservation in reservations.values where rule.scope.isCovered(by: reservation.scope) {
            sum.addSaturating(reservation.held(rule.metric))
        }
        return sum
    }

    /// The key soft warnings are remembered by: the window's start (a rolling window counts in
    /// periods of its length), or the scope's latest reset if later.
    func softWindow(_ rule: LimitRule, now: Int64) -> Int64 {
        let natural: Int64
        switch rule.window {
        case .lifetime: natural = 0
        case .calendar: natural = rule.window.windowStart(at: now)
        case .rolling(let length): natural = floorDiv(now, length) * length
        }
        return max(natural, reset(of: rule.scope) ?? natural)
    }

    // MARK: - Sidecar encoding

    /// The sidecar's bytes: one JSON object, members one per line, every map sorted.
    func encode() -> [UInt8] {
        var out: [UInt8] = []
        func line(_ key: String, _ value: String) {
            out.append(contentsOf: (out.isEmpty ? "{" : ",\n").utf8)
            JSONWriter.writeString(key, into: &out)
            out.append(0x3A)
            out.append(contentsOf: value.utf8)
        }
        func quoted(_ text: String) -> String {
            var bytes: [UInt8] = []
            JSONWriter.writeString(text, into: &bytes)
            return String(decoding: bytes, as: UTF8.self)
        }
        func eventObject(_ event: BudgetEvent) -> String {
            String(decoding: event.jsonLine().dropLast(), as: UTF8.self)
        }
        line("format", quoted(BudgetState.formatMarker))
        line("journal_bytes", String(journalBytes))
        line("next_rule", String(nextRuleNumber))
        line("high_water", String(highWater))
        line(
            "rules", "[" + sortedRules.map { eventObject(.limitSet($0, at: $0.createdAt)) }.joined(separator: ",") + "]"
        )
        line(
            "resets",
            "{" + resets.keys.sorted().map { quoted($0) + ":" + String(resets[$0]!) }.joined(separator: ",") + "}")
        line(
            "reservations",
            "[" + reservations.keys.sorted().map { eventObject(.reserve(reservations[$0]!)) }.joined(separator: ",")
                + "]")
        line(
            "soft_warned",
            "{" + softWarned.keys.sorted().map { quoted($0) + ":" + String(softWarned[$0]!) }.joined(separator: ",")
                + "}")
        line(
            "log",
            "{"
                + coverage.keys.sorted().map { key in
                    let c = coverage[key]!
                    return quoted(key) + ":[" + String(c.bytes) + "," + (c.sealed ? "true" : "false") + "]"
                }.joined(separator: ",") + "}")
        let counterText = sortedRules.compactMap { rule -> String? in
            guard let buckets = counters[rule.id] else { return nil }
            let body = buckets.keys.sorted().map { quoted(String($0)) + ":" + String(buckets[$0]!) }
            return quoted(rule.id) + ":{" + body.joined(separator: ",") + "}"
        }
        line("counters", "{" + counterText.joined(separator: ",") + "}")
        let checksum = out.withUnsafeBufferPointer { fnv1a64($0) }
        out.append(contentsOf: (BudgetState.checksumMember + hex16(checksum) + "\"}\n").utf8)
        return out
    }

    /// The last member: FNV-1a-64 of every byte before it, so that a checkpoint altered on disk
    /// is recounted rather than trusted (a wrong counter that still parses would pass limits).
    static let checksumMember = ",\n\"checksum\":\""

    static func decode(_ bytes: [UInt8]) throws(BudgetDecodingError) -> BudgetState {
        let trailer = checksumMember.utf8.count + 16 + 3
        let body = bytes.count - trailer
        guard body > 0, bytes[body..<(body + checksumMember.utf8.count)].elementsEqual(checksumMember.utf8),
            bytes[(bytes.count - 3)...].elementsEqual("\"}\n".utf8),
            bytes[(bytes.count - 19)..<(bytes.count - 3)].elementsEqual(
                hex16(bytes.withUnsafeBufferPointer { fnv1a64(UnsafeBufferPointer(rebasing: $0[..<body])) }).utf8)
        else { throw BudgetDecodingError(reason: "the checksum does not match the content") }
        let result = bytes.withUnsafeBufferPointer { buffer in
            Result { () throws(BudgetDecodingError) -> JSONObject in try JSONObject(buffer) }
        }
        let object = try result.get()
        guard try object.string("format") == formatMarker else {
            throw BudgetDecodingError(reason: "the format is not \"\(formatMarker)\"")
        }
        var state = BudgetState()
        state.journalBytes = try object.integer("journal_bytes")
        state.nextRuleNumber = Int(try object.integer("next_rule"))
        state.highWater = try object.integer("high_water")
        for item in try object.array("rules") {
            guard case .limitSet(let rule, _)? = try BudgetEvent.parse(try JSONObject(item)) else {
                throw BudgetDecodingError(reason: "a rule is not a limit.set object")
            }
            state.rules[rule.id] = rule
        }
        state.resets = try integers(object, "resets")
        for item in try object.array("reservations") {
            guard case .reserve(let r)? = try BudgetEvent.parse(try JSONObject(item)) else {
                throw BudgetDecodingError(reason: "a reservation is not a reserve object")
            }
            state.reservations[r.id] = r
        }
        state.softWarned = try integers(object, "soft_warned")
        for (key, value) in try object.object("log").members {
            guard case .array(let pair) = value, pair.count == 2, case .number(let text) = pair[0], let n = Int64(text),
                case .bool(let sealed) = pair[1]
            else { throw BudgetDecodingError(reason: "bad log position for \(Quoted(Array(key.utf8)))") }
            state.coverage[key] = SegmentCoverage(bytes: n, sealed: sealed)
        }
        for (rule, value) in try object.object("counters").members {
            var buckets: [Int64: Int64] = [:]
            for (key, amount) in try integers(try JSONObject(value), what: "counter of \(Quoted(Array(rule.utf8)))") {
                guard let bucket = Int64(key) else {
                    throw BudgetDecodingError(reason: "bad counter of \(Quoted(Array(rule.utf8)))")
                }
                buckets[bucket] = amount
            }
            state.counters[rule] = buckets
        }
        return state
    }

    /// An object of whole numbers, as a dictionary.
    private static func integers(_ object: JSONObject, _ key: String) throws(BudgetDecodingError) -> [String: Int64] {
        try integers(try object.object(key), what: key)
    }

    private static func integers(_ object: JSONObject, what: String) throws(BudgetDecodingError) -> [String: Int64] {
        var out: [String: Int64] = [:]
        for (key, value) in object.members {
            guard case .number(let text) = value, let n = Int64(text) else {
                throw BudgetDecodingError(reason: "bad \(what) '\(key)'")
            }
            out[key] = n
        }
        return out
    }
}

extension Int64 {
    /// Adds, stopping at `Int64.max`: absurd but valid records (2^53 tokens each) must not trap.
    mutating func addSaturating(_ other: Int64) {
        let (sum, overflow) = addingReportingOverflow(other)
        self = overflow ? .max : sum
    }
}
