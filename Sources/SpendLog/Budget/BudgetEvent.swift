/// One line of the control journal `budget/journal.jsonl` (docs/FORMAT.md, "Budgets"): every
/// change that is not a usage record — rules, resets, reservations, soft-limit warnings.
enum BudgetEvent: Equatable, Sendable {
    case limitSet(LimitRule, at: Int64)
    case limitDelete(id: String, at: Int64)
    case reset(scope: LimitScope, at: Int64)
    case reserve(Reservation)
    case settle(id: String, record: String, at: Int64)
    case release(id: String, at: Int64)
    case expire(id: String, reason: String, at: Int64)
    case softWarning(rule: String, window: Int64, at: Int64)

    /// Whether the event changes what is counted or against what: a limit set or removed, a
    /// counter reset. Its process checkpoints at once (a process loading an older checkpoint
    /// would count the whole log again for a new rule); reservations and notes wait for the
    /// checkpoint interval.
    var changesRules: Bool {
        switch self {
        case .limitSet, .limitDelete, .reset: true
        case .reserve, .settle, .release, .expire, .softWarning: false
        }
    }

    /// The JSON line, `\n`-terminated, keys in a fixed order.
    func jsonLine() -> [UInt8] {
        var out: [UInt8] = []
        var first = true
        func key(_ name: String) {
            out.append(first ? 0x7B : 0x2C)
            first = false
            JSONWriter.writeString(name, into: &out)
            out.append(0x3A)
        }
        func string(_ name: String, _ value: String) {
            key(name)
            JSONWriter.writeString(value, into: &out)
        }
        func number(_ name: String, _ value: String) {
            key(name)
            out.append(contentsOf: value.utf8)
        }
        func time(_ name: String, _ ms: Int64) { string(name, Timestamp(millisecondsSinceEpoch: ms).rfc3339) }
        switch self {
        case .limitSet(let rule, let at):
            string("event", "limit.set")
            time("at", at)
            BudgetEvent.writeRule(rule, string: string, number: number)
        case .limitDelete(let id, let at):
            string("event", "limit.delete")
            time("at", at)
            string("id", id)
        case .reset(let scope, let at):
            string("event", "reset")
            time("at", at)
            string("scope", scope.description)
        case .reserve(let r):
            string("event", "reserve")
            time("at", r.createdAt)
            string("id", r.id)
            string("scope", r.scope.description)
            number("usd", r.amount.decimalString)
            number("pid", String(r.holder.pid))
            number("pid_start", String(r.holder.startTicks))
            string("host", r.holder.host)
            time("deadline", r.deadline)
        case .settle(let id, let record, let at):
            string("event", "settle")
            time("at", at)
            string("id", id)
            string("record", record)
        case .release(let id, let at):
            string("event", "release")
            time("at", at)
            string("id", id)
        case .expire(let id, let reason, let at):
            string("event", "expire")
            time("at", at)
            string("id", id)
            string("reason", reason)
        case .softWarning(let rule, let window, let at):
            string("event", "soft")
            time("at", at)
            string("rule", rule)
            number("window", String(window))
        }
        out.append(contentsOf: [0x7D, 0x0A])
        return out
    }

    static func writeRule(_ rule: LimitRule, string: (String, String) -> Void, number: (String, String) -> Void) {
        string("id", rule.id)
        string("scope", rule.scope.description)
        string("type", rule.metric.rawValue)
        number("max", rule.metric.jsonNumber(rule.maximum))
        string("window", rule.window.name)
        string("tz", rule.window.zoneName)
        if let soft = rule.softPartsPerMillion { number("soft", Money(nanos: soft * 1000).decimalString) }
    }

    /// Decodes one journal line; nil for an event kind this version does not know (skipped).
    static func parse(_ line: UnsafeBufferPointer<UInt8>) throws(BudgetDecodingError) -> BudgetEvent? {
        try parse(try JSONObject(line))
    }

    static func parse(_ object: JSONObject) throws(BudgetDecodingError) -> BudgetEvent? {
        let at = try object.time("at")
        switch try object.string("event") {
        case "limit.set":
            var rule = try object.rule()
            rule.createdAt = at
            return .limitSet(rule, at: at)
        case "limit.delete": return .limitDelete(id: try object.string("id"), at: at)
        case "reset": return .reset(scope: try object.scope("scope"), at: at)
        case "reserve":
            return .reserve(
                Reservation(
                    id: try object.string("id"), scope: try object.scope("scope"),
                    amount: Money(nanos: try object.money("usd")),
                    holder: HolderProcess(
                        pid: Int32(truncatingIfNeeded: try object.integer("pid")),
                        startTicks: try object.integer("pid_start"), host: try object.string("host")),
                    deadline: try object.time("deadline"), createdAt: at))
        case "settle": return .settle(id: try object.string("id"), record: try object.string("record"), at: at)
        case "release": return .release(id: try object.string("id"), at: at)
        case "expire": return .expire(id: try object.string("id"), reason: try object.string("reason"), at: at)
        case "soft": return .softWarning(rule: try object.string("rule"), window: try object.integer("window"), at: at)
        default: return nil
        }
    }
}
