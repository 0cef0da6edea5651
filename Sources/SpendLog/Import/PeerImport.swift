/// The Python cost trackers whose SQLite stores ``PeerImport`` reads.
public enum PeerKind: String, Sendable, CaseIterable {
    /// llm-toll's store: `usage_logs` and `budgets`.
    case llmToll = "llm-toll"
    /// llm-accounting's store: `accounting_entries` and `usage_limits`.
    case llmAccounting = "llm-accounting"

    /// The table of calls and the table of limits or budgets.
    var tables: (usage: String, limits: String) {
        switch self {
        case .llmToll: ("usage_logs", "budgets")
        case .llmAccounting: ("accounting_entries", "usage_limits")
        }
    }
}

/// What an import would write, and what it leaves out and why.
public struct ImportPlan: Sendable {
    /// A source row that becomes no record, and why.
    public struct Skipped: Error, Sendable, Equatable {
        /// The source table and row id.
        public var table: String
        /// The row's id in its table.
        public var row: Int64
        /// Why it was left out, for people.
        public var reason: String
    }

    /// A source limit or budget with no spendlog equivalent.
    public struct Unmapped: Sendable, Equatable {
        /// The source row, described (`usage_limits id 6: GLOBAL output_tokens 1000 per 1 second`).
        public var source: String
        /// Why it does not map.
        public var reason: String
    }

    /// Which tracker's store was read.
    public var peer: PeerKind
    /// The identity of the source database that record ids are derived from.
    public var sourceID: String
    /// Rows read from the table of calls.
    public var rowsRead = 0
    /// Records to append, in source row order.
    public var records: [UsageRecord] = []
    /// Rows that became no record, in source order.
    public var skipped: [Skipped] = []
    /// Limits of the source that map to spendlog rules (ids empty: set them to number them).
    public var limits: [(source: String, rule: LimitRule)] = []
    /// Limits and budgets of the source that have no spendlog equivalent.
    public var unmapped: [Unmapped] = []
    /// Facts worth saying once (rows whose project was missing, …).
    public var notes: [String] = []
}

/// Reads the SQLite store of a Python cost tracker (llm-toll, llm-accounting) into records and
/// limits, read-only (docs/IMPORT.md). Nothing is written here: the caller appends
/// ``ImportPlan/records`` with ``LogWriter/appendOnce(contentsOf:)`` (their ids are derived from
/// the source, so importing again writes nothing) and sets ``ImportPlan/limits``.
public enum PeerImport {
    /// The project given to rows that have none (llm-accounting's `project` may be NULL).
    public static let defaultProject = "unassigned"

    /// Reads the database at `path` as `peer`'s store. Naive timestamps (no offset) are wall
    /// time in `zone`. `sourceID` overrides the identity derived from the database's content.
    public static func read(
        path: String, peer: PeerKind, zone: ZoneInfo = .utc, sourceID: String? = nil,
        defaultProject: String = PeerImport.defaultProject
    ) throws(SpendLogError) -> ImportPlan {
        let db = try SQLiteDatabase(path: path)
        let tables = try db.tables()
        let (usage, limits) = peer.tables
        guard tables.contains(usage), tables.contains(limits) else {
            let other = PeerKind.allCases.first { $0 != peer && tables.contains($0.tables.usage) }
            throw SpendLogError(
                code: .formatMismatch,
                message: "'\(path)' is not a \(peer.rawValue) database: it has no \(usage) and \(limits) tables"
                    + (other.map { " (it looks like a \($0.rawValue) database)" } ?? "") + ".",
                path: path)
        }
        let identity: String
        if let sourceID {
            identity = sourceID
        } else {
            identity = try derivedSourceID(db, peer: peer)
        }
        var plan = ImportPlan(peer: peer, sourceID: identity)
        switch peer {
        case .llmToll:
            try readToll(db, into: &plan, zone: zone)
        case .llmAccounting:
            try readAccounting(db, into: &plan, zone: zone, defaultProject: defaultProject)
        }
        return plan
    }

    // MARK: - Source identity and record ids

    /// `<peer>-<16 hex digits>`: the FNV-1a-64 of the peer's name and every column of the first
    /// row (lowest id) of its usage table. The path is not part of it, so a copied or moved
    /// database keeps its identity; two databases differ in their first call (its time, to the
    /// microsecond, is in it).
    static func derivedSourceID(_ db: SQLiteDatabase, peer: PeerKind) throws(SpendLogError) -> String {
        let table = peer.tables.usage
        let first = try db.rows("SELECT * FROM \(table) ORDER BY id LIMIT 1").first ?? []
        var hash = FNV1a64()
        hash.add(peer.rawValue)
        hash.add(table)
        for value in first {
            hash.add([0x1F])
            switch value {
            case .null: hash.add("\u{0}null")
            case .integer(let i): hash.add("i" + String(i))
            case .real(let d): hash.add("r" + String(d))
            case .text(let s): hash.add("t" + s)
            }
        }
        return peer.rawValue + "-" + hash.hex
    }

    /// A UUIDv7 of the row's millisecond whose other 74 bits are a hash of the source identity and
    /// the row id: the same row of the same source always gives the same id.
    public static func recordID(source: String, row: Int64, milliseconds: Int64) -> RecordID {
        var hash = FNV1a64()
        hash.add(source)
        let a = mix(hash.value ^ mix(UInt64(bitPattern: row)))
        let b = mix(a ^ 0x696D_706F_7274_6564)  // "imported"
        let ms = UInt64(max(0, milliseconds)) & 0xFFFF_FFFF_FFFF
        return RecordID(
            high: ms << 16 | 0x7000 | (a & 0xFFF), low: (b & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000)
    }

    private static func mix(_ x: UInt64) -> UInt64 { RecordID.mix(x) }

    // MARK: - llm-toll

    private static func readToll(_ db: SQLiteDatabase, into plan: inout ImportPlan, zone: ZoneInfo)
        throws(SpendLogError)
    {
        let table = "usage_logs"
        let rows = try db.rows(
            "SELECT id, project, model, input_tokens, output_tokens, cost, created_at FROM usage_logs ORDER BY id")
        for row in rows {
            plan.rowsRead += 1
            guard case .integer(let rowID) = row[0] else {
                plan.skipped.append(.init(table: table, row: 0, reason: "id is not an integer"))
                continue
            }
            var fields = RowFields(table: table, row: rowID)
            fields.project = row[1].text
            fields.model = row[2].text
            fields.input = row[3]
            fields.output = row[4]
            fields.cost = row[5]
            fields.time = row[6].text
            switch fields.record(plan: plan, zone: zone) {
            case .success(let record): plan.records.append(record)
            case .failure(let skip): plan.skipped.append(skip)
            }
        }
        // Budgets: llm-toll keeps the spend since the last reset per project, not the maximum
        // (that is the decorator's max_budget argument), so no rule can be made from them.
        for row in try db.rows("SELECT project, total_cost, last_reset_at FROM budgets ORDER BY project") {
            let project = row[0].text ?? "(null)"
            var spent = "?"
            if let nanos = nanos(row[1]) { spent = "$" + Money(nanos: nanos).decimalString }
            let since = row[2].text.map { "since its reset at \($0)" } ?? "since its first call"
            plan.unmapped.append(
                .init(
                    source: "budgets project \(project): \(spent) spent \(since)",
                    reason: "llm-toll does not store the budget's maximum (it is the max_budget given to "
                        + "@track_costs); set it with `spendlog limit set --scope project=\(project) --type cost "
                        + "--window lifetime --max USD`"))
        }
    }

    // MARK: - llm-accounting

    private static func readAccounting(
        _ db: SQLiteDatabase, into plan: inout ImportPlan, zone: ZoneInfo, defaultProject: String
    ) throws(SpendLogError) {
        let table = "accounting_entries"
        let columns = try db.columns(table)
        let session = columns.contains("session") ? "session" : "NULL"
        let rows = try db.rows(
            "SELECT id, timestamp, model, prompt_tokens, completion_tokens, project, cost, execution_time, "
                + "caller_name, username, cached_tokens, reasoning_tokens, \(session) FROM accounting_entries ORDER BY id"
        )
        var withoutProject = 0
        for row in rows {
            plan.rowsRead += 1
            guard case .integer(let rowID) = row[0] else {
                plan.skipped.append(.init(table: table, row: 0, reason: "id is not an integer"))
                continue
            }
            var fields = RowFields(table: table, row: rowID)
            fields.time = row[1].text
            fields.model = row[2].text
            fields.input = row[3]
            fields.output = row[4]
            fields.project = row[5].text
            if fields.project == nil || fields.project == "" {
                fields.project = defaultProject
                withoutProject += 1
            }
            fields.cost = row[6]
            fields.seconds = row[7]
            fields.caller = row[8].text
            fields.user = row[9].text
            fields.cached = row[10]
            fields.reasoning = row[11]
            fields.session = row[12].text
            switch fields.record(plan: plan, zone: zone) {
            case .success(let record): plan.records.append(record)
            case .failure(let skip): plan.skipped.append(skip)
            }
        }
        if withoutProject > 0 {
            plan.notes.append(
                "\(withoutProject) row\(withoutProject == 1 ? "" : "s") of \(table) had no project: "
                    + "recorded with project '\(defaultProject)'")
        }
        let limits = try db.rows(
            "SELECT id, scope, limit_type, max_value, interval_unit, interval_value, model, username, caller_name, "
                + "project_name FROM usage_limits ORDER BY id")
        for row in limits {
            let described =
                "usage_limits id \(row[0].text ?? "?"): \(row[1].text ?? "?") \(row[2].text ?? "?") "
                + "\(row[3].text ?? "?") per \(row[5].text ?? "?") \(row[4].text ?? "?")"
            switch accountingRule(row) {
            case .success(let rule): plan.limits.append((described, rule))
            case .failure(let reason): plan.unmapped.append(.init(source: described, reason: reason.text))
            }
        }
    }

    struct Reason: Error { var text: String }

    /// An llm-accounting usage limit as a rule: scope × type × interval → scope × type × window.
    static func accountingRule(_ row: [SQLiteDatabase.Value]) -> Result<LimitRule, Reason> {
        var fields: [String: String] = [:]
        for (index, key) in [(6, "model"), (7, "user"), (8, "caller"), (9, "project")] {
            if let value = row[index].text { fields[key] = value }
        }
        let scope = row[1].text ?? ""
        let expected: String? =
            switch scope {
            case "GLOBAL": nil
            case "MODEL": "model"
            case "USER": "user"
            case "CALLER": "caller"
            case "PROJECT": "project"
            default: ""
            }
        if expected == "" { return .failure(Reason(text: "unknown scope '\(scope)'")) }
        if let expected, fields[expected] == nil {
            return .failure(
                Reason(
                    text: "a \(scope) limit without a \(expected) applies to every \(expected) "
                        + "separately in llm-accounting; spendlog has no such rule"))
        }
        let metric: LimitMetric
        switch row[2].text ?? "" {
        case "requests": metric = .requests
        case "input_tokens": metric = .inputTokens
        case "output_tokens": metric = .outputTokens
        case "total_tokens": metric = .totalTokens
        case "cost": metric = .cost
        case let other: return .failure(Reason(text: "unknown limit type '\(other)'"))
        }
        let maximum: Int64
        if metric == .cost {
            guard let nanos = nanos(row[3]) else {
                return .failure(Reason(text: "the maximum is not an amount of 0 to 1,000,000 USD"))
            }
            maximum = nanos
        } else {
            let value: Double? =
                switch row[3] {
                case .integer(let i): Double(i)
                case .real(let d): d
                default: nil
                }
            guard let value, value >= 0, value <= 9e15, value.rounded() == value else {
                return .failure(Reason(text: "the maximum is not a whole number"))
            }
            maximum = Int64(value)
        }
        guard case .integer(let count) = row[5], count >= 1 else {
            return .failure(Reason(text: "interval_value is not a positive whole number"))
        }
        let unit = row[4].text ?? ""
        let window: LimitWindow
        switch unit {
        case "hour", "day", "week", "monthly":
            guard count == 1 else {
                return .failure(
                    Reason(
                        text: "a calendar window of \(count) \(unit)s has no spendlog equivalent "
                            + "(calendar windows are one hour, day, week or month)"))
            }
            let name = unit == "monthly" ? "month" : unit
            guard let parsed = try? LimitWindow.parse(name) else {
                return .failure(Reason(text: "window '\(name)' was refused"))
            }
            window = parsed
        case "minute_rolling", "hour_rolling", "day_rolling", "week_rolling", "second_rolling":
            let text: String
            switch unit {
            case "second_rolling":
                guard count % 60 == 0 else {
                    return .failure(Reason(text: "a rolling window of \(count) seconds is not whole minutes"))
                }
                text = "rolling:\(count / 60)m"
            case "minute_rolling": text = "rolling:\(count)m"
            case "hour_rolling": text = "rolling:\(count)h"
            case "day_rolling": text = "rolling:\(count)d"
            default: text = "rolling:\(count * 7)d"
            }
            do { window = try LimitWindow.parse(text) } catch {
                return .failure(Reason(text: "window '\(text)': \(error.message)"))
            }
        case "second", "minute":
            return .failure(
                Reason(
                    text: "spendlog has no calendar \(unit) window (the shortest is an hour; "
                        + "rolling windows are whole minutes)"))
        case "monthly_rolling":
            return .failure(
                Reason(
                    text: "llm-accounting's rolling month starts on the first of the month n months back; "
                        + "spendlog's rolling windows have a fixed length"))
        default:
            return .failure(Reason(text: "unknown interval '\(unit)'"))
        }
        return .success(LimitRule(scope: LimitScope(fields: fields), metric: metric, window: window, maximum: maximum))
    }

    // MARK: - Rows

    /// The columns of one source row that make a record.
    struct RowFields {
        var table: String
        var row: Int64
        var time: String?
        var project: String?
        var model: String?
        var input: SQLiteDatabase.Value = .null
        var output: SQLiteDatabase.Value = .null
        var cached: SQLiteDatabase.Value = .null
        var reasoning: SQLiteDatabase.Value = .null
        var cost: SQLiteDatabase.Value = .null
        var seconds: SQLiteDatabase.Value = .null
        var caller: String?
        var user: String?
        var session: String?

        func skip(_ reason: String) -> Result<UsageRecord, ImportPlan.Skipped> {
            .failure(.init(table: table, row: row, reason: reason))
        }

        func record(plan: ImportPlan, zone: ZoneInfo) -> Result<UsageRecord, ImportPlan.Skipped> {
            guard let time, let ms = PeerImport.milliseconds(time, zone: zone) else {
                return skip("time '\(time ?? "NULL")' is not a date and time from 1970 to 9999")
            }
            guard let project, let model else { return skip("no project or model") }
            func count(_ value: SQLiteDatabase.Value, _ name: String) -> Int64?? {
                switch value {
                case .null: return .some(nil)
                case .integer(let i): return i >= 0 ? .some(i) : nil
                default: return nil
                }
            }
            guard let input = count(input, "input"), let output = count(output, "output"),
                let cached = count(cached, "cached"), let reasoning = count(reasoning, "reasoning")
            else { return skip("a token count is negative or not a whole number") }
            guard let nanos = PeerImport.nanos(cost) else {
                return skip("cost \(cost.text ?? "NULL") is not an amount of 0 to 1,000,000 USD")
            }
            var record = UsageRecord(
                id: PeerImport.recordID(source: plan.sourceID, row: row, milliseconds: ms),
                timestamp: Timestamp(millisecondsSinceEpoch: ms), project: project, model: model,
                inputTokens: input ?? 0, outputTokens: output ?? 0, cachedInputTokens: cached ?? 0,
                reasoningTokens: reasoning ?? 0, cost: Money(nanos: nanos), costSource: .provided)
            record.user = user.flatMap { $0.isEmpty ? nil : $0 }
            record.caller = caller.flatMap { $0.isEmpty ? nil : $0 }
            record.session = session.flatMap { $0.isEmpty ? nil : $0 }
            switch seconds {
            case .real(let s) where s.isFinite && s >= 0 && s < 9e12: record.latencyMs = Int64((s * 1000).rounded())
            case .integer(let s) where s >= 0 && s < 9_000_000_000_000: record.latencyMs = s * 1000
            default: break
            }
            record.tags = [
                "imported_from": plan.peer.rawValue, "import_source": plan.sourceID, "import_row": String(row),
            ]
            do throws(RecordValidationError) { try record.validateForWriting() } catch {
                return skip("\(error.field): \(error.reason)")
            }
            return .success(record)
        }
    }

    // MARK: - Money and time

    /// A cost as stored (a float, or an integer) in nano-dollars: the shortest decimal that reads
    /// back as the same double (what Python prints), rounded to 9 decimals, half away from zero.
    /// Nil for NULL, text, negative, NaN, infinite, or more than 1,000,000 USD.
    static func nanos(_ value: SQLiteDatabase.Value) -> Int64? {
        switch value {
        case .integer(let i):
            guard i >= 0, i <= 1_000_000 else { return nil }
            return i * Money.nanosPerDollar
        case .real(let d): return nanos(fromDouble: d)
        default: return nil
        }
    }

    /// A cost stored as a float, as exact nano-dollars: the shortest decimal that reads back as the
    /// same double (what Python prints), rounded to 9 decimals half away from zero. Nil for NaN,
    /// infinities, negative values and values above $1,000,000.
    public static func nanos(fromDouble d: Double) -> Int64? {
        guard d.isFinite, d >= 0, d <= 1_000_000 else { return nil }
        if d == 0 { return 0 }
        // Swift's description is the shortest round-trip decimal: "0.127513762", "1e-05", "100.0".
        let text = "\(d)"
        var digits: [UInt8] = []
        var exponent = 0  // value = digits × 10^exponent
        var afterPoint = false
        var index = text.utf8.startIndex
        let utf8 = text.utf8
        while index < utf8.endIndex {
            let c = utf8[index]
            if c >= 0x30 && c <= 0x39 {
                digits.append(c - 0x30)
                if afterPoint { exponent -= 1 }
            } else if c == 0x2E {
                afterPoint = true
            } else if c == 0x65 || c == 0x45 {
                guard let e = Int(String(text[utf8.index(after: index)...])) else { return nil }
                exponent += e
                break
            } else {
                return nil
            }
            index = utf8.index(after: index)
        }
        // nanos = digits × 10^(exponent + 9)
        let shift = exponent + 9
        var result: Int64 = 0
        if shift >= 0 {
            for digit in digits { result = result * 10 + Int64(digit) }
            for _ in 0..<shift { result *= 10 }
            return result
        }
        let keep = digits.count + shift  // digits before the rounding position
        if keep < 0 { return 0 }
        for digit in digits.prefix(keep) { result = result * 10 + Int64(digit) }
        if keep < digits.count, digits[keep] >= 5 { result += 1 }
        return result
    }

    /// `YYYY-MM-DD[T ]HH:MM[:SS[.fraction]][Z|±HH:MM|±HHMM]` → ms since the epoch. Without an
    /// offset the time is wall time in `zone`. Fractions finer than a millisecond are cut off.
    public static func milliseconds(_ text: String, zone: ZoneInfo) -> Int64? {
        let b = Array(text.utf8)
        func number(_ from: Int, _ count: Int) -> Int64? {
            guard from + count <= b.count else { return nil }
            var n: Int64 = 0
            for i in from..<(from + count) {
                guard b[i] >= 0x30 && b[i] <= 0x39 else { return nil }
                n = n * 10 + Int64(b[i] - 0x30)
            }
            return n
        }
        guard b.count >= 16, let year = number(0, 4), b[4] == 0x2D, let month = number(5, 2), b[7] == 0x2D,
            let day = number(8, 2), b[10] == 0x54 || b[10] == 0x20 || b[10] == 0x74, let hour = number(11, 2),
            b[13] == 0x3A, let minute = number(14, 2)
        else { return nil }
        guard (1970...9999).contains(year), (1...12).contains(month), day >= 1,
            day <= Timestamp.daysInMonth(year, month), hour < 24, minute < 60
        else { return nil }
        var i = 16
        var second: Int64 = 0
        var millis: Int64 = 0
        if i < b.count, b[i] == 0x3A {
            guard let s = number(i + 1, 2), s < 60 else { return nil }
            second = s
            i += 3
            if i < b.count, b[i] == 0x2E || b[i] == 0x2C {
                i += 1
                var place: Int64 = 100
                let start = i
                while i < b.count, b[i] >= 0x30 && b[i] <= 0x39 {
                    millis += Int64(b[i] - 0x30) * place
                    place /= 10
                    i += 1
                }
                guard i > start else { return nil }
            }
        }
        let local =
            ((Timestamp.daysFromCivil(year, month, day) * 24 + hour) * 60 + minute) * 60_000 + second * 1000 + millis
        var utc: Int64
        if i == b.count {
            // Naive: wall time in `zone` (the offset in force at that wall time; in a gap or an
            // overlap, the offset before it).
            let guess = local - zone.offset(at: local)
            utc = local - zone.offset(at: guess)
        } else if b[i] == 0x5A || b[i] == 0x7A {
            guard i + 1 == b.count else { return nil }
            utc = local
        } else if b[i] == 0x2B || b[i] == 0x2D {
            guard let oh = number(i + 1, 2) else { return nil }
            var j = i + 3
            if j < b.count, b[j] == 0x3A { j += 1 }
            guard let om = number(j, 2), j + 2 == b.count, oh < 24, om < 60 else { return nil }
            let offset = (oh * 60 + om) * 60_000
            utc = b[i] == 0x2B ? local - offset : local + offset
        } else {
            return nil
        }
        guard utc >= Timestamp.earliest.millisecondsSinceEpoch, utc <= Timestamp.latest.millisecondsSinceEpoch
        else { return nil }
        return utc
    }
}

/// FNV-1a, 64 bits.
struct FNV1a64 {
    var value: UInt64 = 0xCBF2_9CE4_8422_2325

    mutating func add(_ text: String) { add(Array(text.utf8)) }

    mutating func add(_ bytes: [UInt8]) {
        for byte in bytes {
            value ^= UInt64(byte)
            value = value &* 0x0000_0100_0000_01B3
        }
    }

    var hex: String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
